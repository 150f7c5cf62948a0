"""Event figures (issue 11): registrations under contention and the events list.

``python -m bench.events PART [ARGS]`` prints one JSON line; run by ``python -m bench`` against
a migrated scratch database named by DATABASE_URL (the HTTP parts are served by the parent):

- ``load-registration FILE``: the booking set-up of ``bench.facilities`` (a venue with 50 slots
  of large capacity, 2,000 residents with API tokens: the bare booking's data) plus 50 published
  events open for registration with 100,000 places each, a waitlist and no conditions; the
  tokens, user ids, slot ids and event ids go to FILE for wrk;
- ``load-list SIZE``: SIZE published events over 800 communities (the list's data) and one
  facility for the bare primary-key read.

``measure_all`` serves the platform (ASGI, as ``make run`` does) on each database — SQLite and,
when BENCH_POSTGRES_URL or TEST_DATABASE_URL names a server, PostgreSQL — and measures in the
same run ``POST /bench/book`` (the bare booking) against ``POST /api/v1/events/{id}/registrations``
(a random resident, a random event: the full service with eligibility, the live-registration
look-up, the place counter and the insert, behind token auth and idempotency), then
``GET /bench/pk/{id}`` against ``GET /api/v1/events?limit=20`` at 10,000 events.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench import run_part

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("POST /api/v1/events/{id}/registrations / bare booking, SQLite",
     ("events", "registrations_sqlite", "ratio_to_bare_booking"), "min", 0.5),
    ("POST /api/v1/events/{id}/registrations / bare booking, PostgreSQL",
     ("events", "registrations_postgres", "ratio_to_bare_booking"), "min", 0.5),
    ("GET /api/v1/events at 10,000 events / bare PK read",
     ("events", "list_10000", "ratio_to_pk_read"), "min", 0.5),
]

EVENTS = 50
LIST_SIZE = 10_000

REGISTER_SCRIPT = """\
wrk.method = "POST"
local tokens = {{{tokens}}}
local events = {{{events}}}
function init(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):match("0x(%x+)"), 16) % 100000)
end
request = function()
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)]
  local path = "/api/v1/events/" .. events[math.random(1, #events)] .. "/registrations"
  return wrk.format("POST", path, headers, "{{}}")
end
"""


def _event(region: Any, i: int, now: dt.datetime, **extra: Any) -> Any:
    from sportsman.events.models import Event

    starts = now + dt.timedelta(days=7 + i % 60, hours=i % 12)
    return Event(title=f"压力测试赛事{i}", region=region, level=region.level,
                 organiser_name=region.name, status="published",
                 starts_at=starts, ends_at=starts + dt.timedelta(hours=3),
                 registration_opens_at=now - dt.timedelta(days=1),
                 registration_closes_at=starts - dt.timedelta(hours=1), published_at=now,
                 place=f"{region.name}广场", **extra)


def load_registration(out_file: Path) -> dict:
    from django.utils import timezone

    from bench.facilities import _bench_community, load_booking
    from sportsman.events.models import Event

    booking = load_booking(out_file)
    people = json.loads(out_file.read_text())
    community = _bench_community()
    now = timezone.now()
    events = Event.objects.bulk_create([_event(community, i, now, capacity=100_000)
                                        for i in range(EVENTS)])
    people["events"] = [e.pk for e in events]
    out_file.write_text(json.dumps(people))
    return {**booking, "events": len(events)}


def load_list(size: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from bench.facilities import _regions
    from sportsman.events.models import Event
    from sportsman.facilities.tests.factories import make_facility

    rng = random.Random(size)
    started = time.perf_counter()
    communities = _regions(size // 10, rng)
    now = timezone.now()
    Event.objects.bulk_create(
        [_event(communities[i % len(communities)], i, now, capacity=rng.choice((30, 80, 200)))
         for i in range(size)], batch_size=5000)
    facility = make_facility(communities[0], name="主键读取场地")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"events": size, "communities": len(communities), "facility": facility.pk,
            "load_seconds": round(time.perf_counter() - started, 1)}


def _script(args: list[str], env: dict[str, str]) -> dict:
    import subprocess

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "bench.events", *args], cwd=root, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _figures(var_dir: Path, env: dict[str, str], label: str, *, seconds: int,
             connections: int, log: Any, list_env: dict[str, str] | None) -> dict:
    from bench import wrk
    from bench.__main__ import _free_port, _lua_list, _ratio, serving

    people_file = var_dir / f"events-people-{label}.json"
    log(f"events ({label}): set-up (2,000 residents, {EVENTS} events, 50 slots)")
    setup = _script(["load-registration", str(people_file)], env)
    people = json.loads(people_file.read_text())
    ours_script = var_dir / f"register-{label}.lua"
    ours_script.write_text(REGISTER_SCRIPT.format(tokens=_lua_list(people["tokens"], True),
                                                  events=_lua_list(people["events"])))
    bare_script = var_dir / f"bare-book-events-{label}.lua"
    bare_script.write_text(wrk.BARE_BOOKING_SCRIPT.format(users=_lua_list(people["users"]),
                                                          slots=_lua_list(people["slots"])))
    out: dict = {}
    serve_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    with serving(serve_env, "asgi", _free_port()) as base:
        log(f"events ({label}): bare booking, then POST /api/v1/events/{{id}}/registrations "
            f"({seconds} s each)")
        bare = wrk.run(f"{base}/bench/book", seconds=seconds, connections=connections,
                       script=bare_script)
        ours = wrk.run(f"{base}/api/v1/events/0/registrations", seconds=seconds,
                       connections=connections, script=ours_script)
        out[f"registrations_{label}"] = {
            "setup": setup, "bare_booking": bare, "post_registrations": ours,
            "ratio_to_bare_booking": _ratio(ours, bare),
            "note": ("a random resident of 2,000 registers for a random one of 50 open events; "
                     "non-2xx: 409 already_registered when a draw repeats")}
    if list_env is not None:  # a database of its own (the list's regions are a whole city)
        log(f"events ({label}): loading {LIST_SIZE:,} events for the list")
        listing = _script(["load-list", str(LIST_SIZE)], list_env)
        with serving({**list_env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, "asgi",
                     _free_port()) as base:
            log(f"events ({label}): GET /api/v1/events at {LIST_SIZE:,} events vs the bare PK "
                f"read ({seconds} s each)")
            pk = wrk.run(f"{base}/bench/pk/{listing['facility']}", seconds=seconds,
                         connections=connections)
            page = wrk.run(f"{base}/api/v1/events?limit=20", seconds=seconds,
                           connections=connections)
            out[f"list_{LIST_SIZE}"] = {"setup": listing, "pk_read": pk, "list": page,
                                        "ratio_to_pk_read": _ratio(page, pk)}
    return out


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print,
                seconds: int | None = None, connections: int = 32) -> dict:
    """For ``python -m bench``: each database in a scratch copy (SQLite: of the migrated
    ``template``; PostgreSQL: a scratch database), served by granian as ``make run`` does."""
    import shutil

    from bench import wrk
    from bench.__main__ import _postgres_server, _scratch_postgres

    if not wrk.available():
        return {"skipped": "wrk is not installed (Debian package `wrk`)"}
    seconds = seconds or int(_seconds_from_argv())
    var_dir = Path(var_dir)
    database = var_dir / "events.sqlite3"
    shutil.copyfile(template, database)
    list_database = var_dir / "events-list.sqlite3"
    shutil.copyfile(template, list_database)
    out = _figures(var_dir, env_for(database), "sqlite", seconds=seconds,
                   connections=connections, log=log, list_env=env_for(list_database))
    server = _postgres_server()
    if server:
        from bench.__main__ import _manage

        with _scratch_postgres(server, "events") as url:
            env = {**env_for(var_dir / "unused.sqlite3"), "DATABASE_URL": url}
            _manage(env, "migrate", "--noinput", "-v0")
            out.update(_figures(var_dir, env, "postgres", seconds=seconds,
                                connections=connections, log=log, list_env=None))
    else:
        out["registrations_postgres"] = {"skipped": "set BENCH_POSTGRES_URL (or "
                                                    "TEST_DATABASE_URL) to a PostgreSQL server"}
    return out


def _seconds_from_argv() -> str:
    """``--seconds`` of the ``python -m bench`` command line (measure_all is not handed it)."""
    argv = sys.argv
    for i, arg in enumerate(argv):
        if arg == "--seconds" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--seconds="):
            return arg.split("=", 1)[1]
    return "10"


def main(argv: list[str]) -> int:
    return run_part(argv, {"load-registration": lambda a: load_registration(Path(a[0])),
                           "load-list": lambda a: load_list(int(a[0]))})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
