"""OpenActive figures (issue 14 part 5): RPDE pages per second at 100,000 items.

``python -m bench.openactive load SIZE`` (run by ``python -m bench`` against a migrated scratch
database named by DATABASE_URL) makes one facility with 100 units and SIZE slots and publishes
them with the real sync (``feeds.sync``). ``measure_all`` serves the platform as ``make run``
does and measures, in the same run, ``GET /bench/pk/{id}`` against
``GET /openactive/slots/?afterTimestamp=<random>&afterId=`` (a full page of 500 items from a
random point of the feed, as a consumer catching up reads it).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import run_part

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("GET /openactive/slots/ pages at 100,000 items / bare PK read",
     ("openactive", "slots_100000", "ratio_to_pk_read"), "min", 0.5),
]
SIZE = 100_000

PAGE_SCRIPT = """\
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end
request = function()
  local ts = math.random(0, {top})
  return wrk.format("GET", "/openactive/slots/?afterTimestamp=" .. ts .. "&afterId=")
end
"""


def load(size: int) -> dict:
    import random

    from django.db import connection
    from django.utils import timezone

    from bench.facilities import _regions
    from sportsman.facilities.models import Slot
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.interfaces.feeds import sync

    started = time.perf_counter()
    region = _regions(10, random.Random(size))[0]
    facility = make_facility(region, name="开放数据场地", units=100, unit_capacity=4)
    units = list(facility.units.all())
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    per_unit = size // len(units)
    Slot.objects.bulk_create(
        [Slot(unit=u, facility=facility, capacity=4, booked=i % 5 % 4,
              start=start + dt.timedelta(minutes=10 * i),
              end=start + dt.timedelta(minutes=10 * i + 10))
         for u in units for i in range(per_unit)], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    from django.test.utils import override_settings

    with override_settings(OPENACTIVE_SLOT_DAYS=90):
        result = sync(["slots"])
    return {"items": result.created, "facility": facility.pk,
            "load_seconds": round(time.perf_counter() - started, 1)}


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print,
                seconds: int | None = None, connections: int = 32) -> dict:
    import shutil
    import subprocess

    from bench import wrk
    from bench.__main__ import _free_port, _ratio, serving
    from bench.events import _seconds_from_argv

    if not wrk.available():
        return {"skipped": "wrk is not installed (Debian package `wrk`)"}
    seconds = seconds or int(_seconds_from_argv())
    var_dir = Path(var_dir)
    database = var_dir / "openactive.sqlite3"
    shutil.copyfile(template, database)
    env = env_for(database)
    log(f"openactive: loading {SIZE:,} slots and publishing them")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "bench.openactive", "load", str(SIZE)],
                          cwd=root, env=env, check=False, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    setup = json.loads(done.stdout.strip().splitlines()[-1])
    script = var_dir / "openactive-pages.lua"
    script.write_text(PAGE_SCRIPT.replace("{top}", str(setup["items"] - 500)))
    with serving({**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, "asgi",
                 _free_port()) as base:
        log(f"openactive: bare PK read, then RPDE pages ({seconds} s each)")
        pk = wrk.run(f"{base}/bench/pk/{setup['facility']}", seconds=seconds,
                     connections=connections)
        pages = wrk.run(f"{base}/openactive/slots/", seconds=seconds, connections=connections,
                        script=script)
    return {f"slots_{SIZE}": {"setup": setup, "pk_read": pk, "pages": pages,
                              "ratio_to_pk_read": _ratio(pages, pk),
                              "note": "500 items (~0.3 MB) per page against one small row"}}


def main(argv: list[str]) -> int:
    return run_part(argv, {"load": lambda a: load(int(a[0]))})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
