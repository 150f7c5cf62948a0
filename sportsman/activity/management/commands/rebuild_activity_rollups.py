"""Recompute counted minutes and the daily rollups from the raw exercise records."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from sportsman.activity.models import ActivityRecord
from sportsman.activity.rollups import rebuild_rollups


class Command(BaseCommand):
    help = ("Recompute every record's counted minutes (the overlap rule) and the per-person and "
            "per-community daily rollups from the raw records; --user limits it to people.")

    def add_arguments(self, parser):
        parser.add_argument("--user", type=int, action="append", dest="users",
                            help="a user id (repeatable); default: everyone")

    def handle(self, *args, **options):
        users = options["users"]
        qs = ActivityRecord.objects.all()
        if users:
            qs = qs.filter(user_id__in=users)
        with tqdm(total=qs.count(), desc="records", unit="record", leave=False,
                  disable=options["verbosity"] < 1) as bar:
            result = rebuild_rollups(users or None, progress=bar.update)
        self.stdout.write(f"{result['records']} records, {result['recounted']} recounted; "
                          f"{result['user_days']} person-days, {result['region_days']} "
                          "community-days.")
