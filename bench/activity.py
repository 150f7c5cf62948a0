"""Exercise-record figures: ``python -m bench.activity PART [SIZE]`` prints one JSON line.

Run in a process of its own against a migrated, empty scratch database named by DATABASE_URL
(a fresh database per call: each part loads its own data):

- ``ranks SIZE``: SIZE residents over 1,000 communities (10 districts × 10 towns × 10), each
  with one verified ``UserDay`` in the measured week (two rows for a tenth of them), loaded
  with ``executemany`` (``COPY`` on PostgreSQL); the rank tables built from them
  (``ranktables.rebuild``, timed apart: ``rank_tables_s``); then the cost of one rank look-up
  (``my_rank_db``: my entry, the counts above it) at community and city level and of a city
  top-20 page from the rank tables, the same from the grouped query over ``UserDay``
  (``recomputed``, the reference and the path before the tables) and, when BENCH_REDIS_URL or
  TEST_REDIS_URL is set, from Redis sorted sets (after a rebuild, whose time is reported).
  Compare ``ranks 10000`` with ``ranks 1000000``.
- ``rollups RECORDS``: the ranking and dashboard reads over rollups standing for RECORDS
  activity records: 10,000 residents × 30 days = 300,000 ``UserDay`` rows (and 30,000
  ``RegionDay`` rows) whatever RECORDS is; RECORDS only sets each day's ``sessions`` (records
  per resident-day = RECORDS / 300,000). No ``ActivityRecord`` rows are written: rankings and
  dashboards never read them, which is the point — their cost follows residents × days, not
  records. Compare ``rollups 1000000`` with ``rollups 10000000``.
- ``reports``: yearly reports per second for residents with a full year of days (JSON: the
  report's figures serialised; PNG: the figures plus the Pillow rendering), ranks from the rank
  tables and, with Redis, from the boards.

``measure_all`` runs every part on SQLite and, when BENCH_POSTGRES_URL (or TEST_DATABASE_URL)
names a PostgreSQL server, ``ranks`` and ``reports`` again on PostgreSQL, each in a scratch
database created and dropped here (``BENCH_ACTIVITY_PG_DB``, default
``sportsman_bench_activity_<pid>``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from typing import Any

from bench import run_part

BATCH = 20_000
WEEK_DAY = dt.date(2026, 6, 10)


def _tree() -> list[Any]:
    """One city, 10 districts × 10 towns × 10 communities; returns the communities."""
    from sportsman.regions.models import Region

    seq = iter(range(1, 10**6))

    def region(name: str, level: str, parent: Any = None) -> Any:
        r = Region.objects.create(code=f"{990000000000 + next(seq):012d}", edition=2023,
                                  name=name, level=level, parent=parent, path="")
        r.path = (parent.path if parent else "/") + f"{r.pk}/"
        r.save(update_fields=["path"])
        return r

    city = region("基准市", "city")
    out = []
    for d in range(10):
        district = region(f"区{d}", "district", city)
        for t in range(10):
            town = region(f"镇{d}-{t}", "town", district)
            out += [region(f"社区{d}-{t}-{k}", "community", town) for k in range(10)]
    return out


def _load_users(n: int, communities: list[Any], rng: random.Random) -> list[tuple[int, int]]:
    """N residents by executemany (no phone encryption: bench rows); (user id, community id)."""
    from django.db import connection

    from sportsman.accounts.models import User

    template = User(phone_hash="", phone_encrypted="", password="!")
    fields = [f for f in User._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    base = {f.attname: f.get_db_prep_save(getattr(template, f.attname), connection)
            for f in fields}
    # Identifiers come from the model's metadata, values are parameters.
    sql = f"INSERT INTO {User._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cur:
        for start in range(0, n, BATCH):
            rows = []
            for i in range(start, min(n, start + BATCH)):
                values = dict(base, phone_hash=f"bench{i}", nickname=f"r{i}",
                              home_community_id=communities[i % len(communities)].pk,
                              hide_from_rankings=rng.random() < 0.02)
                rows.append([values[f.attname] for f in fields])
            if connection.vendor == "postgresql":
                _insert(User._meta.db_table, [f.column for f in fields], rows)
            else:
                cur.executemany(sql, rows)
    return list(User.objects.filter(phone_hash__startswith="bench").order_by("id")
                .values_list("id", "home_community_id"))


def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":  # COPY: executemany sends a statement per row
        with connection.cursor() as cur, cur.copy(  # type: ignore[attr-defined]
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (our own table names)
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    with connection.cursor() as cur:
        for i in range(0, len(rows), BATCH):
            cur.executemany(sql, rows[i:i + BATCH])


def _analyze() -> None:
    """PostgreSQL: fresh planner statistics after a bulk load (autovacuum would, later)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def _rank_tables() -> float:
    """Build the rank tables from the loaded rollups; seconds."""
    from sportsman.activity import ranktables

    _analyze()
    t0 = time.perf_counter()
    ranktables.rebuild()
    seconds = time.perf_counter() - t0
    _analyze()
    return round(seconds, 1)


def _timed(fn: Any, runs: int) -> dict:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(times), 3), "runs": runs,
            "max_ms": round(max(times), 3)}


def _redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or ""


def ranks(size: int) -> dict:
    from django.db import connection, transaction

    from sportsman.accounts.models import User
    from sportsman.activity import rankings
    from sportsman.activity.models import RankCount, RankEntry
    from sportsman.activity.rankings import Metric
    from sportsman.activity.selectors import Period
    from sportsman.regions.models import Region

    rng = random.Random(size)
    t0 = time.perf_counter()
    with transaction.atomic():
        communities = _tree()
        people = _load_users(size, communities, rng)
        rows = []
        for uid, cid in people:
            for k in range(2 if rng.random() < 0.1 else 1):
                m = int(rng.paretovariate(1.6) * 20)
                rows.append((uid, WEEK_DAY + dt.timedelta(days=k), cid, m, 1, m, 1))
        _insert("activity_userday", ["user_id", "day", "region_id", "minutes", "sessions",
                                     "verified_minutes", "verified_sessions"], rows)
    load_s = time.perf_counter() - t0
    rank_tables_s = _rank_tables()
    city = Region.objects.get(level="city", name="基准市")
    probes = [User.objects.select_related("home_community").get(pk=rng.choice(people)[0])
              for _ in range(50)]
    probe_iter = iter(probes * 20)
    kw = {"period": Period.WEEK, "on": WEEK_DAY, "metric": Metric.MINUTES}
    out: dict = {"residents": size, "userday_rows": len(rows), "load_s": round(load_s, 1),
                 "rank_tables_s": rank_tables_s,
                 "rank_entries": RankEntry.objects.count(),
                 "rank_counts": RankCount.objects.count(),
                 "database": connection.vendor}
    out["db"] = {
        "my_rank_community": _timed(lambda: rankings.my_rank_db(
            (p := next(probe_iter)), p.home_community, **kw), 50),
        "my_rank_city": _timed(lambda: rankings.my_rank_db(next(probe_iter), city, **kw), 50),
        "top20_city": _timed(lambda: rankings.ranking_page_db(city, limit=20, **kw), 50),
    }
    # The grouped query over UserDay (the reference; the database path before the tables).
    out["recomputed"] = {
        "my_rank_city": _timed(lambda: rankings.my_rank_recomputed(next(probe_iter), city,
                                                                   **kw), 3),
        "top20_city": _timed(lambda: rankings.ranking_page_recomputed(city, limit=20, **kw), 3),
    }
    # Both paths give the same answers here too.
    probe = probes[0]
    assert rankings.my_rank_db(probe, city, **kw) == rankings.my_rank_recomputed(probe, city,
                                                                                 **kw)
    assert rankings.ranking_page_db(city, limit=20, **kw).items == \
        rankings.ranking_page_recomputed(city, limit=20, **kw).items
    url = _redis_url()
    if url:
        import uuid

        from django.conf import settings

        settings.REDIS_URL = url
        settings.ACTIVITY_BOARD_PREFIX = f"bench:board:{uuid.uuid4().hex}"
        client = rankings._redis()
        t0 = time.perf_counter()
        boards = rankings.rebuild_boards(period=Period.WEEK, on=WEEK_DAY, client=client)
        rebuild_s = time.perf_counter() - t0
        key = rankings.board_key(Metric.MINUTES, Period.WEEK, WEEK_DAY, city.pk)
        out["redis"] = {
            "rebuild_s": round(rebuild_s, 2), "boards": boards,
            "my_rank_city": _timed(lambda: rankings.my_rank_redis(client, key,
                                                                  next(probe_iter)), 50),
            "top20_city": _timed(lambda: rankings.ranking_page_redis(client, key, limit=20), 20),
        }
        for k in client.scan_iter(match=f"{settings.ACTIVITY_BOARD_PREFIX}:*", count=1000):
            client.delete(k)
    else:
        out["redis"] = {"skipped": "BENCH_REDIS_URL / TEST_REDIS_URL is not set"}
    return out


def rollups(records: int) -> dict:
    from django.db import transaction

    from sportsman.activity import rankings, selectors
    from sportsman.activity.rankings import Metric
    from sportsman.activity.selectors import Period
    from sportsman.regions.models import Region

    residents, days = 10_000, 30
    per_day = records / (residents * days)
    rng = random.Random(records)
    start = dt.date(2026, 6, 1)
    t0 = time.perf_counter()
    with transaction.atomic():
        communities = _tree()
        people = _load_users(residents, communities, rng)
        rows, region_days = [], {}
        for uid, cid in people:
            for k in range(days):
                sessions = int(per_day) + (rng.random() < per_day - int(per_day))
                m = sessions * rng.randint(10, 40)
                day = start + dt.timedelta(days=k)
                rows.append((uid, day, cid, m, sessions, m, sessions))
                agg = region_days.setdefault((cid, day), [0, 0, 0, 0])
                agg[0] += m
                agg[1] += sessions
                agg[2] += m
                agg[3] += m > 0
        _insert("activity_userday", ["user_id", "day", "region_id", "minutes", "sessions",
                                     "verified_minutes", "verified_sessions"], rows)
        _insert("activity_regionday", ["region_id", "day", "minutes", "sessions",
                                       "verified_minutes", "active_users"],
                [(cid, day, *agg) for (cid, day), agg in region_days.items()])
    load_s = time.perf_counter() - t0
    rank_tables_s = _rank_tables()
    city = Region.objects.get(level="city", name="基准市")
    kw = {"period": Period.MONTH, "on": start}
    return {
        "records_represented": records, "residents": residents, "days": days,
        "userday_rows": len(rows), "regionday_rows": len(region_days),
        "load_s": round(load_s, 1), "rank_tables_s": rank_tables_s,
        "ranking_top20_city_month": _timed(lambda: rankings.ranking_page_db(
            city, metric=Metric.SESSIONS, limit=20, **kw), 3),
        "dashboard_city_month": _timed(lambda: selectors.region_activity(city, **kw), 10),
    }


def reports() -> dict:
    from django.db import transaction

    from sportsman.accounts.models import User
    from sportsman.activity import report

    rng = random.Random(7)
    with transaction.atomic():
        communities = _tree()
        people = _load_users(2_000, communities[:20], rng)
        rows = []
        for uid, cid in people:
            for k in range(365):
                if rng.random() < 0.5:
                    m = rng.randint(10, 90)
                    rows.append((uid, dt.date(2026, 1, 1) + dt.timedelta(days=k), cid, m, 1,
                                 m, 1))
        _insert("activity_userday", ["user_id", "day", "region_id", "minutes", "sessions",
                                     "verified_minutes", "verified_sessions"], rows)
    rank_tables_s = _rank_tables()
    users = list(User.objects.filter(pk__in=[uid for uid, _c in people[:200]]))
    out: dict = {"residents": len(people), "userday_rows": len(rows),
                 "rank_tables_s": rank_tables_s}

    def measure(suffix: str) -> None:
        for name, n, fn in (
            ("json", 30, lambda u: json.dumps(vars(report.yearly_report(u, year=2026)),
                                              default=str)),
            ("png", 30, lambda u: report.render_png(report.yearly_report(u, year=2026))),
        ):
            t0 = time.perf_counter()
            for i in range(n):
                fn(users[i % len(users)])
            out[f"{name}_per_s{suffix}"] = round(n / (time.perf_counter() - t0), 1)

    # Ranks from the database (the rank tables): each report ranks the resident in the
    # community and the city.
    measure("_db")
    url = _redis_url()
    if url:
        import uuid

        from django.conf import settings

        from sportsman.activity import rankings
        from sportsman.activity.selectors import Period

        settings.REDIS_URL = url
        settings.ACTIVITY_BOARD_PREFIX = f"bench:board:{uuid.uuid4().hex}"
        client = rankings._redis()
        rankings.rebuild_boards(period=Period.YEAR, on=dt.date(2026, 1, 1), client=client)
        measure("_redis")
        for k in client.scan_iter(match=f"{settings.ACTIVITY_BOARD_PREFIX}:*", count=1000):
            client.delete(k)
    return out


RANK_SIZES = (10_000, 1_000_000)
RECORD_SIZES = (1_000_000, 10_000_000)


def _ratio(big: float, small: float) -> float | None:
    return round(big / small, 2) if small else None


def _lookup_ratios(small: dict, big: dict) -> dict:
    out = {f"db_{k}": _ratio(big["db"][k]["median_ms"], small["db"][k]["median_ms"])
           for k in ("my_rank_community", "my_rank_city", "top20_city")}
    out.update({f"recomputed_{k}": _ratio(big["recomputed"][k]["median_ms"],
                                          small["recomputed"][k]["median_ms"])
                for k in ("my_rank_city", "top20_city")})
    if "my_rank_city" in small.get("redis", {}):
        out.update({f"redis_{k}": _ratio(big["redis"][k]["median_ms"],
                                         small["redis"][k]["median_ms"])
                    for k in ("my_rank_city", "top20_city")})
    return out


def _postgres_server() -> str | None:
    for name in ("BENCH_POSTGRES_URL", "TEST_DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


def _scratch_postgres(server_url: str, label: str) -> Any:
    """A migrated scratch PostgreSQL database for one part, dropped when the block ends: its
    URL."""
    import contextlib
    import subprocess
    from pathlib import Path
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    root = Path(__file__).resolve().parent.parent
    parts = urlsplit(server_url)
    name = os.environ.get("BENCH_ACTIVITY_PG_DB") or f"sportsman_bench_activity_{os.getpid()}"
    name = f"{name}_{label}".replace("-", "_")
    admin = urlunsplit(parts._replace(path="/postgres"))

    @contextlib.contextmanager
    def scratch() -> Any:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(parts._replace(path=f"/{name}"))
        try:
            env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings",
                   "DEBUG": "0", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(root)}
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0",
                            "--skip-checks"], cwd=root, env=env, check=True,
                           capture_output=True, text=True)
            yield env
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return scratch()


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print) -> dict:
    """For ``python -m bench``: every part in a process of its own on a fresh copy of the
    migrated ``template`` database; ``env_for(database_path)`` gives the environment. Then,
    with a PostgreSQL server, ``ranks`` and ``reports`` in scratch PostgreSQL databases.
    Returns the figures and the ratios (1M / 10k residents; 10M / 1M records); the targets
    are judged by ``bench.__main__.verdicts``."""
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent

    def call(env: dict, *args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "bench.activity", *args], cwd=root,
                              env=env, check=True, capture_output=True, text=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def run(label: str, *args: str) -> dict:
        database = Path(var_dir) / f"activity-{label}.sqlite3"
        shutil.copyfile(template, database)
        try:
            return call(env_for(database), *args)
        finally:
            database.unlink(missing_ok=True)

    out: dict = {}
    for size in RANK_SIZES:
        log(f"activity: rank look-up at {size:,} residents")
        out[f"ranks_{size}"] = run(f"ranks-{size}", "ranks", str(size))
    out["rank_lookup_ratio"] = _lookup_ratios(*(out[f"ranks_{s}"] for s in RANK_SIZES))
    for records in RECORD_SIZES:
        log(f"activity: rankings and dashboard from rollups standing for {records:,} records")
        out[f"rollups_{records}"] = run(f"rollups-{records}", "rollups", str(records))
    low, high = (out[f"rollups_{r}"] for r in RECORD_SIZES)
    out["rollups_ratio_10m_to_1m"] = {
        k: _ratio(high[k]["median_ms"], low[k]["median_ms"])
        for k in ("ranking_top20_city_month", "dashboard_city_month")}
    log("activity: yearly reports per second")
    out["reports"] = run("reports", "reports")
    server = _postgres_server()
    if server:
        pg: dict = {}
        for size in RANK_SIZES:
            log(f"activity on PostgreSQL: rank look-up at {size:,} residents")
            with _scratch_postgres(server, f"ranks_{size}") as env:
                pg[f"ranks_{size}"] = call(env, "ranks", str(size))
        pg["rank_lookup_ratio"] = _lookup_ratios(*(pg[f"ranks_{s}"] for s in RANK_SIZES))
        log("activity on PostgreSQL: yearly reports per second")
        with _scratch_postgres(server, "reports") as env:
            pg["reports"] = call(env, "reports")
        out["postgres"] = pg
    else:
        out["postgres"] = {"skipped": "set BENCH_POSTGRES_URL (or TEST_DATABASE_URL) to a "
                                      "PostgreSQL server"}
    return out


def main(argv: list[str]) -> int:
    return run_part(argv, {"ranks": lambda a: ranks(int(a[0])),
                           "rollups": lambda a: rollups(int(a[0])),
                           "reports": lambda a: reports()})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
