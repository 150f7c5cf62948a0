"""Recompute the cockpit's tallies for a range of days."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from sportsman.cockpit import tallies
from sportsman.core import figures


class Command(BaseCommand):
    help = ("Recompute the cockpit's figures per region and day from the domains' records, "
            "from --since (default: 35 days ago) to --until (default: today).")

    def add_arguments(self, parser):
        parser.add_argument("--since", type=dt.date.fromisoformat)
        parser.add_argument("--until", type=dt.date.fromisoformat)
        parser.add_argument("--metric", action="append", dest="metrics",
                            help="a metric key (repeatable); default: all")

    def handle(self, *args, **options):
        today = timezone.localdate()
        until = options["until"] or today
        since = options["since"] or today - dt.timedelta(days=tallies.RECENT_MAX_DAYS)
        if since > until:
            raise CommandError("--since is after --until")
        keys = options["metrics"]
        known = {m.key for m in figures.metrics()}
        if keys and set(keys) - known:
            raise CommandError(f"unknown metrics: {', '.join(sorted(set(keys) - known))}; "
                               f"known: {', '.join(sorted(known))}")
        with tqdm(total=len(keys or known), desc="figures", unit="metric", leave=False,
                  disable=options["verbosity"] < 1) as bar:
            written = tallies.refresh(since, until, keys=keys,
                                      progress=lambda key, n: bar.update(1))
        self.stdout.write(f"{sum(written.values()):,} tallies for {len(written)} metrics, "
                          f"{since} to {min(until, today)}.")
