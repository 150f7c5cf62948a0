"""Rank tables: the rankings kept in the database with the rollups, so that a rank and a top list
are index look-ups whatever the number of residents (docs/adr/0006-rank-tables.md).

- ``RankEntry``: one row per resident, board period (week, month, year) and region (the
  community of each of their days and every town, district and city above it) holding both
  verified scores. Only residents who take part and only positive scores; a top list is a range
  scan of ``(period, region, score desc, user)``.
- ``RankCount``: per metric, period and region, how many residents hold each score, exactly and
  in buckets of ``BUCKET`` scores. My rank = 1 + the counts of the buckets above mine + the
  exact counts above me within my bucket: at most (highest score / BUCKET) + BUCKET rows.

The rules are those of ``rankings`` (a day counts where the person lived that day; hidden
residents and zero scores are absent). How they stay exact:

- A person's rows are recomputed, never moved by deltas: :func:`sync` reads their ``UserDay``
  rows of the periods touched and writes what changed, and the counts move by the difference
  between the stored and the new scores. The callers hold the person's lock (records.py), so one
  person's read-compute-write never interleaves with another of theirs.
- Counts are shared by everyone in a region: they move only by ``count = count + delta`` in one
  upsert statement. On PostgreSQL every rank writer first takes the counts table in SHARE ROW
  EXCLUSIVE mode (:func:`lock`, at the start of a rollup change), so rank writers run one at a
  time from there to commit, in any order, without deadlocks; readers are never blocked. SQLite
  serialises writers anyway.
- :func:`rebuild` recomputes both tables from ``UserDay`` (idempotent; ``manage.py
  rebuild_rank_tables``); :func:`sync_people` recomputes some people (a backfill, opting out
  or back in, a deleted account).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from sportsman.activity.models import RankCount, RankEntry, UserDay
from sportsman.activity.selectors import Period, period_bounds, period_key
from sportsman.core.db import lock_table
from sportsman.regions.models import Region

BUCKET = 128
RANK_LEVELS = ("community", "town", "district", "city")
METRICS = ("minutes", "sessions")
CHUNK = 2000  # people per step of a rebuild

Entries = dict[tuple[str, int], list[int]]  # (period key, region) -> [minutes, sessions]


def lock() -> None:
    """Rank writers one at a time until commit (PostgreSQL; SQLite needs nothing). Taken
    before any shared rollup row, so the order of the rest never matters."""
    lock_table(RankCount, "SHARE ROW EXCLUSIVE")


def bucket_of(score: int) -> int:
    return score // BUCKET


# --- regions ---------------------------------------------------------------------------------

def chains(region_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each region, the regions whose boards its days count in: itself and every region
    above it at a ranking level (community, town, district, city). Two queries."""
    ids = set(region_ids)
    if not ids:
        return {}
    paths = dict(Region.objects.filter(pk__in=ids).values_list("pk", "path"))
    on_path = {rid: [int(p) for p in path.strip("/").split("/")] for rid, path in paths.items()}
    ranked = set(Region.objects.filter(pk__in={a for p in on_path.values() for a in p},
                                       level__in=RANK_LEVELS).values_list("pk", flat=True))
    return {rid: [a for a in path if a in ranked] for rid, path in on_path.items()}


def all_chains() -> dict[int, list[int]]:
    """``chains`` of every region (a full rebuild): one query."""
    rows = list(Region.objects.values_list("pk", "path", "level"))
    ranked = {pk for pk, _path, level in rows if level in RANK_LEVELS}
    return {pk: [a for a in (int(p) for p in path.strip("/").split("/")) if a in ranked]
            for pk, path, _level in rows}


# --- one person's entries --------------------------------------------------------------------

class _Keys:
    """Period keys of a day (week, month, year), memoised: a rebuild asks for the same days
    millions of times."""

    def __init__(self) -> None:
        self._memo: dict[dt.date, tuple[str, str, str]] = {}

    def __call__(self, day: dt.date) -> tuple[str, str, str]:
        keys = self._memo.get(day)
        if keys is None:
            keys = self._memo[day] = tuple(period_key(p, day) for p in Period)  # type: ignore[assignment]
        return keys  # type: ignore[return-value]


def entries_of(days: Iterable[tuple[dt.date, int, int, int]], chain: dict[int, list[int]],
               keys: Callable[[dt.date], tuple[str, ...]],
               wanted: set[str] | None = None) -> Entries:
    """One person's entries from their (day, region, verified minutes, verified sessions):
    every period key of each day (only ``wanted`` ones when given) × every region of the day's
    chain. Entries with both scores zero are left out."""
    out: Entries = {}
    for day, region_id, minutes, sessions in days:
        if not (minutes or sessions):
            continue
        for key in keys(day):
            if wanted is not None and key not in wanted:
                continue
            for rid in chain.get(region_id, ()):
                cell = out.get((key, rid))
                if cell is None:
                    out[(key, rid)] = [minutes, sessions]
                else:
                    cell[0] += minutes
                    cell[1] += sessions
    return {k: v for k, v in out.items() if v[0] or v[1]}


def _count_changes(old: dict[tuple[str, int], tuple[int, int]], new: Entries,
                   counts: dict[tuple[str, str, int, int, int], int]) -> None:
    """Add to ``counts`` what moving one person from ``old`` to ``new`` does to the counts."""
    for key in old.keys() | new.keys():
        before = old.get(key, (0, 0))
        after = new.get(key, (0, 0))
        for i, metric in enumerate(METRICS):
            o, n = before[i], after[i]
            if o == n:
                continue
            if o > 0:
                counts[(metric, key[0], key[1], 1, o)] -= 1
                counts[(metric, key[0], key[1], BUCKET, o // BUCKET)] -= 1
            if n > 0:
                counts[(metric, key[0], key[1], 1, n)] += 1
                counts[(metric, key[0], key[1], BUCKET, n // BUCKET)] += 1


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _apply_counts(counts: dict[tuple[str, str, int, int, int], int]) -> None:
    """Move the counts by their deltas: one upsert per 1,000 rows, in key order (the order
    every writer uses), ``count = count + delta``."""
    rows = sorted((*k, d) for k, d in counts.items() if d)
    table = _table(RankCount)
    for i in range(0, len(rows), 1000):
        chunk = rows[i:i + 1000]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
        sql = (f"INSERT INTO {table} (metric, period, region_id, width, value, count) "  # noqa: S608 (our table)
               f"VALUES {values} ON CONFLICT (metric, period, region_id, width, value) "
               f"DO UPDATE SET count = {table}.count + excluded.count")
        with connection.cursor() as cursor:
            cursor.execute(sql, [v for row in chunk for v in row])


def _write_entries(user_id: int, old: dict[tuple[str, int], tuple[int, int]],
                   new: Entries) -> None:
    gone = [k for k in old if k not in new]
    if gone:
        q = Q()
        for period, region_id in gone:
            q |= Q(period=period, region_id=region_id)
        RankEntry.objects.filter(q, user_id=user_id).delete()
    changed = [(k, v) for k, v in sorted(new.items()) if tuple(v) != old.get(k)]
    if not changed:
        return
    table = _table(RankEntry)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(changed))
    sql = (f"INSERT INTO {table} (user_id, period, region_id, minutes, sessions) "  # noqa: S608 (our table)
           f"VALUES {values} ON CONFLICT (user_id, period, region_id) "
           "DO UPDATE SET minutes = excluded.minutes, sessions = excluded.sessions")
    with connection.cursor() as cursor:
        cursor.execute(sql, [x for (period, rid), (m, s) in changed
                             for x in (user_id, period, rid, m, s)])


def _takes_part(user_ids: Sequence[int]) -> set[int]:
    """Those of ``user_ids`` who exist and have not opted out of rankings."""
    from sportsman.accounts.models import User

    return set(User.objects.filter(pk__in=user_ids, hide_from_rankings=False)
               .values_list("pk", flat=True))


def sync(user_id: int, days: Iterable[dt.date]) -> None:
    """Recompute ``user_id``'s entries of the weeks, months and years containing ``days`` from
    their ``UserDay`` rows, and move the counts by the difference. The caller holds the person's
    lock and has taken :func:`lock`. Seven statements or fewer."""
    wanted: set[str] = set()
    lo = hi = None
    for day in days:
        for period in Period:
            wanted.add(period_key(period, day))
            start, end = period_bounds(period, day)
            lo = start if lo is None else min(lo, start)
            hi = end if hi is None else max(hi, end)
    if not wanted:
        return
    rows: list[tuple[dt.date, int, int, int]] = []
    if _takes_part([user_id]):
        rows = list(UserDay.objects.filter(user_id=user_id, day__gte=lo, day__lt=hi,
                                           region__isnull=False)
                    .values_list("day", "region_id", "verified_minutes", "verified_sessions"))
    new = entries_of(rows, chains({r[1] for r in rows}), _Keys(), wanted)
    old = {(p, r): (m, s) for p, r, m, s in RankEntry.objects.filter(
        user_id=user_id, period__in=wanted).values_list("period", "region_id", "minutes",
                                                        "sessions")}
    counts: dict[tuple[str, str, int, int, int], int] = defaultdict(int)
    _count_changes(old, new, counts)
    _write_entries(user_id, old, new)
    _apply_counts(counts)


def sync_people(user_ids: Sequence[int]) -> int:
    """Recompute every entry of ``user_ids`` (all periods) from their ``UserDay`` rows and move
    the counts by the differences: a partial rebuild, for a backfill of some people, opting out
    or back in, a deleted account. The caller keeps these people's rollups still (their locks,
    or the records table's). Returns the number of people whose entries changed."""
    lock()
    ids = sorted(set(user_ids))
    counts: dict[tuple[str, str, int, int, int], int] = defaultdict(int)
    keys = _Keys()
    changed = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        taking_part = _takes_part(chunk)
        days: dict[int, list[tuple[dt.date, int, int, int]]] = defaultdict(list)
        for uid, *row in (UserDay.objects.filter(user_id__in=sorted(taking_part),
                                                 region__isnull=False)
                          .values_list("user_id", "day", "region_id", "verified_minutes",
                                       "verified_sessions")):
            days[uid].append(tuple(row))  # type: ignore[arg-type]
        chain = chains({r[1] for rows in days.values() for r in rows})
        old: dict[int, dict[tuple[str, int], tuple[int, int]]] = defaultdict(dict)
        for uid, p, r, m, s in RankEntry.objects.filter(user_id__in=chunk).values_list(
                "user_id", "period", "region_id", "minutes", "sessions"):
            old[uid][(p, r)] = (m, s)
        for uid in chunk:
            new = entries_of(days.get(uid, ()), chain, keys)
            mine = old.get(uid, {})
            if {k: tuple(v) for k, v in new.items()} == mine:
                continue
            changed += 1
            _count_changes(mine, new, counts)
            _write_entries(uid, mine, new)
    _apply_counts(counts)
    return changed


# --- the whole tables ------------------------------------------------------------------------

def _all_entries(progress: Callable[[int], None] | None) -> Iterator[list[tuple[Any, ...]]]:
    """Every entry, in batches of ``CHUNK`` people taking part (in id order, each batch one
    range of ``UserDay`` by person), in key order. Batches are whole lists: the caller may write
    them (COPY) between reads on the same connection."""
    from sportsman.accounts.models import User

    chain = all_chains()
    keys = _Keys()
    last = 0
    while True:
        ids = list(User.objects.filter(pk__gt=last, hide_from_rankings=False).order_by("pk")
                   .values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        last = ids[-1]
        days: dict[int, list[tuple[dt.date, int, int, int]]] = defaultdict(list)
        rows = (UserDay.objects.filter(user_id__gte=ids[0], user_id__lte=last,
                                       user__hide_from_rankings=False, region__isnull=False)
                .filter(Q(verified_minutes__gt=0) | Q(verified_sessions__gt=0))
                .values_list("user_id", "day", "region_id", "verified_minutes",
                             "verified_sessions"))
        seen = 0
        for uid, *row in rows:
            days[uid].append(tuple(row))  # type: ignore[arg-type]
            seen += 1
        yield [(uid, period, rid, m, s) for uid in sorted(days)
               for (period, rid), (m, s) in sorted(entries_of(days[uid], chain, keys).items())]
        if progress:
            progress(seen)


def rebuild(*, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Both tables recomputed from ``UserDay``, replacing what was there (idempotent): the
    entries in one pass in person order, the counts by four grouped statements over the entries. Holds off the
    rollup writers while it runs (the records table, then the counts)."""
    from sportsman.activity.rollups import _insert_rows, lock_records_table

    with transaction.atomic(), _big_page_cache():
        lock_records_table()
        lock()
        RankCount.objects.all().delete()
        RankEntry.objects.all().delete()
        entries = 0
        for batch in _all_entries(progress):
            entries += _insert_rows(RankEntry, ["user_id", "period", "region_id", "minutes",
                                                "sessions"], batch)
        counts = rebuild_counts()
    return {"rank_entries": entries, "rank_counts": counts}


@contextlib.contextmanager
def _big_page_cache() -> Iterator[None]:
    """SQLite: a 512 MB page cache on this connection while the tables are rewritten (the score
    indexes are written in no particular order; with the default 2 MB most inserts would go to
    disk). PostgreSQL needs nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -524288")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def rebuild_counts() -> int:
    """The counts recomputed from the entries (the caller deleted the old ones): per metric,
    exact and bucketed, one grouped INSERT … SELECT each."""
    entry, count = _table(RankEntry), _table(RankCount)
    total = 0
    with connection.cursor() as cursor:
        for metric in METRICS:
            for width in (1, BUCKET):
                value = metric if width == 1 else f"{metric} / {BUCKET}"
                cursor.execute(
                    f"INSERT INTO {count} (metric, period, region_id, width, value, count) "  # noqa: S608 (our tables and columns)
                    f"SELECT %s, period, region_id, %s, {value}, COUNT(*) FROM {entry} "
                    f"WHERE {metric} > 0 GROUP BY period, region_id, {value}",
                    [metric, width])
                total += cursor.rowcount
    return total


def expected() -> tuple[dict[tuple[int, str, int], tuple[int, int]],
                        dict[tuple[str, str, int, int, int], int]]:
    """What both tables should hold, recomputed in memory from ``UserDay`` (for tests and
    checks): entries (user, period, region) → (minutes, sessions) and counts without zeros."""
    entries = {(uid, p, r): (m, s) for batch in _all_entries(None)
               for uid, p, r, m, s in batch}
    counts: dict[tuple[str, str, int, int, int], int] = defaultdict(int)
    for (_uid, p, r), scores in entries.items():
        for metric, score in zip(METRICS, scores, strict=True):
            if score > 0:
                counts[(metric, p, r, 1, score)] += 1
                counts[(metric, p, r, BUCKET, score // BUCKET)] += 1
    return entries, dict(counts)


def stored() -> tuple[dict[tuple[int, str, int], tuple[int, int]],
                      dict[tuple[str, str, int, int, int], int]]:
    """Both tables as they are (counts without zeros), shaped like :func:`expected`."""
    entries = {(uid, p, r): (m, s) for uid, p, r, m, s in RankEntry.objects.values_list(
        "user_id", "period", "region_id", "minutes", "sessions")}
    counts = {(m, p, r, w, v): c for m, p, r, w, v, c in RankCount.objects.filter(
        count__gt=0).values_list("metric", "period", "region_id", "width", "value", "count")}
    return entries, counts
