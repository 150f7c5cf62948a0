"""Bookings API: a facility's slots (public), my bookings and passes, waitlists, lotteries (the
draw record is public so anyone can re-run it), and the staff booking rules, venue lists and
suspensions.

Refusals use the one error shape; a full slot answers 409 ``slot_full`` with the waitlist on
offer in ``fields.waitlist``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.errors import InvalidInput, NotFound
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.facilities import booking, hours, policy, registry
from sportsman.facilities.models import Booking, Facility, LotteryEntry
from sportsman.regions.access import Perm, access_for, for_self, public, scoped

router = Router(tags=["bookings"])

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


# --- schemas -----------------------------------------------------------------------------------


class SlotOut(Schema):
    id: int
    unit: str = Field(..., description="the unit's name (court 1, the gym …); also unit_name")
    unit_id: int
    unit_name: str
    start: dt.datetime
    end: dt.datetime
    capacity: int
    booked: int
    places_left: int
    status: str = Field(..., description="open / full / closed / past / not_yet_open / lottery")
    mode: str
    opens_at: dt.datetime = Field(..., description="when booking opens for this slot")
    draw_at: dt.datetime | None
    drawn_at: dt.datetime | None


class SlotsOut(Schema):
    facility_id: int
    date: dt.date
    slots: list[SlotOut]


class SlotsQuery(Schema):
    date: str | None = Field(None, max_length=20, description="YYYY-MM-DD, local; default today")


class BookIn(In):
    slot_id: int = Field(..., ge=1, lt=2**63)


class BookingOut(Schema):
    id: int
    slot_id: int
    facility_id: int
    facility_name: str
    unit_name: str
    start: dt.datetime
    end: dt.datetime
    status: str
    source: str
    pass_code: str
    pass_url: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    checked_in_at: dt.datetime | None


class BookingPageOut(Schema):
    items: list[BookingOut]
    next_cursor: str | None


class MyBookingsQuery(Schema):
    when: Literal["upcoming", "past"] = "upcoming"
    cursor: str | None = Field(None, max_length=60)
    limit: int = Field(20, ge=1, le=booking.MAX_PAGE)


class WaitlistOut(Schema):
    slot_id: int
    status: str
    position: int | None


class LotteryEntryOut(Schema):
    slot_id: int
    draw_at: dt.datetime | None
    entered_at: dt.datetime


class LotteryRecordOut(Schema):
    slot_id: int
    capacity: int
    draw_at: dt.datetime | None
    drawn_at: dt.datetime | None
    seed: str
    entries: int
    places: int
    entrants: list[str] = Field(..., description="entrant tokens, in the order draw() is given")
    winners: list[str]
    algorithm: str


class PolicyIn(In):
    """Every rule; null (or left out) inherits from the region above or the default."""

    window_days: int | None = Field(None, ge=0, le=60)
    window_opens_at: str | None = Field(None, description="HH:MM, local time")
    max_active: int | None = Field(None, ge=1, le=50)
    max_per_day: int | None = Field(None, ge=1, le=20)
    cancel_minutes: int | None = Field(None, ge=0, le=7 * 24 * 60)
    checkin_grace_minutes: int | None = Field(None, ge=0, le=240)
    noshow_limit: int | None = Field(None, ge=1, le=100)
    noshow_period_days: int | None = Field(None, ge=1, le=365)
    suspension_days: int | None = Field(None, ge=1, le=365)
    lottery_draw_hours: int | None = Field(None, ge=1, le=24 * 14)


class PolicyOut(Schema):
    own: dict[str, Any] = Field(..., description="the rules set here (null: inherited)")
    effective: dict[str, Any] = Field(..., description="the rules in force here")


class StaffBookingOut(Schema):
    id: int
    user_id: int
    user_name: str
    unit_name: str
    start: dt.datetime
    end: dt.datetime
    status: str
    source: str
    checked_in_at: dt.datetime | None


class SuspensionOut(Schema):
    id: int
    user_id: int
    until: dt.datetime
    lifted_at: dt.datetime | None


# --- helpers -----------------------------------------------------------------------------------


def _parse_day(value: str | None) -> dt.date:
    if not value:
        return hours.local(timezone.now()).date()
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("The date must be a day in the form YYYY-MM-DD, e.g. 2026-05-01."),
                           fields={"date": [_("Use the form YYYY-MM-DD.")]}) from None


def _facility(facility_id: int) -> Facility:
    if not 0 < facility_id < 2**63:
        raise NotFound(code="facility_not_found")
    found = Facility.objects.select_related("region").filter(pk=facility_id).first()
    if found is None:
        raise NotFound(_("This facility does not exist."), code="facility_not_found")
    return found


def booking_out(b: Booking) -> dict[str, Any]:
    return {"id": b.pk, "slot_id": b.slot_id, "facility_id": b.facility_id,
            "facility_name": b.facility.name, "unit_name": b.slot.unit.name, "start": b.start,
            "end": b.end, "status": b.status, "source": b.source, "pass_code": b.pass_code,
            "pass_url": f"/api/v1/bookings/{b.pk}/pass.svg", "created_at": b.created_at,
            "cancelled_at": b.cancelled_at, "checked_in_at": b.checked_in_at}


def _policy_values(data: PolicyIn) -> dict[str, Any]:
    values = data.model_dump()
    opens = values.get("window_opens_at")
    if opens is not None:
        if not _HHMM.match(opens):
            raise InvalidInput(fields={"window_opens_at": [
                _("Use the 24-hour HH:MM format, e.g. 08:00.")]})
        hh, mm = opens.split(":")
        values["window_opens_at"] = dt.time(int(hh), int(mm))
    return values


def _policy_out(own: dict[str, Any], effective: policy.Policy) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        return v.strftime("%H:%M") if isinstance(v, dt.time) else v

    return {"own": {k: plain(v) for k, v in own.items()},
            "effective": {k: plain(getattr(effective, k)) for k in policy.FIELDS}}


# --- resident ----------------------------------------------------------------------------------


@router.get("/facilities/{facility_id}/slots", response=SlotsOut, auth=None)
@public
def facility_slots(request: HttpRequest, facility_id: int, params: Query[SlotsQuery]):
    """The facility's slots on a local date, each with its booking status."""
    day = _parse_day(params.date)
    facility = _facility(facility_id)
    return {"facility_id": facility.pk, "date": day,
            "slots": [{**vars(s), "unit": s.unit_name, "places_left": s.places_left}
                      for s in booking.slots_for(facility, day)]}


@router.post("/bookings", response={201: BookingOut})
@for_self
@idempotent
def book(request: HttpRequest, data: BookIn):
    """Book a place for myself. 409 ``slot_full`` offers the waitlist in ``fields.waitlist``.
    Send an ``Idempotency-Key`` to retry safely."""
    return Status(201, booking_out(booking.book_slot(actor=request.user, slot_id=data.slot_id)))


@router.post("/bookings/{booking_id}/cancel", response=BookingOut)
@for_self
@idempotent
def cancel(request: HttpRequest, booking_id: int):
    """Cancel my booking (up to the venue's cancellation time before the start)."""
    booking.cancel_booking(actor=request.user, booking_id=booking_id)
    return booking_out(booking.get_own_booking(request.user, booking_id))


@router.get("/me/bookings", response=BookingPageOut)
@for_self
def my_bookings(request: HttpRequest, params: Query[MyBookingsQuery]):
    """My bookings: ``upcoming`` soonest first, or ``past`` latest first; follow
    ``next_cursor``."""
    page = booking.list_bookings_for(request.user, when=params.when, cursor=params.cursor,
                                     limit=params.limit)
    return {"items": [booking_out(b) for b in page.items], "next_cursor": page.next_cursor}


@router.get("/bookings/{booking_id}", response=BookingOut)
@for_self
def booking_detail(request: HttpRequest, booking_id: int):
    return booking_out(booking.get_own_booking(request.user, booking_id))


@router.get("/bookings/{booking_id}/pass.svg")
@for_self
def booking_pass(request: HttpRequest, booking_id: int):
    """My booking pass as an SVG QR code (shown to staff or the gate scanner)."""
    found = booking.get_own_booking(request.user, booking_id)
    response = HttpResponse(booking.pass_svg(found.pass_code), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@router.post("/slots/{slot_id}/waitlist", response={201: WaitlistOut})
@for_self
@idempotent
def join_waitlist(request: HttpRequest, slot_id: int):
    """Wait for a place in a full slot; the first in line gets a freed place automatically."""
    entry = booking.join_waitlist(actor=request.user, slot_id=slot_id)
    return Status(201, {"slot_id": entry.slot_id, "status": entry.status,
                        "position": booking.waiting_position(request.user, slot_id)})


@router.delete("/slots/{slot_id}/waitlist", response={204: None})
@for_self
def leave_waitlist(request: HttpRequest, slot_id: int):
    booking.leave_waitlist(actor=request.user, slot_id=slot_id)
    return Status(204, None)


@router.post("/slots/{slot_id}/lottery", response={201: LotteryEntryOut})
@for_self
@idempotent
def enter_lottery(request: HttpRequest, slot_id: int):
    """Enter the lottery of a lottery slot (once, before its draw time)."""
    entry: LotteryEntry = booking.enter_lottery(actor=request.user, slot_id=slot_id)
    return Status(201, {"slot_id": entry.slot_id, "draw_at": entry.slot.draw_at,
                        "entered_at": entry.created_at})


@router.get("/slots/{slot_id}/lottery", response=LotteryRecordOut, auth=None)
@public
def lottery_record(request: HttpRequest, slot_id: int):
    """The public draw record. After the draw anyone can check it: in Python,
    ``r = random.Random(seed); e = list(entrants); r.shuffle(e); e[:places] == winners``."""
    record = booking.lottery_record(slot_id)
    return {**vars(record), "algorithm": "python-random-shuffle-v1"}


# --- staff -------------------------------------------------------------------------------------


@router.put("/regions/{region_id}/booking-policy", response=PolicyOut)
@scoped(Perm.BOOKING_RULES)
def set_region_policy(request: HttpRequest, region_id: int, data: PolicyIn):
    """Set the booking rules of a region's subtree (every rule; null inherits)."""
    region = None
    if 0 < region_id < 2**63:  # a region outside the caller's scope looks missing
        region = (access_for(request).regions(Perm.BOOKING_RULES).filter(pk=region_id)
                  .first())
    if region is None:
        raise NotFound()
    row = policy.set_region_policy(actor=request.user, region=region,
                                   values=_policy_values(data), request=request)
    return _policy_out(policy.rules_of(row), policy.policy_for_region(region))


@router.put("/facilities/{facility_id}/booking-policy", response=PolicyOut)
@scoped(Perm.FACILITY_MANAGE)
def set_facility_policy(request: HttpRequest, facility_id: int, data: PolicyIn):
    """Set a venue's own booking rules (every rule; null inherits from its region)."""
    facility = registry.facility_for(access_for(request), facility_id)
    row = policy.set_facility_policy(actor=request.user, facility=facility,
                                     values=_policy_values(data), request=request)
    return _policy_out(policy.rules_of(row), policy.policy_for(facility))


@router.get("/facilities/{facility_id}/bookings", response=list[StaffBookingOut])
@scoped(Perm.FACILITY_MANAGE)
def facility_bookings(request: HttpRequest, facility_id: int, params: Query[SlotsQuery]):
    """A venue's bookings on a local date (default today), by start time."""
    day = _parse_day(params.date)
    facility = registry.facility_for(access_for(request), facility_id)
    return [{"id": b.pk, "user_id": b.user_id, "user_name": str(b.user),
             "unit_name": b.slot.unit.name, "start": b.start, "end": b.end, "status": b.status,
             "source": b.source, "checked_in_at": b.checked_in_at}
            for b in booking.facility_bookings_on(facility, day)]


@router.post("/suspensions/{suspension_id}/lift", response=SuspensionOut)
@scoped(Perm.BOOKING_RULES)
def lift_suspension(request: HttpRequest, suspension_id: int):
    """Let a suspended resident book again before the suspension ends (audited)."""
    found = booking.lift_suspension(actor=request.user, suspension_id=suspension_id,
                                    request=request)
    return {"id": found.pk, "user_id": found.user_id, "until": found.until,
            "lifted_at": found.lifted_at}

