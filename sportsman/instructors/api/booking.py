"""Booking API (约教): an instructor's bookable times (public); booking, joining, my bookings,
cancelling and rating (residents); the instructor's availability, sessions, confirm / decline /
call off, and the session record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.core.errors import InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In, Ok
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.instructors import booking, records, registry
from sportsman.instructors.models import (
    AvailabilityException,
    AvailabilityWindow,
    GuidanceBooking,
    GuidanceSession,
)
from sportsman.regions.access import for_self, public

router = Router(tags=["instructor bookings"])


class IntervalOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime


class SessionBriefOut(Schema):
    id: int
    kind: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    sport: str | None
    place: str
    capacity: int
    taken: int


class DayOut(Schema):
    day: dt.date
    free: list[IntervalOut]
    sessions: list[SessionBriefOut]


class AvailabilityQuery(Schema):
    start: dt.date | None = None
    days: int = Field(7, ge=1, le=booking.DAYS_AHEAD + 1)


class BookIn(In):
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    kind: str = Field("one_to_one", max_length=12)
    group_size: int = Field(1, ge=1, le=30)
    sport: str | None = Field(None, max_length=32)
    place: str = Field("", max_length=100)
    note: str = Field("", max_length=200)
    slot_id: int | None = Field(None, ge=1, lt=2**63)
    session_id: int | None = Field(None, ge=1, lt=2**63)


class SessionOut(SessionBriefOut):
    instructor_id: int
    instructor_name: str
    facility_id: int | None
    facility_booking_id: int | None
    note: str


class BookingOut(Schema):
    id: int
    status: str
    rating: int | None
    session: SessionOut


class WhenQuery(Schema):
    when: str = Field("upcoming", pattern="^(upcoming|past|to_record)$")


class WindowSchema(Schema):
    weekday: int = Field(..., ge=0, le=6)
    starts: dt.time
    ends: dt.time
    place: str = Field("", max_length=100)


class WeeklyIn(In):
    windows: list[WindowSchema] = Field(..., max_length=registry.MAX_WINDOWS)


class ExceptionIn(In):
    date: dt.date
    starts: dt.time | None = None
    ends: dt.time | None = None
    is_available: bool = False
    note: str = Field("", max_length=100)


class ExceptionOut(ExceptionIn):
    id: int


class CalendarOut(Schema):
    windows: list[WindowSchema]
    exceptions: list[ExceptionOut]


class PlaceOut(Schema):
    booking_id: int
    user_id: int
    nickname: str
    status: str
    rating: int | None


class InstructorSessionOut(SessionOut):
    places: list[PlaceOut]
    recorded: bool


class ReasonIn(In):
    reason: str = Field("", max_length=200)


class RatingIn(In):
    stars: int = Field(..., ge=1, le=5)


class RecordOut(Schema):
    session_id: int
    content: str
    notes: str
    minutes: int
    attendees: int
    photos: list[str]


def session_out(s: GuidanceSession) -> dict[str, Any]:
    return {"id": s.pk, "kind": s.kind, "status": s.status, "starts_at": s.starts_at,
            "ends_at": s.ends_at, "sport": s.sport.slug if s.sport_id and s.sport else None,
            "place": s.place, "capacity": s.capacity, "taken": s.taken,
            "instructor_id": s.instructor_id, "instructor_name": s.instructor.name,
            "facility_id": s.facility_id, "facility_booking_id": s.facility_booking_id,
            "note": s.note}


def booking_out(b: GuidanceBooking) -> dict[str, Any]:
    return {"id": b.pk, "status": b.status, "rating": b.rating, "session": session_out(b.session)}


def instructor_session_out(s: GuidanceSession) -> dict[str, Any]:
    return {**session_out(s), "recorded": s.status == "recorded",
            "places": [{"booking_id": b.pk, "user_id": b.user_id,
                        "nickname": b.user.nickname or "", "status": b.status,
                        "rating": b.rating} for b in s.bookings.all()]}


def _brief(s: GuidanceSession) -> dict[str, Any]:
    return {"id": s.pk, "kind": s.kind, "status": s.status, "starts_at": s.starts_at,
            "ends_at": s.ends_at, "sport": s.sport.slug if s.sport else None, "place": s.place,
            "capacity": s.capacity, "taken": s.taken}


# --- residents ---------------------------------------------------------------------------------

@router.post("/instructors/{instructor_id}/bookings", response={201: BookingOut})
@for_self
@idempotent
def book(request: HttpRequest, instructor_id: int, data: BookIn):
    """Book a one-to-one or small-group session at a free time (optionally with a court slot
    booked in the same step: both or neither), or join a group session (``session_id``).
    Refusals: ``instructor_unavailable``, ``instructor_busy``, ``instructor_not_accepting``,
    ``session_full``, ``already_in_session``, ``group_size``, ``sport_not_taught``,
    ``session_past``, ``session_length``, ``slot_time_mismatch`` and the court's own
    (``slot_full``, ``over_daily_limit`` …)."""
    made = booking.book(actor=request.user, instructor_id=instructor_id, **data.model_dump())
    found = GuidanceBooking.objects.select_related("session__instructor", "session__sport").get(
        pk=made.pk)
    return Status(201, booking_out(found))


@router.get("/instructor-bookings/mine", response=list[BookingOut])
@for_self
def my_bookings(request: HttpRequest, query: Query[WhenQuery]):
    """My places: upcoming (soonest first) or past (latest first). One query."""
    return [booking_out(b) for b in booking.my_bookings(request.user, when=query.when)]


@router.post("/instructor-bookings/{booking_id}/cancel", response=BookingOut)
@for_self
@idempotent
def cancel(request: HttpRequest, booking_id: int):
    """Give my place back before the start (the last place cancels the session and its
    court)."""
    made = booking.cancel_booking(actor=request.user, booking_id=booking_id)
    found = GuidanceBooking.objects.select_related("session__instructor", "session__sport").get(
        pk=made.pk)
    return booking_out(found)


@router.post("/instructor-bookings/{booking_id}/rating", response=BookingOut)
@for_self
@idempotent
def rate(request: HttpRequest, booking_id: int, data: RatingIn):
    """Rate a session I came to, 1–5, once (``already_rated``, ``not_attended``)."""
    made = records.rate(actor=request.user, booking_id=booking_id, stars=data.stars)
    found = GuidanceBooking.objects.select_related("session__instructor", "session__sport").get(
        pk=made.pk)
    return booking_out(found)


# --- the instructor ---------------------------------------------------------------------------

@router.get("/instructors/me/availability", response=CalendarOut)
@for_self
def my_calendar(request: HttpRequest):
    me = registry.instructor_of(request.user)
    return {"windows": [{"weekday": w.weekday, "starts": w.starts, "ends": w.ends,
                         "place": w.place}
                        for w in AvailabilityWindow.objects.filter(instructor=me)],
            "exceptions": [{"id": e.pk, "date": e.date, "starts": e.starts, "ends": e.ends,
                            "is_available": e.is_available, "note": e.note}
                           for e in AvailabilityException.objects.filter(
                               instructor=me, date__gte=timezone.localdate())[:200]]}


@router.put("/instructors/me/availability", response=CalendarOut)
@for_self
def set_calendar(request: HttpRequest, data: WeeklyIn):
    """Replace my weekly windows (local time)."""
    registry.set_weekly(actor=request.user, windows=[
        registry.WindowIn(w.weekday, w.starts, w.ends, w.place) for w in data.windows])
    return my_calendar.__wrapped__(request)  # type: ignore[attr-defined]


@router.post("/instructors/me/availability/exceptions", response={201: ExceptionOut})
@for_self
def add_exception(request: HttpRequest, data: ExceptionIn):
    """Away on a date (no times: all day) or an extra window (``is_available`` with times)."""
    made = registry.add_exception(actor=request.user, **data.model_dump())
    return Status(201, {"id": made.pk, "date": made.date, "starts": made.starts,
                        "ends": made.ends, "is_available": made.is_available,
                        "note": made.note})


@router.delete("/instructors/me/availability/exceptions/{exception_id}", response=Ok)
@for_self
def remove_exception(request: HttpRequest, exception_id: int) -> Ok:
    registry.remove_exception(actor=request.user, exception_id=exception_id)
    return Ok()


@router.get("/instructors/me/sessions", response=list[InstructorSessionOut])
@for_self
def my_sessions(request: HttpRequest, query: Query[WhenQuery]):
    """My sessions with their places: upcoming, past, or begun and not yet recorded
    (``to_record``). Two queries."""
    me = registry.instructor_of(request.user)
    rows = booking.sessions_of(me, when=query.when)
    for s in rows:
        s.instructor = me
    return [instructor_session_out(s) for s in rows]


@router.post("/instructor-sessions/{session_id}/confirm", response=SessionOut)
@for_self
def confirm(request: HttpRequest, session_id: int):
    return session_out(booking.confirm(actor=request.user, session_id=session_id,
                                       request=request))


@router.post("/instructor-sessions/{session_id}/decline", response=SessionOut)
@for_self
def decline(request: HttpRequest, session_id: int, data: ReasonIn):
    """Decline a session awaiting me: its places and court are cancelled."""
    return session_out(booking.decline(actor=request.user, session_id=session_id,
                                       reason=data.reason, request=request))


@router.post("/instructor-sessions/{session_id}/cancel", response=SessionOut)
@for_self
def call_off(request: HttpRequest, session_id: int, data: ReasonIn):
    """Call off a session before it starts: its places and court are cancelled."""
    return session_out(booking.cancel_session(actor=request.user, session_id=session_id,
                                              reason=data.reason, request=request))


@router.post("/instructor-sessions/{session_id}/record", response={201: RecordOut})
@for_self
@idempotent
def record(request: HttpRequest, session_id: int, content: Form[str],
           attended: Form[list[int]] = None,  # type: ignore[assignment]
           notes: Form[str] = "",
           photos: File[list[UploadedFile]] = None):  # type: ignore[assignment]
    """Record a session that has begun: what was taught, who came (booked residents' user
    ids), notes, up to 6 photos. Once (``session_already_recorded``); each resident who came
    gets a verified exercise record."""
    files = photos or []
    if len(files) > records.MAX_PHOTOS:
        raise InvalidInput(code="too_many_photos", fields={"photos": ["≤ 6"]})
    made = records.record_session(actor=request.user, session_id=session_id, content=content,
                                  attended=attended or [], notes=notes,
                                  photos=[f.read(PHOTO_MAX_BYTES + 1) for f in files],
                                  request=request)
    return Status(201, {"session_id": made.session_id, "content": made.content,
                        "notes": made.notes, "minutes": made.minutes,
                        "attendees": made.attendees,
                        "photos": [p.image.url for p in made.photos.all()]})


# --- public (after /instructors/me/...: "me" is not an id) --------------------------------------------------------------------------------------

@router.get("/instructors/{instructor_id}/availability", auth=None, response=list[DayOut])
@public
def availability(request: HttpRequest, instructor_id: int, query: Query[AvailabilityQuery]):
    """Free times a day (from ``start``, default today; ``days`` up to 29) and the day's
    sessions (a group session with places left can be joined)."""
    found = registry.get_instructor(instructor_id, public=True)
    days = booking.availability(found, query.start or timezone.localdate(), query.days)
    return [{"day": d.day, "free": [{"starts_at": a.astimezone(dt.UTC), "ends_at": b.astimezone(dt.UTC)}
                      for a, b in d.windows],
             "sessions": [_brief(s) for s in d.sessions]} for d in days]
