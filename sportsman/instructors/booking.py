"""Booking an instructor (约教): bookable times from the availability calendar, booking a
one-to-one or small-group session (optionally with a court in the same step), joining a group
session, the instructor confirming or declining, and cancelling by either side.

Concurrency and atomicity (see docs/instructors.md):

- A new session is made under a lock on the instructor's row (``SELECT … FOR UPDATE``; SQLite's
  IMMEDIATE transactions serialise writers anyway), so two residents cannot both take the same
  free hour: the availability and overlap checks and the insert run under that lock. Locks are
  taken in one order: the instructor row, then (inside ``facilities.booking.book_slot``) the
  resident's user row, then the slot row.
- A session's ``taken`` counter moves only by conditional UPDATEs (``taken < capacity`` to
  join, ``taken > 0`` to leave); the check constraint backs it up.
- Both or neither: a court is booked through ``facilities.booking.book_slot`` inside the same
  transaction as the session; any refusal of either rolls the whole step back.
- Every status change of a session goes through ``transition_session`` (the table below plus a
  conditional UPDATE on the old status).
- Notifications are sent after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.db import transition
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.instructors.models import (
    LIVE_SESSION,
    AvailabilityException,
    AvailabilityWindow,
    BookingState,
    GuidanceBooking,
    GuidanceSession,
    Instructor,
    SessionKind,
    SessionStatus,
)
from sportsman.instructors.registry import get_instructor, instructor_of, zone

MIN_MINUTES = 30
MAX_MINUTES = 240
DAYS_AHEAD = 28


# --- errors ------------------------------------------------------------------------------------


class NotAccepting(Conflict):
    code = "instructor_not_accepting"
    default_message = _("This instructor is not taking bookings at the moment.")


class Unavailable(Conflict):
    code = "instructor_unavailable"
    default_message = _("The instructor is not available at this time.")


class Busy(Conflict):
    code = "instructor_busy"
    default_message = _("The instructor already has a session at this time.")


class SessionFull(Conflict):
    code = "session_full"
    default_message = _("This group session is full.")


class AlreadyInSession(Conflict):
    code = "already_in_session"
    default_message = _("You already have a place in this session.")


class SessionNotFound(NotFound):
    code = "session_not_found"
    default_message = _("This session does not exist.")


class GuidanceBookingNotFound(NotFound):
    code = "guidance_booking_not_found"
    default_message = _("This booking does not exist.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("This session cannot change that way any more.")


class OwnInstructor(InvalidInput):
    code = "own_instructor"
    default_message = _("You cannot book yourself.")


class SlotMismatch(InvalidInput):
    code = "slot_time_mismatch"
    default_message = _("The court's time slot must cover the whole session.")


def _bad(field_name: str, message: Any, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, fields={field_name: [message]})


# --- the session workflow ----------------------------------------------------------------------

TRANSITIONS: dict[str, frozenset[str]] = {
    SessionStatus.PENDING: frozenset({SessionStatus.CONFIRMED, SessionStatus.DECLINED,
                                      SessionStatus.CANCELLED, SessionStatus.RECORDED}),
    SessionStatus.CONFIRMED: frozenset({SessionStatus.CANCELLED, SessionStatus.RECORDED}),
    SessionStatus.DECLINED: frozenset(),
    SessionStatus.CANCELLED: frozenset(),
    SessionStatus.RECORDED: frozenset(),
}


def transition_session(session: GuidanceSession, to: str,
                       *, at: dt.datetime | None = None) -> GuidanceSession:
    """Move ``session`` to ``to`` if the table allows it, by one conditional UPDATE on its
    current status (a concurrent change fails with ``invalid_transition``). No permission
    check: the callers decide who may."""
    return transition(session, to, table=TRANSITIONS, error=InvalidTransition, at=at, stamps={})


# --- availability ------------------------------------------------------------------------------

Interval = tuple[dt.datetime, dt.datetime]


def _subtract(intervals: list[Interval], cut: Interval) -> list[Interval]:
    out: list[Interval] = []
    for start, end in intervals:
        if cut[1] <= start or cut[0] >= end:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


@dataclass(frozen=True)
class DayAvailability:
    day: dt.date
    windows: list[Interval]  # free for a new booking
    sessions: list[GuidanceSession]  # live sessions of the day (group ones may have places)


def availability(instructor: Instructor, start: dt.date, days: int = 7, *,
                 now: dt.datetime | None = None) -> list[DayAvailability]:
    """Bookable times of ``days`` local days from ``start``: the weekly windows of each weekday,
    without the days and hours the instructor is away, plus one-off extra windows, minus the
    instructor's live sessions and the past. Three queries whatever ``days``."""
    now = now or timezone.now()
    tz = zone()
    days = max(1, min(days, DAYS_AHEAD + 1))
    if abs((start - now.astimezone(tz).date()).days) > 366:
        raise _bad("start", _("Choose a date within a year of today."))
    end = start + dt.timedelta(days=days)
    weekly: dict[int, list[AvailabilityWindow]] = {}
    for w in AvailabilityWindow.objects.filter(instructor=instructor):
        weekly.setdefault(w.weekday, []).append(w)
    exceptions: dict[dt.date, list[AvailabilityException]] = {}
    for e in AvailabilityException.objects.filter(instructor=instructor, date__gte=start,
                                                  date__lt=end):
        exceptions.setdefault(e.date, []).append(e)
    since = dt.datetime.combine(start, dt.time(), tz)
    until = dt.datetime.combine(end, dt.time(), tz)
    sessions = list(GuidanceSession.objects.filter(
        instructor=instructor, status__in=LIVE_SESSION, starts_at__lt=until, ends_at__gt=since)
        .select_related("sport").order_by("starts_at"))
    out = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        windows: list[Interval] = [(dt.datetime.combine(day, w.starts, tz),
                                    dt.datetime.combine(day, w.ends, tz))
                                   for w in weekly.get(day.weekday(), [])]
        for e in exceptions.get(day, []):
            if e.starts is None or e.ends is None:
                if not e.is_available:
                    windows = []
                continue
            span = (dt.datetime.combine(day, e.starts, tz), dt.datetime.combine(day, e.ends, tz))
            windows = [*windows, span] if e.is_available else _subtract(windows, span)
        if any(e.starts is None and not e.is_available for e in exceptions.get(day, [])):
            windows = []
        windows = _merge(windows)
        of_day = [s for s in sessions if s.starts_at.astimezone(tz).date() == day]
        for s in sessions:
            windows = _subtract(windows, (s.starts_at, s.ends_at))
        windows = _subtract(windows, (since, now)) if now > since else windows
        out.append(DayAvailability(day=day, windows=[w for w in windows if w[1] > w[0]],
                                   sessions=of_day))
    return out


def is_free(instructor: Instructor, starts_at: dt.datetime, ends_at: dt.datetime, *,
            now: dt.datetime) -> bool:
    """Whether [starts_at, ends_at) lies inside one free window of its local day."""
    day = starts_at.astimezone(zone()).date()
    found = availability(instructor, day, 1, now=now)[0]
    return any(start <= starts_at and ends_at <= end for start, end in found.windows)


# --- booking -----------------------------------------------------------------------------------


def _lock_instructor(instructor_id: int) -> None:
    list(Instructor.objects.select_for_update().filter(pk=instructor_id).values_list("pk"))


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise _bad("starts_at", _("Times must carry a time zone."), code="time_naive")
    if starts_at <= now:
        raise _bad("starts_at", _("The time has passed."), code="session_past")
    minutes = (ends_at - starts_at).total_seconds() / 60
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise _bad("ends_at", _("A session lasts 30 minutes to 4 hours."),
                   code="session_length")
    if starts_at > now + dt.timedelta(days=DAYS_AHEAD):
        raise _bad("starts_at", _("Bookings open 28 days ahead."), code="too_far_ahead")


def book(*, actor: Any, instructor_id: int, starts_at: dt.datetime | None = None,
         ends_at: dt.datetime | None = None, kind: str = SessionKind.ONE_TO_ONE,
         group_size: int = 1, sport: str | None = None, place: str = "", note: str = "",
         slot_id: int | None = None, session_id: int | None = None,
         now: dt.datetime | None = None) -> GuidanceBooking:
    """Book ``instructor_id`` for ``actor`` (a resident acting for themself).

    With ``session_id``: a place in that instructor's small-group session (``session_full``,
    ``already_in_session``). Otherwise a new session at [starts_at, ends_at) — one-to-one, or a
    small group of ``group_size`` places (2 to the instructor's ``max_group_size``; the booker
    takes the first) that others may join — inside the instructor's free time
    (``instructor_unavailable``, ``instructor_busy``), with ``slot_id`` a court slot that covers
    it, booked for the resident through the facilities booking service in the same transaction
    (its refusals, e.g. ``slot_full``, keep nothing). The session awaits the instructor's
    confirmation; the instructor is notified after commit."""
    now = now or timezone.now()
    instructor = get_instructor(instructor_id, public=True)
    if instructor.user_id == actor.pk:
        raise OwnInstructor()
    if session_id is not None:
        return _join(actor=actor, instructor=instructor, session_id=session_id, now=now)
    if not instructor.accepts_bookings:
        raise NotAccepting()
    if starts_at is None or ends_at is None:
        raise _bad("starts_at", _("Give the start and the end."))
    _check_times(starts_at, ends_at, now)
    if kind == SessionKind.ONE_TO_ONE:
        capacity = 1
    elif kind == SessionKind.GROUP:
        if not 2 <= group_size <= instructor.max_group_size:
            raise _bad("group_size", _("A group here is 2 to %(n)d people.")
                       % {"n": instructor.max_group_size}, code="group_size")
        capacity = group_size
    else:
        raise _bad("kind", _("Unknown kind of session."))
    sport_id = None
    if sport:
        sport_id = instructor.sports.filter(slug=sport).values_list("pk", flat=True).first()
        if sport_id is None:
            raise _bad("sport", _("This instructor does not teach that sport."),
                       code="sport_not_taught")
    slot = None
    if slot_id is not None:
        from sportsman.facilities.models import Slot

        slot = (Slot.objects.select_related("facility").filter(pk=slot_id).first()
                if 0 < slot_id < 2**63 else None)
        if slot is not None and not (slot.start <= starts_at and ends_at <= slot.end):
            raise SlotMismatch()
    with transaction.atomic():
        _lock_instructor(instructor.pk)
        if not is_free(instructor, starts_at, ends_at, now=now):
            overlapping = GuidanceSession.objects.filter(
                instructor=instructor, status__in=LIVE_SESSION, starts_at__lt=ends_at,
                ends_at__gt=starts_at).exists()
            raise Busy() if overlapping else Unavailable()
        session = GuidanceSession.objects.create(
            instructor=instructor, kind=kind, sport_id=sport_id, starts_at=starts_at,
            ends_at=ends_at, place=place.strip()[:100], capacity=capacity, taken=1,
            created_by=actor, note=note.strip()[:200])
        if slot_id is not None:
            from sportsman.facilities import booking as court

            # Inside this transaction: its refusal (slot full, limits, suspension) undoes the
            # session too.
            made = court.book_slot(actor=actor, slot_id=slot_id, now=now)
            session.facility_booking = made
            session.facility_id = made.facility_id
            if not session.place and slot is not None:
                session.place = slot.facility.name[:100]
            session.save(update_fields=["facility_booking", "facility", "place"])
        try:
            with transaction.atomic():
                booking = GuidanceBooking.objects.create(session=session, user=actor)
        except IntegrityError:
            raise AlreadyInSession() from None
        _notify_on_commit(
            [instructor.user_id], title=_("New booking: please confirm"),
            body=_("%(who)s booked you for %(when)s.")
            % {"who": actor.nickname or _("A resident"), "when": _when(starts_at)},
            link=reverse("instructors:session", args=[session.pk]),
            dedupe_key=f"guidance:{session.pk}:new", data={"session_id": session.pk})
    booking.session = session
    return booking


def _join(*, actor: Any, instructor: Instructor, session_id: int,
          now: dt.datetime) -> GuidanceBooking:
    session = GuidanceSession.objects.filter(pk=session_id, instructor=instructor).first() \
        if 0 < session_id < 2**63 else None
    if session is None:
        raise SessionNotFound()
    if session.kind != SessionKind.GROUP:
        raise SessionFull()
    if session.status not in LIVE_SESSION or session.starts_at <= now:
        raise InvalidTransition(_("This session takes no more bookings."))
    if GuidanceBooking.objects.filter(session=session, user_id=actor.pk).exclude(
            status=BookingState.CANCELLED).exists():
        raise AlreadyInSession()
    try:
        with transaction.atomic():
            if not GuidanceSession.objects.filter(
                    pk=session.pk, taken__lt=F("capacity"), status__in=LIVE_SESSION).update(
                    taken=F("taken") + 1, updated_at=now):
                raise SessionFull()
            booking = GuidanceBooking.objects.create(session=session, user=actor)
            _notify_on_commit(
                [instructor.user_id], title=_("Someone joined your group session"),
                body=_("%(who)s joined your session at %(when)s.")
                % {"who": actor.nickname or _("A resident"), "when": _when(session.starts_at)},
                link=reverse("instructors:session", args=[session.pk]),
                dedupe_key=f"guidance:{session.pk}:join:{actor.pk}",
                data={"session_id": session.pk})
    except IntegrityError:  # a second place of the same resident: the counter is rolled back
        raise AlreadyInSession() from None
    session.taken += 1
    booking.session = session
    return booking


# --- the instructor's answer, and cancelling ---------------------------------------------------


def _own_session(actor: Any, session_id: int) -> GuidanceSession:
    me = instructor_of(actor)
    found = (GuidanceSession.objects.select_related("instructor", "sport", "facility")
             .filter(pk=session_id, instructor=me).first() if 0 < session_id < 2**63 else None)
    if found is None:
        raise SessionNotFound()
    return found


def confirm(*, actor: Any, session_id: int, request: Any = None,
            now: dt.datetime | None = None) -> GuidanceSession:
    """The instructor confirms a session awaiting them; its residents are notified."""
    session = _own_session(actor, session_id)
    with transaction.atomic():
        transition_session(session, SessionStatus.CONFIRMED, at=now)
        audit.record(actor=actor, action="guidance.confirmed", obj=session,
                     region=session.instructor.region, request=request)
        _notify_on_commit(_booked_users(session), title=_("Your guidance session is confirmed"),
                          body=_("See you at %(when)s.") % {"when": _when(session.starts_at)},
                          link=reverse("instructors:my_bookings"),
                          dedupe_key=f"guidance:{session.pk}:confirmed",
                          data={"session_id": session.pk})
    return session


def decline(*, actor: Any, session_id: int, reason: str = "", request: Any = None,
            now: dt.datetime | None = None) -> GuidanceSession:
    """The instructor declines a session awaiting them: every place and the court booked with
    it are cancelled in the same transaction; the residents are notified."""
    return _end_session(actor=actor, session=_own_session(actor, session_id),
                        to=SessionStatus.DECLINED, reason=reason, request=request, now=now)


def cancel_session(*, actor: Any, session_id: int, reason: str = "", request: Any = None,
                   now: dt.datetime | None = None) -> GuidanceSession:
    """The instructor calls off a session before it starts: like ``decline``."""
    session = _own_session(actor, session_id)
    now = now or timezone.now()
    if session.starts_at <= now:
        raise InvalidTransition(_("The session has started."))
    return _end_session(actor=actor, session=session, to=SessionStatus.CANCELLED, reason=reason,
                        request=request, now=now)


def _end_session(*, actor: Any, session: GuidanceSession, to: str, reason: str, request: Any,
                 now: dt.datetime | None) -> GuidanceSession:
    now = now or timezone.now()
    users = _booked_users(session)
    with transaction.atomic():
        transition_session(session, to, at=now)
        GuidanceBooking.objects.filter(session=session, status=BookingState.BOOKED).update(
            status=BookingState.CANCELLED, cancelled_at=now, cancelled_by=actor, updated_at=now)
        GuidanceSession.objects.filter(pk=session.pk).update(taken=0)
        _cancel_court(session, now)
        audit.record(actor=actor, action=f"guidance.{to}", obj=session,
                     region=session.instructor.region, request=request,
                     data={"reason": reason[:200]})
        title = (_("The instructor declined your booking") if to == SessionStatus.DECLINED
                 else _("The instructor called off your session"))
        _notify_on_commit(users, title=title,
                          body=_("%(when)s: %(reason)s")
                          % {"when": _when(session.starts_at), "reason": reason[:200] or "—"},
                          link=reverse("instructors:my_bookings"),
                          dedupe_key=f"guidance:{session.pk}:{to}",
                          data={"session_id": session.pk})
    return session


def _cancel_court(session: GuidanceSession, now: dt.datetime) -> None:
    """Cancel the court booked with the session (through the facilities service, as the
    resident who holds it: its rules apply, so a court past its cancel window refuses and the
    whole cancellation with it)."""
    if session.facility_booking_id is None:
        return
    from sportsman.facilities import booking as court
    from sportsman.facilities.models import Booking, BookingStatus

    held = Booking.objects.filter(pk=session.facility_booking_id).select_related("user").first()
    if held is None or held.status != BookingStatus.BOOKED:
        return
    court.cancel_booking(actor=held.user, booking_id=held.pk, now=now)


def cancel_booking(*, actor: Any, booking_id: int,
                   now: dt.datetime | None = None) -> GuidanceBooking:
    """A resident gives back their place before the session starts. The last place of a
    session (always, for one-to-one) cancels the session and the court booked with it, in the
    same transaction; the instructor is notified."""
    now = now or timezone.now()
    found = (GuidanceBooking.objects.select_related("session__instructor")
             .filter(pk=booking_id, user_id=actor.pk).first() if 0 < booking_id < 2**63
             else None)
    if found is None:
        raise GuidanceBookingNotFound()
    session = found.session
    if found.status != BookingState.BOOKED or session.status not in LIVE_SESSION:
        raise InvalidTransition(_("This booking cannot be cancelled any more."))
    if session.starts_at <= now:
        raise InvalidTransition(_("The session has started."))
    with transaction.atomic():
        if not GuidanceBooking.objects.filter(pk=found.pk, status=BookingState.BOOKED).update(
                status=BookingState.CANCELLED, cancelled_at=now, cancelled_by=actor,
                updated_at=now):
            raise InvalidTransition()
        GuidanceSession.objects.filter(pk=session.pk, taken__gt=0).update(
            taken=F("taken") - 1, updated_at=now)
        left = GuidanceSession.objects.filter(pk=session.pk).values_list("taken", flat=True)[0]
        if left == 0:
            transition_session(session, SessionStatus.CANCELLED, at=now)
            _cancel_court(session, now)
        _notify_on_commit([session.instructor.user_id], title=_("A booking was cancelled"),
                          body=_("%(who)s cancelled the session at %(when)s.")
                          % {"who": actor.nickname or _("A resident"),
                             "when": _when(session.starts_at)},
                          link=reverse("instructors:session", args=[session.pk]),
                          dedupe_key=f"guidance-booking:{found.pk}:cancelled",
                          data={"session_id": session.pk})
    found.status = BookingState.CANCELLED
    return found


# --- reads -------------------------------------------------------------------------------------


def my_bookings(user: Any, *, when: str = "upcoming", limit: int = 50,
                now: dt.datetime | None = None) -> list[GuidanceBooking]:
    """``user``'s places: ``upcoming`` (live, not yet ended; soonest first) or ``past``
    (everything else, latest first). One query."""
    now = now or timezone.now()
    qs = (GuidanceBooking.objects.filter(user_id=user.pk)
          .select_related("session__instructor", "session__sport", "session__facility"))
    live = Q(status=BookingState.BOOKED, session__status__in=LIVE_SESSION,
             session__ends_at__gt=now)
    if when == "past":
        qs = qs.exclude(live).order_by("-session__starts_at", "-id")
    else:
        qs = qs.filter(live).order_by("session__starts_at", "id")
    return list(qs[:max(1, min(limit, 100))])


def sessions_of(instructor: Instructor, *, when: str = "upcoming", limit: int = 50,
                now: dt.datetime | None = None) -> list[GuidanceSession]:
    """The instructor's sessions with their places (two queries)."""
    now = now or timezone.now()
    qs = (GuidanceSession.objects.filter(instructor=instructor)
          .select_related("sport", "facility"))
    if when == "past":
        qs = qs.filter(Q(ends_at__lte=now) | ~Q(status__in=LIVE_SESSION)).order_by(
            "-starts_at", "-id")
    elif when == "to_record":
        qs = qs.filter(status__in=LIVE_SESSION, starts_at__lte=now).order_by("-starts_at")
    else:
        qs = qs.filter(status__in=LIVE_SESSION, ends_at__gt=now).order_by("starts_at", "id")
    return list(qs.prefetch_related("bookings__user")[:max(1, min(limit, 200))])


def session_for(user: Any, session_id: int) -> GuidanceSession:
    """A session seen by its instructor or by a resident holding (or having held) a place."""
    found = (GuidanceSession.objects.select_related("instructor", "sport", "facility")
             .filter(pk=session_id).first() if 0 < session_id < 2**63 else None)
    if found is None:
        raise SessionNotFound()
    if found.instructor.user_id != user.pk and not found.bookings.filter(
            user_id=user.pk).exists():
        raise SessionNotFound()
    return found


def require_instructor_of(user: Any, session: GuidanceSession) -> None:
    if session.instructor.user_id != user.pk:
        raise Forbidden()


# --- notifications (after commit) ---------------------------------------------------------------


def _booked_users(session: GuidanceSession) -> list[int]:
    return list(GuidanceBooking.objects.filter(session=session, status=BookingState.BOOKED)
                .values_list("user_id", flat=True))


def _when(at: dt.datetime) -> str:
    return at.astimezone(zone()).strftime("%m-%d %H:%M")


def _notify(user_ids: list[int], *, title: Any, body: Any = "", link: str = "",
            dedupe_key: str, data: dict | None = None) -> None:
    from sportsman.notifications.services import notify

    notify(users=get_user_model().objects.filter(pk__in=user_ids), category="instructor",
           title=str(title), body=str(body), link=link, dedupe_key=dedupe_key, data=data)


def _notify_on_commit(user_ids: list[int], **kwargs: Any) -> None:
    if user_ids:
        transaction.on_commit(partial(_notify, list(user_ids), **kwargs))
