"""Record every completed facility visit that the exercise record does not hold yet."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from sportsman.activity.consumers import session_from_visit
from sportsman.activity.records import record_sessions_in_bulk
from sportsman.facilities.selectors import completed_visits


class Command(BaseCommand):
    help = ("Record every completed facility visit not yet in the exercise record (idempotent: "
            "visits already recorded are skipped), then rebuild the rollups of the people "
            "concerned.")

    def add_arguments(self, parser):
        parser.add_argument("--since-id", type=int, default=0,
                            help="only visits with an id above this one")

    def handle(self, *args, **options):
        quiet = options["verbosity"] < 1
        with tqdm(desc="visits read", unit="visit", disable=quiet, leave=False) as bar:
            def sessions():
                for payload in completed_visits(since_id=options["since_id"]):
                    bar.update(1)
                    yield session_from_visit(payload)

            result = record_sessions_in_bulk(sessions())
        self.stdout.write(f"{result['recorded']} visits recorded; {result['skipped']} records "
                          "were already there.")
