"""Scope-matrix cases for the facility subsidy evaluation: the region is town t1 and the
facility lives in its community k2."""

from __future__ import annotations

from tests.scope import Case, xlsx_text


def _t1_facility(tree):
    from sportsman.facilities.tests.factories import make_facility

    return {"facility": make_facility(tree.k2, name="补贴矩阵场地")}


def _query(t) -> str:
    return f"/api/v1/regions/{t.t1.pk}/facility-subsidy?from=2026-10-01&to=2026-10-31&budget_yuan=1000"


CASES: list[Case] = [
    Case("facilities.subsidy of t1 (lists a k2 facility)", op="GET /regions/{region_id}/facility-subsidy",
         setup=_t1_facility,
         call=lambda c, t, s: c.get(_query(t)),
         sees=lambda r, t, s: r.status_code == 200 and s["facility"].pk in {
             row["facility_id"] for row in r.json()["items"]}),
    Case("facilities.subsidy.xlsx of t1", op="GET /regions/{region_id}/facility-subsidy.xlsx",
         setup=_t1_facility,
         call=lambda c, t, s: c.get(_query(t).replace("facility-subsidy?", "facility-subsidy.xlsx?")),
         sees=lambda r, t, s: r.status_code == 200 and "补贴矩阵场地".encode() in xlsx_text(r)),
]
