"""Scope-matrix cases of the associations' staff operations (collected by
tests/test_scope_matrix.py): an association of community k2 (inside town t1). The registry's
console and the seasons follow the subtree (t1's staff and above); the one window's steps
follow the level the application waits at (t1's own staff accept it, d1's own staff decide it
once accepted) — a parent does not act in a child's place."""

from __future__ import annotations

from tests.scope import Case, ids


def _association(tree):
    from sportsman.associations.tests.fixtures_window import make_association

    association, manager = make_association(tree)
    return {"association": association, "manager": manager}


def _submitted(tree):
    from sportsman.associations.tests.fixtures_window import submitted

    state = _association(tree)
    state["app"] = submitted(state["association"], state["manager"])
    return state


def _accepted(tree):
    from sportsman.associations import window

    state = _submitted(tree)
    state["app"] = window.transition_application(actor=tree.town_admin,
                                                 application_id=state["app"].pk,
                                                 action="accept")
    return state


def _season(tree):
    import datetime as dt

    from django.utils import timezone

    from sportsman.associations.models import InspectionSeason

    state = _association(tree)
    year = timezone.localdate().year - 1
    state["season"] = InspectionSeason.objects.create(region=tree.t1, year=year,
                                                      due_on=dt.date(year + 1, 3, 31))
    return state


def _rule(tree):
    from sportsman.associations.models import ReviewRule

    return {"rule": ReviewRule.objects.create(region=tree.t1, kind="filing", levels="town",
                                              handle_days=9)}


def _status(state) -> str:
    state["app"].refresh_from_db()
    return state["app"].status


def _association_status(state) -> str:
    state["association"].refresh_from_db()
    return state["association"].status


def _made(tree, state) -> bool:
    from sportsman.associations.models import Association

    return Association.objects.filter(name="矩阵门球队", region=tree.k2).exists()


def _season_opened(tree, state) -> bool:
    from sportsman.associations.models import InspectionSeason

    return InspectionSeason.objects.filter(region=tree.t1).exists()


def _rule_set(tree, state) -> bool:
    from sportsman.associations.models import ReviewRule

    return ReviewRule.objects.filter(region=tree.t1, kind="change").exists()


def _season_year(tree) -> int:
    from django.utils import timezone

    return timezone.localdate().year - 1


CASES: list[Case] = [
    Case("associations.console list (sees a k2 association)", op="GET /console/associations",
         setup=_association,
         call=lambda c, t, s: c.get("/api/v1/console/associations?limit=200"),
         sees=lambda r, t, s: r.status_code == 200 and s["association"].pk in ids(r)),
    Case("associations.create in k2", op="POST /console/associations",
         call=lambda c, t, s: c.json("post", "/api/v1/console/associations", {
             "region_id": t.k2.pk, "name": "矩阵门球队", "kind": "team"}),
         changed=_made),
    Case("associations.suspend a k2 association",
         op="POST /console/associations/{association_id}/status", setup=_association,
         call=lambda c, t, s: c.json(
             "post", f"/api/v1/console/associations/{s['association'].pk}/status",
             {"status": "suspended", "reason": "未按期年检"}),
         changed=lambda t, s: _association_status(s) == "suspended"),
    Case("window.inbox of t1 (sees a submitted k2 application)", op="GET /console/applications",
         setup=_submitted,
         call=lambda c, t, s: c.get("/api/v1/console/applications"),
         sees=lambda r, t, s: r.status_code == 200 and s["app"].pk in ids(r),
         allowed={"right"}),
    Case("window.all of the subtree (sees a k2 application)",
         op="GET /console/applications?all", setup=_submitted,
         call=lambda c, t, s: c.get("/api/v1/console/applications?all=true"),
         sees=lambda r, t, s: r.status_code == 200 and s["app"].pk in ids(r)),
    Case("window.accept a k2 application at t1",
         op="POST /applications/{application_id}/transition", setup=_submitted,
         call=lambda c, t, s: c.json("post", f"/api/v1/applications/{s['app'].pk}/transition",
                                     {"action": "accept"}),
         changed=lambda t, s: _status(s) == "accepted", allowed={"right"}),
    Case("window.approve a k2 application at d1",
         op="POST /applications/{application_id}/transition (district)", setup=_accepted,
         call=lambda c, t, s: c.json("post", f"/api/v1/applications/{s['app'].pk}/transition",
                                     {"action": "approve", "result": "pass"}),
         changed=lambda t, s: _status(s) == "approved", allowed={"parent"}),
    Case("window.application detail of k2", op="GET /applications/{application_id}",
         setup=_submitted,
         call=lambda c, t, s: c.get(f"/api/v1/applications/{s['app'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["app"].pk),
    Case("window.seasons (sees t1's)", op="GET /console/inspection-seasons", setup=_season,
         call=lambda c, t, s: c.get("/api/v1/console/inspection-seasons"),
         sees=lambda r, t, s: r.status_code == 200 and s["season"].pk in ids(r)),
    Case("window.season detail of t1", op="GET /console/inspection-seasons/{season_id}",
         setup=_season,
         call=lambda c, t, s: c.get(f"/api/v1/console/inspection-seasons/{s['season'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and s["association"].pk in {
             row["association_id"] for row in r.json()["associations"]}),
    Case("window.open a season for t1", op="POST /console/inspection-seasons",
         setup=_association,
         call=lambda c, t, s: c.json("post", "/api/v1/console/inspection-seasons", {
             "region_id": t.t1.pk, "year": _season_year(t),
             "due_on": f"{_season_year(t) + 1}-03-31"}),
         changed=_season_opened),
    Case("window.review rules (sees t1's)", op="GET /console/review-rules", setup=_rule,
         call=lambda c, t, s: c.get("/api/v1/console/review-rules"),
         sees=lambda r, t, s: r.status_code == 200 and s["rule"].pk in ids(r)),
    Case("window.set t1's review rule", op="PUT /console/review-rules",
         call=lambda c, t, s: c.json("put", "/api/v1/console/review-rules", {
             "region_id": t.t1.pk, "kind": "change", "levels": ["town", "district"],
             "handle_days": 10}),
         changed=_rule_set),
]
