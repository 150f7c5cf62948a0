"""Scope-matrix cases of deliberation's staff operations (collected by
tests/test_scope_matrix.py): topics of town t1, governed by t1's staff and above."""

from __future__ import annotations

from tests.scope import Case, ids


def _proposed(tree):
    from sportsman.governance import deliberation

    topic = deliberation.raise_topic(actor=tree.town_admin, region_id=tree.t1.pk,
                                     title="广场舞音量时段", body="晚上八点半后降低音量。",
                                     open_now=False)
    return {"topic": topic}


def _open(tree):
    from sportsman.governance.tests.fixtures_deliberation import open_topic

    return {"topic": open_topic(tree)}


def _closed(tree):
    from sportsman.governance.tests.fixtures_deliberation import closed_topic

    return {"topic": closed_topic(tree)}


def _decided(tree):
    from sportsman.governance import deliberation

    topic = _closed(tree)["topic"]
    deliberation.decide(actor=tree.town_admin, topic_id=topic.pk, decision="照明延长至22点。")
    return {"topic": topic}


def _status(state) -> str:
    state["topic"].refresh_from_db()
    return state["topic"].status


def _raised(tree, state) -> bool:
    from sportsman.governance.models import Topic

    return Topic.objects.filter(region=tree.t1, title="门球场遮阳棚").exists()


def _followed(tree, state) -> bool:
    return state["topic"].follow_ups.filter(text="灯具已更换").exists()


def _rule(tree, state) -> bool:
    from sportsman.governance.models import DeliberationRule

    return DeliberationRule.objects.filter(region=tree.t1, support_threshold=7).exists()


CASES: list[Case] = [
    Case("deliberation.console topics (sees a t1 topic)", op="GET /console/topics",
         setup=_open, call=lambda c, t, s: c.get("/api/v1/console/topics"),
         sees=lambda r, t, s: r.status_code == 200 and s["topic"].pk in ids(r)),
    Case("deliberation.raise a topic for t1", op="POST /console/topics",
         call=lambda c, t, s: c.json("post", "/api/v1/console/topics", {
             "region_id": t.t1.pk, "title": "门球场遮阳棚", "body": "夏天太晒。"}),
         changed=_raised),
    Case("deliberation.open a t1 topic", op="POST /console/topics/{topic_id}/open",
         setup=_proposed,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/topics/{s['topic'].pk}/open",
                                     {}),
         changed=lambda t, s: _status(s) == "open"),
    Case("deliberation.close a t1 topic", op="POST /console/topics/{topic_id}/close",
         setup=_open, call=lambda c, t, s: c.post(
             f"/api/v1/console/topics/{s['topic'].pk}/close"),
         changed=lambda t, s: _status(s) == "closed"),
    Case("deliberation.decide a t1 topic", op="POST /console/topics/{topic_id}/decision",
         setup=_closed,
         call=lambda c, t, s: c.json("post",
                                     f"/api/v1/console/topics/{s['topic'].pk}/decision",
                                     {"decision": "照明延长至22点。"}),
         changed=lambda t, s: _status(s) == "decided"),
    Case("deliberation.follow up a t1 topic", op="POST /console/topics/{topic_id}/follow-ups",
         setup=_decided,
         call=lambda c, t, s: c.json("post",
                                     f"/api/v1/console/topics/{s['topic'].pk}/follow-ups",
                                     {"text": "灯具已更换"}),
         changed=_followed),
    Case("deliberation.withdraw a t1 proposal", op="POST /console/topics/{topic_id}/withdraw",
         setup=_proposed,
         call=lambda c, t, s: c.json("post",
                                     f"/api/v1/console/topics/{s['topic'].pk}/withdraw",
                                     {"reason": "已由街道统一解决"}),
         changed=lambda t, s: _status(s) == "withdrawn"),
    Case("deliberation.rule of t1", op="PUT /console/regions/{region_id}/deliberation-rule",
         call=lambda c, t, s: c.json("put",
                                     f"/api/v1/console/regions/{t.t1.pk}/deliberation-rule",
                                     {"support_threshold": 7, "show_results_live": True}),
         changed=_rule),
]
