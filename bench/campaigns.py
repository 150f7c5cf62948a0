"""Campaign figures: ``python -m bench.campaigns run N`` prints one JSON line; run by
``python -m bench`` against a migrated scratch SQLite database named by DATABASE_URL.

N residents in one community and a city admin; in the same process and run: a raw bulk INSERT
(``executemany``, one transaction per 1,000) of the rows a campaign writes for each resident
(the inbox row and the recipient row), then ``campaigns.run_campaign`` of a real campaign to
all N (audience query, opt-out and cap checks, ``notify``, recipients, counts, under the
campaign lock). The figure: residents enqueued per second, and its ratio to the raw INSERT.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench import run_part

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("campaign to 100,000 residents: enqueued per second / raw bulk INSERT of the same rows",
     ("campaigns", "ratio_to_raw_insert"), "min", 0.2),
]

SIZE = 100_000


def run(size: int) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from sportsman.accounts.models import User
    from sportsman.notifications import campaigns
    from sportsman.notifications.models import Campaign, CampaignRecipient
    from sportsman.regions.access import Access
    from sportsman.regions.models import Region, RoleAssignment

    def region(code: str, level: str, parent: Region | None) -> Region:
        r = Region.objects.create(code=code, edition=2023, name=code, level=level, parent=parent,
                                  path="")
        r.path = (parent.path if parent else "/") + f"{r.pk}/"
        r.save(update_fields=["path"])
        return r

    city = region("330400000000", "city", None)
    district = region("330402000000", "district", city)
    town = region("330402009000", "town", district)
    community = region("330402009034", "community", town)
    admin = User.objects.create_user("13900000000", "pw-123456789")
    RoleAssignment.objects.create(user=admin, role="city_admin", region=city)
    User.objects.bulk_create(
        [User(phone_hash=f"bench{i:09d}", phone_encrypted="x", home_community=community,
              sex="F" if i % 2 else "M", birth_year=1950 + i % 60) for i in range(size)],
        batch_size=2000)
    ids = list(User.objects.filter(home_community=community).order_by("pk")
               .values_list("pk", flat=True))
    now = timezone.now()

    # The baseline: the same rows (an inbox row and a recipient row per resident) by raw SQL.
    raw = Campaign.objects.create(region=city, title="raw", created_by=admin)
    note_table = connection.ops.quote_name("notifications_notification")
    rec_table = connection.ops.quote_name(CampaignRecipient._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(now)
    started = time.perf_counter()
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        batch = uuid.uuid4().hex
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {note_table} (user_id, category, title, body, link, data, "  # noqa: S608
                "created_at, in_inbox, dedupe_key, batch) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                "%s, %s, %s)",
                [(u, "campaign", "raw", "", "", "{}", at, True, f"campaign:{raw.pk}", batch)
                 for u in chunk])
            cursor.executemany(
                f"INSERT INTO {rec_table} (campaign_id, user_id, outcome, community_id, "  # noqa: S608
                "created_at) VALUES (%s, %s, %s, %s, %s)",
                [(raw.pk, u, "sent", community.pk, at) for u in chunk])
    raw_s = time.perf_counter() - started

    access = Access(admin)
    c = campaigns.create_campaign(access=access, region_id=city.pk, title="周末全民健身日",
                                  body="到社区体育公园来", link="/events/")
    campaigns.send_campaign(access=access, campaign_id=c.pk)
    campaigns.click_path(c.pk)  # a worker has its URLconf loaded already
    started = time.perf_counter()
    report = campaigns.run_campaign(c.pk)
    real_s = time.perf_counter() - started
    assert report.sent == size, report.as_dict()
    per_s, raw_per_s = size / real_s, size / raw_s
    return {"residents": size, "enqueued_per_s": round(per_s, 1),
            "raw_insert_per_s": round(raw_per_s, 1),
            "ratio_to_raw_insert": round(per_s / raw_per_s, 3),
            "seconds": round(real_s, 2), "raw_seconds": round(raw_s, 2),
            "note": ("SQLite, one process; per 1,000 residents: audience keyset query, "
                     "preferences, cap count, notify() (inbox rows, reachability, quiet hours, "
                     "deliveries), recipient rows, counts; no push subscriptions (no deliveries)")}


def _script(args: list[str], env: dict[str, str]) -> dict:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "bench.campaigns", *args], cwd=root, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print,
                seconds: int | None = None, connections: int = 32) -> dict:
    import shutil

    database = Path(var_dir) / "campaigns.sqlite3"
    shutil.copyfile(template, database)
    log(f"campaigns: one campaign to {SIZE} residents, and a raw INSERT of the same rows")
    return _script(["run", str(SIZE)], env_for(database))


def main(argv: list[str]) -> int:
    return run_part(argv, {"run": lambda a: run(int(a[0]))})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
