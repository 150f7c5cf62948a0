"""Bookings: slots made from opening hours, booking and cancelling under the venue's rules,
waitlists, lotteries, no-shows and suspensions.

Concurrency policy (see docs/facilities.md):

- A slot's ``booked`` counter moves only by one conditional UPDATE (``booked < capacity`` to take
  a place, ``booked > 0`` to give one back); a 0-row answer means someone else got there first.
  The check constraint ``booked <= capacity`` backs it up.
- A resident's limits (active bookings, bookings per day, suspension) are counted under a lock on
  that resident's user row (PostgreSQL ``SELECT … FOR UPDATE``; SQLite runs every transaction
  ``BEGIN IMMEDIATE``, so writers are serialised anyway). Locks are taken in one order: the
  user row first, then the slot row (by the UPDATE). Promotions from a waitlist and lottery wins
  never lock the promoted resident's row, so two cancellations cannot deadlock each other.
- Every status change of a booking goes through ``transition_booking``: the transition table
  plus a conditional UPDATE on the old status, so a booking is cancelled, released as a no-show
  or checked in exactly once.
- Notifications are sent after commit.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit, lottery
from sportsman.core.db import transition
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.core.events import publish
from sportsman.facilities import hours
from sportsman.facilities.models import (
    LIVE_BOOKING,
    Booking,
    BookingMode,
    BookingStatus,
    Facility,
    LotteryEntry,
    OpeningException,
    OpeningRule,
    Slot,
    SlotStatus,
    Suspension,
    Unit,
    WaitlistEntry,
)
from sportsman.facilities.policy import DEFAULT_POLICY, Policy, policy_for
from sportsman.regions.access import Perm, access_for_user

__all__ = ["DEFAULT_POLICY", "Policy", "policy_for"]

SOURCE_DIRECT = "direct"
SOURCE_WAITLIST = "waitlist"
SOURCE_LOTTERY = "lottery"

MAX_PAGE = 100
NOSHOW_BATCH = 500


# --- errors ------------------------------------------------------------------------------------


class SlotNotFound(NotFound):
    code = "slot_not_found"
    default_message = _("This time slot does not exist.")


class SlotPast(InvalidInput):
    code = "slot_past"
    default_message = _("This time slot has already started.")


class SlotClosed(InvalidInput):
    code = "slot_closed"
    default_message = _("The venue has closed this time slot.")


class OutsideWindow(InvalidInput):
    code = "outside_window"
    default_message = _("Booking for this time slot has not opened yet.")


class OverActiveLimit(InvalidInput):
    code = "over_active_limit"
    default_message = _("You already hold the most upcoming bookings allowed.")


class OverDailyLimit(InvalidInput):
    code = "over_daily_limit"
    default_message = _("You already hold the most bookings allowed on this day.")


class Suspended(Forbidden):
    code = "suspended"
    default_message = _("Your booking is suspended after missed bookings.")


class AccountInactive(Forbidden):
    code = "account_inactive"
    default_message = _("This account is not active.")


class AlreadyBooked(Conflict):
    code = "already_booked"
    default_message = _("You have already booked this time slot.")


class LotterySlot(InvalidInput):
    code = "lottery_slot"
    default_message = _("Places in this time slot are drawn by lottery: enter the lottery.")


class SlotFull(Conflict):
    code = "slot_full"
    default_message = _("This time slot is full. You can join the waitlist.")


class BookingNotFound(NotFound):
    code = "booking_not_found"
    default_message = _("This booking does not exist.")


class CancelWindowClosed(InvalidInput):
    code = "cancel_window_closed"
    default_message = _("It is too late to cancel this booking.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("This booking cannot change that way any more.")


class SlotNotFull(Conflict):
    code = "slot_not_full"
    default_message = _("This time slot still has places: book it directly.")


class AlreadyWaiting(Conflict):
    code = "already_waiting"
    default_message = _("You are already on the waitlist for this time slot.")


class NotWaiting(NotFound):
    code = "not_on_waitlist"
    default_message = _("You are not on the waitlist for this time slot.")


class NotLottery(InvalidInput):
    code = "not_lottery"
    default_message = _("This time slot is not drawn by lottery.")


class LotteryClosed(Conflict):
    code = "lottery_closed"
    default_message = _("Entries for this lottery are closed.")


class AlreadyEntered(Conflict):
    code = "already_entered"
    default_message = _("You have already entered this lottery.")


class SuspensionNotFound(NotFound):
    code = "suspension_not_found"
    default_message = _("This suspension does not exist.")


class SuspensionLifted(Conflict):
    code = "suspension_lifted"
    default_message = _("This suspension has already been lifted.")


# --- the booking workflow ----------------------------------------------------------------------

TRANSITIONS: dict[str, frozenset[str]] = {
    BookingStatus.BOOKED: frozenset({BookingStatus.CHECKED_IN, BookingStatus.CANCELLED,
                                     BookingStatus.NO_SHOW}),
    BookingStatus.CHECKED_IN: frozenset({BookingStatus.COMPLETED}),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
}

# Statuses that hold a place in the slot: leaving them gives the place back.
_HOLDS_PLACE = frozenset(LIVE_BOOKING)


def transition_booking(booking: Booking, to: str, *, at: dt.datetime | None = None) -> Booking:
    """Move ``booking`` to status ``to`` if the transition table allows it from its current
    status, by a conditional UPDATE on that status (a concurrent change makes it fail with
    ``invalid_transition`` instead of applying twice). Sets ``cancelled_at`` / ``checked_in_at``.
    Does not touch the slot's counter: callers that release a place do that in the same
    transaction. No permission check (callers decide who may)."""
    return transition(booking, to, table=TRANSITIONS, error=InvalidTransition, at=at,
                      stamps={BookingStatus.CANCELLED: "cancelled_at",
                              BookingStatus.CHECKED_IN: "checked_in_at"})


def mark_checked_in(booking: Booking, *, at: dt.datetime | None = None) -> Booking:
    """The resident arrived (called by visits on check-in). Idempotent for a booking already
    checked in; refuses (``invalid_transition``) a cancelled, completed or no-show booking."""
    if booking.status == BookingStatus.CHECKED_IN:
        return booking
    return transition_booking(booking, BookingStatus.CHECKED_IN, at=at)


def mark_completed(booking: Booking, *, at: dt.datetime | None = None) -> Booking:
    """The visit of a checked-in booking closed (called by visits). Idempotent for a completed
    booking. The place stays counted: it was used."""
    if booking.status == BookingStatus.COMPLETED:
        return booking
    return transition_booking(booking, BookingStatus.COMPLETED, at=at)


# --- slots -------------------------------------------------------------------------------------


def window_opens_at(start: dt.datetime, policy: Policy) -> dt.datetime:
    """When booking opens for a slot starting at ``start``: ``window_days`` before its local
    date, at ``window_opens_at`` local time."""
    day = hours.local(start).date() - dt.timedelta(days=policy.window_days)
    return hours.aware(day, policy.window_opens_at)


def last_bookable_day(policy: Policy, now: dt.datetime) -> dt.date:
    """The furthest local date whose slots are open for booking at ``now``."""
    t = hours.local(now)
    days = policy.window_days if t.time() >= policy.window_opens_at else policy.window_days - 1
    return t.date() + dt.timedelta(days=max(days, 0))


def ensure_slots(facility: Facility, day: dt.date, *, units: Iterable[Unit] | None = None,
                 policy: Policy | None = None, rules: Iterable[OpeningRule] | None = None,
                 exceptions: Iterable[OpeningException] | None = None,
                 is_holiday: bool | None = None) -> int:
    """Create the missing slots of every active unit of ``facility`` on local date ``day``, from
    its opening hours in ``slot_minutes`` steps (a step that would run past closing is left
    out). Lottery units get lottery slots drawn ``lottery_draw_hours`` before they start.
    Existing slots are kept as they are ((unit, start) is unique; conflicts are ignored), so it
    is safe to run again and concurrently. Returns how many slots were new. Pass preloaded
    ``units`` / ``policy`` / hours when running over many facilities."""
    intervals = hours.intervals_on(facility, day, rules=rules, exceptions=exceptions,
                                   is_holiday=is_holiday)
    if not intervals:
        return 0
    active = [u for u in (units if units is not None else facility.units.filter(is_active=True))
              if u.is_active]
    if not active:
        return 0
    if policy is None and any(u.booking_mode == BookingMode.LOTTERY for u in active):
        policy = policy_for(facility)
    draw_before = dt.timedelta(hours=(policy or DEFAULT_POLICY).lottery_draw_hours)
    rows = []
    for unit in active:
        step = dt.timedelta(minutes=unit.slot_minutes)
        is_lottery = unit.booking_mode == BookingMode.LOTTERY
        for opens, closes in intervals:
            start, closing = hours.aware(day, opens), hours.aware(day, closes)
            while start + step <= closing:
                rows.append(Slot(unit=unit, facility_id=facility.pk, start=start,
                                 end=start + step, capacity=unit.capacity, mode=unit.booking_mode,
                                 draw_at=start - draw_before if is_lottery else None))
                start += step
    if not rows:
        return 0
    day_start, day_end = day_bounds(day)
    existing = set(Slot.objects.filter(facility_id=facility.pk, start__gte=day_start,
                                       start__lt=day_end).values_list("unit_id", "start"))
    missing = [s for s in rows if (s.unit_id, s.start) not in existing]
    # ignore_conflicts: a concurrent run may insert the same slots first.
    Slot.objects.bulk_create(missing, ignore_conflicts=True, batch_size=500)
    return len(missing)


@dataclass(frozen=True)
class SlotView:
    id: int
    unit_id: int
    unit_name: str
    start: dt.datetime
    end: dt.datetime
    capacity: int
    booked: int
    status: str  # open / full / closed / past / not_yet_open / lottery
    mode: str
    opens_at: dt.datetime
    draw_at: dt.datetime | None
    drawn_at: dt.datetime | None

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked, 0)


def slot_status(slot: Slot, policy: Policy, now: dt.datetime) -> str:
    if slot.status == SlotStatus.CLOSED:
        return "closed"
    if slot.start <= now:
        return "past"
    if now < window_opens_at(slot.start, policy):
        return "not_yet_open"
    if slot.mode == BookingMode.LOTTERY:
        return "lottery"
    if slot.booked >= slot.capacity:
        return "full"
    return "open"


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day ``day`` as [start, end) aware datetimes."""
    return hours.aware(day, dt.time()), hours.aware(day + dt.timedelta(days=1), dt.time())


def slots_for(facility: Facility, day: dt.date, *, now: dt.datetime | None = None,
              materialise: bool = True) -> list[SlotView]:
    """The slots of ``facility`` on local date ``day``, by start then unit, each with its
    status for booking at ``now``. Days up to the end of the booking window that have no slots
    yet get them made first (``ensure_slots``; the daily job normally did it already), so a
    venue added today is bookable at once. A constant number of queries."""
    now = now or timezone.now()
    policy = policy_for(facility)
    start, end = day_bounds(day)
    qs = (Slot.objects.filter(facility_id=facility.pk, start__gte=start, start__lt=end,
                              unit__is_active=True)
          .select_related("unit").order_by("start", "unit__position", "unit_id"))
    rows = list(qs)
    if (not rows and materialise and hours.local(now).date() <= day
            <= last_bookable_day(policy, now) + dt.timedelta(days=1)
            and ensure_slots(facility, day, policy=policy)):
        rows = list(qs.all())
    return [SlotView(id=s.pk, unit_id=s.unit_id, unit_name=s.unit.name, start=s.start,
                     end=s.end, capacity=s.capacity, booked=s.booked,
                     status=slot_status(s, policy, now), mode=s.mode,
                     opens_at=window_opens_at(s.start, policy), draw_at=s.draw_at,
                     drawn_at=s.drawn_at)
            for s in rows]


# --- checks shared by booking, waitlist and lottery ---------------------------------------------


def _load_slot(slot_id: int) -> Slot:
    if not 0 < slot_id < 2**63:
        raise SlotNotFound()
    slot = Slot.objects.select_related("facility__region", "unit").filter(pk=slot_id).first()
    if slot is None:
        raise SlotNotFound()
    return slot


def _check_bookable_time(slot: Slot, policy: Policy, now: dt.datetime) -> None:
    if slot.status == SlotStatus.CLOSED:
        raise SlotClosed()
    if slot.start <= now:
        raise SlotPast()
    opens = window_opens_at(slot.start, policy)
    if now < opens:
        raise OutsideWindow(
            _("Booking for this time slot opens at %(when)s.")
            % {"when": hours.local(opens).strftime("%Y-%m-%d %H:%M")},
            fields={"opens_at": opens.isoformat()})


def _lock_user(user_id: int, now: dt.datetime) -> dt.datetime | None:
    """Serialise one resident's bookings so parallel requests cannot pass a limit together, and
    read the end of their active suspension (None without one) in the same statement. Must run
    inside the transaction that then counts and writes. On SQLite the IMMEDIATE transaction
    already holds the database's write lock (select_for_update is a no-op)."""
    User = get_user_model()
    until = Subquery(Suspension.objects.filter(user_id=OuterRef("pk"), until__gt=now,
                                               lifted_at__isnull=True)
                     .order_by("-until").values("until")[:1])
    return (User.objects.select_for_update(of=("self",)).filter(pk=user_id)
            .annotate(suspended_until=until).values_list("suspended_until", flat=True).first())


def active_suspension(user_id: int, now: dt.datetime) -> Suspension | None:
    return (Suspension.objects.filter(user_id=user_id, until__gt=now, lifted_at__isnull=True)
            .order_by("-until").first())


def _refuse_suspended(until: dt.datetime | None) -> None:
    if until is not None:
        raise Suspended(
            _("Your booking is suspended until %(until)s after missed bookings.")
            % {"until": hours.local(until).strftime("%Y-%m-%d %H:%M")},
            fields={"until": until.isoformat()})


def _check_suspension(user_id: int, now: dt.datetime) -> None:
    found = active_suspension(user_id, now)
    _refuse_suspended(found.until if found is not None else None)


def _check_limits(user_id: int, slot: Slot, policy: Policy, now: dt.datetime) -> None:
    """The resident's booking of this slot, their upcoming bookings and their bookings on the
    slot's day, counted in one statement over their rows that can matter (upcoming or on the
    day)."""
    day_start, day_end = day_bounds(hours.local(slot.start).date())
    live = Q(status__in=LIVE_BOOKING)
    on_day = Q(start__gte=day_start, start__lt=day_end)
    counts = (Booking.objects.filter(Q(end__gt=now) | on_day, user_id=user_id)
              .aggregate(here=Count("pk", filter=live & Q(slot_id=slot.pk)),
                         active=Count("pk", filter=live & Q(end__gt=now)),
                         on_day=Count("pk", filter=on_day & Q(
                             status__in=[*LIVE_BOOKING, BookingStatus.COMPLETED]))))
    if counts["here"]:
        raise AlreadyBooked()
    if counts["active"] >= policy.max_active:
        raise OverActiveLimit(
            _("You already hold %(count)d upcoming bookings, the most allowed.")
            % {"count": policy.max_active}, fields={"max_active": str(policy.max_active)})
    if counts["on_day"] >= policy.max_per_day:
        raise OverDailyLimit(
            _("You already hold %(count)d bookings on this day, the most allowed.")
            % {"count": policy.max_per_day}, fields={"max_per_day": str(policy.max_per_day)})


def _take_place(slot_id: int) -> bool:
    """One place of an open slot, or False when none is left (the conditional UPDATE)."""
    return bool(Slot.objects.filter(pk=slot_id, booked__lt=F("capacity"), status=SlotStatus.OPEN)
                .update(booked=F("booked") + 1))


def _give_back_place(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


BOOKING_CREATED = "facilities.booking_created"


def _new_booking(*, user_id: int, slot: Slot, source: str) -> Booking:
    """The booking row, carrying the slot (and its facility and unit, when loaded) it was made
    from, so that answering with it reads nothing more."""
    booking = Booking.objects.create(user_id=user_id, slot=slot, facility_id=slot.facility_id,
                                     start=slot.start, end=slot.end, source=source)
    # For other systems (interfaces: webhooks); no personal data beyond the ids.
    publish(BOOKING_CREATED, {"booking_id": booking.pk, "facility_id": slot.facility_id,
                              "slot_id": slot.pk, "source": source})
    if Slot.facility.is_cached(slot):  # type: ignore[attr-defined]
        booking.facility = slot.facility
    return booking


def waitlist_path(slot_id: int) -> str:
    return f"POST /api/v1/slots/{slot_id}/waitlist"


# --- notifications (after commit) ---------------------------------------------------------------


def _booking_link(booking_id: int) -> str:
    return reverse("facilities:booking", args=[booking_id])


def _when(start: dt.datetime) -> str:
    return hours.local(start).strftime("%m-%d %H:%M")


def _notify(user_ids: list[int], *, title: Any, body: Any = "", link: str = "",
            dedupe_key: str, data: dict | None = None) -> None:
    from sportsman.notifications.services import notify

    User = get_user_model()
    notify(users=User.objects.filter(pk__in=user_ids), category="booking", title=str(title),
           body=str(body), link=link, dedupe_key=dedupe_key, data=data)


def _notify_on_commit(user_ids: list[int], **kwargs: Any) -> None:
    if user_ids:
        transaction.on_commit(partial(_notify, list(user_ids), **kwargs))


def pass_svg(code: str, *, scale: int = 8) -> str:
    """The booking pass as an SVG QR code of ``SPB:<pass code>`` (what the staff scanner reads)."""
    import segno  # imported here: only passes need it

    out = io.BytesIO()
    segno.make(f"SPB:{code}", error="m").save(out, kind="svg", scale=scale, border=2,
                                              xmldecl=False, svgns=True)
    return out.getvalue().decode()


# --- booking and cancelling --------------------------------------------------------------------


def book_slot(*, actor: Any, slot_id: int, now: dt.datetime | None = None) -> Booking:
    """Book one place in a first-come slot for ``actor`` (acting for themself). Refuses with a
    stable code: ``slot_not_found``, ``slot_closed``, ``slot_past``, ``outside_window``,
    ``lottery_slot``, ``account_inactive``, ``suspended``, ``already_booked``,
    ``over_active_limit``, ``over_daily_limit``, and ``slot_full`` (409, with the waitlist on
    offer in ``fields``). A refusal writes nothing. The limits are those of the slot's venue
    (``policy_for``) and count bookings at every venue. No side effects besides the row."""
    now = now or timezone.now()
    slot = _load_slot(slot_id)
    policy = policy_for(slot.facility)
    _check_bookable_time(slot, policy, now)
    if slot.mode == BookingMode.LOTTERY:
        raise LotterySlot(fields={"lottery": f"POST /api/v1/slots/{slot.pk}/lottery"})
    if not actor.is_active:
        raise AccountInactive()
    try:
        with transaction.atomic():
            _refuse_suspended(_lock_user(actor.pk, now))
            _check_limits(actor.pk, slot, policy, now)
            if not _take_place(slot.pk):
                raise SlotFull(fields={"waitlist": waitlist_path(slot.pk)})
            return _new_booking(user_id=actor.pk, slot=slot, source=SOURCE_DIRECT)
    except IntegrityError:  # a live booking of this slot appeared despite the lock: the whole
        raise AlreadyBooked() from None  # block (the place taken too) is rolled back


def get_own_booking(user: Any, booking_id: int) -> Booking:
    """One of ``user``'s bookings, else ``booking_not_found`` (another's looks missing)."""
    if not 0 < booking_id < 2**63:
        raise BookingNotFound()
    found = (Booking.objects.select_related("facility", "slot__unit")
             .filter(pk=booking_id, user_id=user.pk).first())
    if found is None:
        raise BookingNotFound()
    return found


def cancel_deadline(booking: Booking, policy: Policy) -> dt.datetime:
    return booking.start - dt.timedelta(minutes=policy.cancel_minutes)


def cancel_booking(*, actor: Any, booking_id: int, now: dt.datetime | None = None) -> Booking:
    """Cancel one of ``actor``'s own bookings up to ``cancel_minutes`` before it starts
    (``cancel_window_closed`` after that; ``invalid_transition`` if it is no longer booked). The
    place goes back to the slot and, in the same transaction, to the first resident waiting for
    it (a booking with source "waitlist"), who is notified after commit."""
    now = now or timezone.now()
    booking = get_own_booking(actor, booking_id)
    policy = policy_for(Facility.objects.select_related("region").get(pk=booking.facility_id))
    if booking.status != BookingStatus.BOOKED:
        raise InvalidTransition(_("Only a booking that is still booked can be cancelled."))
    if now > cancel_deadline(booking, policy):
        raise CancelWindowClosed(
            _("Bookings here can be cancelled up to %(minutes)d minutes before the start.")
            % {"minutes": policy.cancel_minutes})
    with transaction.atomic():
        transition_booking(booking, BookingStatus.CANCELLED, at=now)
        _give_back_place(booking.slot_id)
        _promote_waitlist(booking.slot_id, now)
    return booking


def _promote_waitlist(slot_id: int, now: dt.datetime) -> Booking | None:
    """Give a freed place to the first resident waiting for it. Each entry is claimed by a
    conditional UPDATE (waiting → promoted), so concurrent cancellations never promote one
    entry twice; the place is taken by the same conditional UPDATE as a direct booking, so a
    direct booking that got there first simply wins (the entry goes back to waiting). Runs
    inside the caller's transaction."""
    slot = Slot.objects.filter(pk=slot_id).first()
    if slot is None or slot.status != SlotStatus.OPEN or slot.end <= now:
        return None
    candidates = list(WaitlistEntry.objects.filter(slot_id=slot_id,
                                                   status=WaitlistEntry.Status.WAITING)
                      .order_by("created_at", "id")[:50])
    for entry in candidates:
        if not WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistEntry.Status.WAITING
                                            ).update(status=WaitlistEntry.Status.PROMOTED,
                                                     updated_at=now):
            continue  # a concurrent cancellation promoted this one
        holds = Booking.objects.filter(user_id=entry.user_id, slot_id=slot_id,
                                       status__in=LIVE_BOOKING).exists()
        if holds or active_suspension(entry.user_id, now) is not None:
            WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistEntry.Status.EXPIRED)
            continue
        if not _take_place(slot_id):
            WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistEntry.Status.WAITING)
            return None
        booking = _new_booking(user_id=entry.user_id, slot=slot, source=SOURCE_WAITLIST)
        WaitlistEntry.objects.filter(pk=entry.pk).update(booking=booking)
        _notify_on_commit(
            [entry.user_id], title=_("A place opened up: you are booked"),
            body=_("You got a place from the waitlist for %(when)s.")
            % {"when": _when(slot.start)},
            link=_booking_link(booking.pk), dedupe_key=f"booking:{booking.pk}:waitlist",
            data={"booking_id": booking.pk, "slot_id": slot_id})
        return booking
    return None


# --- waitlist ----------------------------------------------------------------------------------


def join_waitlist(*, actor: Any, slot_id: int, now: dt.datetime | None = None) -> WaitlistEntry:
    """Put ``actor`` on the waitlist of a full first-come slot (once; ``already_waiting``).
    Refused like a booking when the slot is closed, past, not yet open, a lottery slot, already
    booked by the actor, or the actor is suspended; ``slot_not_full`` while places are left."""
    now = now or timezone.now()
    slot = _load_slot(slot_id)
    policy = policy_for(slot.facility)
    _check_bookable_time(slot, policy, now)
    if slot.mode == BookingMode.LOTTERY:
        raise LotterySlot()
    if not actor.is_active:
        raise AccountInactive()
    _check_suspension(actor.pk, now)
    if slot.booked < slot.capacity:
        raise SlotNotFull()
    if Booking.objects.filter(user_id=actor.pk, slot_id=slot.pk,
                              status__in=LIVE_BOOKING).exists():
        raise AlreadyBooked()
    try:
        with transaction.atomic():
            return WaitlistEntry.objects.create(slot=slot, user_id=actor.pk)
    except IntegrityError:
        raise AlreadyWaiting() from None


def leave_waitlist(*, actor: Any, slot_id: int, now: dt.datetime | None = None) -> None:
    """Take ``actor`` off the slot's waitlist (``not_on_waitlist`` if not waiting)."""
    now = now or timezone.now()
    if not WaitlistEntry.objects.filter(slot_id=slot_id, user_id=actor.pk,
                                        status=WaitlistEntry.Status.WAITING).update(
            status=WaitlistEntry.Status.LEFT, updated_at=now):
        raise NotWaiting()


def waiting_position(user: Any, slot_id: int) -> int | None:
    """1 for the first in line; None when ``user`` is not waiting for the slot."""
    mine = WaitlistEntry.objects.filter(slot_id=slot_id, user_id=user.pk,
                                        status=WaitlistEntry.Status.WAITING).first()
    if mine is None:
        return None
    return WaitlistEntry.objects.filter(
        Q(created_at__lt=mine.created_at) | Q(created_at=mine.created_at, id__lte=mine.pk),
        slot_id=slot_id, status=WaitlistEntry.Status.WAITING).count()


# --- lottery -----------------------------------------------------------------------------------


def enter_lottery(*, actor: Any, slot_id: int, now: dt.datetime | None = None) -> LotteryEntry:
    """Enter ``actor`` in a lottery slot's draw: once per resident (``already_entered``), while
    the window is open and before ``draw_at`` (``lottery_closed``), with an active account and
    no suspension. Winners are booked by ``draw_lottery``."""
    now = now or timezone.now()
    slot = _load_slot(slot_id)
    if slot.mode != BookingMode.LOTTERY:
        raise NotLottery()
    policy = policy_for(slot.facility)
    _check_bookable_time(slot, policy, now)
    if slot.drawn_at is not None or (slot.draw_at is not None and now >= slot.draw_at):
        raise LotteryClosed()
    if not actor.is_active:
        raise AccountInactive()
    _check_suspension(actor.pk, now)
    try:
        with transaction.atomic():
            return LotteryEntry.objects.create(slot=slot, user_id=actor.pk)
    except IntegrityError:
        raise AlreadyEntered() from None


def draw_lottery(*, slot_id: int, now: dt.datetime | None = None,
                 seed: str | None = None) -> bool:
    """Draw a lottery slot whose ``draw_at`` has come, exactly once: the slot is claimed by a
    conditional UPDATE (``drawn_at`` still empty) that also records a fresh random seed; the
    winners are ``lottery.draw(seed, entrants' user ids ascending, places)``, each booked with
    source "lottery"; the other entries are marked lost. Everyone who entered is notified after
    commit. Returns False if the slot was not due or already drawn. Run by the scheduler."""
    now = now or timezone.now()
    seed = seed or secrets.token_hex(16)
    with transaction.atomic():
        claimed = Slot.objects.filter(pk=slot_id, mode=BookingMode.LOTTERY,
                                      drawn_at__isnull=True, draw_at__lte=now
                                      ).update(drawn_at=now, lottery_seed=seed)
        if not claimed:
            return False
        slot = Slot.objects.get(pk=slot_id)
        entries = list(LotteryEntry.objects.filter(slot_id=slot_id).order_by("user_id"))
        places = slot.capacity - slot.booked if slot.status == SlotStatus.OPEN else 0
        winners = set(lottery.draw(seed, [e.user_id for e in entries], places))
        won, lost = [], []
        for entry in entries:
            if entry.user_id in winners and _take_place(slot_id):
                booking = _new_booking(user_id=entry.user_id, slot=slot, source=SOURCE_LOTTERY)
                LotteryEntry.objects.filter(pk=entry.pk).update(is_winner=True, booking=booking)
                won.append(entry.user_id)
            else:
                lost.append(entry.pk)
        LotteryEntry.objects.filter(pk__in=lost).update(is_winner=False)
        when = _when(slot.start)
        _notify_on_commit(won, title=_("You won the lottery: you are booked"),
                          body=_("You got a place for %(when)s.") % {"when": when},
                          link=reverse("facilities:my_bookings"),
                          dedupe_key=f"lottery:{slot_id}", data={"slot_id": slot_id})
        won_set = set(won)
        lost_users = [e.user_id for e in entries if e.user_id not in won_set]
        _notify_on_commit(lost_users, title=_("The lottery was drawn: no place this time"),
                          body=_("The lottery for %(when)s was drawn; you did not get a place.")
                          % {"when": when}, dedupe_key=f"lottery:{slot_id}",
                          data={"slot_id": slot_id})
    return True


def due_lottery_ids(now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(Slot.objects.filter(mode=BookingMode.LOTTERY, drawn_at__isnull=True,
                                    draw_at__lte=now).order_by("draw_at", "id")
                .values_list("id", flat=True)[:limit])


def entrant_token(slot_id: int, user_id: int) -> str:
    """A stable, opaque stand-in for an entrant in the public draw record: a keyed hash, so a
    user id cannot be recovered by trying small numbers."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"lottery:{slot_id}:{user_id}".encode(),
                   hashlib.sha256).digest()
    return base64.b32encode(mac[:5]).decode().lower()


@dataclass(frozen=True)
class LotteryRecord:
    slot_id: int
    capacity: int
    draw_at: dt.datetime | None
    drawn_at: dt.datetime | None
    seed: str
    entries: int
    places: int
    entrants: list[str]  # tokens, in ascending user-id order: the order draw() is given
    winners: list[str]  # tokens, in drawn order


def lottery_record(slot_id: int) -> LotteryRecord:
    """The public record of a lottery: before the draw, the number of entries; after it, the
    seed, the ordered entrant tokens and the winners, so anyone can re-run
    ``lottery.draw(seed, entrants, places)``."""
    if not 0 < slot_id < 2**63:
        raise SlotNotFound()
    slot = Slot.objects.filter(pk=slot_id).first()
    if slot is None:
        raise SlotNotFound()
    if slot.mode != BookingMode.LOTTERY:
        raise NotLottery()
    user_ids = list(LotteryEntry.objects.filter(slot_id=slot_id).order_by("user_id")
                    .values_list("user_id", "is_winner"))
    if slot.drawn_at is None:
        return LotteryRecord(slot_id=slot.pk, capacity=slot.capacity, draw_at=slot.draw_at,
                             drawn_at=None, seed="", entries=len(user_ids), places=0,
                             entrants=[], winners=[])
    tokens = [entrant_token(slot.pk, uid) for uid, _w in user_ids]
    winners_set = {uid for uid, won in user_ids if won}
    places = len(winners_set)
    # The winners in drawn order: re-running the draw gives exactly this list.
    drawn = lottery.draw(slot.lottery_seed, [uid for uid, _w in user_ids], places)
    return LotteryRecord(slot_id=slot.pk, capacity=slot.capacity, draw_at=slot.draw_at,
                         drawn_at=slot.drawn_at, seed=slot.lottery_seed, entries=len(user_ids),
                         places=places, entrants=tokens,
                         winners=[entrant_token(slot.pk, uid) for uid in drawn
                                  if uid in winners_set])


# --- no-shows and suspensions ------------------------------------------------------------------


def release_no_shows(now: dt.datetime | None = None, *, limit: int = NOSHOW_BATCH) -> int:
    """Mark bookings nobody checked in for within ``checkin_grace_minutes`` of the start as
    no-shows: each in its own transaction, its place goes back to the slot (and to the
    waitlist while the slot still runs). A resident whose no-shows, at every venue, within
    ``noshow_period_days`` reach ``noshow_limit`` is suspended for ``suspension_days`` (one
    suspension per triggering no-show, none while one is in force) and notified after commit.
    Returns how many bookings were released. Safe to run concurrently. Run every minute."""
    now = now or timezone.now()
    # A place handed on from the waitlist after the start gets its own grace time, counted
    # from the promotion (the entry's updated_at).
    candidates = list(Booking.objects.filter(status=BookingStatus.BOOKED, start__lte=now)
                      .annotate(promoted_at=F("from_waitlist__updated_at"))
                      .select_related("facility__region").order_by("start", "id")[:limit])
    policies: dict[int, Policy] = {}
    released = 0
    for booking in candidates:
        policy = policies.get(booking.facility_id)
        if policy is None:
            policy = policies[booking.facility_id] = policy_for(booking.facility)
        since = max(booking.start, getattr(booking, "promoted_at", None) or booking.start)
        if since + dt.timedelta(minutes=policy.checkin_grace_minutes) > now:
            continue
        with transaction.atomic():
            try:
                transition_booking(booking, BookingStatus.NO_SHOW, at=now)
            except InvalidTransition:
                continue  # checked in or released meanwhile
            _give_back_place(booking.slot_id)
            _promote_waitlist(booking.slot_id, now)
            _maybe_suspend(booking, policy, now)
        released += 1
    return released


def _maybe_suspend(booking: Booking, policy: Policy, now: dt.datetime) -> Suspension | None:
    since = now - dt.timedelta(days=policy.noshow_period_days)
    count = Booking.objects.filter(user_id=booking.user_id, status=BookingStatus.NO_SHOW,
                                   start__gte=since).count()
    if count < policy.noshow_limit or active_suspension(booking.user_id, now) is not None:
        return None
    until = now + dt.timedelta(days=policy.suspension_days)
    try:
        with transaction.atomic():
            suspension = Suspension.objects.create(
                user_id=booking.user_id, until=until, trigger=booking,
                reason=f"{count} no-shows in {policy.noshow_period_days} days")
    except IntegrityError:  # this no-show already triggered one
        return None
    _notify_on_commit(
        [booking.user_id], title=_("Booking suspended after missed bookings"),
        body=_("You missed %(count)d bookings; you can book again after %(until)s.")
        % {"count": count, "until": hours.local(until).strftime("%Y-%m-%d %H:%M")},
        link=reverse("facilities:my_bookings"), dedupe_key=f"suspension:{suspension.pk}",
        data={"suspension_id": suspension.pk})
    return suspension


def lift_suspension(*, actor: Any, suspension_id: int, request: Any = None,
                    now: dt.datetime | None = None) -> Suspension:
    """Lift a suspension early. Requires ``Perm.BOOKING_RULES`` on the region of the venue
    whose no-show triggered it (the resident's home community when there is no trigger).
    Audited as ``booking.suspension_lifted``; the resident is notified after commit."""
    now = now or timezone.now()
    if not 0 < suspension_id < 2**63:
        raise SuspensionNotFound()
    suspension = (Suspension.objects.select_related("trigger__facility__region",
                                                    "user__home_community")
                  .filter(pk=suspension_id).first())
    if suspension is None:
        raise SuspensionNotFound()
    region = (suspension.trigger.facility.region if suspension.trigger is not None
              else suspension.user.home_community)
    access_for_user(actor).require(Perm.BOOKING_RULES, region)
    with transaction.atomic():
        if not Suspension.objects.filter(pk=suspension.pk, lifted_at__isnull=True).update(
                lifted_at=now, lifted_by=actor, updated_at=now):
            raise SuspensionLifted()
        suspension.lifted_at, suspension.lifted_by = now, actor
        audit.record(actor=actor, action="booking.suspension_lifted", obj=suspension,
                     region=region, request=request, data={"user": suspension.user_id})
        _notify_on_commit([suspension.user_id], title=_("You can book again"),
                          body=_("Your booking suspension was lifted."),
                          link=reverse("facilities:my_bookings"),
                          dedupe_key=f"suspension:{suspension.pk}:lifted")
    return suspension


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingPage:
    items: list[Booking]
    next_cursor: str | None


def _encode_cursor(booking: Booking) -> str:
    return f"{int(booking.start.timestamp() * 1_000_000)}.{booking.pk}"


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        micros, pk = cursor.split(".")
        start = dt.datetime.fromtimestamp(int(micros) / 1_000_000, tz=dt.UTC)
        booking_id = int(pk)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(code="invalid_cursor",
                           fields={"cursor": [_("Not a valid cursor.")]}) from None
    if not 0 < booking_id < 2**63:
        raise InvalidInput(code="invalid_cursor", fields={"cursor": [_("Not a valid cursor.")]})
    return start, booking_id


def list_bookings_for(user: Any, *, when: str = "upcoming", cursor: str | None = None,
                      limit: int = 20, now: dt.datetime | None = None) -> BookingPage:
    """``user``'s own bookings. ``upcoming``: not yet ended and still live, soonest first;
    ``past``: everything else, latest first. Keyset pagination on (start, id): pass
    ``next_cursor`` back as ``cursor``. One query per page (facility and unit joined)."""
    now = now or timezone.now()
    limit = max(1, min(int(limit), MAX_PAGE))
    qs: QuerySet[Booking] = (Booking.objects.filter(user_id=user.pk)
                             .select_related("facility", "slot__unit"))
    upcoming = Q(status__in=LIVE_BOOKING, end__gt=now)
    if when == "past":
        qs = qs.exclude(upcoming).order_by("-start", "-id")
    else:
        qs = qs.filter(upcoming).order_by("start", "id")
    if cursor:
        at, pk = _decode_cursor(cursor)
        if when == "past":
            qs = qs.filter(Q(start__lt=at) | Q(start=at, id__lt=pk))
        else:
            qs = qs.filter(Q(start__gt=at) | Q(start=at, id__gt=pk))
    rows = list(qs[: limit + 1])
    if len(rows) > limit:
        return BookingPage(items=rows[:limit], next_cursor=_encode_cursor(rows[limit - 1]))
    return BookingPage(items=rows, next_cursor=None)


def facility_bookings_on(facility: Facility, day: dt.date) -> list[Booking]:
    """A venue's bookings starting on local date ``day`` (staff list; the caller checked
    ``FACILITY_MANAGE`` on the facility's region)."""
    start, end = day_bounds(day)
    return list(Booking.objects.filter(facility_id=facility.pk, start__gte=start, start__lt=end)
                .select_related("user", "slot__unit").order_by("start", "slot__unit_id", "id"))


def ensure_window(now: dt.datetime | None = None, *, batch: int = 200) -> int:
    """Make the slots of every bookable facility for today through the end of its booking
    window (one day beyond, so the next day is ready when it opens). Works in batches of
    facilities with their units and hours preloaded; returns the number of new slots."""
    from sportsman.facilities.models import PublicHoliday

    now = now or timezone.now()
    today = hours.local(now).date()
    holidays = set(PublicHoliday.objects.filter(date__gte=today).values_list("date", flat=True))
    created = 0
    last_id = 0
    while True:
        facilities = list(Facility.objects.filter(is_bookable=True, pk__gt=last_id,
                                                  units__is_active=True)
                          .distinct().select_related("region").order_by("pk")[:batch])
        if not facilities:
            return created
        last_id = facilities[-1].pk
        ids = [f.pk for f in facilities]
        units: dict[int, list[Unit]] = {}
        for unit in Unit.objects.filter(facility_id__in=ids, is_active=True):
            units.setdefault(unit.facility_id, []).append(unit)
        rules: dict[int, list[OpeningRule]] = {}
        for rule in OpeningRule.objects.filter(facility_id__in=ids):
            rules.setdefault(rule.facility_id, []).append(rule)
        exceptions: dict[int, list[OpeningException]] = {}
        for exc in OpeningException.objects.filter(facility_id__in=ids, end_date__gte=today):
            exceptions.setdefault(exc.facility_id, []).append(exc)
        for facility in facilities:
            policy = policy_for(facility)
            last = last_bookable_day(policy, now) + dt.timedelta(days=1)
            day = today
            while day <= last:
                created += ensure_slots(facility, day, units=units.get(facility.pk, []),
                                        policy=policy, rules=rules.get(facility.pk, []),
                                        exceptions=exceptions.get(facility.pk, []),
                                        is_holiday=day in holidays)
                day += dt.timedelta(days=1)
