"""City cockpit figures: ``python -m bench.cockpit PART`` prints one JSON line.

Run in a process of its own against a migrated, empty scratch database named by DATABASE_URL
(a fresh database per size), with ``DJANGO_SETTINGS_MODULE=bench.settings`` (the bare endpoint):

- ``load RECORDS``: the 1,000-community tree of ``bench.activity``, 100,000 residents (joined
  before the year), 2 facilities a community, one city administrator, and RECORDS verified
  ``ActivityRecord`` rows over the 365 days before today (20–90 minutes each, counted minutes =
  duration), with the ``RegionDay`` rows that match them (summed while generating: the per-person
  rebuild is not what is measured).
- ``refresh``: the two tally refreshes, each timed: the year so far for the flow metrics,
  registered residents and facilities, then the nightly job's scope (the last 35 days, every
  metric). Background costs, which may grow with records.
- ``measure``: the city administrator, logged in, through Django's test client: the city's
  summary (``GET /api/v1/cockpit/<code>/summary?period=<year>``) and, once it exists, its page
  (``cockpit:region``), each with the cache cleared before every request (the real cost) and
  warm; the bare endpoint (``/bench/bare``) the same way as the baseline. Medians of RUNS.

``measure_all`` runs the three for 1M and for 10M records and gives the ratios: each request against the
bare endpoint, and 10M ÷ 1M per request (the claim: ≤ 2, the cockpit reads tallies, not records).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from bench import run_part
from bench.activity import _insert, _load_users, _ratio, _tree

RESIDENTS = 100_000
DAYS = 365
RECORD_SIZES = (1_000_000, 10_000_000)
RUNS = 25
CHUNK = 200_000  # records generated, then written, at a time
RECORD_COLUMNS = ["user_id", "region_id", "source", "source_key", "started_at", "ended_at",
                  "duration_minutes", "counted_minutes", "is_verified", "flags", "created_at"]


# --- loading ------------------------------------------------------------------------------------

def _progress(message: str) -> None:
    print(f"[bench.cockpit] {message}", file=sys.stderr, flush=True)


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of ``table``'s indexes that back no constraint: dropped for the
    bulk load and rebuilt after it, so the loaded database has exactly the migrated schema."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = %s AND sql IS NOT NULL", [table])
        else:
            cur.execute("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                        "JOIN pg_class i ON i.oid = x.indexrelid "
                        "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
                        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                        [table])
        return list(cur.fetchall())


def _write_records(rows: list[tuple]) -> None:
    from django.db import connection

    table = "activity_activityrecord"
    if connection.vendor != "postgresql":
        _insert(table, RECORD_COLUMNS, rows)
        return
    # COPY: PostgreSQL's bulk path (executemany sends a statement per row).
    with connection.cursor() as cur, cur.copy(  # type: ignore[attr-defined]
            f"COPY {table} ({', '.join(RECORD_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _minute_stamps(first_day: dt.date, days: int, suffix: str) -> list[str]:
    """The UTC timestamp, as the database stores it, of every local minute from ``first_day``
    (plus two hours past the last day, for sessions ending late)."""
    from sportsman.core import figures

    at = dt.datetime.combine(first_day, dt.time(), figures.zone()).astimezone(dt.UTC)
    at = at.replace(tzinfo=None)
    step = dt.timedelta(minutes=1)
    out = []
    for _ in range(days * 1440 + 120):
        out.append(f"{at}{suffix}")
        at += step
    return out


def _records(people: list[tuple[int, int]], records: int, first_day: dt.date,
             rng: random.Random) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """Chunks of (record rows, []) and, last, ([], RegionDay rows): RECORDS sessions shared by
    three residents in four, unevenly (a Pareto weight each), each on a random day between
    06:00 and 21:00 local time."""
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    stamps = _minute_stamps(first_day, DAYS, "+00:00" if postgres else "")
    verified = True if postgres else 1
    weights = [min(rng.paretovariate(1.5), 20.0) if rng.random() < 0.75 else 0.0
               for _ in people]
    total = sum(weights)
    counts = [int(records * w / total) for w in weights]
    active = [i for i, w in enumerate(weights) if w]
    for i in rng.sample(active, records - sum(counts)):
        counts[i] += 1
    communities = sorted({cid for _uid, cid in people})
    slot = {cid: n * DAYS for n, cid in enumerate(communities)}
    minutes = [0] * (len(communities) * DAYS)
    sessions = [0] * len(minutes)
    users = [0] * len(minutes)
    rand = rng.random
    rows: list[tuple] = []
    serial = 0
    for (uid, cid), count in zip(people, counts, strict=True):
        base = slot[cid]
        days = set()
        for _ in range(count):
            day = int(rand() * DAYS)
            start = day * 1440 + 360 + int(rand() * 900)
            length = 20 + int(rand() * 71)
            serial += 1
            end_stamp = stamps[start + length]
            rows.append((uid, cid, "device", f"bench:{serial:09d}", stamps[start], end_stamp,
                         length, length, verified, "[]", end_stamp))
            days.add(day)
            minutes[base + day] += length
            sessions[base + day] += 1
        for day in days:
            users[base + day] += 1
        if len(rows) >= CHUNK:
            yield rows, []
            rows = []
    yield rows, []
    region_days = []
    for cid in communities:
        for day in range(DAYS):
            k = slot[cid] + day
            if sessions[k]:
                region_days.append((cid, first_day + dt.timedelta(days=day), minutes[k],
                                    sessions[k], minutes[k], users[k]))
    yield [], region_days


def _facilities(communities: list[Any], joined: dt.datetime) -> int:
    from sportsman.facilities.models import Category, Facility, OwnerKind

    rows = [Facility(name=f"{c.name}场地{k}", owner_kind=OwnerKind.COMMUNITY,
                     category=Category.FITNESS_PATH, region=c, address=f"{c.name}{k}号",
                     lat=30.75 + (i % 40) * 0.005, lng=120.75 + (i // 40) * 0.005, capacity=40,
                     occupancy=k * 7)
            for i, c in enumerate(communities) for k in range(2)]
    Facility.objects.bulk_create(rows, batch_size=5000)
    Facility.objects.update(created_at=joined)
    return len(rows)


def load(records: int) -> dict:
    """The data for one size (see the module's docstring)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from sportsman.accounts.models import User
    from sportsman.regions.models import RoleAssignment

    rng = random.Random(records)
    today = timezone.localdate()
    first_day = today - dt.timedelta(days=DAYS)  # the 365 days before today
    joined = dt.datetime.combine(first_day - dt.timedelta(days=30), dt.time(9), dt.UTC)
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        # This connection only (the measuring process opens its own, with the usual PRAGMAs):
        # a large page cache for the index builds; no fsync per batch on a scratch file.
        with connection.cursor() as cur:
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-1000000")
    out: dict = {"records": records, "residents": RESIDENTS, "days": DAYS,
                 "database": connection.vendor}
    t0 = time.perf_counter()
    with transaction.atomic():
        communities = _tree()
        people = _load_users(RESIDENTS, communities, rng)
        User.objects.filter(phone_hash__startswith="bench").update(date_joined=joined)
        out["facilities"] = _facilities(communities, joined)
        admin = User.objects.create_user("13800000000", "bench-city-admin")
        RoleAssignment.objects.create(user=admin, role="city_admin",
                                      region=communities[0].parent.parent.parent)
    out["residents_load_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    indexes = _secondary_indexes("activity_activityrecord")
    with connection.cursor() as cur:
        for name, _sql in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    region_days: list[tuple] = []
    written = 0
    for rows, rollups in _records(people, records, first_day, rng):
        with transaction.atomic():
            _write_records(rows)
        written += len(rows)
        region_days += rollups
        if rows and written % 1_000_000 < len(rows):
            _progress(f"{written:,} records, {time.perf_counter() - t0:.0f} s")
    out["records_generate_insert_s"] = round(time.perf_counter() - t0, 1)
    t1 = time.perf_counter()
    with connection.cursor() as cur:
        for _name, sql in indexes:
            cur.execute(sql)
    out["records_indexes_s"] = round(time.perf_counter() - t1, 1)
    with transaction.atomic():
        _insert("activity_regionday", ["region_id", "day", "minutes", "sessions",
                                       "verified_minutes", "active_users"], region_days)
    if not sqlite:  # autovacuum would; SQLite has no statistics unless someone runs ANALYZE
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    out["records_load_s"] = round(time.perf_counter() - t0, 1)
    out["records_written"] = written
    out["regionday_rows"] = len(region_days)
    return out


def refresh() -> dict:
    """The tallies: the year so far for what the year's figures need, then the nightly job's
    scope (every metric over the last 35 days), each timed."""
    from django.utils import timezone

    from sportsman.cockpit import tallies
    from sportsman.core import figures
    from sportsman.core.figures import Kind

    today = timezone.localdate()
    out: dict = {}
    year_keys = [m.key for m in figures.metrics() if m.kind is Kind.FLOW]
    year_keys += ["residents_registered", "facilities"]
    out["refresh_year"] = _timed_refresh(lambda progress: tallies.refresh(
        today.replace(month=1, day=1), today, keys=year_keys, progress=progress))
    out["refresh_nightly_35d"] = _timed_refresh(lambda progress: tallies.refresh(
        today - dt.timedelta(days=tallies.RECENT_MAX_DAYS), today, progress=progress))
    return out


def _timed_refresh(run: Callable[[Callable[[str, int], None]], dict[str, int]]) -> dict:
    """Total seconds, tallies written, and the slowest metrics' seconds."""
    per_metric: dict[str, float] = {}
    last = start = time.perf_counter()

    def progress(key: str, count: int) -> None:
        nonlocal last
        now = time.perf_counter()
        per_metric[key] = round(now - last, 2)
        _progress(f"tallies of {key}: {count:,} in {now - last:.1f} s")
        last = now

    written = run(progress)
    slowest = sorted(per_metric.items(), key=lambda kv: -kv[1])[:5]
    return {"seconds": round(time.perf_counter() - start, 1),
            "tallies_written": sum(written.values()), "metrics": len(written),
            "slowest_metrics_s": dict(slowest)}


# --- measuring ----------------------------------------------------------------------------------

def _timed_requests(client: Any, url: str, *, cold: bool, runs: int = RUNS) -> dict:
    from django.core.cache import cache

    times = []
    for _ in range(runs):
        if cold:
            cache.clear()
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
    median = statistics.median(times)
    return {"median_ms": round(median, 2), "p90_ms": round(sorted(times)[int(runs * 0.9)], 2),
            "runs": runs, "requests_per_s": round(1000 / median, 2)}


def _queries(client: Any, url: str) -> int:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def _page_url(code: str, year: str) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("cockpit:region", args=[code]) + f"?period={year}"
    except NoReverseMatch:
        return None


def measure() -> dict:
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from sportsman.activity.models import ActivityRecord
    from sportsman.regions.models import RoleAssignment

    grant = RoleAssignment.objects.select_related("user", "region").get(role="city_admin")
    city = grant.region
    year = str(timezone.localdate().year)
    client = Client()
    client.force_login(grant.user)
    summary_url = f"/api/v1/cockpit/{city.code}/summary?period={year}"
    urls = {"bare": "/bench/bare", "summary": summary_url}
    page = _page_url(city.code, year)
    if page:
        urls["page"] = page
    for url in urls.values():  # first requests: imports, template compilation, connections
        for _ in range(3):
            client.get(url)
    answer = client.get(summary_url).json()
    out: dict = {
        "records": ActivityRecord.objects.aggregate(n=Count("id"))["n"],
        "city": city.code, "period": year, "as_of": answer["as_of"],
        "city_figures": {k: answer["figures"].get(k) for k in (
            "residents_registered", "residents_active_30d", "regular_exercisers",
            "exercise_sessions", "exercise_minutes", "facilities")},
        "urls": urls,
    }
    # Cold and warm figures of one kind back to back, the bare baseline before each pair: a
    # change in machine load between them distorts the ratios less.
    for name, url in urls.items():
        if name != "bare":
            out[f"bare_before_{name}"] = _timed_requests(client, urls["bare"], cold=False)
        out[f"{name}_cold"] = _timed_requests(client, url, cold=True)
        out[f"{name}_warm"] = _timed_requests(client, url, cold=False)
        out[f"{name}_cold_queries"] = _queries(client, url)
    if not page:
        out["page"] = {"skipped": "cockpit:region does not resolve yet"}
    _ratios_to_bare(out)
    return out


def _ratios_to_bare(out: dict) -> None:
    """Each request's rate over the bare endpoint's, measured just before it."""
    for name in ("summary", "page"):
        if f"bare_before_{name}" not in out:
            continue
        bare = out[f"bare_before_{name}"]["median_ms"]
        for state in ("cold", "warm"):
            figure = out[f"{name}_{state}"]
            figure["ratio_to_bare"] = round(bare / figure["median_ms"], 5)


# --- for ``python -m bench`` --------------------------------------------------------------------

def measure_all(scratch: Callable[[str], AbstractContextManager[dict[str, str]]],
                log: Callable[[str], None] = print, rounds: int = 2) -> dict:
    """Each size in a fresh scratch database: ``scratch(label)`` yields the environment of a
    migrated empty one (SQLite or PostgreSQL) and removes it when the block ends. Both sizes
    are loaded first, then measured in ``rounds`` alternating rounds (1M, 10M, 1M, 10M …), each
    figure keeping its best round: a change in machine load then weighs on both sizes alike."""
    import subprocess
    from contextlib import ExitStack
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent

    def run(env: dict[str, str], *args: str) -> dict:
        # The child's progress lines (stderr) show through: loading 10M records takes minutes.
        done = subprocess.run([sys.executable, "-m", "bench.cockpit", *args], cwd=root,
                              env={**env, "DJANGO_SETTINGS_MODULE": "bench.settings"},
                              check=True, stdout=subprocess.PIPE, text=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    out: dict = {}
    with ExitStack() as stack:
        envs = {}
        for records in RECORD_SIZES:
            envs[records] = env = stack.enter_context(scratch(f"cockpit-{records}"))
            log(f"cockpit: loading {records:,} activity records")
            loaded = run(env, "load", str(records))
            log(f"cockpit: refreshing the tallies over {records:,} records")
            loaded.update(run(env, "refresh"))
            out[f"records_{records}"] = {"load": loaded}
        for n in range(rounds):
            for records, env in envs.items():
                log(f"cockpit: city summary and page at {records:,} records, round {n + 1}")
                _keep_best(out[f"records_{records}"], run(env, "measure"))
        for records in RECORD_SIZES:
            _ratios_to_bare(out[f"records_{records}"]["requests"])
    small, big = (out[f"records_{r}"]["requests"] for r in RECORD_SIZES)
    out["ratio_10m_to_1m"] = {
        key: _ratio(big[key]["median_ms"], small[key]["median_ms"])
        for key in small if key.endswith(("_cold", "_warm")) and key in big}
    low, high = (out[f"records_{r}"]["load"] for r in RECORD_SIZES)
    out["ratio_10m_to_1m"].update({
        f"{key}_s": _ratio(high[key]["seconds"], low[key]["seconds"])
        for key in ("refresh_year", "refresh_nightly_35d")})
    out["headline"] = _headline(out)
    return out


def _headline(out: dict) -> dict:
    """The figures the issue asks for, in one place: requests per second (cold and warm) at
    each size, their ratio to the bare endpoint, and how each grows from 1M to 10M records."""
    head: dict = {}
    for records in RECORD_SIZES:
        measured = out[f"records_{records}"]["requests"]
        for key, figure in measured.items():
            if key.endswith(("_cold", "_warm")) and not key.startswith("bare"):
                head[f"{key}_per_s_{records / 1e6:g}m"] = figure["requests_per_s"]
                head[f"{key}_ratio_to_bare_{records / 1e6:g}m"] = figure["ratio_to_bare"]
        head[f"bare_per_s_{records / 1e6:g}m"] = measured["bare_warm"]["requests_per_s"]
    head.update({f"{k}_10m_over_1m": v for k, v in out["ratio_10m_to_1m"].items()})
    return head


def _keep_best(size: dict, measured: dict) -> None:
    """Keep, figure by figure, the round with the lower median."""
    best = size.setdefault("requests", measured)
    for key, figure in measured.items():
        if isinstance(figure, dict) and "median_ms" in figure and key in best \
                and figure["median_ms"] < best[key]["median_ms"]:
            best[key] = figure
    size.setdefault("rounds", 0)
    size["rounds"] += 1


def main(argv: list[str]) -> int:
    import warnings

    # whitenoise notes that static files were not collected: nothing here serves them.
    warnings.filterwarnings("ignore", message="No directory at")
    return run_part(argv, {"load": lambda a: load(int(a[0])), "refresh": lambda a: refresh(),
                           "measure": lambda a: measure()})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
