"""Daily rollups of the exercise record: one row per person and local day (UserDay) and per
community and local day (RegionDay), kept incrementally as records come and go.

The day of a record is the local date (Asia/Shanghai) of its start. A record contributes
``counted_minutes`` and one session; when it is verified and carries no flag it also contributes
to ``verified_minutes`` / ``verified_sessions`` (rankings and rewards read only those).

- **UserDay** holds the person's day; its ``region`` is the community of the day's earliest
  recorded row (lowest id), so a rebuild finds the same one. A day whose last record goes is
  deleted (the row is the person's own and only touched under their lock).
- **RegionDay** adds the records by *their* community; ``active_users`` counts each person once
  per community and day: +1 when their first record of that community and day arrives, −1 when the
  last one goes.

Counters move by atomic ``F()`` deltas after an insert-ignore of the row, never by reading and
writing back a total, so concurrent writers for different people never lose an update. The
callers (records.py) hold the person's lock, so one person's changes are serialised.

:func:`rebuild_rollups` recomputes everything from the raw records: counted minutes (the overlap
rule of :func:`counted_minutes_of`) and both rollups. It is the reference the property tests compare
the incremental path with, and what ``manage.py rebuild_activity_rollups`` runs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F

from sportsman.activity import ranktables
from sportsman.activity.models import ActivityRecord, RegionDay, UserDay
from sportsman.core.db import lock_table

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
BATCH = 5000


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(LOCAL_TZ).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ)
    return start, start + dt.timedelta(days=1)


def is_rewarded(*, is_verified: bool, flags: Sequence[str] | None) -> bool:
    """Verified and unflagged: the records rankings and rewards count."""
    return bool(is_verified) and not flags


# --- the overlap rule ------------------------------------------------------------------------

def order_key(started_at: dt.datetime, ended_at: dt.datetime, source: str,
              source_key: str) -> tuple[Any, ...]:
    """The order in which a person's sessions claim their minutes. It uses only what a record
    *is* (never its id or arrival time), so the result does not depend on the order sessions
    arrived in."""
    return (started_at, ended_at, source, source_key)


@dataclass(frozen=True)
class Span:
    key: tuple[Any, ...]
    start: dt.datetime
    end: dt.datetime


def counted_minutes_of(spans: Sequence[Span]) -> dict[tuple[Any, ...], int]:
    """Counted minutes of each of one person's sessions (all of them, or a window that holds
    every session overlapping the ones asked about), in one sweep in claim order."""
    result: dict[tuple[Any, ...], int] = {}
    ordered = sorted(spans, key=lambda s: s.key)
    # Sweep in claim order keeping the union of earlier intervals as a sorted, merged list.
    merged: list[list[dt.datetime]] = []
    for span in ordered:
        free = 0.0
        cursor = span.start
        for start, end in merged:
            if end <= cursor:
                continue
            if start >= span.end:
                break
            if start > cursor:
                free += (start - cursor).total_seconds()
            cursor = max(cursor, end)
            if cursor >= span.end:
                break
        if span.end > cursor:
            free += (span.end - cursor).total_seconds()
        result[span.key] = int(free) // 60
        _merge_into(merged, span.start, span.end)
    return result


def _merge_into(merged: list[list[dt.datetime]], start: dt.datetime, end: dt.datetime) -> None:
    if end <= start:
        return
    i = 0
    while i < len(merged) and merged[i][1] < start:
        i += 1
    j = i
    while j < len(merged) and merged[j][0] <= end:
        start = min(start, merged[j][0])
        end = max(end, merged[j][1])
        j += 1
    merged[i:j] = [[start, end]]


# --- incremental deltas ----------------------------------------------------------------------

def _insert_ignore(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    model._default_manager.bulk_create([model(**r) for r in rows], ignore_conflicts=True)


def apply_delta(*, user_id: int, day: dt.date, region_id: int | None, minutes: int,
                sessions: int, verified_minutes: int, verified_sessions: int) -> None:
    """Add one record's contribution (or take it away, with negative numbers) to its person-day
    and its community-day. Caller holds the person's lock inside a transaction."""
    if not (minutes or sessions or verified_minutes or verified_sessions):
        return
    # Rank writers one at a time, taken before any shared row (RegionDay, the rank counts) so
    # that the order of the rest cannot deadlock (PostgreSQL; see ranktables).
    ranktables.lock()
    _insert_ignore(UserDay, [{"user_id": user_id, "day": day, "region_id": region_id}])
    UserDay.objects.filter(user_id=user_id, day=day).update(
        minutes=F("minutes") + minutes, sessions=F("sessions") + sessions,
        verified_minutes=F("verified_minutes") + verified_minutes,
        verified_sessions=F("verified_sessions") + verified_sessions)
    if verified_minutes or verified_sessions:
        ranktables.sync(user_id, [day])
    if (verified_minutes or verified_sessions) and settings.REDIS_URL:
        # Rankings count a day where the person lived that day: the person-day's community.
        day_region = (UserDay.objects.filter(user_id=user_id, day=day)
                      .values_list("region_id", flat=True).first())
        _bump_boards(user_id, day_region, day, verified_minutes, verified_sessions)
    if region_id is not None:
        _insert_ignore(RegionDay, [{"region_id": region_id, "day": day}])
        RegionDay.objects.filter(region_id=region_id, day=day).update(
            minutes=F("minutes") + minutes, sessions=F("sessions") + sessions,
            verified_minutes=F("verified_minutes") + verified_minutes)


def contribution(record: ActivityRecord, *, counted: int | None = None,
                 sign: int = 1) -> dict[str, int]:
    minutes = record.counted_minutes if counted is None else counted
    rewarded = is_rewarded(is_verified=record.is_verified, flags=record.flags)
    return {"minutes": sign * minutes, "sessions": sign,
            "verified_minutes": sign * minutes if rewarded else 0,
            "verified_sessions": sign if rewarded else 0}


def add_record(record: ActivityRecord) -> None:
    """A new record: its contribution, then the active-user count and the day's community."""
    day = local_day(record.started_at)
    apply_delta(user_id=record.user_id, day=day, region_id=record.region_id,
                **contribution(record))
    _settle(record.user_id, day, record.region_id, arrived=True)


def remove_record(record: ActivityRecord) -> None:
    """A deleted record (already gone from the table): take its contribution back."""
    day = local_day(record.started_at)
    apply_delta(user_id=record.user_id, day=day, region_id=record.region_id,
                **contribution(record, sign=-1))
    _settle(record.user_id, day, record.region_id, arrived=False)


def recount(record: ActivityRecord, old_counted: int) -> None:
    """A record whose counted minutes changed (an overlapping session came or went)."""
    diff = record.counted_minutes - old_counted
    if diff:
        rewarded = is_rewarded(is_verified=record.is_verified, flags=record.flags)
        apply_delta(user_id=record.user_id, day=local_day(record.started_at),
                    region_id=record.region_id, minutes=diff, sessions=0,
                    verified_minutes=diff if rewarded else 0, verified_sessions=0)


def _settle(user_id: int, day: dt.date, region_id: int | None, *, arrived: bool) -> None:
    start, end = day_bounds(day)
    of_day = ActivityRecord.objects.filter(user_id=user_id, started_at__gte=start,
                                           started_at__lt=end)
    if region_id is not None:
        left = of_day.filter(region_id=region_id).count()
        if arrived and left == 1:
            RegionDay.objects.filter(region_id=region_id, day=day).update(
                active_users=F("active_users") + 1)
        elif not arrived and left == 0:
            RegionDay.objects.filter(region_id=region_id, day=day).update(
                active_users=F("active_users") - 1)
    first = of_day.order_by("id").values_list("region_id", flat=True)[:1]
    if not first:
        UserDay.objects.filter(user_id=user_id, day=day, sessions=0).delete()
    elif not arrived:
        moved = (UserDay.objects.filter(user_id=user_id, day=day).exclude(region_id=first[0])
                 .values_list("region_id", "verified_minutes", "verified_sessions").first())
        if moved is not None:
            UserDay.objects.filter(user_id=user_id, day=day).update(region_id=first[0])
            old_region, vm, vs = moved
            if vm or vs:  # the day now counts in another community's boards
                ranktables.sync(user_id, [day])
            if settings.REDIS_URL:
                _bump_boards(user_id, old_region, day, -vm, -vs)
                _bump_boards(user_id, first[0], day, vm, vs)


def _bump_boards(user_id: int, region_id: int | None, day: dt.date, verified_minutes: int,
                 verified_sessions: int) -> None:
    """After commit, move the Redis ranking boards (when in use) by a verified delta. A failure
    there is logged, never undoes the record: the boards are rebuilt from the rollups by the
    rankings job."""
    if region_id is None or not (verified_minutes or verified_sessions):
        return

    def send() -> None:
        from sportsman.activity import rankings

        rankings.bump(user_id=user_id, region_id=region_id, day=day,
                      verified_minutes=verified_minutes, verified_sessions=verified_sessions)

    transaction.on_commit(send, robust=True)


# --- recomputation from the raw records ------------------------------------------------------

Row = tuple[int, int, int | None, dt.datetime, dt.datetime, str, str, int, bool, list[str]]
_ROW_FIELDS = ("id", "user_id", "region_id", "started_at", "ended_at", "source", "source_key",
               "counted_minutes", "is_verified", "flags")


def expected_rollups(rows: Iterable[Row]) -> tuple[dict[tuple[int, dt.date], list[Any]],
                                                    dict[tuple[int, dt.date], list[int]]]:
    """UserDay and RegionDay as they follow from raw record rows (``_ROW_FIELDS``): maps
    (user, day) → [region, minutes, sessions, verified_minutes, verified_sessions] and
    (region, day) → [minutes, sessions, verified_minutes, active_users]."""
    users: dict[tuple[int, dt.date], list[Any]] = {}
    first_id: dict[tuple[int, dt.date], int] = {}
    regions: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    active: set[tuple[int, dt.date, int]] = set()
    for rid, user_id, region_id, started, _end, _src, _key, counted, verified, flags in rows:
        day = local_day(started)
        rewarded = is_rewarded(is_verified=verified, flags=flags)
        cell = users.get((user_id, day))
        if cell is None:
            cell = users[(user_id, day)] = [region_id, 0, 0, 0, 0]
            first_id[(user_id, day)] = rid
        elif rid < first_id[(user_id, day)]:
            first_id[(user_id, day)] = rid
            cell[0] = region_id
        cell[1] += counted
        cell[2] += 1
        cell[3] += counted if rewarded else 0
        cell[4] += 1 if rewarded else 0
        if region_id is not None:
            rcell = regions[(region_id, day)]
            rcell[0] += counted
            rcell[1] += 1
            rcell[2] += counted if rewarded else 0
            if (region_id, day, user_id) not in active:
                active.add((region_id, day, user_id))
                rcell[3] += 1
    return users, dict(regions)


def recount_all(rows: list[Row]) -> dict[int, int]:
    """Counted minutes of every record in ``rows`` (whole histories of their people): id →
    minutes, by the overlap rule."""
    by_user: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_user[row[1]].append(row)
    result: dict[int, int] = {}
    for user_rows in by_user.values():
        spans = [Span(order_key(r[3], r[4], r[5], r[6]), r[3], r[4]) for r in user_rows]
        counted = counted_minutes_of(spans)
        for r, s in zip(user_rows, spans, strict=True):
            result[r[0]] = counted[s.key]
    return result


def _rows(user_ids: Sequence[int] | None) -> list[Row]:
    """Raw record rows (``_ROW_FIELDS``) of everyone or of ``user_ids`` (asked in chunks: SQLite
    caps the parameters of one statement)."""
    qs = ActivityRecord.objects.order_by()
    if user_ids is None:
        return [tuple(r) for r in qs.values_list(*_ROW_FIELDS).iterator(chunk_size=BATCH)]  # type: ignore[misc]
    ids = sorted(set(user_ids))
    rows: list[Row] = []
    for i in range(0, len(ids), BATCH):
        rows.extend(tuple(r) for r in qs.filter(user_id__in=ids[i:i + BATCH])  # type: ignore[misc]
                    .values_list(*_ROW_FIELDS).iterator(chunk_size=BATCH))
    return rows


def rebuild_rollups(user_ids: Sequence[int] | None = None, *,
                    progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Recompute counted minutes and both rollups from the raw records: for everyone, or for
    ``user_ids`` (their UserDays, and the RegionDays of the community-days they touch, in
    full). Runs in one transaction; returns counts. ``progress(n)`` is called as rows are
    processed (for a progress bar)."""
    with transaction.atomic():
        lock_records_table()
        rows = _rows(user_ids)
        counted = recount_all(rows)
        changed = [(m, r[0]) for r in rows if (m := counted[r[0]]) != r[7]]
        if changed:
            _execute_many(f"UPDATE {_q(ActivityRecord)} SET counted_minutes = %s "  # noqa: S608
                          "WHERE id = %s", changed)
        rows = [(*r[:7], counted[r[0]], *r[8:]) for r in rows]  # type: ignore[misc]
        if progress:
            progress(len(rows))
        result = replace_rollups(rows, user_ids)
    return {"records": len(rows), "recounted": len(changed), **result}


def replace_rollups(rows: list[Row], user_ids: Sequence[int] | None) -> dict[str, int]:
    """Replace the rollups with what ``rows`` give: everyone's (``rows`` = every record), or
    those of ``user_ids`` (``rows`` = all their records) and the community-days they touch."""
    users, regions = expected_rollups(rows)
    if user_ids is None:
        UserDay.objects.all().delete()
        RegionDay.objects.all().delete()
    else:
        ids = sorted(set(user_ids))
        for i in range(0, len(ids), BATCH):
            UserDay.objects.filter(user_id__in=ids[i:i + BATCH]).delete()
        # The community-days these people touch, recomputed from everyone's records there.
        touched = {(r[2], local_day(r[3])) for r in rows if r[2] is not None}
        regions = _region_days(touched)
        for region_id, day in touched:
            RegionDay.objects.filter(region_id=region_id, day=day).delete()
    # In key order: the unique indexes then grow at their end (half the time on SQLite).
    _insert_rows(UserDay, ["user_id", "day", "region_id", "minutes", "sessions",
                           "verified_minutes", "verified_sessions"],
                 ((u, d, *users[(u, d)]) for u, d in sorted(users)))
    _insert_rows(RegionDay, ["region_id", "day", "minutes", "sessions", "verified_minutes",
                             "active_users"],
                 ((r, d, *regions[(r, d)]) for r, d in sorted(regions)))
    # The rank tables follow the person-days: all of them, or those of these people.
    ranks = (ranktables.rebuild()["rank_entries"] if user_ids is None
             else ranktables.sync_people(user_ids))
    if settings.REDIS_URL:
        transaction.on_commit(_rebuild_current_boards, robust=True)
    return {"user_days": len(users), "region_days": len(regions), "rank_entries": ranks}


def _rebuild_current_boards() -> None:
    """Rollups replaced wholesale: the Redis boards of the current week, month and year are
    rebuilt from them. Boards of earlier periods kept in Redis are not touched here."""
    from sportsman.activity import rankings
    from sportsman.activity.selectors import Period, today

    for period in Period:
        rankings.rebuild_boards(period=period, on=today())


def lock_records_table() -> None:
    """On PostgreSQL, hold off other writers of the records table until the transaction ends
    (readers go on): a rebuild or a backfill reads every record once and writes rollups from
    them, so a session recorded in between would be lost. Live writers lock their person first
    and the table (by inserting) second; callers holding person locks take this after them."""
    lock_table(ActivityRecord, "EXCLUSIVE")


def _region_days(touched: set[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], list[int]]:
    if not touched:
        return {}
    by_region: dict[int, list[dt.date]] = defaultdict(list)
    for region_id, day in touched:
        by_region[region_id].append(day)
    rows: list[Row] = []
    for region_id, days in by_region.items():
        lo, _ = day_bounds(min(days))
        _, hi = day_bounds(max(days))
        rows.extend(tuple(r) for r in ActivityRecord.objects.order_by().filter(  # type: ignore[misc]
            region_id=region_id, started_at__gte=lo, started_at__lt=hi).values_list(*_ROW_FIELDS))
    _users, regions = expected_rollups(rows)
    return {k: v for k, v in regions.items() if k in touched}


def _q(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _execute_many(sql: str, params: list[tuple[Any, ...]]) -> None:
    with connection.cursor() as cursor:
        for i in range(0, len(params), BATCH):
            cursor.executemany(sql, params[i:i + BATCH])


def _insert_rows(model: type[models.Model], columns: list[str], rows: Iterable[Any]) -> int:
    """Plain rows with one prepared statement (``executemany``; ``COPY`` on PostgreSQL): the
    ORM's bulk_create spends most of a big backfill compiling SQL. Datetimes are adapted the way
    the ORM stores them."""
    ops = connection.ops
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = ", ".join(ops.quote_name(str(fields[c].column)) for c in columns)
    sql = f"INSERT INTO {_q(model)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 (names from the model)
    # Adapt only the date and time columns (the rest go as they are): per-value checks cost
    # more than the insert itself at a few hundred thousand rows.
    adapters = []
    for i, c in enumerate(columns):
        if isinstance(fields[c], models.DateTimeField):
            adapters.append((i, ops.adapt_datetimefield_value))
        elif isinstance(fields[c], models.DateField):
            adapters.append((i, ops.adapt_datefield_value))

    def adapt(row: Any) -> tuple[Any, ...]:
        if not adapters:
            return tuple(row)
        values = list(row)
        for i, fn in adapters:
            values[i] = fn(values[i])
        return tuple(values)

    count = 0
    if connection.vendor == "postgresql":
        # COPY: an order of magnitude faster than executemany for a few hundred thousand rows.
        copy_sql = f"COPY {_q(model)} ({names}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(adapt(row))
                count += 1
        return count
    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(adapt(row))
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
