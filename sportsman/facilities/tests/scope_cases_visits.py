"""Scope-matrix cases of the visits API (collected by tests/test_scope_matrix.py): every target
is a facility in community k2, inside town t1."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.scope import Case, ids


def _facility(tree):
    from sportsman.facilities.tests.factories import make_facility

    return {"facility": make_facility(tree.k2, name="矩阵场馆")}


def _booking_now(tree):
    from sportsman.facilities.models import Booking, Slot

    state = _facility(tree)
    facility = state["facility"]
    unit = facility.units.first()
    start = timezone.now() - dt.timedelta(minutes=10)
    slot = Slot.objects.create(unit=unit, facility=facility, start=start,
                               end=start + dt.timedelta(hours=1), capacity=1, booked=1)
    resident = tree.user(home_community=tree.k2)
    state["booking"] = Booking.objects.create(user=resident, slot=slot, facility=facility,
                                              start=slot.start, end=slot.end)
    return state


def _visit_today(tree):
    from sportsman.facilities.models import Visit

    state = _facility(tree)
    state["visit"] = Visit.objects.create(user=tree.user(home_community=tree.k2),
                                          facility=state["facility"], source="walk_in",
                                          started_at=timezone.now())
    return state


def _checked_in(tree, state) -> bool:
    from sportsman.facilities.models import Visit

    return Visit.objects.filter(booking=state["booking"]).exists()


def _qr_of_facility(response, tree, state) -> bool:
    from sportsman.facilities.visits import verify_code

    return response.status_code == 200 and verify_code(response.json()["code"]) == \
        state["facility"]


CASES: list[Case] = [
    Case("visits.check-in by pass at a k2 facility", op="POST /check-ins/pass",
         setup=_booking_now,
         call=lambda c, t, s: c.json("post", "/api/v1/check-ins/pass",
                                     {"pass_code": f"SPB:{s['booking'].pass_code}"}),
         changed=_checked_in),
    Case("visits.of a k2 facility today", op="GET /facilities/{facility_id}/visits",
         setup=_visit_today,
         call=lambda c, t, s: c.get(f"/api/v1/facilities/{s['facility'].pk}/visits"),
         sees=lambda r, t, s: r.status_code == 200 and s["visit"].pk in ids(r)),
    Case("visits.qr of a k2 facility", op="GET /facilities/{facility_id}/qr",
         setup=_facility,
         call=lambda c, t, s: c.get(f"/api/v1/facilities/{s['facility'].pk}/qr"),
         sees=_qr_of_facility),
]
