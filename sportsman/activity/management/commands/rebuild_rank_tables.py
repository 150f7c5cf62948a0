"""Recompute the rank tables (entries and counts) from the daily rollups."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from sportsman.activity import ranktables
from sportsman.activity.models import UserDay


class Command(BaseCommand):
    help = ("Recompute the rank tables (every resident's score per week, month, year and "
            "region, and the score counts) from the daily rollups: for backfills and repairs; "
            "running it again changes nothing. --user limits it to people.")

    def add_arguments(self, parser):
        parser.add_argument("--user", type=int, action="append", dest="users",
                            help="a user id (repeatable); default: everyone")

    def handle(self, *args, **options):
        users = options["users"]
        if users:
            from django.db import transaction

            from sportsman.activity.rollups import lock_records_table

            with transaction.atomic():
                lock_records_table()
                changed = ranktables.sync_people(users)
            self.stdout.write(f"{changed} of {len(set(users))} people's entries changed.")
            return
        with tqdm(total=UserDay.objects.count(), desc="person-days", unit="row", leave=False,
                  disable=options["verbosity"] < 1) as bar:
            result = ranktables.rebuild(progress=bar.update)
        self.stdout.write(f"{result['rank_entries']} rank entries, {result['rank_counts']} "
                          "score counts.")
