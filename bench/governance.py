"""Governance figures (issue 12): reports submitted with a photo, and the staff queue.

``python -m bench.governance PART [ARGS]`` prints one JSON line; run by ``python -m bench``
against a migrated scratch database named by DATABASE_URL (the HTTP parts are served by the
parent):

- ``load-submit FILE``: one community with a facility to place reports at, 2,000 residents with
  API tokens; the tokens and the facility go to FILE for wrk, with a 1280 × 960 JPEG photo (what
  a phone sends after the browser shrinks it) and the multipart body built around it;
- ``load-queue SIZE``: SIZE reports over 800 communities of a synthetic city, in every state,
  plus a city administrator and one community's administrator with API tokens, and one
  facility for the bare primary-key read.

``measure_all`` serves the platform (ASGI, as ``make run`` does) and measures in the same run:

- ``POST /bench/upload`` (the bare upload: the same multipart body parsed and the photo written
  to storage as received — no authentication, checks, re-encoding, routing or rows) against
  ``POST /api/v1/reports`` (a random resident reports at the facility: token auth, the photo
  decoded and re-encoded without EXIF, routing and service levels, the report, its photo, its
  timeline, the domain event and the handlers' notifications);
- ``GET /bench/pk/{id}`` against ``GET /api/v1/console/reports?status=open`` at
  100,000 reports, as the city's administrator (the whole city in scope) and as one community's
  (about 125 reports of the 100,000 in scope).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench import run_part

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("GET /api/v1/console/reports at 100,000 reports, city staff / bare PK read",
     ("governance", "queue_100000", "city", "ratio_to_pk_read"), "min", 0.5),
    ("GET /api/v1/console/reports at 100,000 reports, community staff / bare PK read",
     ("governance", "queue_100000", "community", "ratio_to_pk_read"), "min", 0.5),
]

QUEUE_SIZE = 100_000
BOUNDARY = "----sportsman-bench-boundary"

SUBMIT_SCRIPT = """\
wrk.method = "POST"
local tokens = {{{tokens}}}
local f = io.open("{body}", "rb")
local body = f:read("*all")
f:close()
function init(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):match("0x(%x+)"), 16) % 100000)
end
request = function()
  local headers = {{}}
  headers["Content-Type"] = "multipart/form-data; boundary={boundary}"
  {auth}
  return wrk.format("POST", nil, headers, body)
end
"""

TOKEN_SCRIPT = """\
wrk.headers["Authorization"] = "Bearer {token}"
"""


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(3)
    image = Image.new("RGB", (1280, 960), (90, 110, 130))
    draw = ImageDraw.Draw(image)
    for _ in range(400):  # some detail, so the JPEG is photo-sized rather than flat
        x, y = rng.randrange(1280), rng.randrange(960)
        draw.ellipse((x, y, x + rng.randrange(8, 60), y + rng.randrange(8, 60)),
                     fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _multipart(fields: dict[str, str], photo: bytes) -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photos"; '
                 f'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode() + photo
                 + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def load_submit(out_file: Path, *, users: int = 2000) -> dict:
    from bench.facilities import _bench_community
    from sportsman.accounts.auth import issue_token
    from sportsman.accounts.models import User
    from sportsman.facilities.tests.factories import make_facility

    community = _bench_community()
    facility = make_facility(community, name="报事压测健身点", units=0)
    people = User.objects.bulk_create(
        [User(phone_hash=f"bench-r{i}", phone_encrypted="", nickname=f"r{i}",
              home_community=community) for i in range(users)])
    tokens = [issue_token(u) for u in people]
    photo = _photo()
    body = _multipart({"category": "facility_damage", "description": "单杠松动，晃得厉害",
                       "facility_id": str(facility.pk)}, photo)
    body_file = out_file.with_suffix(".body")
    body_file.write_bytes(body)
    out_file.write_text(json.dumps({"tokens": tokens, "facility": facility.pk,
                                    "body": str(body_file)}))
    return {"users": users, "facility": facility.pk, "photo_bytes": len(photo),
            "body_bytes": len(body)}


def load_queue(size: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from bench.facilities import _regions
    from sportsman.accounts.auth import issue_token
    from sportsman.accounts.models import User
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.governance.models import Category, Report
    from sportsman.regions.models import Level, Region, RoleAssignment

    rng = random.Random(size)
    started = time.perf_counter()
    communities = _regions(size // 125 * 15, rng)  # about 125 reports a community
    city = Region.objects.filter(level=Level.CITY).order_by("code").first()
    now = timezone.now()
    categories = [c.value for c in Category]
    statuses = (["closed"] * 50 + ["resolved"] * 10 + ["in_progress"] * 10 + ["accepted"] * 10
                + ["submitted"] * 15 + ["rejected"] * 3 + ["merged"] * 2)
    rows = []
    for i in range(size):
        community = communities[i % len(communities)]
        created = now - dt.timedelta(minutes=rng.randrange(1, 180 * 24 * 60))
        rows.append(Report(
            region=community, handling_region=community, category=rng.choice(categories),
            description="压测报事", address=f"{community.name}健身点", lat=30.75, lng=120.75,
            status=rng.choice(statuses), handler="region_staff",
            accept_due=created + dt.timedelta(hours=24),
            resolve_due=created + dt.timedelta(days=5)))
    Report.objects.bulk_create(rows, batch_size=5000)
    staff = User.objects.bulk_create([User(phone_hash=f"bench-s{i}", phone_encrypted="",
                                           nickname=f"s{i}") for i in range(2)])
    RoleAssignment.objects.bulk_create([
        RoleAssignment(user=staff[0], role="city_admin", region=city),
        RoleAssignment(user=staff[1], role="community_admin", region=communities[0])])
    facility = make_facility(communities[0], name="主键读取场地")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    in_community = Report.objects.filter(region=communities[0]).count()
    return {"reports": size, "communities": len(communities),
            "reports_in_the_community": in_community, "facility": facility.pk,
            "city_token": issue_token(staff[0]), "community_token": issue_token(staff[1]),
            "load_seconds": round(time.perf_counter() - started, 1)}


def _script(args: list[str], env: dict[str, str]) -> dict:
    import subprocess

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "bench.governance", *args], cwd=root, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _figures(var_dir: Path, env: dict[str, str], *, seconds: int, connections: int, log: Any,
             queue_env: dict[str, str]) -> dict:
    from bench import wrk
    from bench.__main__ import _free_port, _lua_list, _ratio, serving

    out: dict = {}
    people_file = var_dir / "governance-people.json"
    log("governance: set-up (2,000 residents, a facility, a 1280×960 photo)")
    setup = _script(["load-submit", str(people_file)], env)
    people = json.loads(people_file.read_text())
    ours_script = var_dir / "report-submit.lua"
    ours_script.write_text(SUBMIT_SCRIPT.format(
        tokens=_lua_list(people["tokens"], True), body=people["body"], boundary=BOUNDARY,
        auth='headers["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)]'))
    bare_script = var_dir / "bare-upload.lua"
    bare_script.write_text(SUBMIT_SCRIPT.format(tokens="", body=people["body"],
                                                boundary=BOUNDARY, auth=""))
    serve_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    with serving(serve_env, "asgi", _free_port()) as base:
        log(f"governance: bare upload, then POST /api/v1/reports with a photo ({seconds} s each)")
        bare = wrk.run(f"{base}/bench/upload", seconds=seconds, connections=connections,
                       script=bare_script)
        ours = wrk.run(f"{base}/api/v1/reports", seconds=seconds, connections=connections,
                       script=ours_script)
        out["submit"] = {"setup": setup, "bare_upload": bare, "post_report": ours,
                         "ratio_to_bare_upload": _ratio(ours, bare),
                         "note": ("a random resident of 2,000 reports at one facility with one "
                                  "photo; non-2xx: 429 when a draw repeats one resident past "
                                  "3 reports in 5 minutes")}
    log(f"governance: loading {QUEUE_SIZE:,} reports for the staff queue")
    queue = _script(["load-queue", str(QUEUE_SIZE)], queue_env)
    figures: dict = {"setup": {k: v for k, v in queue.items() if not k.endswith("_token")}}
    with serving({**queue_env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, "asgi",
                 _free_port()) as base:
        log(f"governance: the staff queue at {QUEUE_SIZE:,} reports vs the bare PK read "
            f"({seconds} s each)")
        pk = wrk.run(f"{base}/bench/pk/{queue['facility']}", seconds=seconds,
                     connections=connections)
        figures["pk_read"] = pk
        for who in ("city", "community"):
            token_script = var_dir / f"queue-{who}.lua"
            token_script.write_text(TOKEN_SCRIPT.format(token=queue[f"{who}_token"]))
            page = wrk.run(f"{base}/api/v1/console/reports?status=open",
                           seconds=seconds, connections=connections, script=token_script)
            figures[who] = {"queue": page, "ratio_to_pk_read": _ratio(page, pk)}
    out[f"queue_{QUEUE_SIZE}"] = figures
    return out


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print,
                seconds: int | None = None, connections: int = 32) -> dict:
    """For ``python -m bench``: SQLite scratch copies of the migrated ``template``, served by
    granian as ``make run`` does."""
    import shutil

    from bench import wrk
    from bench.events import _seconds_from_argv

    if not wrk.available():
        return {"skipped": "wrk is not installed (Debian package `wrk`)"}
    seconds = seconds or int(_seconds_from_argv())
    var_dir = Path(var_dir)
    database = var_dir / "governance.sqlite3"
    shutil.copyfile(template, database)
    queue_database = var_dir / "governance-queue.sqlite3"
    shutil.copyfile(template, queue_database)
    return _figures(var_dir, env_for(database), seconds=seconds, connections=connections,
                    log=log, queue_env=env_for(queue_database))


def main(argv: list[str]) -> int:
    return run_part(argv, {"load-submit": lambda a: load_submit(Path(a[0])),
                           "load-queue": lambda a: load_queue(int(a[0]))})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
