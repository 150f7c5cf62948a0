"""Smart devices at facilities: registering them (the secret is shown once, only a keyed hash is
kept), authenticating them, and ingesting the events they send over HTTP or MQTT.

``ingest_events`` validates a batch event by event: a bad event is reported with a reason while
the good ones are kept. Effects (occupancy, the hourly rollup, usage cycles, tickets, last seen)
come only from events this call actually inserted: ``(device, event_id)`` is unique, so a
replayed batch inserts nothing and changes nothing, and of two identical batches racing, the one
that loses the insert retries, finds every event already there, and does nothing.

A ``session`` event (smart fitness equipment only) names the person by the exercise code the
equipment scanned when the session started (``exercise_code``); a valid one publishes
``facilities.equipment_session`` in the storing transaction, and the exercise record is built
from that event.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core import audit
from sportsman.core.crypto import keyed_hash
from sportsman.core.errors import DomainError, InvalidInput, NotFound
from sportsman.core.events import publish
from sportsman.core.models import Sport
from sportsman.facilities import exercise_code, occupancy, registry
from sportsman.facilities.maintenance import open_device_ticket
from sportsman.facilities.models import Device, DeviceEvent, DeviceKind, TicketKind
from sportsman.regions.access import Perm, access_for_user

logger = logging.getLogger(__name__)

MAX_BATCH = 500
MAX_FUTURE = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=7)
MAX_COUNT = 10_000  # people or cycles in one event: beyond this a device is broken, not busy
MIN_HEARTBEAT, MAX_HEARTBEAT = 10, 86_400
SILENT_AFTER_HEARTBEATS = 2
INGEST_ATTEMPTS = 5
MAX_SESSION = dt.timedelta(hours=4)  # one session on one machine; longer is a forgotten logout
EVENT_TYPES = frozenset(DeviceEvent.Kind.values)
# Event types only some kinds of device send.
TYPES_OF_KIND = {DeviceEvent.Kind.SESSION: frozenset({DeviceKind.EQUIPMENT})}
EQUIPMENT_SESSION = "facilities.equipment_session"
_HASH_PURPOSE = "device"


class DeviceUnauthorized(DomainError):
    status = 401
    code = "device_unauthorized"
    default_message = gettext_lazy("Unknown device or wrong secret.")


class BatchTooLarge(InvalidInput):
    code = "batch_too_large"
    default_message = gettext_lazy("Send at most 500 events at a time.")


class SerialTaken(InvalidInput):
    code = "serial_taken"
    default_message = gettext_lazy("A device with this serial number is already registered.")


# --- registry ----------------------------------------------------------------------------------


def _hash(secret: str) -> str:
    return keyed_hash(secret, purpose=_HASH_PURPOSE)


def _managed_device(actor: Any, device_id: int) -> Device:
    access = access_for_user(actor)
    access.require_anywhere(Perm.FACILITY_MANAGE)
    device = (access.scope(Device.objects.select_related("facility__region"),
                           Perm.FACILITY_MANAGE, field="facility__region")
              .select_for_update(of=("self",)).filter(pk=device_id).first())
    if device is None:
        raise NotFound()
    return device


def _check_settings(heartbeat_seconds: int, wear_threshold: int | None) -> None:
    if not MIN_HEARTBEAT <= heartbeat_seconds <= MAX_HEARTBEAT:
        raise InvalidInput(fields={"heartbeat_seconds": [
            _("Between %(low)s and %(high)s seconds.") % {"low": MIN_HEARTBEAT,
                                                          "high": MAX_HEARTBEAT}]})
    if wear_threshold is not None and wear_threshold < 1:
        raise InvalidInput(fields={"wear_threshold": [_("At least 1, or empty.")]})


def register_device(*, actor: Any, facility_id: int, kind: str, name: str, serial: str,
                    heartbeat_seconds: int = 300,
                    wear_threshold: int | None = None) -> tuple[Device, str]:
    """Add a device to a facility the actor manages (FACILITY_MANAGE over its region). Returns
    the device and its secret: the only time the secret exists in clear; only its keyed hash is
    stored. Audited."""
    facility = registry.facility_for(registry.access_of(actor), facility_id)
    if kind not in DeviceKind.values:
        raise InvalidInput(fields={"kind": [_("Unknown device kind.")]})
    serial, name = serial.strip(), name.strip()
    if not serial or not name:
        raise InvalidInput(fields={"serial" if not serial else "name": [_("Required.")]})
    _check_settings(heartbeat_seconds, wear_threshold)
    secret = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            device = Device.objects.create(
                facility=facility, kind=kind, name=name, serial=serial,
                secret_hash=_hash(secret), heartbeat_seconds=heartbeat_seconds,
                wear_threshold=wear_threshold)
            audit.record(actor=actor, action="facilities.device.register", obj=device,
                         region=facility.region, data={"serial": serial, "kind": kind})
    except IntegrityError as exc:
        raise SerialTaken() from exc
    return device, secret


def rotate_secret(*, actor: Any, device_id: int) -> tuple[Device, str]:
    """Give a device the actor manages a new secret (the old one stops working at once); returns
    it once. Audited."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        device = _managed_device(actor, device_id)
        device.secret_hash = _hash(secret)
        device.save(update_fields=["secret_hash", "updated_at"])
        audit.record(actor=actor, action="facilities.device.rotate_secret", obj=device,
                     region=device.facility.region)
    return device, secret


def deactivate(*, actor: Any, device_id: int) -> Device:
    """Retire a device the actor manages: it can no longer send events and is not watched for
    silence. Its events and tickets stay. Audited."""
    with transaction.atomic():
        device = _managed_device(actor, device_id)
        device.is_active = False
        device.save(update_fields=["is_active", "updated_at"])
        audit.record(actor=actor, action="facilities.device.deactivate", obj=device,
                     region=device.facility.region)
    return device


# --- authentication ----------------------------------------------------------------------------

_NO_SUCH_DEVICE = _hash("no such device")  # compared against, so a miss costs as much as a hit


def authenticate_device(serial: str, secret: str) -> Device | None:
    """The active device with this serial whose secret matches, else None (constant-time)."""
    if not serial or not secret or len(serial) > 64 or len(secret) > 256:
        return None
    device = (Device.objects.select_related("facility__region")
              .filter(serial=serial, is_active=True).first())
    expected = device.secret_hash if device is not None else _NO_SUCH_DEVICE
    if not hmac.compare_digest(expected, _hash(secret)) or device is None:
        return None
    return device


def device_from_authorization(header: str | None) -> Device | None:
    """``Authorization: Device <serial>:<secret>`` → the device, or None."""
    if not header:
        return None
    scheme, _sep, credentials = header.partition(" ")
    if scheme.lower() != "device":
        return None
    serial, sep, secret = credentials.strip().partition(":")
    if not sep:
        return None
    return authenticate_device(serial, secret)


# --- ingest ------------------------------------------------------------------------------------


@dataclass
class Rejected:
    index: int
    event_id: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "event_id": self.event_id, "code": self.code,
                "message": self.message}


@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": [r.as_dict() for r in self.rejected]}


@dataclass(frozen=True)
class _Session:
    user_id: int
    sport: str | None  # the slug the device sent
    started_at: dt.datetime
    ended_at: dt.datetime
    sport_id: int | None = None


@dataclass(frozen=True)
class _Valid:
    index: int
    event_id: str
    kind: str
    at: dt.datetime
    data: dict[str, Any]
    session: _Session | None = None


class _Bad(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _count(data: dict[str, Any], key: str, *, minimum: int = 0) -> int | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_COUNT:
        raise _Bad("invalid_data", _("“%(key)s” must be a whole number from %(low)s to "
                                     "%(high)s.") % {"key": key, "low": minimum,
                                                     "high": MAX_COUNT})
    return value


def _time(value: Any, key: str) -> dt.datetime:
    try:
        at = parse_datetime(value) if isinstance(value, str) and len(value) <= 40 else None
        if at is not None and at.tzinfo is not None:
            at = at.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # well-formed but impossible (month 13, year 0)
        at = None
    if at is None:
        raise _Bad("invalid_time", _("“%(key)s” must be an ISO 8601 date and time.")
                   % {"key": key})
    if at.tzinfo is None:
        raise _Bad("naive_time", _("“%(key)s” must carry a time zone offset.") % {"key": key})
    return at


def _session(data: dict[str, Any], at: dt.datetime, now: dt.datetime) -> _Session:
    """The checks of a session that need no database: times, length, the code's signature and
    its minute against the session's start."""
    started_at = _time(data.get("started_at"), "started_at")
    if "ended_at" in data and _time(data["ended_at"], "ended_at") != at:
        raise _Bad("invalid_data", _("“ended_at” must equal “at”."))
    if started_at >= at:
        raise _Bad("session_order", _("A session must end after it starts."))
    if at - started_at > MAX_SESSION:
        raise _Bad("session_too_long", _("A session lasts at most %(hours)s hours.")
                   % {"hours": int(MAX_SESSION.total_seconds() // 3600)})
    sport = data.get("sport")
    if sport is not None and (not isinstance(sport, str) or not 1 <= len(sport) <= 32):
        raise _Bad("invalid_data", _("“sport” must be a sport's key."))
    try:
        user_id = exercise_code.user_id_of(data.get("member"), scanned_at=started_at, now=now)
    except DomainError as exc:
        raise _Bad(exc.code, str(exc.message)) from exc
    return _Session(user_id=user_id, sport=sport, started_at=started_at, ended_at=at)


def _validate_data(kind: str, data: dict[str, Any], at: dt.datetime,
                   now: dt.datetime) -> _Session | None:
    if kind == DeviceEvent.Kind.COUNT:
        present = _count(data, "present")
        moved = [_count(data, "in"), _count(data, "out")]
        if present is None and moved == [None, None]:
            raise _Bad("invalid_data", _("A count needs “in” and/or “out”, or “present”."))
        if present is not None and moved != [None, None]:
            raise _Bad("invalid_data", _("A count has either “in”/“out” or “present”, not both."))
    elif kind == DeviceEvent.Kind.USAGE and _count(data, "cycles", minimum=1) is None:
        raise _Bad("invalid_data", _("A usage event needs “cycles”."))
    elif kind == DeviceEvent.Kind.SESSION:
        return _session(data, at, now)
    return None


def _validate(index: int, raw: Any, device_kind: str, now: dt.datetime) -> _Valid:
    if not isinstance(raw, dict):
        raise _Bad("invalid_event", _("An event must be an object."))
    unknown = set(raw) - {"id", "type", "at", "data"}
    if unknown:
        raise _Bad("unknown_field", _("Unknown fields: %(fields)s.")
                   % {"fields": ", ".join(sorted(map(str, unknown)))})
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 64 \
            or not event_id.isprintable():
        raise _Bad("invalid_id", _("“id” must be a string of 1 to 64 characters."))
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise _Bad("invalid_type", _("“type” must be one of: %(types)s.")
                   % {"types": ", ".join(sorted(EVENT_TYPES))})
    allowed = TYPES_OF_KIND.get(kind)
    if allowed is not None and device_kind not in allowed:
        raise _Bad("type_not_allowed", _("This kind of device cannot send “%(type)s” events.")
                   % {"type": kind})
    at = _time(raw.get("at"), "at")
    if at > now + MAX_FUTURE:
        raise _Bad("time_in_future", _("“at” is more than 5 minutes in the future."))
    if at < now - MAX_AGE:
        raise _Bad("time_too_old", _("“at” is more than 7 days ago."))
    data = raw.get("data", {})
    # PostgreSQL's jsonb cannot hold a NUL character: refuse it here, not as a failed batch.
    if not isinstance(data, dict) or "\\u0000" in json.dumps(data):
        raise _Bad("invalid_data", _("“data” must be an object."))
    session = _validate_data(kind, data, at, now)
    return _Valid(index=index, event_id=event_id, kind=kind, at=at, data=data, session=session)


def _resolve_sessions(events: list[_Valid]) -> tuple[list[_Valid], list[tuple[_Valid, _Bad]]]:
    """The checks of sessions that need the database, two queries for the whole batch: the
    person is an active user, the sport one we know. Returns (kept, rejected)."""
    sessions = [e.session for e in events if e.session is not None]
    if not sessions:
        return events, []
    people = set(get_user_model().objects.filter(
        pk__in={s.user_id for s in sessions}, is_active=True).values_list("pk", flat=True))
    sports = dict(Sport.objects.filter(slug__in={s.sport for s in sessions if s.sport})
                  .values_list("slug", "pk"))
    kept: list[_Valid] = []
    rejected: list[tuple[_Valid, _Bad]] = []
    for e in events:
        s = e.session
        if s is None:
            kept.append(e)
        elif s.user_id not in people:
            rejected.append((e, _Bad(exercise_code.ExerciseCodeInvalid.code,
                                     str(exercise_code.ExerciseCodeInvalid.default_message))))
        elif s.sport is not None and s.sport not in sports:
            rejected.append((e, _Bad("unknown_sport", _("Unknown sport “%(sport)s”.")
                                     % {"sport": s.sport})))
        else:
            kept.append(replace(e, session=replace(s, sport_id=sports.get(s.sport or ""))))
    return kept, rejected


def ingest_events(*, device: Device, events: Any, now: dt.datetime | None = None) -> IngestReport:
    """Store the events an authenticated ``device`` sent and apply their effects once. Each event
    is ``{"id", "type", "at", "data"}``; invalid ones are listed in ``rejected`` (index, id,
    code, message), ids already stored count as ``duplicates``, the rest are ``accepted``. A
    batch that is not a list, or has more than 500 events, is refused whole (InvalidInput).
    Effects, in one transaction, from the newly stored events only: occupancy and the hourly
    rollup (count), usage cycles and at most one wear ticket (usage), the latest reading
    (reading), a fault ticket (fault), a ``facilities.equipment_session`` event (session, from
    equipment only, for an active person's valid exercise code), and the device heard (last
    seen, not silent). Tickets notify the facility's managers. No actor: the device
    authenticated itself."""
    if not isinstance(events, list):
        raise InvalidInput(_("“events” must be a list."), code="malformed_batch")
    if len(events) > MAX_BATCH:
        raise BatchTooLarge()
    now = now or timezone.now()
    report = IngestReport()
    checked: list[_Valid] = []
    for index, raw in enumerate(events):
        try:
            checked.append(_validate(index, raw, device.kind, now))
        except _Bad as bad:
            event_id = raw.get("id") if isinstance(raw, dict) else None
            report.rejected.append(Rejected(
                index=index, event_id=event_id if isinstance(event_id, str) else None,
                code=bad.code, message=bad.message))
    checked, refused = _resolve_sessions(checked)
    report.rejected += [Rejected(index=e.index, event_id=e.event_id, code=bad.code,
                                 message=bad.message) for e, bad in refused]
    report.rejected.sort(key=lambda r: r.index)
    valid: dict[str, _Valid] = {}
    for event in checked:
        if event.event_id in valid:
            report.duplicates += 1  # the same event twice in one batch is one event
        else:
            valid[event.event_id] = event
    if not valid:
        return report
    for attempt in range(INGEST_ATTEMPTS):
        try:
            inserted = _store(device, list(valid.values()), now)
            break
        except IntegrityError:
            # An identical batch inserted some of these ids since we looked: look again.
            if attempt == INGEST_ATTEMPTS - 1:
                raise
            logger.info("device %s: a concurrent batch stored some events first; retrying",
                        device.serial)
    report.accepted = len(inserted)
    report.duplicates += len(valid) - len(inserted)
    return report


def _store(device: Device, events: list[_Valid], now: dt.datetime) -> list[_Valid]:
    with transaction.atomic():
        known = set(DeviceEvent.objects.filter(device=device,
                                               event_id__in=[e.event_id for e in events])
                    .values_list("event_id", flat=True))
        new = [e for e in events if e.event_id not in known]
        if not new:
            return []
        rows = DeviceEvent.objects.bulk_create([
            DeviceEvent(device=device, event_id=e.event_id, kind=e.kind, occurred_at=e.at,
                        received_at=now, data=e.data) for e in new])
        _apply(device, sorted(new, key=lambda e: e.at), now)
        _publish_sessions(device, [(row.pk, e) for row, e in zip(rows, new, strict=True)
                                   if e.session is not None])
    return new


def _publish_sessions(device: Device, sessions: list[tuple[int, _Valid]]) -> None:
    """Inside the storing transaction: one ``facilities.equipment_session`` per new session (the
    exercise record is keyed by the device event's id, so a replayed event changes nothing)."""
    for row_id, e in sessions:
        assert e.session is not None
        publish(EQUIPMENT_SESSION, {
            "device_event_id": row_id, "device_id": device.pk, "user_id": e.session.user_id,
            "facility_id": device.facility_id, "region_id": device.facility.region_id,
            "sport_id": e.session.sport_id,
            "started_at": e.session.started_at.astimezone(dt.UTC).isoformat(),
            "ended_at": e.session.ended_at.astimezone(dt.UTC).isoformat(),
        })


def _apply(device: Device, events: list[_Valid], now: dt.datetime) -> None:
    """The effects of newly stored events (sorted by time), inside the storing transaction."""
    facility_id = device.facility_id
    counts = [e for e in events if e.kind == DeviceEvent.Kind.COUNT]
    if counts:
        entries: dict[dt.datetime, int] = {}
        peaks: dict[dt.datetime, int] = {}
        delta = 0
        for e in counts:
            if "present" in e.data:
                # An absolute reading replaces the deltas before it.
                occupancy.set_occupancy(facility_id, e.data["present"], at=e.at)
                peaks[e.at] = max(peaks.get(e.at, 0), e.data["present"])
                delta = 0
            else:
                delta += e.data.get("in", 0) - e.data.get("out", 0)
                if e.data.get("in"):
                    entries[e.at] = entries.get(e.at, 0) + e.data["in"]
        occupancy.bump_hours(facility_id, entries=entries, peaks=peaks)
        if any("present" not in e.data for e in counts):
            occupancy.adjust_occupancy(facility_id, delta, at=now)
            occupancy.record_peak(facility_id, at=counts[-1].at)
    cycles = sum(e.data["cycles"] for e in events if e.kind == DeviceEvent.Kind.USAGE)
    readings = [e for e in events if e.kind == DeviceEvent.Kind.READING]
    changes: dict[str, Any] = {"last_seen_at": now, "is_silent": False}
    if cycles:
        changes["usage_cycles"] = F("usage_cycles") + cycles
    if readings:
        changes["last_reading"] = {**readings[-1].data, "at": readings[-1].at.isoformat()}
    Device.objects.filter(pk=device.pk).update(**changes)
    if cycles and device.wear_threshold:
        used, at_service = (Device.objects.filter(pk=device.pk)
                            .values_list("usage_cycles", "cycles_at_service").get())
        if used - at_service >= device.wear_threshold:
            open_device_ticket(
                device=device, kind=TicketKind.WEAR,
                title=_("%(device)s is due for service (%(cycles)s uses)")
                % {"device": device.name, "cycles": used - at_service})
    faults = [e for e in events if e.kind == DeviceEvent.Kind.FAULT]
    if faults:
        last = faults[-1].data
        detail = str(last.get("message") or last.get("code") or "")[:120]
        open_device_ticket(device=device, kind=TicketKind.FAULT,
                           title=_("%(device)s reports a fault") % {"device": device.name},
                           note=detail)


# --- silence -----------------------------------------------------------------------------------


def sweep_silent_devices(*, now: dt.datetime | None = None) -> int:
    """Mark active devices not heard for twice their heartbeat as silent, open one "silent"
    ticket each and tell the managers, once until the device is heard again (any new event
    clears ``is_silent``; the ticket stays for the manager to close). A device never heard is
    measured from its registration. Returns how many devices went silent now. System job."""
    now = now or timezone.now()
    earliest = now - dt.timedelta(seconds=SILENT_AFTER_HEARTBEATS * MIN_HEARTBEAT)
    candidates = (Device.objects.filter(is_active=True, is_silent=False)
                  .exclude(last_seen_at__gte=earliest)
                  .values_list("pk", "heartbeat_seconds", "last_seen_at", "created_at"))
    went_silent = 0
    for pk, heartbeat, last_seen, created in candidates.iterator():
        cutoff = now - dt.timedelta(seconds=SILENT_AFTER_HEARTBEATS * heartbeat)
        if (last_seen or created) >= cutoff:
            continue
        with transaction.atomic():
            # Conditional on "still unheard": an event arriving meanwhile wins.
            stale = Device.objects.filter(pk=pk, is_active=True, is_silent=False)
            stale = (stale.filter(last_seen_at__lt=cutoff) if last_seen
                     else stale.filter(last_seen_at__isnull=True))
            if not stale.update(is_silent=True):
                continue
            went_silent += 1
            device = Device.objects.select_related("facility__region").get(pk=pk)
            open_device_ticket(device=device, kind=TicketKind.SILENT,
                               title=_("%(device)s has gone silent") % {"device": device.name})
    return went_silent
