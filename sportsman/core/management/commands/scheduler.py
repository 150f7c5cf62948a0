"""Run the periodic-job scheduler: a tick about every second until SIGTERM or SIGINT.

Several schedulers may run at once (one per machine, say): each due run is enqueued exactly once.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, close_old_connections
from django.utils.dateparse import parse_datetime

from sportsman.core import scheduler

logger = logging.getLogger("sportsman.core.scheduler")


class Command(BaseCommand):
    help = "Enqueue periodic jobs when they fall due (exactly once across schedulers)."
    # A daemon started beside the web server: it needs the models, not the URL conf and views.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds between ticks (default 1)")
        parser.add_argument("--at", help="with --once: tick as if the time were this "
                                         "ISO 8601 instant (tests, catching up by hand)")

    def handle(self, *args, **options) -> None:
        at = self._parse_at(options["at"], once=options["once"])
        scheduler.autodiscover()
        wrong = scheduler.problems()
        if wrong:  # fail at start, not at 03:10 in the night
            raise CommandError("the schedule is broken:\n" + "\n".join(wrong))
        if options["once"]:
            runs = scheduler.tick(at)
            for run in runs:
                self.stdout.write(f"enqueued {run.job} due {run.due_at.isoformat()}")
            return
        self._loop(max(0.1, options["interval"]))

    def _parse_at(self, raw: str | None, *, once: bool) -> datetime | None:
        if raw is None:
            return None
        if not once:
            raise CommandError("--at needs --once")
        at = parse_datetime(raw)
        if at is None or at.tzinfo is None:
            raise CommandError(f"--at {raw!r} is not an ISO 8601 instant with a time zone")
        return at

    def _loop(self, interval: float) -> None:
        running = True

        def stop(signum, frame):
            nonlocal running
            running = False

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        logger.info("scheduler started with %d jobs", len(scheduler.SCHEDULE))
        try:
            while running:
                close_old_connections()
                try:
                    scheduler.tick()
                except OperationalError:
                    # A locked SQLite file or a lost connection: the next tick tries again.
                    logger.exception("scheduler tick failed")
                deadline = time.monotonic() + interval
                while running and time.monotonic() < deadline:
                    time.sleep(min(0.2, interval))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            close_old_connections()
            logger.info("scheduler stopped")
