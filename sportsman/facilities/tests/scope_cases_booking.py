"""Scope-matrix cases for the staff booking API: booking rules, a venue's bookings and lifting a
suspension, each on a target in community k2 (inside town t1)."""

from __future__ import annotations

import datetime as dt

from tests.scope import Case, ids


def _tomorrow() -> dt.date:
    from django.utils import timezone

    from sportsman.facilities import hours

    return hours.local(timezone.now()).date() + dt.timedelta(days=1)


def _k2_booking(tree):
    from sportsman.facilities import booking
    from sportsman.facilities.models import Slot, Suspension
    from sportsman.facilities.tests.factories import make_facility

    facility = make_facility(tree.k2, name="矩阵预约场地")
    booking.ensure_slots(facility, _tomorrow())
    slot = Slot.objects.filter(facility=facility).order_by("start").last()
    resident = tree.user(home_community=tree.k2)
    made = booking.book_slot(actor=resident, slot_id=slot.pk)
    suspension = Suspension.objects.create(user=resident, trigger=made,
                                           until=made.start + dt.timedelta(days=14))
    return {"facility": facility, "booking": made, "suspension": suspension}


def _policy_rows(**where):
    from sportsman.facilities.models import BookingPolicy

    return BookingPolicy.objects.filter(**where)


CASES: list[Case] = [
    Case("booking.region policy of k2", op="PUT /regions/{region_id}/booking-policy",
         call=lambda c, t, s: c.json("put", f"/api/v1/regions/{t.k2.pk}/booking-policy",
                                     {"window_days": 3, "window_opens_at": "07:00"}),
         changed=lambda t, s: _policy_rows(region=t.k2, window_days=3).exists()),
    Case("booking.facility policy of a k2 venue",
         op="PUT /facilities/{facility_id}/booking-policy",
         setup=_k2_booking,
         call=lambda c, t, s: c.json(
             "put", f"/api/v1/facilities/{s['facility'].pk}/booking-policy",
             {"cancel_minutes": 30}),
         changed=lambda t, s: _policy_rows(facility=s["facility"], cancel_minutes=30).exists()),
    Case("booking.a k2 venue's bookings", op="GET /facilities/{facility_id}/bookings",
         setup=_k2_booking,
         call=lambda c, t, s: c.get(f"/api/v1/facilities/{s['facility'].pk}/bookings",
                                    {"date": _tomorrow().isoformat()}),
         sees=lambda r, t, s: r.status_code == 200 and s["booking"].pk in ids(r)),
    Case("booking.lift a suspension from a k2 no-show", op="POST /suspensions/{suspension_id}/lift",
         setup=_k2_booking,
         call=lambda c, t, s: c.post(f"/api/v1/suspensions/{s['suspension'].pk}/lift"),
         changed=lambda t, s: type(s["suspension"]).objects.get(
             pk=s["suspension"].pk).lifted_at is not None),
]
