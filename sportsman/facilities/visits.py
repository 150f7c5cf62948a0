"""Visits: checking in (the facility's rotating QR code, a booking pass scanned by staff, a
walk-in registered at the desk) and checking out (by the resident, by staff, or automatically).

The facility's screen shows a code that changes every minute, ``SPF:<facility>:<window>:<sig>``
signed with the facility's ``qr_secret``; a code is accepted in its own minute and the next one
only, so a photo taken home is useless after about two minutes.

A person has at most one open visit anywhere (``visit_one_open_per_user``): checking in
somewhere closes the open visit first. Every visit that closes publishes
``facilities.visit_completed`` in the closing transaction and completes its booking. Occupancy
and the hourly rollup move by atomic updates only (``occupancy.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.core.events import publish
from sportsman.core.models import Sport
from sportsman.facilities import booking as booking_service
from sportsman.facilities import hours, occupancy
from sportsman.facilities.models import (
    Booking,
    BookingStatus,
    Facility,
    FacilityStatus,
    Visit,
    VisitSource,
)
from sportsman.regions.access import Perm, access_for_user

QR_PREFIX = "SPF"
PASS_PREFIX = "SPB"  # noqa: S105 (a QR prefix, not a password)
WINDOW_SECONDS = 60
SIG_CHARS = 16  # 64 bits of HMAC-SHA256: forging one takes ~2**63 guesses per minute
CHECKIN_OPENS_BEFORE = dt.timedelta(minutes=30)
WALK_IN_LIMIT = dt.timedelta(hours=4)
VISIT_COMPLETED = "facilities.visit_completed"


class QrInvalid(InvalidInput):
    code = "qr_invalid"
    default_message = _("This is not a valid check-in code.")


class QrExpired(InvalidInput):
    code = "qr_expired"
    default_message = _("This check-in code has expired. Scan the code on the screen again.")


class PassInvalid(InvalidInput):
    code = "pass_invalid"
    default_message = _("This booking pass is not valid.")


class PassNotYetValid(InvalidInput):
    code = "pass_not_yet_valid"
    default_message = _("This pass can be used from 30 minutes before the booking starts.")


class PassExpired(InvalidInput):
    code = "pass_expired"
    default_message = _("This booking has ended.")


class PassWrongFacility(InvalidInput):
    code = "pass_wrong_facility"
    default_message = _("This pass is for another facility.")


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"
    default_message = _("This booking is already checked in.")


class FacilityNotOpen(Conflict):
    code = "facility_not_open"
    default_message = _("This facility is not open.")


class VisitInProgress(Conflict):
    code = "visit_in_progress"
    default_message = _("A check-in for this person is already in progress. Try again.")


# --- rotating codes --------------------------------------------------------------------------


def _window(at: dt.datetime) -> int:
    return int(at.timestamp()) // WINDOW_SECONDS


def _sign(secret: str, subject_id: int, window: int) -> str:
    message = f"{subject_id}:{window}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:SIG_CHARS]


@dataclass(frozen=True)
class RotatingCode:
    """A parsed ``<prefix>:<subject>:<minute>:<signature>``: not yet checked."""

    subject_id: int
    window: int
    signature: str

    @property
    def valid_from(self) -> dt.datetime:
        """The start of the minute it was made in."""
        return dt.datetime.fromtimestamp(self.window * WINDOW_SECONDS, tz=dt.UTC)

    @property
    def valid_until(self) -> dt.datetime:
        """The end of the minute after it: a code is good for its minute and the next."""
        return dt.datetime.fromtimestamp((self.window + 2) * WINDOW_SECONDS, tz=dt.UTC)

    def is_signed_with(self, secret: str) -> bool:
        return hmac.compare_digest(_sign(secret, self.subject_id, self.window), self.signature)


def rotating_code(prefix: str, subject_id: int, secret: str,
                  at: dt.datetime | None = None) -> str:
    """The one signing scheme of codes that change every minute (a facility's check-in screen,
    a resident's exercise code): ``<prefix>:<subject>:<minute>:<HMAC-SHA256 of subject and
    minute under secret, 64 bits>``."""
    window = _window(at or timezone.now())
    return f"{prefix}:{subject_id}:{window}:{_sign(secret, subject_id, window)}"


def parse_rotating_code(code: str, prefix: str) -> RotatingCode | None:
    """``code`` split into its parts if it has the shape of a ``prefix`` code, else None."""
    parts = (code or "").strip().split(":")
    if len(parts) != 4 or parts[0] != prefix or not parts[1].isdigit() \
            or not parts[2].isdigit() or len(parts[1]) > 18 or len(parts[2]) > 18:
        return None
    return RotatingCode(subject_id=int(parts[1]), window=int(parts[2]), signature=parts[3])


def facility_code(facility: Facility, at: dt.datetime | None = None) -> str:
    """The check-in code the facility's screen shows at ``at`` (default now)."""
    return rotating_code(QR_PREFIX, facility.pk, facility.qr_secret, at)


def code_valid_until(at: dt.datetime | None = None) -> dt.datetime:
    """When the screen should show the next code (the end of ``at``'s window)."""
    window = _window(at or timezone.now())
    return dt.datetime.fromtimestamp((window + 1) * WINDOW_SECONDS, tz=dt.UTC)


def checkin_url(request: Any, code: str) -> str:
    """The absolute URL of the check-in page for ``code``: what the screen's QR code encodes,
    so any phone camera opens it."""
    from urllib.parse import urlencode

    from django.urls import reverse

    return request.build_absolute_uri(f"{reverse('facilities:checkin')}?{urlencode({'c': code})}")


def verify_code(code: str, *, now: dt.datetime | None = None) -> Facility:
    """The facility whose screen showed ``code`` in this minute or the previous one. A code that
    is not one of ours → QrInvalid; a genuine but older code → QrExpired."""
    parsed = parse_rotating_code(code, QR_PREFIX)
    if parsed is None:
        raise QrInvalid()
    facility = Facility.objects.select_related("region").filter(pk=parsed.subject_id).first()
    # Signed even for an unknown facility: a miss costs as much as a hit.
    if not parsed.is_signed_with(facility.qr_secret if facility else "-") or facility is None:
        raise QrInvalid()
    window = parsed.window
    current = _window(now or timezone.now())
    if window > current:
        raise QrInvalid()  # the screens sign with the server's clock: never ahead of it
    if window < current - 1:
        raise QrExpired()
    return facility


# --- opening and closing -----------------------------------------------------------------------


def _open_visit(*, user_id: int, facility: Facility, source: str, now: dt.datetime,
                booking: Booking | None = None, sport_id: int | None = None,
                checked_in_by: Any = None) -> Visit:
    """Inside the caller's transaction: close the person's open visit elsewhere, open the new
    one, count them in, and check the booking in. Someone already here stays on their open
    visit (a booking that has come near meanwhile is checked in on it): one stay, one visit."""
    if facility.status != FacilityStatus.OPEN:
        raise FacilityNotOpen()
    for old in Visit.objects.select_for_update().filter(user_id=user_id, ended_at__isnull=True):
        if old.facility_id == facility.pk and (booking is None or old.booking_id is None):
            if booking is not None:
                Visit.objects.filter(pk=old.pk).update(booking=booking)
                old.booking = booking
                booking_service.mark_checked_in(booking, at=now)
            return old
        _close(old, at=now, closed_by="auto")
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                user_id=user_id, facility=facility, booking=booking, sport_id=sport_id,
                source=source, started_at=now, checked_in_by=checked_in_by)
    except IntegrityError as exc:
        # A concurrent check-in of the same person (or of the same booking) won the insert.
        raise VisitInProgress() from exc
    occupancy.count_in(facility.pk, at=now)
    if booking is not None:
        booking_service.mark_checked_in(booking, at=now)
    return visit


def _close(visit: Visit, *, at: dt.datetime, closed_by: str) -> bool:
    """Inside the caller's transaction: end ``visit`` at ``at`` unless it has ended already (a
    conditional UPDATE: of two closers exactly one does the rest), count the person out,
    complete the booking, publish ``facilities.visit_completed``."""
    ended_at = max(at, visit.started_at)
    if not Visit.objects.filter(pk=visit.pk, ended_at__isnull=True).update(
            ended_at=ended_at, closed_by=closed_by):
        return False
    visit.ended_at, visit.closed_by = ended_at, closed_by
    occupancy.adjust_occupancy(visit.facility_id, -1, at=ended_at)
    if visit.booking_id is not None:
        booking = Booking.objects.select_for_update().filter(
            pk=visit.booking_id, status=BookingStatus.CHECKED_IN).first()
        if booking is not None:
            booking_service.mark_completed(booking, at=ended_at)
    region_id = (Facility.objects.filter(pk=visit.facility_id)
                 .values_list("region_id", flat=True).first())
    publish(VISIT_COMPLETED, {
        "visit_id": visit.pk, "user_id": visit.user_id, "facility_id": visit.facility_id,
        "region_id": region_id, "sport_id": visit.sport_id, "source": visit.source,
        "started_at": visit.started_at.astimezone(dt.UTC).isoformat(),
        "ended_at": ended_at.astimezone(dt.UTC).isoformat(),
        "duration_minutes": visit.duration_minutes,
    })
    return True


# --- services ----------------------------------------------------------------------------------


def check_in_with_code(*, actor: Any, code: str, sport_id: int | None = None,
                       now: dt.datetime | None = None) -> Visit:
    """The resident ``actor`` scanned the facility's screen: check them in. A booking of theirs
    at that facility from 30 minutes before its start until its end is checked in with the
    visit; otherwise it is a walk-in visit. Scanning again where they already are returns the
    open visit (checking in a booking that has come near meanwhile); an open visit elsewhere is
    closed first. Refuses forged (qr_invalid) and old
    (qr_expired) codes, writing nothing. Side effects: occupancy, rollup, booking checked in."""
    now = now or timezone.now()
    facility = verify_code(code, now=now)
    if sport_id is not None and not Sport.objects.filter(pk=sport_id).exists():
        raise InvalidInput(code="unknown_sport", fields={"sport_id": [_("Unknown sport.")]})
    with transaction.atomic():
        booking = (Booking.objects.select_for_update()
                   .filter(user_id=actor.pk, facility=facility, status=BookingStatus.BOOKED,
                           start__lte=now + CHECKIN_OPENS_BEFORE, end__gt=now)
                   .order_by("start", "id").first())
        return _open_visit(user_id=actor.pk, facility=facility, source=VisitSource.FACILITY_QR,
                           now=now, booking=booking, sport_id=sport_id)


def check_in_pass(*, actor: Any, pass_code: str, facility_id: int | None = None,
                  now: dt.datetime | None = None) -> Visit:
    """Staff scanned a resident's booking pass (``SPB:<pass_code>`` or the bare code). Needs
    FACILITY_MANAGE over the booking's facility. Valid from 30 minutes before the start until
    the end (pass_not_yet_valid / pass_expired), once (already_checked_in), never for a
    cancelled or missed booking (pass_invalid), nor at another venue than ``facility_id`` when
    the scanning desk names one (pass_wrong_facility). Opens a staff-scan visit and checks the
    booking in. Audited."""
    access = access_for_user(actor)
    access.require_anywhere(Perm.FACILITY_MANAGE)
    now = now or timezone.now()
    raw = (pass_code or "").strip()
    if raw.startswith(f"{PASS_PREFIX}:"):
        raw = raw[len(PASS_PREFIX) + 1:]
    if not raw or len(raw) > 64:
        raise PassInvalid()
    with transaction.atomic():
        booking = (Booking.objects.select_for_update(of=("self",))
                   .select_related("facility__region").filter(pass_code=raw).first())
        if booking is None:
            raise PassInvalid()
        access.require(Perm.FACILITY_MANAGE, booking.facility.region)
        if facility_id is not None and booking.facility_id != facility_id:
            # In the actor's scope (checked above): naming the venue helps the desk.
            raise PassWrongFacility(_("This pass is for another facility: %(name)s.")
                                    % {"name": booking.facility.name})
        if booking.status == BookingStatus.CHECKED_IN:
            raise AlreadyCheckedIn()
        if booking.status != BookingStatus.BOOKED:
            raise PassInvalid()
        if now < booking.start - CHECKIN_OPENS_BEFORE:
            raise PassNotYetValid()
        if now >= booking.end:
            raise PassExpired()
        visit = _open_visit(user_id=booking.user_id, facility=booking.facility,
                            source=VisitSource.STAFF_SCAN, now=now, booking=booking,
                            checked_in_by=actor)
        audit.record(actor=actor, action="facilities.visit.check_in_pass", obj=visit,
                     region=booking.facility.region, data={"booking_id": booking.pk})
    return visit


def walk_in(*, actor: Any, facility_id: int, user_id: int,
            now: dt.datetime | None = None) -> Visit:
    """Staff register a resident who came without a booking. Needs FACILITY_MANAGE over the
    facility. Closes the resident's open visit elsewhere first; one already open here is
    returned. Audited."""
    from sportsman.facilities import registry

    now = now or timezone.now()
    facility = registry.facility_for(registry.access_of(actor), facility_id)
    if not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
        raise NotFound(_("No such resident."))
    with transaction.atomic():
        visit = _open_visit(user_id=user_id, facility=facility, source=VisitSource.WALK_IN,
                            now=now, checked_in_by=actor)
        audit.record(actor=actor, action="facilities.visit.walk_in", obj=visit,
                     region=facility.region, data={"user_id": user_id})
    return visit


def check_out(*, actor: Any, visit_id: int, now: dt.datetime | None = None) -> Visit:
    """End a visit: the resident's own, or (staff, audited) one at a facility the actor manages.
    Anyone else's visit is not found. Checking out an ended visit changes nothing and returns
    it (a retried tap is harmless). Side effects: occupancy, booking completed, the
    visit_completed event."""
    now = now or timezone.now()
    with transaction.atomic():
        visit = (Visit.objects.select_for_update(of=("self",)).select_related("facility__region")
                 .filter(pk=visit_id).first())
        if visit is None:
            raise NotFound()
        own = visit.user_id == actor.pk
        if not own and not access_for_user(actor).can(Perm.FACILITY_MANAGE,
                                                      visit.facility.region):
            raise NotFound()
        if visit.ended_at is not None:
            return visit
        _close(visit, at=now, closed_by="user" if own else "staff")
        if not own:
            audit.record(actor=actor, action="facilities.visit.check_out", obj=visit,
                         region=visit.facility.region, data={"user_id": visit.user_id})
    return visit


def due_at(visit: Visit) -> dt.datetime:
    """When an open visit closes by itself: its booking's end; else the closing time of the
    opening interval it started in (or the next one that day); else 4 hours after it started."""
    if visit.booking_id is not None and visit.booking is not None:
        return visit.booking.end
    start = hours.local(visit.started_at)
    for _opens, closes in hours.intervals_on(visit.facility, start.date()):
        closing = hours.aware(start.date(), closes)
        if closing > visit.started_at:
            return closing
    return visit.started_at + WALK_IN_LIMIT


def close_due_visits(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Close open visits whose time is up (``due_at``), at that time, each in its own
    transaction; returns how many this call closed. System job (no actor)."""
    now = now or timezone.now()
    closed = 0
    candidates = (Visit.objects.filter(ended_at__isnull=True, started_at__lt=now)
                  .select_related("booking", "facility").order_by("started_at", "id")[:limit])
    for visit in candidates:
        due = due_at(visit)
        if due > now:
            continue
        with transaction.atomic():
            if _close(visit, at=due, closed_by="auto"):
                closed += 1
    return closed


# --- reads -------------------------------------------------------------------------------------


def open_visit_of(user: Any) -> Visit | None:
    return (Visit.objects.select_related("facility").filter(user_id=user.pk, ended_at__isnull=True)
            .first())


def visits_of(user: Any, *, cursor: int | None = None, limit: int = 20) -> tuple[list[Visit],
                                                                                 int | None]:
    """The user's own visits, newest first, keyset-paginated by id: (rows, next cursor)."""
    limit = max(1, min(limit, 100))
    qs = Visit.objects.select_related("facility").filter(user_id=user.pk)
    if cursor is not None:
        qs = qs.filter(id__lt=cursor)
    rows = list(qs.order_by("-id")[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].pk
    return rows, None
