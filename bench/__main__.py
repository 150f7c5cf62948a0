"""``python -m bench`` (``make bench``): the project's figures as one JSON document.

1. seed: ``seed_demo --scale jx`` into an empty SQLite database in a temporary VAR_DIR — wall time
   and database size (never touches var/sportsman.sqlite3);
2. http: that database served the way ``make run`` serves it (granian, ASGI entry, 2 workers),
   measured with wrk: a bare endpoint, ``GET /api/v1/me`` with a bearer token, ``POST
   /api/v1/auth/login``; then the same bare endpoint under ``granian --interface wsgi`` — the
   WSGI ceiling the ASGI entry is compared with;
3. regions: subtree and ancestor query cost at 1,000 / 10,000 / 100,000 regions;
4. facilities: facility search at 10,000 and 100,000 facilities vs the bare endpoint (wrk,
   req/s ratio and p99); bookings per second under contention (2,000 residents on 50 slots)
   vs a bare booking endpoint; device events per second through the ingestion service vs a
   raw bulk insert of the same rows, on SQLite and PostgreSQL;
5. activity: rank look-up at 10,000 vs 1,000,000 residents (database and Redis), rankings and
   dashboard totals from rollups standing for 1M vs 10M records, yearly reports per second;
6. cockpit: the city cockpit (summary API and page, cold and warm, vs the bare endpoint) over
   1M and 10M activity records, and the tally refreshes behind it, on SQLite and PostgreSQL.

Progress goes to stderr; the document goes to stdout and to bench/results/latest.json.
``--only seed,http,regions,facilities,activity,cockpit``, ``--seconds`` and ``--connections`` shorten a run. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import wrk

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
GRANIAN = str(Path(PYTHON).parent / "granian")
MANAGE = str(ROOT / "manage.py")
# ARCHITECTURE.md, "Ceilings": bare Django + Ninja endpoint, granian WSGI, 2 workers × 4 threads.
ARCHITECTURE_WSGI_CEILING = 6000
WEB_WORKERS = 2
WSGI_THREADS = 4
SEED = 1


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _env(var_dir: Path, database: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"VAR_DIR": str(var_dir), "DATABASE_URL": f"sqlite:///{database}",
                "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0",
                "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # System checks are not what is measured here; migrate and seed skip them.
    return subprocess.run([PYTHON, MANAGE, *args, "--skip-checks"], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)


def _db_size(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = [path, path.with_name(path.name + "-wal")]
    return sum(p.stat().st_size for p in files if p.exists())


def measure_seed(var_dir: Path, database: Path) -> dict:
    env = _env(var_dir, database)
    log("migrating an empty database")
    _manage(env, "migrate", "--noinput", "-v0")
    empty = _db_size(database)
    log("seed_demo --scale jx (about half a minute)")
    start = time.perf_counter()
    done = _manage(env, "seed_demo", "--scale", "jx", "--seed", str(SEED), "-v1")
    seconds = time.perf_counter() - start
    size = _db_size(database)
    summary = next((line for line in done.stdout.splitlines() if line.startswith("Demo city")),
                   "")
    return {"command": f"manage.py seed_demo --scale jx --seed {SEED}",
            "seconds": round(seconds, 1), "summary": summary,
            "database_bytes": size, "database_mb": round(size / 2**20, 1),
            "empty_database_mb": round(empty / 2**20, 1)}


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(env: dict[str, str], interface: str, port: int) -> Iterator[str]:
    """granian serving the platform (plus /bench/bare) until the block ends."""
    if interface == "asgi":  # exactly as `manage.py serve` (make run) starts it
        cmd = [GRANIAN, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(WEB_WORKERS), "config.asgi:application"]
    else:
        cmd = [GRANIAN, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(WEB_WORKERS), "--blocking-threads", str(WSGI_THREADS),
               "config.wsgi:application"]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/bench/bare", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read() if proc.stderr else ""
                raise RuntimeError(f"granian ({interface}) did not come up:\n{err[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _login_token(base: str) -> str:
    body = json.dumps({"phone": "13800000000", "password": "sportsman-demo"}).encode()
    request = urllib.request.Request(f"{base}/api/v1/auth/login", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["token"]


def _ratio(a: dict, b: dict) -> float | None:
    if not b.get("requests_per_s"):
        return None
    return round(a["requests_per_s"] / b["requests_per_s"], 3)


def measure_http(var_dir: Path, database: Path, *, seconds: int, connections: int,
                 scripts: Path) -> dict:
    if not wrk.available():
        return {"skipped": "wrk is not installed (Debian package `wrk`: apt-get install wrk)"}
    env = _env(var_dir, database, DJANGO_SETTINGS_MODULE="bench.settings")
    out: dict = {"server": f"granian --interface asgi --workers {WEB_WORKERS} "
                           "config.asgi:application (as make run)",
                 "database": "SQLite, the seeded jx demo city"}
    # Both servers up at once (idle workers cost nothing): the two bare figures are taken back
    # to back, so a change in machine load between them distorts their ratio less.
    with serving(env, "asgi", _free_port()) as base, \
            serving(env, "wsgi", _free_port()) as wsgi_base:
        log(f"ASGI: bare endpoint, {seconds} s")
        bare = wrk.run(f"{base}/bench/bare", seconds=seconds, connections=connections)
        log(f"WSGI: bare endpoint, {seconds} s")
        wsgi_bare = wrk.run(f"{wsgi_base}/bench/bare", seconds=seconds, connections=connections)
        log(f"ASGI: bare primary-key read, {seconds} s")
        pk_read = wrk.run(f"{base}/bench/pk/1", seconds=seconds, connections=connections)
        token = _login_token(base)
        bearer = scripts / "bearer.lua"
        bearer.write_text(wrk.BEARER_SCRIPT.format(token=token))
        log(f"ASGI: GET /api/v1/me, {seconds} s")
        me = wrk.run(f"{base}/api/v1/me", seconds=seconds, connections=connections,
                     script=bearer)
        login_script = scripts / "login.lua"
        login_script.write_text(wrk.LOGIN_SCRIPT.format(prefix="139", digits=8, count=48_958,
                                                        password="sportsman-demo"))
        log(f"ASGI: POST /api/v1/auth/login, {max(seconds, 10)} s")
        # Two connections: each login runs an Argon2 hash (100 MiB, 8 lanes) that alone keeps
        # both cores busy; more connections only queue behind it.
        login = wrk.run(f"{base}/api/v1/auth/login", seconds=max(seconds, 10), connections=2,
                        threads=1, script=login_script, timeout=30)
    me["ratio_to_bare"] = _ratio(me, bare)
    me["ratio_to_pk_read"] = _ratio(me, pk_read)
    login["ratio_to_bare"] = _ratio(login, bare)
    login["note"] = ("Argon2 hashing is deliberately slow; each login also records the attempt "
                     "and issues a token. Non-2xx would be throttling (429) or refusals.")
    out.update({
        "bare_asgi": bare, "pk_read_asgi": pk_read, "me_asgi": me, "login_asgi": login, "bare_wsgi": wsgi_bare,
        "asgi_bare_over_wsgi_bare": _ratio(bare, wsgi_bare),
        "wsgi_bare_over_architecture_ceiling": round(
            wsgi_bare["requests_per_s"] / ARCHITECTURE_WSGI_CEILING, 3),
        "wsgi_server": f"granian --interface wsgi --workers {WEB_WORKERS} --blocking-threads "
                       f"{WSGI_THREADS} config.wsgi:application",
    })
    return out


def measure_regions(var_dir: Path, template: Path) -> dict:
    from bench.regions import SHAPES

    out: dict = {}
    for size in SHAPES:
        database = var_dir / f"regions-{size}.sqlite3"
        shutil.copyfile(template, database)
        log(f"regions: {size:,}")
        done = subprocess.run([PYTHON, "-m", "bench.regions", str(size)], cwd=ROOT,
                              env=_env(var_dir, database), check=True, capture_output=True,
                              text=True)
        out[str(size)] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


SEARCH_SIZES = (10_000, 100_000)


def _facilities_script(args: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run([PYTHON, "-m", "bench.facilities", *args], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_facilities(var_dir: Path, template: Path, *, seconds: int, connections: int) -> dict:
    out: dict = {}
    # Device ingestion, in-process: our service vs a raw bulk insert, same rows, same run.
    database = var_dir / "ingest.sqlite3"
    shutil.copyfile(template, database)
    log("facilities: device ingestion (SQLite)")
    out["ingest_sqlite"] = _facilities_script(["ingest"], _env(var_dir, database))
    server = _postgres_server()
    if server:
        with _scratch_postgres(server, "ingest") as url:
            env = {**_env(var_dir, var_dir / "unused.sqlite3"), "DATABASE_URL": url}
            _manage(env, "migrate", "--noinput", "-v0")
            log("facilities: device ingestion (PostgreSQL)")
            out["ingest_postgres"] = _facilities_script(["ingest"], env)
    if not wrk.available():
        out["http"] = {"skipped": "wrk is not installed (Debian package `wrk`)"}
        return out
    for size in SEARCH_SIZES:
        database = var_dir / f"search-{size}.sqlite3"
        shutil.copyfile(template, database)
        log(f"facilities: loading {size:,} facilities")
        loaded = _facilities_script(["load-search", str(size)], _env(var_dir, database))
        point = loaded["point"]
        env = _env(var_dir, database, DJANGO_SETTINGS_MODULE="bench.settings")
        figures: dict = {"load": loaded}
        with serving(env, "asgi", _free_port()) as base:
            log(f"search at {size:,}: bare, PK read, near a point, open now, by category"
                f" ({seconds} s each)")
            figures["bare"] = wrk.run(f"{base}/bench/bare", seconds=seconds,
                                      connections=connections)
            figures["pk_read"] = wrk.run(f"{base}/bench/pk/{loaded['first_id']}",
                                         seconds=seconds, connections=connections)
            queries = {
                "near_3km": f"lat={point['lat']}&lng={point['lng']}&radius_m=3000",
                "near_3km_open_now": f"lat={point['lat']}&lng={point['lng']}&radius_m=3000"
                                     "&open_now=true",
                "category_gym": "category=community_gym&limit=20",
            }
            for name, query in queries.items():
                result = wrk.run(f"{base}/api/v1/facilities?{query}", seconds=seconds,
                                 connections=connections)
                result["ratio_to_bare"] = _ratio(result, figures["bare"])
                result["ratio_to_pk_read"] = _ratio(result, figures["pk_read"])
                result["query"] = query
                figures[name] = result
        out[f"search_{size}"] = figures
    return out


def _lua_list(values: list, quoted: bool = False) -> str:
    return ", ".join(f'"{v}"' for v in values) if quoted else ", ".join(map(str, values))


def measure_booking(var_dir: Path, template: Path, *, seconds: int, connections: int) -> dict:
    """Bookings under contention and check-ins (pass scans, screen scans) against their bare
    endpoints, on SQLite and (when a server is configured) PostgreSQL."""
    out: dict = {}
    if not wrk.available():
        return {"skipped": "wrk is not installed (Debian package `wrk`)"}
    targets = [("sqlite", None)]
    server = _postgres_server()
    if server:
        targets.append(("postgres", server))
    for label, server_url in targets:
        with contextlib.ExitStack() as stack:
            if server_url is None:
                database = var_dir / "booking.sqlite3"
                shutil.copyfile(template, database)
                env = _env(var_dir, database)
            else:
                url = stack.enter_context(_scratch_postgres(server_url, "booking"))
                env = {**_env(var_dir, var_dir / "unused.sqlite3"), "DATABASE_URL": url}
                _manage(env, "migrate", "--noinput", "-v0")
            out[f"booking_{label}"] = _booking_figures(var_dir, env, label, seconds=seconds,
                                                       connections=connections)
    return out


def _booking_figures(var_dir: Path, env: dict[str, str], label: str, *, seconds: int,
                     connections: int) -> dict:
    tokens_file = var_dir / f"booking-tokens-{label}.json"
    log(f"booking ({label}): set-up (2,000 residents, 50 slots; 20,000 passes)")
    setup = _facilities_script(["load-booking", str(tokens_file)], env)
    people = json.loads(tokens_file.read_text())
    slots = _lua_list(people["slots"])
    book_script = var_dir / "book.lua"
    book_script.write_text(wrk.BOOKING_SCRIPT.format(tokens=_lua_list(people["tokens"], True),
                                                     slots=slots))
    bare_script = var_dir / "bare-book.lua"
    bare_script.write_text(wrk.BARE_BOOKING_SCRIPT.format(users=_lua_list(people["users"]),
                                                          slots=slots))
    checkin_file = var_dir / f"checkin-{label}.json"
    checkin_setup = _facilities_script(["load-checkin", str(checkin_file)], env)
    checkin = json.loads(checkin_file.read_text())
    pass_script = var_dir / "pass.lua"
    pass_script.write_text(wrk.PASS_SCRIPT.format(token=checkin["staff_token"], threads=2,
                                                  passes=_lua_list(checkin["passes"], True)))
    bare_checkin_script = var_dir / "bare-checkin.lua"
    bare_checkin_script.write_text(wrk.BARE_CHECKIN_SCRIPT.format(
        threads=2, ids=_lua_list(checkin["bare"])))
    serve_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    figures: dict = {"setup": {**setup, **checkin_setup}}
    with serving(serve_env, "asgi", _free_port()) as base:
        log(f"booking ({label}): bare, then POST /api/v1/bookings ({seconds} s each)")
        bare = wrk.run(f"{base}/bench/book", seconds=seconds, connections=connections,
                       script=bare_script)
        ours = wrk.run(f"{base}/api/v1/bookings", seconds=seconds, connections=connections,
                       script=book_script)
        ours["ratio_to_bare_booking"] = _ratio(ours, bare)
        ours["note"] = ("non-2xx: 409 already_booked when a resident drew a slot twice; every "
                        "request runs the full booking service (rules, limits, lock)")
        log(f"check-in ({label}): bare, pass scans, screen scans ({seconds} s each)")
        bare_checkin = wrk.run(f"{base}/bench/checkin", seconds=seconds,
                               connections=connections, script=bare_checkin_script)
        passes = wrk.run(f"{base}/api/v1/check-ins/pass", seconds=seconds,
                         connections=connections, script=pass_script)
        passes["ratio_to_bare_checkin"] = _ratio(passes, bare_checkin)
        code = _facilities_script(["screen-code", str(checkin["facility"])], env)["code"]
        screen_script = var_dir / "screen.lua"
        screen_script.write_text(wrk.SCREEN_SCRIPT.format(
            tokens=_lua_list(checkin["tokens"], True), code=code))
        screens = wrk.run(f"{base}/api/v1/check-ins", seconds=seconds,
                          connections=connections, script=screen_script)
        screens["ratio_to_bare_checkin"] = _ratio(screens, bare_checkin)
        screens["note"] = ("a random resident of 5,000 scans the venue's screen; a repeat scan "
                           "finds their open visit")
    figures.update({"bare_booking": bare, "post_bookings": ours, "bare_checkin": bare_checkin,
                    "checkin_pass": passes, "checkin_screen": screens})
    return figures


@contextlib.contextmanager
def _scratch_postgres(server_url: str, label: str) -> Iterator[str]:
    """A scratch PostgreSQL database on the server, dropped when the block ends."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(server_url)
    name = f"sportsman_bench_{os.getpid()}_{label}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_server() -> str | None:
    """A PostgreSQL URL whose server may host scratch databases (BENCH_POSTGRES_URL, else
    TEST_DATABASE_URL when it names PostgreSQL)."""
    for name in ("BENCH_POSTGRES_URL", "TEST_DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


def measure_regions_postgres(var_dir: Path, server_url: str) -> dict:
    """The same figures on PostgreSQL, each size in a scratch database."""
    from bench.regions import SHAPES

    out: dict = {}
    for size in SHAPES:
        with _scratch_postgres(server_url, str(size)) as scratch:
            env = {**_env(var_dir, var_dir / "unused.sqlite3"), "DATABASE_URL": scratch}
            log(f"regions on PostgreSQL: {size:,}")
            _manage(env, "migrate", "--noinput", "-v0")
            done = subprocess.run([PYTHON, "-m", "bench.regions", str(size)], cwd=ROOT,
                                  env=env, check=True, capture_output=True, text=True)
            out[str(size)] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


@contextlib.contextmanager
def _sqlite_scratch(var_dir: Path, template: Path, label: str) -> Iterator[dict[str, str]]:
    """A copy of the migrated empty ``template``, removed when the block ends: its env."""
    database = var_dir / f"{label}.sqlite3"
    shutil.copyfile(template, database)
    try:
        yield _env(var_dir, database)
    finally:
        for suffix in ("", "-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)


@contextlib.contextmanager
def _postgres_scratch(var_dir: Path, server_url: str, label: str) -> Iterator[dict[str, str]]:
    """A migrated scratch PostgreSQL database, dropped when the block ends: its env."""
    with _scratch_postgres(server_url, label) as url:
        env = {**_env(var_dir, var_dir / "unused.sqlite3"), "DATABASE_URL": url}
        _manage(env, "migrate", "--noinput", "-v0")
        yield env


def measure_cockpit(var_dir: Path, template: Path) -> dict:
    from bench import cockpit

    out = {"sqlite": cockpit.measure_all(
        lambda label: _sqlite_scratch(var_dir, template, label), log=log)}
    server = _postgres_server()
    if server:
        out["postgres"] = cockpit.measure_all(
            lambda label: _postgres_scratch(var_dir, server, label), log=log)
    else:
        out["postgres"] = {"skipped": "set BENCH_POSTGRES_URL (or TEST_DATABASE_URL) to a "
                                      "PostgreSQL server"}
    return out


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _at(doc: dict, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


# Issue 10's table: (path, where in the document, "min" or "max", the target).
TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("search near a point, 100,000 facilities / bare PK read",
     ("facilities", "search_100000", "near_3km", "ratio_to_pk_read"), "min", 0.5),
    ("search near a point, 100,000 facilities, p99 ms",
     ("facilities", "search_100000", "near_3km", "p99_ms"), "max", 100),
    ("POST /api/v1/bookings / bare booking, SQLite",
     ("booking", "booking_sqlite", "post_bookings", "ratio_to_bare_booking"), "min", 0.5),
    ("POST /api/v1/bookings / bare booking, PostgreSQL",
     ("booking", "booking_postgres", "post_bookings", "ratio_to_bare_booking"), "min", 0.5),
    ("pass check-in / bare check-in, SQLite",
     ("booking", "booking_sqlite", "checkin_pass", "ratio_to_bare_checkin"), "min", 0.5),
    ("pass check-in / bare check-in, PostgreSQL",
     ("booking", "booking_postgres", "checkin_pass", "ratio_to_bare_checkin"), "min", 0.5),
    ("screen check-in / bare check-in, SQLite",
     ("booking", "booking_sqlite", "checkin_screen", "ratio_to_bare_checkin"), "min", 0.5),
    ("screen check-in / bare check-in, PostgreSQL",
     ("booking", "booking_postgres", "checkin_screen", "ratio_to_bare_checkin"), "min", 0.5),
    ("GET /api/v1/me / bare PK read", ("http", "me_asgi", "ratio_to_pk_read"), "min", 0.5),
    ("ASGI entry / plain WSGI, bare endpoint", ("http", "asgi_bare_over_wsgi_bare"), "min", 0.8),
    ("my rank in the city, database, growth 10k → 1M residents, SQLite",
     ("activity", "rank_lookup_ratio", "db_my_rank_city"), "max", 1.5),
    ("my rank in the city, database, growth 10k → 1M residents, PostgreSQL",
     ("activity", "postgres", "rank_lookup_ratio", "db_my_rank_city"), "max", 1.5),
    ("top 20 of the city, database, growth 10k → 1M residents, SQLite",
     ("activity", "rank_lookup_ratio", "db_top20_city"), "max", 1.5),
    ("top 20 of the city, database, growth 10k → 1M residents, PostgreSQL",
     ("activity", "postgres", "rank_lookup_ratio", "db_top20_city"), "max", 1.5),
    ("yearly reports per second without Redis, SQLite",
     ("activity", "reports", "json_per_s_db"), "min", 50),
    ("yearly reports per second without Redis, PostgreSQL",
     ("activity", "postgres", "reports", "json_per_s_db"), "min", 50),
]


# Parts kept in a module of their own: ``bench.<name>.measure_all(var_dir, template, env_for,
# log=...)`` returns the figures under ``doc[name]``; the module's ``TARGETS`` join the table.
APP_PARTS = ("groups", "events", "governance", "instructors", "videos",
             "recommend", "webhooks", "campaigns", "openactive")
PARTS = ("seed", "http", "regions", "facilities", "booking", "activity", "cockpit", *APP_PARTS)


def all_targets() -> list[tuple[str, tuple[str, ...], str, float]]:
    out = list(TARGETS)
    for name in APP_PARTS:
        out += importlib.import_module(f"bench.{name}").TARGETS
    return out


def verdicts(doc: dict) -> list[dict]:
    """Each target of the table with this run's figure and whether it is met (None: the part
    was not run or did not produce the figure)."""
    out = []
    for name, path, kind, target in all_targets():
        value = _at(doc, *path)
        met = None if not isinstance(value, int | float) else (
            value >= target if kind == "min" else value <= target)
        out.append({"path": name, "figure": value,
                    "target": f"{'≥' if kind == 'min' else '≤'} {target}", "met": met})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only",
                        default=",".join(PARTS),
                        help="comma-separated parts: " + ", ".join(PARTS))
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per figure")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    doc: dict = {"meta": {
        "at": datetime.now(UTC).isoformat(timespec="seconds"), "commit": _git_commit(),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }}
    with tempfile.TemporaryDirectory(prefix="sportsman-bench-") as tmp:
        var_dir = Path(tmp)
        database = var_dir / "bench.sqlite3"
        if "seed" in parts or "http" in parts:
            doc["seed_demo_jx"] = measure_seed(var_dir, database)
        if "http" in parts:
            doc["http"] = measure_http(var_dir, database, seconds=args.seconds,
                                       connections=args.connections, scripts=var_dir)
        template = var_dir / "empty.sqlite3"
        if parts - {"seed", "http"}:
            log("migrating an empty database for the scratch copies")
            _manage(_env(var_dir, template), "migrate", "--noinput", "-v0")
            _db_size(template)  # checkpoint: the copies start complete
        if "facilities" in parts:
            doc["facilities"] = measure_facilities(var_dir, template, seconds=args.seconds,
                                                   connections=args.connections)
        if "booking" in parts:
            doc["booking"] = measure_booking(var_dir, template, seconds=args.seconds,
                                             connections=args.connections)
        if "activity" in parts:
            from bench import activity

            doc["activity"] = activity.measure_all(var_dir, template,
                                                   lambda db: _env(var_dir, db), log=log)
        if "cockpit" in parts:
            doc["cockpit"] = measure_cockpit(var_dir, template)
        for name in APP_PARTS:
            if name in parts:
                module = importlib.import_module(f"bench.{name}")
                doc[name] = module.measure_all(var_dir, template, lambda db: _env(var_dir, db),
                                               log=log)
        if "regions" in parts:
            doc["regions"] = measure_regions(var_dir, template)
            server = _postgres_server()
            if server:
                doc["regions_postgres"] = measure_regions_postgres(var_dir, server)
            else:
                doc["regions_postgres"] = {"skipped": "set BENCH_POSTGRES_URL (or "
                                                      "TEST_DATABASE_URL) to a PostgreSQL server"}
    doc["targets"] = verdicts(doc)
    for row in doc["targets"]:
        mark = {True: "met", False: "MISSED", None: "not measured"}[row["met"]]
        log(f"{mark:>12}  {row['path']}: {row['figure']} (target {row['target']})")
    doc["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    doc["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
