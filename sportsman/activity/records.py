"""Writing the exercise record: sessions from their sources, manual entries, withdrawals.

Every write to one person's records runs in a transaction holding that person's lock (their user
row, ``SELECT … FOR UPDATE``; SQLite serialises writers anyway), so the overlap merge and the
rollup deltas of one person never interleave; different people never wait for each other.

**Idempotency.** ``(source, source_key)`` is unique: recording a session again returns the record
already there and changes nothing.

**Overlap.** A person's sessions claim their minutes in a fixed order (start, end, source, key —
never arrival order): a session counts the minutes not covered by sessions ordered before it.
When a session arrives or goes, every record of that person overlapping it is recounted in that
order and the rollups move by the difference, so the result is the same whatever order the
sessions arrived in (the property tests check it against a recomputation).

**Plausibility.** Longer than 10 hours, faster than the sport allows, a distance without a
duration, or ending in the future: the record is kept with a flag and is not verified; it counts
in my data but not in rankings or rewards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.activity import rollups
from sportsman.activity.models import VERIFIED_SOURCES, ActivityRecord, Source
from sportsman.core import audit
from sportsman.core.errors import InvalidInput, NotFound
from sportsman.core.models import Sport

MAX_PLAUSIBLE = dt.timedelta(hours=10)
# km/h a person can keep up over a whole session; above it the record is flagged.
SPEED_LIMITS_KMH = {
    "walking": 8.0, "hiking": 10.0, "running": 25.0, "cycling": 60.0, "swimming": 6.0,
    "rope-skipping": 0.5,
}
DEFAULT_SPEED_LIMIT_KMH = 60.0
MANUAL_DAILY_CAP = 180  # minutes of manual entries per person and local day
MANUAL_NOTE_MAX = 200

FLAG_TOO_LONG = "too_long"
FLAG_TOO_FAST = "too_fast"
FLAG_DISTANCE_WITHOUT_DURATION = "distance_without_duration"
FLAG_IN_FUTURE = "in_future"
FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # clocks of phones and watches drift a little

_HOME = object()  # "the person's home community" (None means no community)


def implausibility_flags(*, sport_slug: str | None, started_at: dt.datetime,
                         ended_at: dt.datetime, distance_m: int | None,
                         now: dt.datetime | None = None) -> list[str]:
    """The flags a session earns by its shape (and, for ``in_future``, the time ``now``)."""
    flags: list[str] = []
    duration = ended_at - started_at
    if ended_at > (now or timezone.now()) + FUTURE_TOLERANCE:
        flags.append(FLAG_IN_FUTURE)  # a device clock set wrong, or a made-up file
    if duration > MAX_PLAUSIBLE:
        flags.append(FLAG_TOO_LONG)
    if distance_m:
        hours = duration.total_seconds() / 3600
        if hours <= 0:
            flags.append(FLAG_DISTANCE_WITHOUT_DURATION)
        else:
            limit = SPEED_LIMITS_KMH.get(sport_slug or "", DEFAULT_SPEED_LIMIT_KMH)
            if distance_m / 1000 / hours > limit:
                flags.append(FLAG_TOO_FAST)
    return flags


def _lock_person(user_id: int) -> Any:
    """Take the person's lock (their user row); the one lock every write here takes first."""
    person = (get_user_model().objects.select_for_update().filter(pk=user_id)
              .only("id", "home_community_id").first())
    if person is None:
        raise NotFound(_("No such resident."))
    return person


def _sport_slug(sport_id: int | None) -> str | None:
    if sport_id is None:
        return None
    slug = Sport.objects.filter(pk=sport_id).values_list("slug", flat=True).first()
    if slug is None:
        raise InvalidInput(_("Unknown sport."), code="sport_unknown")
    return slug


def record_session(*, user_id: int, source: str, source_key: str, sport_id: int | None,
                   started_at: dt.datetime, ended_at: dt.datetime, region_id: Any = _HOME,
                   facility_id: int | None = None, distance_m: int | None = None,
                   elevation_gain_m: int | None = None, avg_heart_rate: int | None = None,
                   max_heart_rate: int | None = None, verified: bool | None = None,
                   flags: list[str] | None = None) -> ActivityRecord:
    """Record one exercise session of ``user_id`` from ``source``/``source_key``, or return the
    record that key already made (a replay changes nothing). ``region_id`` defaults to the
    person's home community; ``verified`` to whether the source is a witnessed one. Implausible
    sessions get flags (``flags`` adds the caller's own). No permission check: the callers are
    the event consumers, the import and manual-entry services, which check their actor. Side
    effects: overlapping records of the person are recounted; the rollups move."""
    if source not in Source.values:
        raise InvalidInput(_("Unknown source."), code="source_unknown")
    if not source_key or len(source_key) > 128:
        raise InvalidInput(_("A source key of 1 to 128 characters is needed."),
                           code="source_key_invalid")
    if timezone.is_naive(started_at) or timezone.is_naive(ended_at):
        raise InvalidInput(_("Times must carry a time zone."), code="time_naive")
    if ended_at < started_at:
        raise InvalidInput(_("A session cannot end before it starts."), code="time_order")
    with transaction.atomic():
        person = _lock_person(user_id)
        existing = ActivityRecord.objects.filter(source=source, source_key=source_key).first()
        if existing is not None:
            return existing
        all_flags = list(flags or [])
        for flag in implausibility_flags(sport_slug=_sport_slug(sport_id),
                                         started_at=started_at, ended_at=ended_at,
                                         distance_m=distance_m):
            if flag not in all_flags:
                all_flags.append(flag)
        record = ActivityRecord(
            user_id=user_id, source=source, source_key=source_key, sport_id=sport_id,
            region_id=person.home_community_id if region_id is _HOME else region_id,
            facility_id=facility_id, started_at=started_at, ended_at=ended_at,
            duration_minutes=int((ended_at - started_at).total_seconds()) // 60,
            counted_minutes=0, distance_m=distance_m, elevation_gain_m=elevation_gain_m,
            avg_heart_rate=avg_heart_rate, max_heart_rate=max_heart_rate,
            # A flagged session is never verified, whoever witnessed it.
            is_verified=((source in VERIFIED_SOURCES) if verified is None else verified)
            and not all_flags,
            flags=all_flags)
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            # The key exists (a concurrent writer of another person's lock cannot hold it, but
            # a database-level race still ends here): the existing record is the answer.
            return ActivityRecord.objects.get(source=source, source_key=source_key)
        _remerge(user_id, started_at, ended_at, new=record)
    return record


def _remerge(user_id: int, start: dt.datetime, end: dt.datetime, *,
             new: ActivityRecord | None = None) -> None:
    """Recount the person's records overlapping [start, end) (and ``new``), moving the rollups
    by each difference; ``new`` is then added to the rollups with its counted minutes."""
    mine = ActivityRecord.objects.filter(user_id=user_id).order_by()
    affected = list(mine.filter(started_at__lt=end, ended_at__gt=start))
    if new is not None and all(r.pk != new.pk for r in affected):
        affected.append(new)
    if affected:
        lo = min(r.started_at for r in affected)
        hi = max(r.ended_at for r in affected)
        # Every record overlapping an affected one lies in [lo, hi): enough to recount them.
        window = list(mine.filter(Q(started_at__lt=hi, ended_at__gt=lo) | Q(
            pk__in=[r.pk for r in affected])).only("id", "started_at", "ended_at", "source",
                                                   "source_key"))
        spans = [rollups.Span(rollups.order_key(r.started_at, r.ended_at, r.source,
                                                r.source_key), r.started_at, r.ended_at)
                 for r in window]
        counted = rollups.counted_minutes_of(spans)
        for r in affected:
            minutes = counted[rollups.order_key(r.started_at, r.ended_at, r.source,
                                                r.source_key)]
            if new is not None and r.pk == new.pk:
                continue
            if minutes != r.counted_minutes:
                old = r.counted_minutes
                r.counted_minutes = minutes
                ActivityRecord.objects.filter(pk=r.pk).update(counted_minutes=minutes)
                rollups.recount(r, old)
        if new is not None:
            new.counted_minutes = counted[rollups.order_key(new.started_at, new.ended_at,
                                                            new.source, new.source_key)]
            ActivityRecord.objects.filter(pk=new.pk).update(counted_minutes=new.counted_minutes)
    if new is not None:
        rollups.add_record(new)


def _withdraw(record: ActivityRecord) -> None:
    """Delete ``record`` (its person's lock held) and reverse everything it did."""
    ActivityRecord.objects.filter(pk=record.pk).delete()
    rollups.remove_record(record)
    _remerge(record.user_id, record.started_at, record.ended_at)


def remove_session(*, source: str, source_key: str) -> bool:
    """Withdraw the record a source made (a visit corrected or cancelled, a device reading
    revoked): the record goes, the rollups return exactly to what they would be without it and
    overlapping sessions of the person take back the minutes it held. Returns whether there
    was one. No permission check: the callers are the sources' own services."""
    user_id = (ActivityRecord.objects.filter(source=source, source_key=source_key)
               .values_list("user_id", flat=True).first())
    if user_id is None:
        return False
    with transaction.atomic():
        _lock_person(user_id)
        record = ActivityRecord.objects.filter(source=source, source_key=source_key).first()
        if record is None:
            return False
        _withdraw(record)
    return True


def add_manual_session(*, actor: Any, sport_id: int | None, started_at: dt.datetime,
                       duration_minutes: int, note: str = "") -> ActivityRecord:
    """The actor enters a session of their own by hand: unverified (never ranked or rewarded),
    at most ``MANUAL_DAILY_CAP`` minutes of manual entries per local day, not in the future.
    The note is kept in the actor's audit entry. Side effects: the record's overlap merge and
    rollups, one audit entry."""
    if not actor or not actor.is_authenticated:
        raise NotFound()
    if not 1 <= duration_minutes <= MANUAL_DAILY_CAP:
        raise InvalidInput(_("A manual session lasts 1 to %(cap)s minutes.")
                           % {"cap": MANUAL_DAILY_CAP}, code="manual_duration",
                           fields={"duration_minutes": _("Out of range.")})
    note = (note or "").strip()
    if len(note) > MANUAL_NOTE_MAX:
        raise InvalidInput(_("The note is too long."), code="manual_note",
                           fields={"note": _("At most 200 characters.")})
    if timezone.is_naive(started_at):
        raise InvalidInput(_("Times must carry a time zone."), code="time_naive")
    ended_at = started_at + dt.timedelta(minutes=duration_minutes)
    if ended_at > timezone.now():
        raise InvalidInput(_("A session cannot end in the future."), code="manual_future",
                           fields={"started_at": _("In the future.")})
    with transaction.atomic():
        _lock_person(actor.pk)
        lo, hi = rollups.day_bounds(rollups.local_day(started_at))
        used = (ActivityRecord.objects.filter(user_id=actor.pk, source=Source.MANUAL,
                                              started_at__gte=lo, started_at__lt=hi)
                .aggregate(n=Sum("duration_minutes"))["n"] or 0)
        if used + duration_minutes > MANUAL_DAILY_CAP:
            raise InvalidInput(
                _("At most %(cap)s minutes a day can be entered by hand; %(left)s are left.")
                % {"cap": MANUAL_DAILY_CAP, "left": max(0, MANUAL_DAILY_CAP - used)},
                code="manual_cap", fields={"duration_minutes": _("Over the daily cap.")})
        record = record_session(user_id=actor.pk, source=Source.MANUAL,
                                source_key=f"manual:{uuid.uuid4().hex}", sport_id=sport_id,
                                started_at=started_at, ended_at=ended_at, verified=False)
        audit.record(actor=actor, action="activity.manual.add", obj=record,
                     data={"note": note, "minutes": duration_minutes})
    return record


def delete_manual_session(*, actor: Any, record_id: int) -> None:
    """The actor deletes a session they entered by hand; anything else (another person's, or
    one a source recorded) is not found. Side effects: rollups reversed, overlapping sessions
    recounted, one audit entry."""
    if not actor or not actor.is_authenticated:
        raise NotFound()
    with transaction.atomic():
        _lock_person(actor.pk)
        record = ActivityRecord.objects.filter(pk=record_id, user_id=actor.pk,
                                               source=Source.MANUAL).first()
        if record is None:
            raise NotFound()
        _withdraw(record)
        audit.record(actor=actor, action="activity.manual.delete",
                     object_type="activity.activityrecord", object_id=record_id)


# --- bulk: backfilling from a source's history ----------------------------------------------

def record_sessions_in_bulk(sessions: Iterable[dict[str, Any]], *,
                            progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Record many sessions at once (a backfill: every completed facility visit, the demo's
    year), with the same result as recording them one by one in any order: keys already
    recorded are skipped; each person's counted minutes are computed in one pass over their
    whole history; new rows go in with one prepared statement; then the rollups of the people
    concerned are rebuilt with one grouped pass. ``sessions`` are dicts with the keys of
    :func:`record_session` (``region_id`` absent = home community). The people concerned are
    locked for the duration, so live events wait rather than interleave. Returns counts."""
    with transaction.atomic():
        wanted: dict[tuple[str, str], dict[str, Any]] = {}
        for s in sessions:
            wanted.setdefault((s["source"], s["source_key"]), s)
        user_ids = sorted({s["user_id"] for s in wanted.values()})
        homes: dict[int, int | None] = {}
        user_model = get_user_model()
        for i in range(0, len(user_ids), rollups.BATCH):
            chunk = user_ids[i:i + rollups.BATCH]
            # Lock in id order (the fixed order every lock here follows), then the table.
            homes.update(user_model.objects.select_for_update().filter(pk__in=chunk)
                         .order_by("pk").values_list("pk", "home_community_id"))
        rollups.lock_records_table()
        had_any = ActivityRecord.objects.exists()
        existing = set(ActivityRecord.objects.order_by().values_list("source", "source_key")
                       .iterator(chunk_size=rollups.BATCH))
        fresh = {k: s for k, s in wanted.items() if k not in existing}
        if not fresh:
            return {"recorded": 0, "skipped": len(wanted)}
        user_ids = sorted({s["user_id"] for s in fresh.values()})
        slugs: dict[int | None, str] = dict(Sport.objects.values_list("pk", "slug"))
        now = timezone.now()
        flags_field = ActivityRecord._meta.get_field("flags")
        prepared: dict[tuple[str, ...], Any] = {}
        flags_of: list[list[str]] = []
        rows = []
        for s in fresh.values():
            if s["user_id"] not in homes:
                continue  # the person is gone: nothing to record
            start, end = s["started_at"], s["ended_at"]
            if end < start:
                continue
            source = s["source"]
            verified = s.get("verified")
            flags = implausibility_flags(sport_slug=slugs.get(s.get("sport_id")),
                                         started_at=start, ended_at=end,
                                         distance_m=s.get("distance_m"), now=now)
            if tuple(flags) not in prepared:  # adapted once per distinct value, not per row
                prepared[tuple(flags)] = flags_field.get_db_prep_save(flags, connection)
            flags_of.append(flags)
            rows.append([
                s["user_id"], source, s["source_key"], s.get("sport_id"),
                s["region_id"] if "region_id" in s else homes[s["user_id"]],
                s.get("facility_id"), start, end, int((end - start).total_seconds()) // 60, 0,
                s.get("distance_m"), s.get("elevation_gain_m"), s.get("avg_heart_rate"),
                s.get("max_heart_rate"),
                ((source in VERIFIED_SOURCES) if verified is None else verified) and not flags,
                prepared[tuple(flags)], now])
        # By person and start: the (user, started_at) index then grows at its end.
        order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][6]))
        rows = [rows[i] for i in order]
        flags_of = [flags_of[i] for i in order]
        # Counted minutes per person in one pass over their whole history (older records of
        # theirs may give up minutes to new earlier ones: the rebuild below updates those).
        old = rollups._rows(user_ids) if had_any else []
        spans: dict[int, list[rollups.Span]] = {}
        for r in old:
            spans.setdefault(r[1], []).append(rollups.Span(rollups.order_key(*r[3:7]), r[3], r[4]))
        for row in rows:
            spans.setdefault(row[0], []).append(
                rollups.Span(rollups.order_key(row[6], row[7], row[1], row[2]), row[6], row[7]))
        counted: dict[tuple[Any, ...], int] = {}
        for person_spans in spans.values():
            counted.update(rollups.counted_minutes_of(person_spans))
        for row in rows:
            row[9] = counted[rollups.order_key(row[6], row[7], row[1], row[2])]
        inserted = rollups._insert_rows(
            ActivityRecord, ["user_id", "source", "source_key", "sport_id", "region_id",
                             "facility_id", "started_at", "ended_at", "duration_minutes",
                             "counted_minutes", "distance_m", "elevation_gain_m",
                             "avg_heart_rate", "max_heart_rate", "is_verified", "flags",
                             "created_at"], rows)
        if progress:
            progress(inserted)
        if had_any:
            # The people concerned, from all their records (older ones may have been recounted).
            result = rollups.rebuild_rollups(user_ids)
        else:
            # The record was empty: the rollups follow from the rows just inserted, in one
            # grouped pass (their order stands for their ids: inserted in that order).
            result = rollups.replace_rollups(
                [(i, r[0], r[4], r[6], r[7], r[1], r[2], r[9], r[14], flags_of[i])
                 for i, r in enumerate(rows)], None)
    return {"recorded": inserted, "skipped": len(wanted) - len(fresh), **result}
