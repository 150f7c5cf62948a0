"""Deliberation: a topic from proposal (with its supporters) or staff raising, through the
push to the region's residents, discussion and the vote (one per eligible resident, changeable
until close, proxy votes only where the region allows them), to the frozen result, the decision
and its follow-ups; the pages and the list endpoints' query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry
from sportsman.governance import deliberation, proxy
from sportsman.governance.models import (
    DeliberationRule,
    ProxyGrant,
    ProxyVoteRule,
    Topic,
    TopicSupport,
    Vote,
)
from sportsman.governance.tests.fixtures_deliberation import (
    closed_topic,
    open_topic,
    proposal,
    resident,
)
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _code(fn) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.code


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the workflow -------------------------------------------------------------------------------


def test_a_topic_goes_from_open_to_decided_with_its_result_frozen(tree, api_client):
    topic = open_topic(tree)
    voters = [resident(tree) for _ in range(3)]
    for who, choice in zip(voters, ["support", "support", "oppose"], strict=True):
        deliberation.vote(actor=who, topic_id=topic.pk, choice=choice)

    closed = deliberation.close_topic(actor=tree.town_admin, topic_id=topic.pk)
    assert (closed.status, closed.votes_support, closed.votes_oppose, closed.votes_abstain) \
        == ("closed", 2, 1, 0)
    # t1 holds the k2 voters, the topic's proposer-free staff and the tree's k1 resident
    assert closed.eligible == deliberation.eligible_residents(tree.t1).count() >= 4
    assert _code(lambda: deliberation.vote(actor=voters[2], topic_id=topic.pk,
                                           choice="support")) == "vote_closed"
    assert Vote.objects.get(user=voters[2]).choice == "oppose"

    deliberation.decide(actor=tree.town_admin, topic_id=topic.pk, decision="照明延长至22点。")
    deliberation.add_follow_up(actor=tree.town_admin, topic_id=topic.pk, text="灯具已调整。")
    body = api_client.get(f"/api/v1/topics/{topic.pk}").json()  # public, anonymous
    assert body["status"] == "decided" and body["decision"] == "照明延长至22点。"
    assert body["result"] == {"support": 2, "oppose": 1, "abstain": 0}
    assert [f["text"] for f in body["follow_ups"]] == ["灯具已调整。"]
    actions = set(AuditEntry.objects.filter(object_id=str(topic.pk))
                  .values_list("action", flat=True))
    assert {"governance.topic.raise", "governance.topic.open", "governance.topic.close",
            "governance.topic.decide"} <= actions


def test_the_transition_table_refuses_steps_out_of_order(tree):
    topic = open_topic(tree)
    assert _code(lambda: deliberation.decide(actor=tree.town_admin, topic_id=topic.pk,
                                             decision="x")) == "topic_bad_transition"
    assert _code(lambda: deliberation.add_follow_up(actor=tree.town_admin, topic_id=topic.pk,
                                                    text="x")) == "topic_bad_transition"
    assert _code(lambda: deliberation.open_topic(actor=tree.town_admin, topic_id=topic.pk)) \
        == "topic_bad_transition"
    topic.refresh_from_db()
    assert topic.status == "open" and topic.decision == ""


def test_a_vote_changes_in_place_until_close(tree):
    topic = open_topic(tree)
    me = resident(tree)
    first = deliberation.vote(actor=me, topic_id=topic.pk, choice="oppose")
    again = deliberation.vote(actor=me, topic_id=topic.pk, choice="abstain")
    assert first.pk == again.pk and Vote.objects.filter(topic=topic).count() == 1
    assert deliberation.live_counts(topic.pk) == {"support": 0, "oppose": 0, "abstain": 1}


def test_only_active_residents_of_the_region_vote(tree):
    topic = open_topic(tree)  # t1: k1 and k2
    outsider = resident(tree, tree.k3)  # another town
    homeless = tree.user()
    gone = resident(tree, is_active=False)
    for who in (outsider, homeless, gone, tree.other_city_admin):
        assert _code(lambda w=who: deliberation.vote(actor=w, topic_id=topic.pk,
                                                     choice="support")) == "not_eligible"
    assert _code(lambda: deliberation.vote(actor=resident(tree), topic_id=topic.pk,
                                           choice="maybe")) == "invalid_choice"
    assert not Vote.objects.exists()
    deliberation.vote(actor=resident(tree, tree.k1), topic_id=topic.pk, choice="support")
    assert Vote.objects.count() == 1


def test_no_proxy_vote_unless_the_region_allows_it_and_then_it_says_who_acted(tree):
    topic = open_topic(tree)
    elder, son = resident(tree, nickname="王奶奶"), resident(tree, nickname="小王")
    ProxyGrant.objects.create(principal=elder, agent=son, relation="family")
    assert _code(lambda: deliberation.vote(actor=son, topic_id=topic.pk, choice="support",
                                           for_user_id=elder.pk)) == "proxy_vote_not_allowed"
    assert not Vote.objects.exists()

    ProxyVoteRule.objects.create(region=tree.d1, allow_proxy_votes=True)
    assert proxy.proxy_votes_allowed(tree.t1)
    row = deliberation.vote(actor=son, topic_id=topic.pk, choice="support",
                            for_user_id=elder.pk)
    assert (row.user_id, row.acted_by_id) == (elder.pk, son.pk)
    stranger = resident(tree)
    assert _code(lambda: deliberation.vote(actor=stranger, topic_id=topic.pk, choice="oppose",
                                           for_user_id=elder.pk)) == "proxy_not_authorised"
    # the elder changing their own vote clears acted_by on the same row
    mine = deliberation.vote(actor=elder, topic_id=topic.pk, choice="oppose")
    assert (mine.pk, mine.acted_by_id, mine.choice) == (row.pk, None, "oppose")


def test_results_show_once_closed_or_live_where_the_region_says_so(tree, api_client):
    hidden = open_topic(tree)
    live = open_topic(tree, title="广场舞音量时段", live=True)
    for topic in (hidden, live):
        deliberation.vote(actor=resident(tree), topic_id=topic.pk, choice="support")
    assert api_client.get(f"/api/v1/topics/{hidden.pk}").json()["result"] is None
    assert api_client.get(f"/api/v1/topics/{live.pk}").json()["result"]["support"] == 1
    staff = api_client.as_user(tree.town_admin)
    assert staff.post(f"/api/v1/console/topics/{hidden.pk}/close").json()["result"] == {
        "support": 1, "oppose": 0, "abstain": 0}


def test_the_rule_sets_the_threshold_and_live_results_of_new_topics(tree, api_client):
    staff = api_client.as_user(tree.town_admin)
    r = staff.json("put", f"/api/v1/console/regions/{tree.t1.pk}/deliberation-rule",
                   {"support_threshold": 3, "show_results_live": True})
    assert r.status_code == 200
    assert deliberation.rule_for(tree.k2) == (3, True)
    assert deliberation.rule_for(tree.k3) == (20, False)  # another town: the default
    topic = proposal(tree)
    assert (topic.support_threshold, topic.show_results_live) == (3, True)
    bad = staff.json("put", f"/api/v1/console/regions/{tree.t1.pk}/deliberation-rule",
                     {"support_threshold": 0})
    assert bad.status_code == 400 and DeliberationRule.objects.get().support_threshold == 3


# --- proposals ------------------------------------------------------------------------------------


def test_a_proposal_opens_only_with_its_supporters(tree):
    topic = proposal(tree, threshold=2)
    assert topic.region == tree.k2 and topic.status == "proposed"
    assert _code(lambda: deliberation.open_topic(actor=tree.town_admin, topic_id=topic.pk)) \
        == "support_threshold_not_reached"
    fan = resident(tree)
    deliberation.support(actor=fan, topic_id=topic.pk)
    assert _code(lambda: deliberation.support(actor=fan, topic_id=topic.pk)) \
        == "already_supported"
    assert _code(lambda: deliberation.support(actor=resident(tree, tree.k1),
                                              topic_id=topic.pk)) == "not_eligible"
    reached = deliberation.support(actor=resident(tree), topic_id=topic.pk)
    assert reached.supporters == 2 == TopicSupport.objects.count()
    assert reached.threshold_reached_at is not None
    opened = deliberation.open_topic(actor=tree.town_admin, topic_id=topic.pk)
    assert opened.status == "open" and opened.opened_at is not None
    assert _code(lambda: deliberation.support(actor=resident(tree), topic_id=topic.pk)) \
        == "topic_not_proposed"


def test_reaching_the_threshold_tells_the_regions_own_staff(tree, django_capture_on_commit_callbacks):
    topic = proposal(tree, threshold=1)  # k2: its community admin is sibling_community_admin
    with django_capture_on_commit_callbacks(execute=True):
        deliberation.support(actor=resident(tree), topic_id=topic.pk)
    told = set(Notification.objects.filter(dedupe_key=f"topic:{topic.pk}:threshold")
               .values_list("user_id", flat=True))
    assert told == {tree.sibling_community_admin.pk}


def test_a_resident_may_propose_for_a_region_above_but_not_beside(tree, api_client):
    me = resident(tree)
    client = api_client.as_user(me)
    up = client.json("post", "/api/v1/topics", {"title": "街道门球场", "body": "增设一片门球场",
                                                "region_id": tree.t1.pk})
    assert up.status_code == 201 and up.json()["region_id"] == tree.t1.pk
    beside = client.json("post", "/api/v1/topics", {"title": "x", "body": "y",
                                                    "region_id": tree.k3.pk})
    assert beside.status_code == 403 and beside.json()["code"] == "not_eligible"
    assert Topic.objects.count() == 1


def test_sensitive_words_and_speed_are_refused_in_proposals_and_comments(tree, api_client):
    from sportsman.core.models import SensitiveWord

    SensitiveWord.objects.create(word="代开发票", region=tree.city)
    me = resident(tree)
    client = api_client.as_user(me)
    r = client.json("post", "/api/v1/topics", {"title": "代开发票", "body": "正文"})
    assert r.status_code == 400 and r.json()["code"] == "sensitive_words"
    topic = open_topic(tree)
    for _ in range(10):
        assert client.json("post", f"/api/v1/topics/{topic.pk}/comments",
                           {"text": "支持延长"}).status_code == 201
    slow = client.json("post", f"/api/v1/topics/{topic.pk}/comments", {"text": "再说一句"})
    assert slow.status_code == 429 and slow.json()["code"] == "throttled"
    assert topic.comments.count() == 10


def test_discussion_is_for_residents_of_the_region_while_proposed_or_open(tree):
    topic = closed_topic(tree)
    assert _code(lambda: deliberation.comment(actor=resident(tree), topic_id=topic.pk,
                                              text="晚了")) == "discussion_closed"
    other = open_topic(tree)
    assert _code(lambda: deliberation.comment(actor=resident(tree, tree.k4),
                                              topic_id=other.pk, text="路过")) == "not_eligible"
    staff = deliberation.comment(actor=tree.town_admin, topic_id=other.pk, text="街道将评估。")
    assert staff.is_staff


# --- telling the region ---------------------------------------------------------------------------


def test_opening_queues_the_push_and_the_push_tells_eligible_residents_in_batches(
        tree, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    people = [resident(tree) for _ in range(5)]
    away = resident(tree, tree.k4)
    with django_capture_on_commit_callbacks(execute=True):
        topic = open_topic(tree)
    assert DBTaskResult.objects.filter(
        task_path="sportsman.governance.deliberation_tasks.push_opened_topic").exists()
    eligible = deliberation.eligible_residents(tree.t1).count()
    assert deliberation.push_opened(topic.pk, batch=2) == eligible
    told = set(Notification.objects.filter(dedupe_key=f"topic:{topic.pk}:open")
               .values_list("user_id", flat=True))
    assert {p.pk for p in people} <= told and away.pk not in told
    assert deliberation.push_opened(topic.pk, batch=2) == 0  # a retry tells nobody twice


# --- API and pages --------------------------------------------------------------------------------


def test_my_topics_are_those_of_my_community_and_above(tree, api_client):
    mine = open_topic(tree)  # t1
    proposal(tree)  # k2
    open_topic(tree, region=tree.t2, title="东栅的事")
    items = api_client.as_user(resident(tree)).get("/api/v1/topics").json()["items"]
    assert len(items) == 2 and mine.pk in {i["id"] for i in items}
    k1 = api_client.as_user(resident(tree, tree.k1)).get("/api/v1/topics").json()["items"]
    assert [i["id"] for i in k1] == [mine.pk]
    assert api_client.get("/api/v1/topics").status_code == 401


def test_voting_through_the_api_with_an_idempotency_key(tree, api_client):
    topic = open_topic(tree)
    client = api_client.as_user(resident(tree))
    headers = {"HTTP_IDEMPOTENCY_KEY": "vote-1"}
    a = client.json("put", f"/api/v1/topics/{topic.pk}/vote", {"choice": "support"}, **headers)
    b = client.json("put", f"/api/v1/topics/{topic.pk}/vote", {"choice": "support"}, **headers)
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    assert client.get(f"/api/v1/topics/{topic.pk}").json()["my_vote"] == "support"
    bad = client.json("put", f"/api/v1/topics/{topic.pk}/vote", {"choice": "yes"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_choice"


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_topic_lists_take_the_same_queries_for_few_and_many(tree, api_client):
    me = resident(tree)
    client, staff = api_client.as_user(me), api_client.as_user(tree.town_admin)
    topic = open_topic(tree)
    deliberation.comment(actor=me, topic_id=topic.pk, text="支持")
    few = [_count(lambda: client.get("/api/v1/topics")),
           _count(lambda: staff.get("/api/v1/console/topics")),
           _count(lambda: client.get(f"/api/v1/topics/{topic.pk}/comments"))]
    for i in range(6):
        open_topic(tree, title=f"议题{i}")
        deliberation.comment(actor=resident(tree), topic_id=topic.pk, text=f"意见{i}")
    many = [_count(lambda: client.get("/api/v1/topics")),
            _count(lambda: staff.get("/api/v1/console/topics")),
            _count(lambda: client.get(f"/api/v1/topics/{topic.pk}/comments"))]
    assert few == many


def test_the_topic_pages_for_residents_and_staff(tree):
    me = resident(tree)
    topic = open_topic(tree)
    listing = _as(me).get("/governance/topics/").content.decode()
    assert "篮球场夜间照明延长" in listing
    page = _as(me).get(f"/governance/topics/{topic.pk}/").content.decode()
    assert 'id="vote-support"' in page
    r = _as(me).post(f"/governance/topics/{topic.pk}/act/", {"action": "vote",
                                                             "choice": "oppose"})
    assert r.status_code == 302 and Vote.objects.get(user=me).choice == "oppose"
    _as(me).post(f"/governance/topics/{topic.pk}/act/", {"action": "comment", "text": "同意"})
    assert topic.comments.filter(author=me).exists()
    assert Client().get(f"/governance/topics/{topic.pk}/").status_code == 200  # public

    made = _as(me).post("/governance/topics/new/", {"title": "增设乒乓球桌", "body": "两张",
                                                    "region": tree.k2.pk})
    assert made.status_code == 302 and Topic.objects.filter(title="增设乒乓球桌").exists()

    staff = _as(tree.town_admin)
    console = staff.get("/governance/console/topics/").content.decode()
    assert "篮球场夜间照明延长" in console
    staff.post(f"/governance/console/topics/{topic.pk}/act/", {"action": "close"})
    staff.post(f"/governance/console/topics/{topic.pk}/act/", {"action": "decide",
                                                               "text": "延长到22点"})
    topic.refresh_from_db()
    assert topic.status == "decided" and topic.votes_oppose == 1
    shown = Client().get(f"/governance/topics/{topic.pk}/").content.decode()
    assert 'id="decision"' in shown and "延长到22点" in shown
    assert _as(me).get("/governance/console/topics/").status_code == 403


def test_a_vote_closes_by_itself_at_its_closing_time(tree):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    topic = open_topic(tree)
    closes = timezone.now() + dt.timedelta(hours=2)
    Topic.objects.filter(pk=topic.pk).update(vote_closes_at=closes)
    deliberation.vote(actor=resident(tree), topic_id=topic.pk, choice="support")
    with time_machine.travel(closes - dt.timedelta(seconds=1), tick=False):
        assert deliberation.close_due() == 0
    with time_machine.travel(closes, tick=False):
        assert deliberation.close_due() == 1
        assert deliberation.close_due() == 0
    topic.refresh_from_db()
    assert topic.status == "closed" and topic.votes_support == 1
