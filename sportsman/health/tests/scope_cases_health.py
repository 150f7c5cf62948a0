"""Scope-matrix cases of health services (collected by tests/test_scope_matrix.py).

Clinic operations (``CLINIC_PRACTISE``, held on one clinic): only clinic A's staff may act on
clinic A; clinic B's staff (same town), the district's administrator over the clinic's region,
another city's administrator and the consenting resident are all refused. Registry operations
(``CLINIC_MANAGE``): city and district staff over t1; a town administrator and a sibling
district's are refused."""

from __future__ import annotations

from sportsman.health.tests.fixtures import world
from tests.scope import Case, ids

CLINIC = {"right": "clinic_a_staff", "parent": "district_admin", "child": "clinic_b_staff",
          "sibling": "other_city_admin", "resident": "resident", "anonymous": None}
REGISTRY = {"right": "district_admin", "parent": "city_admin", "child": "town_admin",
            "sibling": "sibling_district_admin", "resident": "resident", "anonymous": None}


def _setup(tree):
    w = world(tree)
    return {"w": w, "newcomer": tree.user(nickname="新医生")}


def _setup_extra_staff(tree):
    from sportsman.health.models import ClinicStaff

    s = _setup(tree)
    s["extra"] = ClinicStaff.objects.create(clinic=s["w"].a, user=s["newcomer"])
    return s


def _model(name: str):
    import sportsman.health.models as m

    return getattr(m, name)


def _issue(c, t, s):
    from sportsman.activity.selectors import today

    return c.json("post", f"/api/v1/clinic/{s['w'].a.pk}/prescriptions", {
        "resident_id": t.resident.pk, "sport_id": s["w"].sport.pk, "intensity": "low",
        "sessions_per_week": 2, "minutes_per_session": 41, "weeks": 6,
        "starts_on": today().isoformat()})


CASES: list[Case] = [
    Case("health.clinic residents (sees the consenting resident)",
         op="GET /clinic/{clinic_id}/residents", setup=_setup, cast=CLINIC, allowed={"right"},
         call=lambda c, t, s: c.get(f"/api/v1/clinic/{s['w'].a.pk}/residents"),
         sees=lambda r, t, s: r.status_code == 200 and t.resident.pk in {
             row["resident_id"] for row in r.json()}),
    Case("health.clinic prescriptions with adherence",
         op="GET /clinic/{clinic_id}/prescriptions", setup=_setup, cast=CLINIC,
         allowed={"right"},
         call=lambda c, t, s: c.get(f"/api/v1/clinic/{s['w'].a.pk}/prescriptions"),
         sees=lambda r, t, s: r.status_code == 200 and s["w"].prescription.pk in ids(r)),
    Case("health.clinic issues a prescription", op="POST /clinic/{clinic_id}/prescriptions",
         setup=_setup, cast=CLINIC, allowed={"right"}, call=_issue,
         changed=lambda t, s: _model("Prescription").objects.filter(
             minutes_per_session=41).exists()),
    Case("health.clinic one prescription",
         op="GET /clinic/{clinic_id}/prescriptions/{prescription_id}", setup=_setup,
         cast=CLINIC, allowed={"right"},
         call=lambda c, t, s: c.get(
             f"/api/v1/clinic/{s['w'].a.pk}/prescriptions/{s['w'].prescription.pk}"),
         sees=lambda r, t, s: r.status_code == 200
         and r.json()["id"] == s["w"].prescription.pk),
    Case("health.registry lists t1's clinics", op="GET /console/clinics", setup=_setup,
         cast=REGISTRY, call=lambda c, t, s: c.get("/api/v1/console/clinics"),
         sees=lambda r, t, s: r.status_code == 200 and s["w"].a.pk in ids(r)),
    Case("health.registry registers a clinic in t1", op="POST /console/clinics",
         cast=REGISTRY,
         call=lambda c, t, s: c.json("post", "/api/v1/console/clinics", {
             "region_id": t.t1.pk, "name": "矩阵诊所"}),
         changed=lambda t, s: _model("Clinic").objects.filter(name="矩阵诊所").exists()),
    Case("health.registry appoints clinic staff", op="POST /console/clinics/{clinic_id}/staff",
         setup=_setup, cast=REGISTRY,
         call=lambda c, t, s: c.json("post", f"/api/v1/console/clinics/{s['w'].a.pk}/staff",
                                     {"user_id": s["newcomer"].pk}),
         changed=lambda t, s: _model("ClinicStaff").objects.filter(
             user=s["newcomer"]).exists()),
    Case("health.registry removes clinic staff",
         op="DELETE /console/clinics/{clinic_id}/staff/{staff_id}", setup=_setup_extra_staff,
         cast=REGISTRY,
         call=lambda c, t, s: c.delete(
             f"/api/v1/console/clinics/{s['w'].a.pk}/staff/{s['extra'].pk}"),
         changed=lambda t, s: not _model("ClinicStaff").objects.filter(
             pk=s["extra"].pk).exists()),
]
