"""The information board (信息发布): targeting by subtree and kind, batched notifications to
the managers, acknowledgement once (idempotent), who has and has not acknowledged, reminders
and attachments."""

from __future__ import annotations

import pytest

from sportsman.associations import board
from sportsman.associations.evaluation import Upload
from sportsman.associations.models import Notice, NoticeRecipient
from sportsman.associations.tests.fixtures_evaluation import make_association, manager_of
from sportsman.core.errors import DomainError
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _three(tree):
    """A sport association and a team in t1 (k2, k1), a club in t2 (k3)."""
    return (make_association(tree, name="新南篮球协会", kind="sport"),
            make_association(tree, region=tree.k1, name="花园晨练队", kind="team"),
            make_association(tree, region=tree.k3, name="湘城俱乐部", kind="club"))


def _publish(tree, actor=None, region=None, **kw):
    return board.publish_notice(actor=actor or tree.town_admin, region_id=(region or tree.t1).pk,
                                kind=kw.pop("kind", "training"), title="裁判员培训通知",
                                body="本月 20 日举办篮球裁判员培训。", **kw)


def test_a_notice_reaches_the_associations_of_the_subtree_only(tree):
    sport, team, _club = _three(tree)
    notice = _publish(tree)
    assert set(notice.deliveries.values_list("association_id", flat=True)) == {sport.pk, team.pk}
    assert notice.recipients == 2 and notice.acknowledged == 0


def test_a_notice_may_target_association_kinds(tree):
    _sport, team, _club = _three(tree)
    notice = _publish(tree, target_kinds=["team"])
    assert list(notice.deliveries.values_list("association_id", flat=True)) == [team.pk]
    with pytest.raises(DomainError) as refused:
        _publish(tree, target_kinds=["choir"])
    assert refused.value.code == "invalid_target"
    with pytest.raises(DomainError) as kind:
        _publish(tree, kind="gossip")
    assert kind.value.code == "invalid_kind"


def test_staff_publish_only_in_their_subtree(tree):
    _three(tree)
    for who in (tree.sibling_town_admin, tree.community_admin, tree.resident):
        with pytest.raises(DomainError):
            _publish(tree, actor=who)
    assert not Notice.objects.exists()


def test_the_managers_are_told_in_one_batch(tree, django_capture_on_commit_callbacks):
    sport, team, _club = _three(tree)
    with django_capture_on_commit_callbacks(execute=True):
        notice = _publish(tree)
    told = Notification.objects.filter(dedupe_key=f"associations.notice:{notice.pk}")
    assert set(told.values_list("user_id", flat=True)) == {manager_of(sport).pk,
                                                           manager_of(team).pk}
    assert told.values("batch").distinct().count() == 1


def test_acknowledging_twice_counts_once(tree):
    sport, _team, _club = _three(tree)
    notice = _publish(tree)
    row = notice.deliveries.get(association=sport)
    manager = manager_of(sport)
    first, won = board.acknowledge(actor=manager, recipient_id=row.pk)
    again, won_again = board.acknowledge(actor=manager, recipient_id=row.pk)
    assert (won, won_again) == (True, False)
    assert first.acknowledged_at == again.acknowledged_at
    assert Notice.objects.get(pk=notice.pk).acknowledged == 1


def test_a_manager_cannot_acknowledge_for_another_association(tree):
    sport, team, _club = _three(tree)
    notice = _publish(tree)
    row = notice.deliveries.get(association=sport)
    for who in (manager_of(team), tree.resident, tree.town_admin):
        with pytest.raises(DomainError) as refused:
            board.acknowledge(actor=who, recipient_id=row.pk)
        assert refused.value.code == "notice_not_found"
    assert NoticeRecipient.objects.get(pk=row.pk).acknowledged_at is None


def test_staff_see_who_has_and_has_not_acknowledged_and_remind_the_others(
        tree, django_capture_on_commit_callbacks):
    sport, team, _club = _three(tree)
    notice = _publish(tree)
    board.acknowledge(actor=manager_of(sport), recipient_id=notice.deliveries.get(
        association=sport).pk)
    notice.refresh_from_db()
    assert [r.association_id for r in board.recipients(notice, acknowledged=True)] == [sport.pk]
    assert [r.association_id for r in board.recipients(notice, acknowledged=False)] == [team.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert board.remind(actor=tree.town_admin, notice_id=notice.pk) == 1
    reminded = Notification.objects.filter(dedupe_key__startswith=f"associations.notice:"
                                                                  f"{notice.pk}:remind")
    assert list(reminded.values_list("user_id", flat=True)) == [manager_of(team).pk]
    with pytest.raises(DomainError) as again:
        board.remind(actor=tree.town_admin, notice_id=notice.pk)
    assert again.value.code == "notice_reminded_recently"
    with pytest.raises(DomainError):
        board.remind(actor=tree.sibling_town_admin, notice_id=notice.pk)


def test_attachments_are_pdfs_or_photos(tree):
    _three(tree)
    made = _publish(tree, attachment=Upload("通知.pdf", PDF))
    assert made.attachment.name.endswith(".pdf") and made.attachment_name == "通知.pdf"
    with pytest.raises(DomainError) as refused:
        _publish(tree, attachment=Upload("x.doc", b"\xd0\xcf\x11\xe0 not a pdf"))
    assert refused.value.code == "file_type"


def test_a_withdrawn_notice_leaves_the_inbox(tree):
    sport, _team, _club = _three(tree)
    notice = _publish(tree)
    assert board.inbox_for(manager_of(sport)).count() == 1
    board.withdraw_notice(actor=tree.town_admin, notice_id=notice.pk)
    assert board.inbox_for(manager_of(sport)).count() == 0
