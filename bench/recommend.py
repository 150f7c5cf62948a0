"""Recommendation figures: ``python -m bench.recommend PART [ARGS]`` prints one JSON line; run
by ``python -m bench`` against a seeded jx demo city named by DATABASE_URL:

- ``evaluate``: leave-last-out on the demo city's interactions (sportsman.recommend.evaluation):
  recall@10 and NDCG@10 of the recommender, popularity, popularity near home and random, in
  the same run;
- ``token``: a bearer token of the demo resident (for wrk).

``measure_all`` uses the seeded database of the ``seed`` part when it exists (else seeds its
own), evaluates, then serves the platform (ASGI, as ``make run``) and measures
``GET /api/v1/recommendations?limit=10`` as the demo resident against ``GET /bench/pk/{id}``
(the bare primary-key read) in the same run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import run_part

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("recommender NDCG@10 / popularity, leave-last-out, jx demo city",
     ("recommend", "evaluation", "ndcg_ratio_to_popularity"), "min", 2.0),
    ("recommender recall@10 / popularity, leave-last-out, jx demo city",
     ("recommend", "evaluation", "recall_ratio_to_popularity"), "min", 2.0),
    ("GET /api/v1/recommendations (for you) / bare PK read",
     ("recommend", "for_you", "ratio_to_pk_read"), "min", 0.5),
]


def evaluate() -> dict:
    from sportsman.recommend.evaluation import evaluate as run
    from sportsman.recommend.snapshot import load

    started = time.perf_counter()
    snapshot = load()
    figures = run(snapshot)
    figures["snapshot_seconds"] = round(time.perf_counter() - started - figures["seconds"], 2)
    figures["interactions"] = len(snapshot.interactions)
    return figures


def token() -> dict:
    from sportsman.accounts.auth import issue_token
    from sportsman.accounts.models import User
    from sportsman.core.demo import DEMO_STAFF

    user = User.objects.get_by_phone(DEMO_STAFF[0][0])
    from sportsman.recommend.models import Recommendation

    return {"token": issue_token(user),
            "rows": Recommendation.objects.filter(user=user).count(),
            "rows_total": Recommendation.objects.count()}


def _script(args: list[str], env: dict[str, str]) -> dict:
    import subprocess

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "bench.recommend", *args], cwd=root, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print,
                seconds: int | None = None, connections: int = 32) -> dict:
    import shutil

    from bench import wrk
    from bench.__main__ import _free_port, _manage, _ratio, serving
    from bench.events import _seconds_from_argv

    seconds = seconds or int(_seconds_from_argv())
    var_dir = Path(var_dir)
    database = var_dir / "recommend.sqlite3"
    seeded = var_dir / "bench.sqlite3"
    figures: dict = {}
    env = {**env_for(database), "OPENBLAS_NUM_THREADS": os.environ.get(
        "OPENBLAS_NUM_THREADS", "1")}
    if seeded.exists():
        shutil.copyfile(seeded, database)
        figures["database"] = "the seed part's jx demo city"
    else:
        shutil.copyfile(template, database)
        log("recommend: seeding the jx demo city (a few minutes)")
        started = time.perf_counter()
        _manage(env, "seed_demo", "--scale", "jx", "--seed", "1", "-v0")
        figures["database"] = "jx demo city seeded by this part"
        figures["seed_seconds"] = round(time.perf_counter() - started, 1)
    log("recommend: leave-last-out evaluation")
    figures["evaluation"] = _script(["evaluate"], env)
    if not wrk.available():
        figures["for_you"] = {"skipped": "wrk is not installed (Debian package `wrk`)"}
        return figures
    auth = _script(["token"], env)
    bearer = var_dir / "recommend-bearer.lua"
    bearer.write_text(wrk.BEARER_SCRIPT.format(token=auth["token"]))
    with serving({**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, "asgi",
                 _free_port()) as base:
        log(f"recommend: for-you API vs the bare PK read ({seconds} s each)")
        pk = wrk.run(f"{base}/bench/pk/1", seconds=seconds, connections=connections)
        page = wrk.run(f"{base}/api/v1/recommendations?limit=10", seconds=seconds,
                       connections=connections, script=bearer)
    figures["for_you"] = {"pk_read": pk, "for_you": page, "rows_of_the_resident": auth["rows"],
                          "rows_total": auth["rows_total"], "ratio_to_pk_read": _ratio(page, pk)}
    return figures


def main(argv: list[str]) -> int:
    return run_part(argv, {"evaluate": lambda a: evaluate(), "token": lambda a: token()})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
