"""Scope-matrix cases of the instructor registry's staff operations (collected by
tests/test_scope_matrix.py): an instructor of community k2 (inside town t1)."""

from __future__ import annotations

from tests.scope import Case, ids, xlsx_text


def _instructor(tree):
    from sportsman.instructors.tests.factories import make_instructor

    return {"instructor": make_instructor(tree, region=tree.k2, name="矩阵指导员")}


def _recorded(tree):
    import datetime as dt

    from django.utils import timezone

    from sportsman.instructors.models import GuidanceSession, SessionRecord

    state = _instructor(tree)
    start = timezone.now() - dt.timedelta(days=1)
    session = GuidanceSession.objects.create(instructor=state["instructor"], starts_at=start,
                                             ends_at=start + dt.timedelta(hours=1),
                                             status="recorded", taken=1)
    SessionRecord.objects.create(session=session, content="矩阵教学内容", minutes=60,
                                 attendees=1)
    return state


def _newcomer(tree):
    return {"person": tree.user(home_community=tree.k2)}


def _fresh(state):
    state["instructor"].refresh_from_db()
    return state["instructor"]


def _registered(tree, state) -> bool:
    from sportsman.instructors.models import Instructor

    return Instructor.objects.filter(user=state["person"]).exists()


def _confirmed(tree, state) -> bool:
    from sportsman.instructors.models import WorkRegistration

    return WorkRegistration.objects.filter(instructor=state["instructor"], year=2025).exists()


CASES: list[Case] = [
    Case("instructors.console list (sees a k2 instructor)", op="GET /console/instructors",
         setup=_instructor, call=lambda c, t, s: c.get("/api/v1/console/instructors"),
         sees=lambda r, t, s: r.status_code == 200 and s["instructor"].pk in ids(r)),
    Case("instructors.register in k2", op="POST /console/instructors", setup=_newcomer,
         call=lambda c, t, s: c.json("post", "/api/v1/console/instructors", {
             "user_id": s["person"].pk, "name": "新指导员", "level": "third",
             "certificate_number": f"M-{s['person'].pk}", "region_id": t.k2.pk}),
         changed=_registered),
    Case("instructors.edit a k2 instructor", op="PATCH /console/instructors/{instructor_id}",
         setup=_instructor,
         call=lambda c, t, s: c.json("patch",
                                     f"/api/v1/console/instructors/{s['instructor'].pk}",
                                     {"level": "second"}),
         changed=lambda t, s: _fresh(s).level == "second"),
    Case("instructors.suspend a k2 instructor",
         op="POST /console/instructors/{instructor_id}/status", setup=_instructor,
         call=lambda c, t, s: c.json(
             "post", f"/api/v1/console/instructors/{s['instructor'].pk}/status",
             {"to": "suspended", "reason": "年度考核未通过"}),
         changed=lambda t, s: _fresh(s).status == "suspended"),
    Case("instructors.confirm a k2 work registration",
         op="POST /console/instructors/{instructor_id}/registrations", setup=_instructor,
         call=lambda c, t, s: c.json(
             "post", f"/api/v1/console/instructors/{s['instructor'].pk}/registrations",
             {"year": 2025, "org": "新嘉街道体育总会", "service_count": 36}),
         changed=_confirmed),
    Case("instructors.progress of a k2 instructor",
         op="GET /console/instructors/{instructor_id}/progress", setup=_instructor,
         call=lambda c, t, s: c.get(
             f"/api/v1/console/instructors/{s['instructor'].pk}/progress"),
         sees=lambda r, t, s: r.status_code == 200 and r.json().get("level") == "third"),
    Case("instructors.records xlsx (a k2 session)", op="GET /console/instructor-records.xlsx",
         setup=_recorded, call=lambda c, t, s: c.get("/api/v1/console/instructor-records.xlsx"),
         sees=lambda r, t, s: r.status_code == 200
         and "矩阵教学内容".encode() in xlsx_text(r)),
    Case("instructors.records pdf (a k2 session)", op="GET /console/instructor-records.pdf",
         setup=_recorded, call=lambda c, t, s: c.get("/api/v1/console/instructor-records.pdf"),
         sees=lambda r, t, s: r.status_code == 200 and _pdf_has(r, "矩阵教学内容")),
]


def _pdf_has(response, text: str) -> bool:
    from sportsman.events.tests.test_checkin_results import pdf_characters

    return response.content.startswith(b"%PDF-") and set(text) <= pdf_characters(
        response.content)
