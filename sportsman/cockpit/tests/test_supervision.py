"""Supervision tasks, the services: the lifecycle from issue to closure, who may do what, every
refusal (its code, nothing written), notifications to exactly the right administrators, overdue
assignments, the daily reminders and the cockpit panel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.cockpit import supervision as sv
from sportsman.cockpit.models import SupervisionTask, TaskAssignment, TaskEvidence, TaskReport
from sportsman.cockpit.tests.scope_cases_supervision import (
    PDF,
    assignment_of,
    issue,
    jpeg,
    private_media,  # noqa: F401
)
from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry, DomainEvent
from sportsman.notifications.models import Notification
from sportsman.regions.access import access_for_user

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _told(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("id"))


def _code(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    return exc.value.code


def _nothing_written() -> bool:
    return not (SupervisionTask.objects.exists() or TaskAssignment.objects.exists()
                or AuditEntry.objects.filter(action__startswith="supervision.").exists()
                or Notification.objects.exists()
                or DomainEvent.objects.filter(name__startswith="cockpit.supervision").exists())


# --- the lifecycle -----------------------------------------------------------------------------


def test_a_task_goes_from_issue_through_return_to_acceptance_and_closes(tree):
    # Given d1 issues a task to its two towns
    task = issue(tree, targets=[tree.t1, tree.t2], body="三天内清零")
    a1, a2 = assignment_of(task, tree.t1), assignment_of(task, tree.t2)
    assert (a1.status, a2.status, task.status) == ("issued", "issued", "open")
    assert [n.link for n in _told(tree.town_admin)] == [f"/cockpit/assignments/{a1.pk}/"]

    # When t1 reports, submits, is returned, submits again and is accepted
    sv.report_progress(actor=tree.town_admin, assignment_id=a1.pk, progress=40, text="清理中",
                       files=[sv.Upload("台账.pdf", PDF)])
    a1.refresh_from_db()
    assert (a1.status, a1.progress) == ("in_progress", 40)
    sv.submit(actor=tree.town_admin, assignment_id=a1.pk, text="已清零")
    told = _told(tree.district_admin)
    assert len(told) == 1 and told[0].link == f"/cockpit/assignments/{a1.pk}/"
    assert "新嘉街道" in told[0].title and told[0].body == "已清零"
    returned = sv.review(actor=tree.district_admin, assignment_id=a1.pk, accept=False,
                         comment="还差两条")
    assert (returned.status, returned.last_comment) == ("returned", "还差两条")
    sv.report_progress(actor=tree.town_admin, assignment_id=a1.pk, progress=90, text="补齐中")
    sv.submit(actor=tree.town_admin, assignment_id=a1.pk, text="全部清零")
    accepted = sv.review(actor=tree.district_admin, assignment_id=a1.pk, accept=True)

    # Then t1 is accepted but the task stays open until t2 is accepted too
    assert (accepted.status, accepted.progress) == ("accepted", 100)
    assert accepted.accepted_at is not None
    task.refresh_from_db()
    assert task.status == "open"
    sv.submit(actor=tree.sibling_town_admin, assignment_id=a2.pk, text="无逾期")
    sv.review(actor=tree.city_admin, assignment_id=a2.pk, accept=True)
    task.refresh_from_db()
    assert task.status == "closed" and task.closed_at is not None

    kinds = list(a1.reports.order_by("id").values_list("kind", flat=True))
    assert kinds == ["progress", "submit", "return", "progress", "submit", "accept"]
    assert a1.evidence.get().name == "台账.pdf"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"supervision.issue", "supervision.progress", "supervision.submit",
            "supervision.return", "supervision.accept"} <= actions
    assert DomainEvent.objects.filter(name="cockpit.supervision.accepted").count() == 2


def test_notices_go_to_the_units_own_administrators_and_back_to_the_issuers(tree):
    task = issue(tree, targets=[tree.t1])
    a = assignment_of(task, tree.t1)
    # Issue: t1's administrator only — not the community admins below, not d1 or the city above
    assert len(_told(tree.town_admin)) == 1
    for user in (tree.community_admin, tree.sibling_town_admin, tree.city_admin,
                 tree.district_admin, tree.venue_manager):
        assert not _told(user)
    # Submit: d1's own administrator, not the city's
    sv.submit(actor=tree.town_admin, assignment_id=a.pk, text="完成")
    assert len(_told(tree.district_admin)) == 1 and not _told(tree.city_admin)
    # Return: t1 again, with the comment
    sv.review(actor=tree.district_admin, assignment_id=a.pk, accept=False, comment="补充照片")
    assert _told(tree.town_admin)[-1].body == "补充照片"


def test_the_district_admin_answers_a_city_task_and_the_city_accepts(tree):
    task = issue(tree, by=tree.city_admin, issuer=tree.city, targets=[tree.d1, tree.d2],
                 title="提升学校体育场地开放利用率", category="school_grounds")
    access = access_for_user(tree.district_admin)
    mine = list(sv.list_tasks(access, sv.TaskFilters(role="assigned", region=tree.d1)))
    assert [t.pk for t in mine] == [task.pk]
    assert [a.region_id for a in mine[0].rows] == [tree.d1.pk]  # not d2's part
    a = assignment_of(task, tree.d1)
    sv.report_progress(actor=tree.district_admin, assignment_id=a.pk, progress=50,
                       text="已开放 12 所")
    sv.submit(actor=tree.district_admin, assignment_id=a.pk, text="已开放 25 所",
              files=[sv.Upload("开放清单.pdf", PDF)])
    assert sv.review(actor=tree.city_admin, assignment_id=a.pk, accept=True).status == "accepted"
    # d1 sees only its own part of the task
    assert [x.region_id for x in sv.visible_assignments(access, task)] == [tree.d1.pk]
    with pytest.raises(sv.AssignmentNotFound):
        sv.get_assignment(access, assignment_of(task, tree.d2).pk)


# --- who may do what ---------------------------------------------------------------------------


def test_a_sibling_towns_admin_can_neither_see_nor_answer_nor_review(tree):
    task = issue(tree)
    a = assignment_of(task, tree.t1)
    sibling = tree.sibling_town_admin
    access = access_for_user(sibling)
    assert not sv.visible_tasks(access).exists()
    assert _code(sv.get_task, access, task.pk) == "task_not_found"
    assert _code(sv.report_progress, actor=sibling, assignment_id=a.pk, progress=10,
                 text="x") == "assignment_not_found"
    assert _code(sv.submit, actor=sibling, assignment_id=a.pk, text="x") == \
        "assignment_not_found"
    sv.submit(actor=tree.town_admin, assignment_id=a.pk, text="完成")
    assert _code(sv.review, actor=sibling, assignment_id=a.pk, accept=True) == \
        "assignment_not_found"
    assert _code(sv.cancel_task, actor=sibling, task_id=task.pk, reason="x") == "task_not_found"
    a.refresh_from_db()
    assert a.status == "submitted" and a.reports.count() == 1


def test_the_unit_cannot_review_or_cancel_and_a_child_cannot_answer(tree):
    task = issue(tree)
    a = assignment_of(task, tree.t1)
    sv.submit(actor=tree.town_admin, assignment_id=a.pk, text="完成")
    assert _code(sv.review, actor=tree.town_admin, assignment_id=a.pk, accept=True) == "forbidden"
    assert _code(sv.cancel_task, actor=tree.town_admin, task_id=task.pk, reason="x") == \
        "forbidden"
    # k1's administrator lies below t1: t1's task is not theirs to see or answer
    assert _code(sv.report_progress, actor=tree.community_admin, assignment_id=a.pk,
                 progress=1, text="x") == "assignment_not_found"
    assert _code(sv.get_assignment, access_for_user(tree.venue_manager), a.pk) == \
        "assignment_not_found"
    assert _code(sv.get_task, access_for_user(tree.resident), task.pk) == "task_not_found"


def test_nobody_reviews_their_own_submission(tree):
    from sportsman.regions.models import RoleAssignment

    task = issue(tree)
    a = assignment_of(task, tree.t1)
    # The district administrator may answer for t1 (it lies in their subtree) ...
    sv.submit(actor=tree.district_admin, assignment_id=a.pk, text="代为办结")
    # ... but another administrator of the issuing side must accept it.
    assert _code(sv.review, actor=tree.district_admin, assignment_id=a.pk, accept=True) == \
        "self_review"
    colleague = tree.user()
    RoleAssignment.objects.create(user=colleague, role="district_admin", region=tree.d1)
    assert sv.review(actor=colleague, assignment_id=a.pk, accept=True).status == "accepted"


# --- refusals of bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(("change", "code"), [
    ({"targets": []}, "no_targets"),
    ({"targets": "issuer"}, "target_not_below"),
    ({"targets": "sibling"}, "target_not_below"),
    ({"targets": "above"}, "target_not_below"),
    ({"targets": "other_city"}, "target_not_below"),
    ({"targets": "missing"}, "target_not_below"),
    ({"deadline": TODAY - dt.timedelta(days=1)}, "deadline_past"),
    ({"deadline": TODAY + dt.timedelta(days=800)}, "deadline_too_far"),
    ({"deadline": None}, "deadline_required"),
    ({"title": "  "}, "title_required"),
    ({"title": "长" * 101}, "invalid"),
    ({"body": "长" * 4001}, "invalid"),
    ({"category": "whatever"}, "invalid_category"),
    ({"category": "custom"}, "custom_category_required"),
    ({"category": "custom", "custom_category": "长" * 41}, "invalid"),
])
def test_a_bad_task_is_refused_with_its_code_and_nothing_is_written(tree, change, code):
    targets = {"issuer": [tree.d1.pk], "sibling": [tree.d2.pk], "above": [tree.city.pk],
               "other_city": [tree.other_district.pk], "missing": [2**62]}
    values = {"title": "督办", "body": "", "category": "overdue_reports", "custom_category": "",
              "deadline": TODAY + dt.timedelta(days=3), "targets": [tree.t1.pk], **change}
    wanted = values.pop("targets")
    wanted = targets.get(wanted, wanted) if isinstance(wanted, str) else wanted
    with pytest.raises(DomainError) as exc:
        sv.issue_task(actor=tree.district_admin, issuer_region_id=tree.d1.pk,
                      target_region_ids=wanted, **values)
    assert exc.value.code == code and exc.value.status == 400
    assert exc.value.fields
    assert _nothing_written()


def test_every_bad_field_is_named_at_once(tree):
    with pytest.raises(DomainError) as exc:
        sv.issue_task(actor=tree.district_admin, issuer_region_id=tree.d1.pk, title="",
                      category="nope", deadline=TODAY - dt.timedelta(days=2),
                      target_region_ids=[])
    assert exc.value.code == "title_required"
    assert set(exc.value.fields) == {"title", "category", "deadline", "targets"}


def test_too_many_targets_are_refused(tree):
    code = _code(sv.issue_task, actor=tree.district_admin, issuer_region_id=tree.d1.pk,
                 title="督办", category="events", deadline=TODAY,
                 target_region_ids=list(range(1, sv.MAX_TARGETS + 2)))
    assert code == "too_many_targets" and _nothing_written()


def test_issuing_needs_the_permission_on_the_issuing_region(tree):
    assert _code(issue, tree, by=tree.sibling_district_admin) == "forbidden"
    assert _code(issue, tree, by=tree.town_admin) == "forbidden"
    assert _code(issue, tree, by=tree.venue_manager, issuer=tree.k1,
                 targets=[tree.k1]) == "forbidden"
    assert _code(issue, tree, by=tree.resident) == "forbidden"
    assert _code(sv.issue_task, actor=tree.district_admin, issuer_region_id=2**62, title="x",
                 category="events", deadline=TODAY, target_region_ids=[tree.t1.pk]) == \
        "region_not_found"
    assert _nothing_written()


def test_a_deadline_today_is_fine_and_a_town_issues_to_its_communities(tree):
    task = issue(tree, by=tree.town_admin, issuer=tree.t1, targets=[tree.k1, tree.k2],
                 deadline=TODAY, category="custom", custom_category="健身路径巡查")
    assert task.category_label == "健身路径巡查" and task.assignments.count() == 2
    # the city may reach past its districts, straight to a town
    deep = issue(tree, by=tree.city_admin, issuer=tree.city, targets=[tree.t3])
    assert list(deep.assignments.values_list("region_id", flat=True)) == [tree.t3.pk]


@pytest.mark.parametrize(("progress", "text", "code"), [
    (101, "x", "invalid_progress"), (-1, "x", "invalid_progress"),
    (True, "x", "invalid_progress"), ("50", "x", "invalid_progress"),
    (50, "  ", "text_required"), (50, "长" * 2001, "invalid"),
])
def test_a_bad_progress_report_is_refused_and_changes_nothing(tree, progress, text, code):
    a = assignment_of(issue(tree), tree.t1)
    assert _code(sv.report_progress, actor=tree.town_admin, assignment_id=a.pk,
                 progress=progress, text=text) == code
    a.refresh_from_db()
    assert (a.status, a.progress, a.reports.count()) == ("issued", 0, 0)


def test_return_needs_a_comment_and_submit_a_summary(tree):
    a = assignment_of(issue(tree), tree.t1)
    assert _code(sv.submit, actor=tree.town_admin, assignment_id=a.pk, text="") == \
        "text_required"
    sv.submit(actor=tree.town_admin, assignment_id=a.pk, text="完成")
    assert _code(sv.review, actor=tree.district_admin, assignment_id=a.pk, accept=False,
                 comment=" ") == "comment_required"
    a.refresh_from_db()
    assert a.status == "submitted" and a.reports.count() == 1


# --- the transition table ----------------------------------------------------------------------


def test_moves_out_of_turn_are_refused(tree):
    task = issue(tree, targets=[tree.t1, tree.t2])
    a = assignment_of(task, tree.t1)
    assert _code(sv.review, actor=tree.district_admin, assignment_id=a.pk, accept=True) == \
        "assignment_state"
    sv.submit(actor=tree.town_admin, assignment_id=a.pk, text="完成")
    assert _code(sv.submit, actor=tree.town_admin, assignment_id=a.pk, text="再次") == \
        "assignment_state"
    assert _code(sv.report_progress, actor=tree.town_admin, assignment_id=a.pk, progress=5,
                 text="x") == "assignment_state"
    assert _code(sv.add_evidence, actor=tree.town_admin, assignment_id=a.pk,
                 files=[sv.Upload("a.pdf", PDF)]) == "assignment_state"
    sv.review(actor=tree.district_admin, assignment_id=a.pk, accept=True)
    assert _code(sv.review, actor=tree.district_admin, assignment_id=a.pk, accept=False,
                 comment="再改") == "assignment_state"
    assert sv.sources("submitted") == ("issued", "in_progress", "returned")


def test_cancelling_withdraws_what_is_not_accepted_and_tells_those_units(tree):
    task = issue(tree, targets=[tree.t1, tree.t2])
    a1, a2 = assignment_of(task, tree.t1), assignment_of(task, tree.t2)
    sv.submit(actor=tree.town_admin, assignment_id=a1.pk, text="完成")
    sv.review(actor=tree.district_admin, assignment_id=a1.pk, accept=True)
    assert _code(sv.cancel_task, actor=tree.district_admin, task_id=task.pk, reason="") == \
        "reason_required"
    done = sv.cancel_task(actor=tree.district_admin, task_id=task.pk, reason="任务调整")
    assert (done.status, done.cancel_reason) == ("cancelled", "任务调整")
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.status, a2.status) == ("accepted", "cancelled")
    cancelled = _told(tree.sibling_town_admin)
    assert len(cancelled) == 2 and cancelled[-1].body == "任务调整"
    assert cancelled[-1].data == {"task_id": task.pk, "assignment_id": a2.pk}
    assert len(_told(tree.town_admin)) == 2  # issue and acceptance, no cancellation
    assert _code(sv.cancel_task, actor=tree.district_admin, task_id=task.pk, reason="x") == \
        "task_state"
    assert _code(sv.report_progress, actor=tree.sibling_town_admin, assignment_id=a2.pk,
                 progress=1, text="x") == "assignment_state"


# --- overdue, reminders, the panel -------------------------------------------------------------


def _age(task: SupervisionTask, deadline: dt.date) -> None:
    """Move a task's deadline (issuing refuses a past one, time moves on by itself)."""
    SupervisionTask.objects.filter(pk=task.pk).update(deadline=deadline)
    task.refresh_from_db()


def test_an_assignment_is_overdue_past_its_deadline_until_accepted(tree):
    task = issue(tree, targets=[tree.t1, tree.t2])
    a1, a2 = assignment_of(task, tree.t1), assignment_of(task, tree.t2)
    _age(task, TODAY - dt.timedelta(days=3))
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert sv.is_overdue(a1) and sv.days_late(task.deadline) == 3
    sv.submit(actor=tree.town_admin, assignment_id=a1.pk, text="晚了")
    a1.refresh_from_db()
    assert sv.is_overdue(a1)  # submitted is not accepted
    sv.review(actor=tree.district_admin, assignment_id=a1.pk, accept=True)
    a1.refresh_from_db()
    assert not sv.is_overdue(a1) and sv.is_overdue(a2)
    # deadline day itself is not overdue
    _age(task, TODAY)
    a2.refresh_from_db()
    assert not sv.is_overdue(a2)

    access = access_for_user(tree.district_admin)
    _age(task, TODAY - dt.timedelta(days=1))
    late = sv.list_tasks(access, sv.TaskFilters(role="issued", region=tree.d1, overdue=True))
    on_time = sv.list_tasks(access, sv.TaskFilters(role="issued", region=tree.d1,
                                                   overdue=False))
    assert [t.pk for t in late] == [task.pk] and not on_time.exists()


def test_the_panel_counts_what_a_region_issued_and_what_it_was_given(tree):
    on_time = issue(tree, targets=[tree.t1, tree.t2])
    late = issue(tree, targets=[tree.t1, tree.t2], title="已逾期")
    _age(late, TODAY - dt.timedelta(days=2))
    sv.submit(actor=tree.sibling_town_admin, assignment_id=assignment_of(late, tree.t2).pk,
              text="完成")
    city_task = issue(tree, by=tree.city_admin, issuer=tree.city, targets=[tree.d1],
                      title="市级督办")
    _age(city_task, TODAY - dt.timedelta(days=5))

    d1 = sv.panel(tree.d1)
    assert (d1.issued.open, d1.issued.overdue) == (2, 1)
    assert [(x.title, x.unit, x.days_late) for x in d1.issued.overdue_items] == [
        ("已逾期", "新嘉街道", 2), ("已逾期", "东栅街道", 2)]
    assert d1.issued.overdue_items[0].url == f"/cockpit/tasks/{late.pk}/"
    assert (d1.assigned.open, d1.assigned.overdue) == (1, 1)
    assert d1.assigned.overdue_items[0].issuer == "嘉兴市"
    assert d1.assigned.overdue_items[0].url.startswith("/cockpit/assignments/")

    t1 = sv.panel(tree.t1).as_dict()
    assert t1["issued"]["open"] == 0
    assert (t1["assigned"]["open"], t1["assigned"]["overdue"]) == (2, 1)
    assert sv.panel(tree.city).issued.overdue == 1
    assert sv.panel(tree.k1).assigned.open == 0  # the subtree does not count
    assert on_time.status == "open"


def test_reminders_go_once_a_day_and_the_issuer_hears_once_of_an_overdue_unit(tree):
    soon = issue(tree, targets=[tree.t1], title="两天内到期", deadline=TODAY + dt.timedelta(days=2))
    later = issue(tree, targets=[tree.t1], title="下周到期", deadline=TODAY + dt.timedelta(days=7))
    late = issue(tree, targets=[tree.t1, tree.t2], title="已逾期")
    _age(late, TODAY - dt.timedelta(days=1))
    sv.submit(actor=tree.sibling_town_admin, assignment_id=assignment_of(late, tree.t2).pk,
              text="已提交")
    before_t1 = len(_told(tree.town_admin))
    before_d1 = len(_told(tree.district_admin))

    # t1: due soon + overdue reminders; d1: two overdue units (t2 submitted but not accepted)
    assert sv.remind(today=TODAY) == 4
    t1_titles = [n.title for n in _told(tree.town_admin)[before_t1:]]
    assert len(t1_titles) == 2 and all("下周到期" not in x for x in t1_titles)
    assert len(_told(tree.district_admin)) == before_d1 + 2
    # the same day again: nothing
    assert sv.remind(today=TODAY) == 0
    # the next day: the units still working hear again, the issuer does not
    assert sv.remind(today=TODAY + dt.timedelta(days=1)) == 2
    assert len(_told(tree.district_admin)) == before_d1 + 2
    # accepted and cancelled assignments hear nothing more
    sv.cancel_task(actor=tree.district_admin, task_id=late.pk, reason="撤回")
    sv.submit(actor=tree.town_admin, assignment_id=assignment_of(soon, tree.t1).pk, text="完成")
    assert sv.remind(today=TODAY + dt.timedelta(days=2)) == 0
    assert later.status == "open"


def test_the_reminder_job_is_scheduled_daily():
    from sportsman.core import scheduler

    scheduler.autodiscover()
    job = next(j for j in scheduler.SCHEDULE if j.name == "cockpit.supervision_reminders")
    assert job.daily_at is not None and not scheduler.problems()


# --- evidence ----------------------------------------------------------------------------------


def test_a_photo_is_stored_reencoded_without_exif_and_a_pdf_as_it_came(tree):
    import io

    from PIL import Image

    a = assignment_of(issue(tree), tree.t1)
    raw = jpeg("SecretCam")
    assert b"SecretCam" in raw
    photo, pdf = sv.add_evidence(actor=tree.town_admin, assignment_id=a.pk,
                                 files=[sv.Upload("C:\\现场\\照片.png", raw),
                                        sv.Upload("../../台账.pdf", PDF)])
    stored = photo.file.read()
    assert b"SecretCam" not in stored and photo.name == "照片.jpg" and photo.kind == "image"
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and not image.getexif()
    assert pdf.file.read() == PDF and (pdf.name, pdf.kind, pdf.size) == ("台账.pdf", "pdf",
                                                                          len(PDF))
    assert pdf.file.name.startswith(f"supervision/{a.task_id}/{a.pk}/")
    assert AuditEntry.objects.filter(action="supervision.evidence").exists()


@pytest.mark.parametrize(("files", "code"), [
    ([sv.Upload("a.txt", b"hello")], "file_type"),
    ([sv.Upload("a.pdf", b"%PDF-1.4 but never ends")], "file_type"),
    ([sv.Upload("a.exe", b"MZ\x90\x00")], "file_type"),
    ([sv.Upload("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")], "file_type"),
    ([sv.Upload("a.jpg", b"\xff\xd8\xff" + b"\x00" * 50)], "photo_invalid"),
    ([sv.Upload("a.jpg", b"")], "file_empty"),
    ([sv.Upload("big.pdf", PDF + b"0" * sv.EVIDENCE_MAX_BYTES)], "file_too_large"),
    ([sv.Upload("big.jpg", b"\xff\xd8\xff" + b"0" * sv.PHOTO_MAX_BYTES)], "file_too_large"),
    ([sv.Upload(f"{i}.pdf", PDF) for i in range(sv.EVIDENCE_PER_CALL + 1)], "too_many_files"),
    ([], "file_required"),
])
def test_bad_evidence_is_refused_and_nothing_is_kept(tree, files, code):
    a = assignment_of(issue(tree), tree.t1)
    assert _code(sv.add_evidence, actor=tree.town_admin, assignment_id=a.pk, files=files) == code
    assert not TaskEvidence.objects.exists()


def test_a_bad_file_with_a_progress_report_refuses_the_report_too(tree):
    a = assignment_of(issue(tree), tree.t1)
    assert _code(sv.report_progress, actor=tree.town_admin, assignment_id=a.pk, progress=20,
                 text="进展", files=[sv.Upload("a.txt", b"plain")]) == "file_type"
    assert not TaskReport.objects.exists() and not TaskEvidence.objects.exists()


def test_an_assignment_takes_at_most_so_many_files(tree):
    a = assignment_of(issue(tree), tree.t1)
    for _ in range(sv.EVIDENCE_PER_ASSIGNMENT // sv.EVIDENCE_PER_CALL):
        sv.add_evidence(actor=tree.town_admin, assignment_id=a.pk,
                        files=[sv.Upload("a.pdf", PDF)] * sv.EVIDENCE_PER_CALL)
    assert _code(sv.add_evidence, actor=tree.town_admin, assignment_id=a.pk,
                 files=[sv.Upload("a.pdf", PDF)]) == "too_much_evidence"
    assert TaskEvidence.objects.count() == sv.EVIDENCE_PER_ASSIGNMENT


def test_evidence_is_seen_by_the_unit_and_the_issuer_only(tree):
    a = assignment_of(issue(tree), tree.t1)
    e = sv.add_evidence(actor=tree.town_admin, assignment_id=a.pk,
                        files=[sv.Upload("a.pdf", PDF)])[0]
    for user in (tree.town_admin, tree.district_admin, tree.city_admin):
        assert sv.get_evidence(access_for_user(user), e.pk) == e
    for user in (tree.sibling_town_admin, tree.community_admin, tree.sibling_district_admin,
                 tree.venue_manager, tree.resident):
        assert _code(sv.get_evidence, access_for_user(user), e.pk) == "evidence_not_found"
