"""Scope-matrix cases of the reports' staff operations (collected by tests/test_scope_matrix.py):
a report about a place in community k2 (inside town t1), handled by t1's staff and above."""

from __future__ import annotations

from tests.scope import CITY_LEVEL, Case, ids

K2_LAT, K2_LNG = 30.7700, 120.7700


def _report(tree):
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.governance import reports
    from sportsman.governance.tests.fixtures_reports import jpeg

    make_facility(tree.k2, name="新南社区健身点", lat=K2_LAT, lng=K2_LNG, units=0)
    reporter = tree.user(home_community=tree.k2, nickname="k2 居民")
    report = reports.submit(actor=reporter, category="lighting", description="路灯坏了",
                            photos=[jpeg()], lat=K2_LAT, lng=K2_LNG)
    twin = reports.submit(actor=reporter, category="lighting", description="同一盏路灯",
                          photos=[jpeg()], lat=K2_LAT, lng=K2_LNG)
    return {"report": report, "twin": twin}


def _status(state, key="report") -> str:
    state[key].refresh_from_db()
    return state[key].status


def _rule_set(tree, state) -> bool:
    from sportsman.governance.models import RoutingRule

    return RoutingRule.objects.filter(region=tree.t1, category="noise").exists()


def _t1_rule(tree):
    from sportsman.governance.models import RoutingRule

    return {"rule": RoutingRule.objects.create(region=tree.t1, category="safety",
                                               accept_hours=2, resolve_days=1)}


def _client(tree):
    from sportsman.governance import open311

    return {"client": open311.issue_key(actor=tree.city_admin, name="matrix app")[0]}


def _client_issued(tree, state) -> bool:
    from sportsman.governance.models import Open311Client

    return Open311Client.objects.filter(name="matrix 311", city=tree.city).exists()


CASES: list[Case] = [
    Case("reports.queue (sees a k2 report)", op="GET /console/reports", setup=_report,
         call=lambda c, t, s: c.get("/api/v1/console/reports"),
         sees=lambda r, t, s: r.status_code == 200 and s["report"].pk in ids(r)),
    Case("reports.accept a k2 report", op="POST /console/reports/{report_id}/transition",
         setup=_report,
         call=lambda c, t, s: c.json("post",
                                     f"/api/v1/console/reports/{s['report'].pk}/transition",
                                     {"to": "accepted"}),
         changed=lambda t, s: _status(s) == "accepted"),
    Case("reports.merge a k2 duplicate", op="POST /console/reports/{report_id}/merge",
         setup=_report,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/reports/{s['twin'].pk}/merge",
                                     {"into_id": s["report"].pk}),
         changed=lambda t, s: _status(s, "twin") == "merged"),
    Case("reports.routing rules (sees t1's)", op="GET /console/report-rules", setup=_t1_rule,
         call=lambda c, t, s: c.get("/api/v1/console/report-rules"),
         sees=lambda r, t, s: r.status_code == 200 and s["rule"].pk in ids(r)),
    Case("reports.set t1's routing rule", op="PUT /console/report-rules",
         call=lambda c, t, s: c.json("put", "/api/v1/console/report-rules", {
             "region_id": t.t1.pk, "category": "noise", "accept_hours": 6,
             "resolve_days": 2}),
         changed=_rule_set),
    Case("reports.open311 clients of the city", op="GET /console/open311-clients",
         setup=_client,
         call=lambda c, t, s: c.get("/api/v1/console/open311-clients"),
         sees=lambda r, t, s: r.status_code == 200 and s["client"].pk in ids(r),
         cast=CITY_LEVEL),
    Case("reports.issue an open311 key", op="POST /console/open311-clients",
         call=lambda c, t, s: c.json("post", "/api/v1/console/open311-clients",
                                     {"name": "matrix 311", "city_id": t.city.pk}),
         changed=_client_issued, cast=CITY_LEVEL),
]
