"""Scope-matrix cases of the information board's staff operations (collected by
tests/test_scope_matrix.py): a notice of town t1 to an association in community k2."""

from __future__ import annotations

from tests.scope import Case, ids


def _notice(tree):
    from sportsman.associations import board
    from sportsman.associations.tests.fixtures_evaluation import make_association

    association = make_association(tree)
    notice = board.publish_notice(actor=tree.town_admin, region_id=tree.t1.pk, kind="policy",
                                  title="政策解读", body="新办法解读。")
    return {"association": association, "notice": notice}


def _published(tree, state) -> bool:
    from sportsman.associations.models import Notice

    return Notice.objects.filter(title="矩阵通知", region=tree.t1).exists()


def _reminded(tree, state) -> bool:
    state["notice"].refresh_from_db()
    return state["notice"].reminders == 1


def _withdrawn(tree, state) -> bool:
    state["notice"].refresh_from_db()
    return state["notice"].status == "withdrawn"


CASES: list[Case] = [
    Case("board.notices (sees t1's)", op="GET /console/notices", setup=_notice,
         call=lambda c, t, s: c.get("/api/v1/console/notices"),
         sees=lambda r, t, s: r.status_code == 200 and s["notice"].pk in ids(r)),
    Case("board.publish to t1", op="POST /console/notices", setup=_notice,
         call=lambda c, t, s: c.post("/api/v1/console/notices", {
             "region_id": t.t1.pk, "kind": "training", "title": "矩阵通知", "body": "培训"}),
         changed=_published),
    Case("board.recipients of a t1 notice", op="GET /console/notices/{notice_id}/recipients",
         setup=_notice,
         call=lambda c, t, s: c.get(f"/api/v1/console/notices/{s['notice'].pk}/recipients"),
         sees=lambda r, t, s: r.status_code == 200 and s["association"].pk in {
             row["association_id"] for row in r.json()["items"]}),
    Case("board.remind for a t1 notice", op="POST /console/notices/{notice_id}/remind",
         setup=_notice,
         call=lambda c, t, s: c.post(f"/api/v1/console/notices/{s['notice'].pk}/remind"),
         changed=_reminded),
    Case("board.withdraw a t1 notice", op="POST /console/notices/{notice_id}/withdraw",
         setup=_notice,
         call=lambda c, t, s: c.post(f"/api/v1/console/notices/{s['notice'].pk}/withdraw"),
         changed=_withdrawn),
]
