"""Dispatch pending domain events to their consumers now (the sweep job does this every minute)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from sportsman.core.events import dispatch


class Command(BaseCommand):
    help = "Run every pending (event, consumer) pair; safe to run any time and in parallel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=1000,
                            help="at most this many pending events per round (default 1000)")
        parser.add_argument("--all", action="store_true",
                            help="repeat rounds until a round delivers nothing")

    def handle(self, *args, **options) -> None:
        limit = max(1, options["limit"])
        total = {"delivered": 0, "failed": 0, "skipped": 0, "settled": 0}
        while True:
            report = dispatch(limit=limit)
            for key, value in report.as_dict().items():
                total[key] += value
            if not options["all"] or (report.delivered == 0 and report.settled == 0):
                break
        self.stdout.write(" ".join(f"{k}={v}" for k, v in total.items()))
        if total["failed"]:
            self.stderr.write(f"{total['failed']} deliveries failed and stay pending (see log)")
