"""Moderation of governance content: a flag per person and item, the staff queue of the item's
region, take-down (hidden, reason, audit entry, flags resolved), restore and dismiss; refusals
change nothing."""

from __future__ import annotations

import pytest

from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry
from sportsman.governance import deliberation, moderation, posts
from sportsman.governance.models import CommunityPost, ContentFlag
from sportsman.governance.tests.fixtures_deliberation import open_topic, post, resident

pytestmark = pytest.mark.django_db


def _code(fn) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.code


def test_one_flag_per_person_and_item(tree):
    found = post(tree)
    me = resident(tree)
    moderation.flag(actor=me, kind="post", target_id=found.pk, reason="广告")
    assert _code(lambda: moderation.flag(actor=me, kind="post", target_id=found.pk,
                                         reason="广告")) == "already_flagged"
    assert _code(lambda: moderation.flag(actor=me, kind="banner", target_id=found.pk,
                                         reason="x")) == "unknown_content_kind"
    assert _code(lambda: moderation.flag(actor=me, kind="post", target_id=found.pk + 99,
                                         reason="x")) == "content_not_found"
    flag = ContentFlag.objects.get()
    assert (flag.region, flag.status) == (tree.k2, "open")


def test_the_queue_groups_flags_by_item_within_scope(tree):
    found = post(tree, text="加微信领红包")
    topic = open_topic(tree)
    said = deliberation.comment(actor=resident(tree), topic_id=topic.pk, text="骂人的话")
    for _ in range(3):
        moderation.flag(actor=resident(tree), kind="post", target_id=found.pk, reason="广告")
    moderation.flag(actor=resident(tree), kind="topic_comment", target_id=said.pk,
                    reason="不文明")
    items = moderation.queue(tree.town_admin)
    assert [(i.kind, i.target_id, i.flags) for i in items] == [
        ("post", found.pk, 3), ("topic_comment", said.pk, 1)]
    assert items[0].text == "加微信领红包" and items[0].reasons == ["广告"] * 3
    assert moderation.queue(tree.sibling_town_admin) == []
    assert moderation.queue(tree.community_admin) == []  # k1's staff: k2 is not theirs


def test_take_down_hides_audits_and_resolves_then_restore(tree, api_client):
    me = resident(tree)
    found = post(tree)
    moderation.flag(actor=me, kind="post", target_id=found.pk, reason="广告")
    assert _code(lambda: moderation.take_down(actor=tree.sibling_town_admin, kind="post",
                                              target_id=found.pk, reason="x")) \
        == "content_not_found"
    assert _code(lambda: moderation.take_down(actor=tree.town_admin, kind="post",
                                              target_id=found.pk, reason=" ")) \
        == "reason_required"
    assert CommunityPost.objects.get(pk=found.pk).hidden_at is None

    moderation.take_down(actor=tree.town_admin, kind="post", target_id=found.pk, reason="广告")
    found.refresh_from_db()
    assert found.hidden_at is not None and found.hidden_reason == "广告"
    assert ContentFlag.objects.get().status == "taken_down"
    entry = AuditEntry.objects.get(action="governance.moderation.take_down")
    assert entry.object_id == str(found.pk) and entry.region_id == tree.k2.pk
    assert not posts.feed(me).exists()
    assert _code(lambda: moderation.take_down(actor=tree.town_admin, kind="post",
                                              target_id=found.pk, reason="x")) \
        == "already_hidden"
    # the author still sees it in "my posts", with the reason
    mine = api_client.as_user(found.author).get("/api/v1/posts/mine").json()["items"]
    assert mine[0]["hidden"] and mine[0]["hidden_reason"] == "广告"

    moderation.restore(actor=tree.town_admin, kind="post", target_id=found.pk)
    assert posts.feed(me).exists()
    assert AuditEntry.objects.filter(action="governance.moderation.restore").count() == 1
    assert _code(lambda: moderation.restore(actor=tree.town_admin, kind="post",
                                            target_id=found.pk)) == "not_hidden"


def test_a_comment_taken_down_leaves_the_count_and_comes_back(tree):
    found = post(tree)
    said = posts.comment(actor=resident(tree), post_id=found.pk, text="广告")
    moderation.take_down(actor=tree.town_admin, kind="post_comment", target_id=said.pk,
                         reason="广告")
    found.refresh_from_db()
    assert found.comments == 0 and not posts.comments(found.pk).exists()
    moderation.restore(actor=tree.town_admin, kind="post_comment", target_id=said.pk)
    found.refresh_from_db()
    assert found.comments == 1


def test_dismissing_leaves_the_item_up(tree, api_client):
    found = post(tree)
    moderation.flag(actor=resident(tree), kind="post", target_id=found.pk, reason="不喜欢")
    r = api_client.as_user(tree.town_admin).post(
        f"/api/v1/console/moderation/post/{found.pk}/dismiss")
    assert r.status_code == 200
    assert ContentFlag.objects.get().status == "dismissed"
    assert CommunityPost.objects.get(pk=found.pk).hidden_at is None
    assert moderation.queue(tree.town_admin) == []


def test_flagging_through_the_api_and_its_rate_limit(tree, api_client):
    me = api_client.as_user(resident(tree))
    items = [post(tree, author=resident(tree)) for _ in range(31)]
    codes = [me.json("post", "/api/v1/flags", {"kind": "post", "target_id": p.pk,
                                               "reason": "广告"}).status_code for p in items]
    assert codes == [201] * 30 + [429]
    assert ContentFlag.objects.count() == 30
