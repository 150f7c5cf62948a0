"""Instructor figures: ``python -m bench.instructors PART [ARGS]`` prints one JSON line; run by
``python -m bench`` against a migrated scratch database named by DATABASE_URL (the HTTP parts
are served by the parent):

- ``load-search SIZE``: SIZE active instructors over the communities of a synthetic city (one to
  three sports each, a level, a position), their users, and one facility for the bare
  primary-key read.

``measure_all`` serves the platform (ASGI, as ``make run`` does) and measures in the same run
``GET /bench/pk/{id}`` (the bare primary-key read) against ``GET /api/v1/instructors?sport=…``
(the public search's first page, anonymous) at 10,000 instructors.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench import run_part

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("GET /api/v1/instructors?sport= at 10,000 instructors / bare PK read",
     ("instructors", "search_10000", "ratio_to_pk_read"), "min", 0.5),
]

SIZE = 10_000
SPORT = "badminton"


def load_search(size: int) -> dict:
    from django.db import connection

    from bench.facilities import _regions
    from sportsman.accounts.models import User
    from sportsman.core.models import Sport
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.instructors.models import Instructor

    rng = random.Random(size)
    started = time.perf_counter()
    communities = _regions(size, rng)
    sports = list(Sport.objects.values_list("pk", "slug"))
    users = User.objects.bulk_create(
        [User(phone_hash=f"bench-i{i}", phone_encrypted="", nickname=f"i{i}",
              home_community=communities[i % len(communities)]) for i in range(size)],
        batch_size=5000)
    levels = ["third"] * 6 + ["second"] * 3 + ["first"]
    made = Instructor.objects.bulk_create([Instructor(
        user=u, name=f"指导员{i}", level=rng.choice(levels), certificate_number=f"B{i:07d}",
        region=communities[i % len(communities)], lat=30.75 + rng.gauss(0, 0.08),
        lng=120.75 + rng.gauss(0, 0.09), rating_sum=rng.randint(0, 50),
        rating_count=rng.randint(0, 10), sessions=rng.randint(0, 200),
        service_minutes=rng.randint(0, 12000)) for i, u in enumerate(users)], batch_size=5000)
    through = Instructor.sports.through
    links = []
    for instructor in made:
        for pk, _slug in rng.sample(sports, rng.randint(1, 3)):
            links.append(through(instructor_id=instructor.pk, sport_id=pk))
    through.objects.bulk_create(links, batch_size=5000)
    facility = make_facility(communities[0], name="主键读取场地")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    sport_id = dict((slug, pk) for pk, slug in sports)[SPORT]
    return {"instructors": size, "communities": len(communities), "sports": len(sports),
            "teaching_the_sport": through.objects.filter(sport_id=sport_id).count(),
            "facility": facility.pk, "load_seconds": round(time.perf_counter() - started, 1)}


def _script(args: list[str], env: dict[str, str]) -> dict:
    import subprocess

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "bench.instructors", *args], cwd=root, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print,
                seconds: int | None = None, connections: int = 32) -> dict:
    """For ``python -m bench``: a SQLite scratch copy of the migrated ``template``, served by
    granian as ``make run`` does."""
    import shutil

    from bench import wrk
    from bench.__main__ import _free_port, _ratio, serving
    from bench.events import _seconds_from_argv

    if not wrk.available():
        return {"skipped": "wrk is not installed (Debian package `wrk`)"}
    seconds = seconds or int(_seconds_from_argv())
    var_dir = Path(var_dir)
    database = var_dir / "instructors.sqlite3"
    shutil.copyfile(template, database)
    env = env_for(database)
    log(f"instructors: loading {SIZE:,} instructors")
    setup = _script(["load-search", str(SIZE)], env)
    figures: dict = {"setup": setup}
    with serving({**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, "asgi",
                 _free_port()) as base:
        log(f"instructors: search at {SIZE:,} instructors vs the bare PK read ({seconds} s each)")
        pk = wrk.run(f"{base}/bench/pk/{setup['facility']}", seconds=seconds,
                     connections=connections)
        page = wrk.run(f"{base}/api/v1/instructors?sport={SPORT}", seconds=seconds,
                       connections=connections)
        figures.update({"pk_read": pk, "search": page, "ratio_to_pk_read": _ratio(page, pk)})
    return {f"search_{SIZE}": figures}


def main(argv: list[str]) -> int:
    return run_part(argv, {"load-search": lambda a: load_search(int(a[0]))})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
