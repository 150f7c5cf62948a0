"""My posts: publishing to my community's feed, comments, my own posts, staff answers, turning a
post into a topic or (from the reports side) a report; the pages; list query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry
from sportsman.governance import posts
from sportsman.governance.models import CommunityPost, PostComment, Topic
from sportsman.governance.tests.fixtures_deliberation import post, resident

pytestmark = pytest.mark.django_db


def _code(fn) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.code


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_post_goes_to_my_communitys_feed_only(tree, api_client):
    me, neighbour, elsewhere = resident(tree), resident(tree), resident(tree, tree.k1)
    r = api_client.as_user(me).json("post", "/api/v1/posts",
                                    {"text": "周六上午找羽毛球搭子", "kind": "need"})
    assert r.status_code == 201 and r.json()["region_id"] == tree.k2.pk
    pid = r.json()["id"]
    assert [p["id"] for p in api_client.as_user(neighbour).get("/api/v1/posts").json()["items"]] \
        == [pid]
    assert api_client.as_user(elsewhere).get("/api/v1/posts").json()["items"] == []
    assert api_client.as_user(elsewhere).get(f"/api/v1/posts/{pid}").status_code == 404
    assert [p["id"] for p in api_client.as_user(me).get("/api/v1/posts/mine").json()["items"]] \
        == [pid]


def test_publishing_is_refused_without_a_community_or_with_bad_text(tree, api_client):
    from sportsman.core.models import SensitiveWord

    SensitiveWord.objects.create(word="代开发票", region=tree.city)
    homeless = api_client.as_user(tree.user())
    r = homeless.json("post", "/api/v1/posts", {"text": "你好"})
    assert r.status_code == 403 and r.json()["code"] == "no_home_community"
    client = api_client.as_user(resident(tree))
    assert client.json("post", "/api/v1/posts", {"text": "代开发票"}).json()["code"] \
        == "sensitive_words"
    assert client.json("post", "/api/v1/posts", {"text": "  "}).status_code == 400
    assert client.json("post", "/api/v1/posts", {"text": "x", "kind": "ad"}).status_code == 400
    assert not CommunityPost.objects.exists()


def test_posting_fast_is_throttled(tree, api_client):
    client = api_client.as_user(resident(tree))
    codes = [client.json("post", "/api/v1/posts", {"text": f"第{i}条"}).status_code
             for i in range(4)]
    assert codes == [201, 201, 201, 429] and CommunityPost.objects.count() == 3


def test_comments_and_a_staff_answer(tree, api_client, django_capture_on_commit_callbacks):
    from sportsman.notifications.models import Notification

    found = post(tree)
    neighbour = api_client.as_user(resident(tree))
    c = neighbour.json("post", f"/api/v1/posts/{found.pk}/comments", {"text": "我也去！"})
    assert c.status_code == 201
    outsider = api_client.as_user(resident(tree, tree.k3))
    assert outsider.json("post", f"/api/v1/posts/{found.pk}/comments",
                         {"text": "路过"}).status_code == 404
    staff = api_client.as_user(tree.town_admin)
    with django_capture_on_commit_callbacks(execute=True):
        a = staff.json("post", f"/api/v1/console/posts/{found.pk}/answer",
                       {"text": "社区羽毛球馆周六8点开放"})
    assert a.status_code == 201 and a.json()["is_answer"]
    assert Notification.objects.filter(user=found.author, category="governance").count() == 1
    found.refresh_from_db()
    assert found.comments == 2 and found.answered_at is not None
    assert AuditEntry.objects.filter(action="governance.post.answer").count() == 1
    shown = neighbour.get(f"/api/v1/posts/{found.pk}/comments").json()
    assert [x["is_answer"] for x in shown] == [False, True]


def test_staff_turn_a_post_into_a_topic_once(tree, api_client):
    found = post(tree, text="球场的灯太暗了")
    staff = api_client.as_user(tree.town_admin)
    r = staff.json("post", f"/api/v1/console/posts/{found.pk}/topic",
                   {"title": "球场照明改造", "open_now": True})
    assert r.status_code == 201
    topic = Topic.objects.get(pk=r.json()["id"])
    assert (topic.region, topic.status, topic.body) == (tree.k2, "open", "球场的灯太暗了")
    found.refresh_from_db()
    assert found.topic_id == topic.pk and found.turned_at is not None
    again = staff.json("post", f"/api/v1/console/posts/{found.pk}/topic", {"title": "再来"})
    assert again.status_code == 409 and again.json()["code"] == "post_already_turned"
    assert Topic.objects.count() == 1
    assert AuditEntry.objects.filter(action="governance.post.to_topic").count() == 1


def test_marking_a_post_turned_into_a_report(tree):
    found = post(tree)
    posts.mark_turned_into_report(post=found, report_id=42)
    found.refresh_from_db()
    assert found.report_id == 42 and found.turned_at is not None
    assert _code(lambda: posts.mark_turned_into_report(post=found, report_id=43)) \
        == "post_already_turned"
    assert _code(lambda: posts.turn_into_topic(actor=tree.town_admin, post_id=found.pk,
                                               title="x")) == "post_already_turned"
    assert CommunityPost.objects.get(pk=found.pk).report_id == 42


def test_an_author_withdraws_their_post_and_others_cannot(tree, api_client):
    me = resident(tree)
    found = post(tree, author=me)
    assert api_client.as_user(resident(tree)).delete(f"/api/v1/posts/{found.pk}").status_code \
        == 404
    assert api_client.as_user(me).delete(f"/api/v1/posts/{found.pk}").status_code == 200
    assert not posts.feed(me).exists() and not posts.mine(me).exists()


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_post_lists_take_the_same_queries_for_few_and_many(tree, api_client):
    me = resident(tree)
    client, staff = api_client.as_user(me), api_client.as_user(tree.town_admin)
    first = post(tree, author=me)
    posts.comment(actor=resident(tree), post_id=first.pk, text="好")
    calls = [lambda: client.get("/api/v1/posts"), lambda: client.get("/api/v1/posts/mine"),
             lambda: client.get(f"/api/v1/posts/{first.pk}/comments"),
             lambda: staff.get("/api/v1/console/posts")]
    few = [_count(c) for c in calls]
    for i in range(6):
        post(tree, author=resident(tree), text=f"第{i}条")
        CommunityPost.objects.create(region=tree.k2, author=me, text=f"我的{i}")
        posts.comment(actor=resident(tree), post_id=first.pk, text=f"评论{i}")
    assert [_count(c) for c in calls] == few


def test_the_posts_pages(tree):
    me, neighbour = resident(tree, nickname="小李"), resident(tree)
    r = _as(me).post("/governance/posts/", {"text": "有人周日一起跑步吗", "kind": "idea"})
    assert r.status_code == 302
    found = CommunityPost.objects.get()
    assert found.kind == "idea"
    feed = _as(neighbour).get("/governance/posts/").content.decode()
    assert "有人周日一起跑步吗" in feed
    _as(neighbour).post(f"/governance/posts/{found.pk}/", {"action": "comment", "text": "我"})
    assert PostComment.objects.filter(post=found).count() == 1
    _as(neighbour).post(f"/governance/posts/{found.pk}/", {"action": "flag", "kind": "post",
                                                           "target": found.pk, "reason": "x"})
    mine = _as(me).get("/governance/posts/mine/").content.decode()
    assert "有人周日一起跑步吗" in mine
    staff = _as(tree.town_admin)
    console = staff.get("/governance/console/posts/").content.decode()
    assert "有人周日一起跑步吗" in console and 'id="queue"' in console
    staff.post(f"/governance/console/posts/{found.pk}/", {"action": "answer", "text": "好主意"})
    found.refresh_from_db()
    assert found.answered_at is not None
    staff.post(f"/governance/console/moderation/post/{found.pk}/take-down/", {"reason": "重复"})
    found.refresh_from_db()
    assert found.hidden_at is not None and "有人周日" not in _as(neighbour).get(
        "/governance/posts/").content.decode()
    assert _as(me).get("/governance/console/posts/").status_code == 403
