"""Scope-matrix cases for the facility registry API: every target lives in community k2 (inside
town t1), so the town admin of t1 and the district admin of d1 may act and everyone else not."""

from __future__ import annotations

import io

from tests.scope import Case, ids, xlsx_text


def _k2_facility(tree):
    from sportsman.facilities.models import OpeningException
    from sportsman.facilities.tests.factories import make_facility

    facility = make_facility(tree.k2, name="矩阵场地", external_ref="MATRIX-1")
    exc = OpeningException.objects.create(facility=facility, start_date="2026-10-01",
                                          end_date="2026-10-03", is_closed=True)
    return {"facility": facility, "unit": facility.units.get(), "exception": exc}


def _fresh(state):
    from sportsman.facilities.models import Facility

    return Facility.objects.get(pk=state["facility"].pk)


def _photo():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, "PNG")
    out.seek(0)
    out.name = "p.png"
    return out


def _csv(tree):
    header = "名称,类别,所属社区代码,地址,纬度,经度,外部编号\n"
    return (header + f"矩阵导入,multi_court,{tree.k2.code},新南路1号,30.75,120.75,MATRIX-IMP\n"
            ).encode()


def _imported(tree, state):
    from sportsman.facilities.models import Facility

    return Facility.objects.filter(external_ref="MATRIX-IMP").exists()


def _import_call(c, t, s):
    upload = io.BytesIO(_csv(t))
    upload.name = "f.csv"
    return c.post("/api/v1/facilities/import", data={"file": upload})


CASES: list[Case] = [
    Case("facilities.venues (sees a k2 facility)", op="GET /venues",
         setup=_k2_facility,
         call=lambda c, t, s: c.get("/api/v1/venues"),
         sees=lambda r, t, s: r.status_code == 200 and s["facility"].pk in ids(r)),
    Case("facilities.create in k2", op="POST /facilities",
         call=lambda c, t, s: c.json("post", "/api/v1/facilities", {
             "name": "矩阵新建", "owner_kind": "community", "category": "multi_court",
             "region": t.k2.pk, "address": "新南路2号", "lat": 30.75, "lng": 120.75}),
         changed=lambda t, s: t.k2.facilities.filter(name="矩阵新建").exists()),
    Case("facilities.update a k2 facility", op="PATCH /facilities/{facility_id}",
         setup=_k2_facility,
         call=lambda c, t, s: c.json("patch", f"/api/v1/facilities/{s['facility'].pk}",
                                     {"name": "改名"}),
         changed=lambda t, s: _fresh(s).name == "改名"),
    Case("facilities.hours of a k2 facility", op="PUT /facilities/{facility_id}/hours",
         setup=_k2_facility,
         call=lambda c, t, s: c.json("put", f"/api/v1/facilities/{s['facility'].pk}/hours",
                                     {"rules": [{"weekday": 0, "opens": "08:00",
                                                 "closes": "09:00"}]}),
         changed=lambda t, s: _fresh(s).opening_rules.count() == 1),
    Case("facilities.exception add on k2", op="POST /facilities/{facility_id}/exceptions",
         setup=_k2_facility,
         call=lambda c, t, s: c.json("post",
                                     f"/api/v1/facilities/{s['facility'].pk}/exceptions",
                                     {"start_date": "2026-12-01", "end_date": "2026-12-02",
                                      "is_closed": True}),
         changed=lambda t, s: _fresh(s).opening_exceptions.count() == 2),
    Case("facilities.exception remove on k2",
         op="DELETE /facilities/{facility_id}/exceptions/{exception_id}",
         setup=_k2_facility,
         call=lambda c, t, s: c.delete(f"/api/v1/facilities/{s['facility'].pk}/exceptions/"
                                       f"{s['exception'].pk}"),
         changed=lambda t, s: not _fresh(s).opening_exceptions.exists()),
    Case("facilities.unit add on k2", op="POST /facilities/{facility_id}/units",
         setup=_k2_facility,
         call=lambda c, t, s: c.json("post", f"/api/v1/facilities/{s['facility'].pk}/units",
                                     {"name": "9号场"}),
         changed=lambda t, s: _fresh(s).units.filter(name="9号场").exists()),
    Case("facilities.unit update on k2", op="PATCH /units/{unit_id}",
         setup=_k2_facility,
         call=lambda c, t, s: c.json("patch", f"/api/v1/units/{s['unit'].pk}",
                                     {"price_cents": 500}),
         changed=lambda t, s: _fresh(s).units.get().price_cents == 500),
    Case("facilities.photo add on k2", op="POST /facilities/{facility_id}/photos",
         setup=_k2_facility,
         call=lambda c, t, s: c.post(f"/api/v1/facilities/{s['facility'].pk}/photos",
                                     data={"image": _photo()}),
         changed=lambda t, s: _fresh(s).photos.exists()),
    Case("facilities.import into k2", op="POST /facilities/import",
         call=_import_call, changed=_imported),
    Case("facilities.export.xlsx (holds a k2 facility)", op="GET /facilities/export.xlsx",
         setup=_k2_facility,
         call=lambda c, t, s: c.get("/api/v1/facilities/export.xlsx"),
         sees=lambda r, t, s: r.status_code == 200 and b"MATRIX-1" in xlsx_text(r)),
    Case("facilities.utilisation of a k2 facility",
         op="GET /facilities/{facility_id}/utilisation",
         setup=_k2_facility,
         call=lambda c, t, s: c.get(f"/api/v1/facilities/{s['facility'].pk}/utilisation"
                                    "?from=2026-11-01&to=2026-11-07"),
         sees=lambda r, t, s: r.status_code == 200
         and r.json()["facility_id"] == s["facility"].pk),
]
