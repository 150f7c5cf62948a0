"""Scope-matrix cases of posts' and moderation's staff operations (collected by
tests/test_scope_matrix.py): posts of community k2 (inside town t1)."""

from __future__ import annotations

from tests.scope import Case, ids


def _post(tree):
    from sportsman.governance.tests.fixtures_deliberation import post

    return {"post": post(tree)}


def _flagged(tree):
    from sportsman.governance import moderation
    from sportsman.governance.tests.fixtures_deliberation import post, resident

    found = post(tree, text="加微信领红包")
    moderation.flag(actor=resident(tree), kind="post", target_id=found.pk, reason="广告")
    return {"post": found}


def _hidden(tree):
    from sportsman.governance import moderation

    state = _flagged(tree)
    moderation.take_down(actor=tree.city_admin, kind="post", target_id=state["post"].pk,
                         reason="广告")
    return state


def _post_at_a_place(tree):
    from sportsman.facilities.tests.factories import make_facility

    make_facility(tree.k2, name="新南社区健身点", lat=30.77, lng=120.77, units=0)
    return _post(tree)


def _fresh(state):
    state["post"].refresh_from_db()
    return state["post"]


def _answered(tree, state) -> bool:
    return _fresh(state).answered_at is not None


def _turned(tree, state) -> bool:
    return _fresh(state).topic_id is not None


def _open_flags(state) -> int:
    from sportsman.governance.models import ContentFlag

    return ContentFlag.objects.filter(target_id=state["post"].pk, status="open").count()


CASES: list[Case] = [
    Case("posts.console posts (sees a k2 post)", op="GET /console/posts", setup=_post,
         call=lambda c, t, s: c.get("/api/v1/console/posts"),
         sees=lambda r, t, s: r.status_code == 200 and s["post"].pk in ids(r)),
    Case("posts.answer a k2 post", op="POST /console/posts/{post_id}/answer", setup=_post,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/posts/{s['post'].pk}/answer",
                                     {"text": "社区羽毛球馆周六开放"}),
         changed=_answered),
    Case("posts.turn a k2 post into a topic", op="POST /console/posts/{post_id}/topic",
         setup=_post,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/posts/{s['post'].pk}/topic",
                                     {"title": "周末羽毛球场开放"}),
         changed=_turned),
    Case("posts.turn a k2 post into a report", op="POST /console/posts/{post_id}/report",
         setup=_post_at_a_place,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/posts/{s['post'].pk}/report",
                                     {"category": "lighting"}),
         changed=lambda t, s: _fresh(s).report_id is not None),
    Case("moderation.queue (sees a flagged k2 post)", op="GET /console/flags",
         setup=_flagged, call=lambda c, t, s: c.get("/api/v1/console/flags"),
         sees=lambda r, t, s: r.status_code == 200 and f"post:{s['post'].pk}" in ids(r)),
    Case("moderation.take down a k2 post",
         op="POST /console/moderation/{kind}/{target_id}/take-down", setup=_flagged,
         call=lambda c, t, s: c.json(
             "post", f"/api/v1/console/moderation/post/{s['post'].pk}/take-down",
             {"reason": "广告"}),
         changed=lambda t, s: _fresh(s).hidden_at is not None),
    Case("moderation.restore a k2 post",
         op="POST /console/moderation/{kind}/{target_id}/restore", setup=_hidden,
         call=lambda c, t, s: c.post(
             f"/api/v1/console/moderation/post/{s['post'].pk}/restore"),
         changed=lambda t, s: _fresh(s).hidden_at is None),
    Case("moderation.dismiss flags on a k2 post",
         op="POST /console/moderation/{kind}/{target_id}/dismiss", setup=_flagged,
         call=lambda c, t, s: c.post(
             f"/api/v1/console/moderation/post/{s['post'].pk}/dismiss"),
         changed=lambda t, s: _open_flags(s) == 0),
]
