"""Load the demo city: Jiaxing's first year (see docs/demo-data.md)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from sportsman.core import demo_city
from sportsman.core.demo import DEMO_LOGINS, DEMO_PASSWORD


class Command(BaseCommand):
    help = ("Generate the demo city, deterministic from --seed: small (tests, seconds), jx "
            "(Jiaxing's first year: 7 districts, 72 towns, 85 communities, 48,958 residents) "
            "or province (several cities, --size residents, for benchmarks).")

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=demo_city.SCALES, default="jx")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--size", type=int, default=None,
                            help=f"residents at province scale (default "
                                 f"{demo_city.PROVINCE_DEFAULT_SIZE:,})")
        parser.add_argument("--cities", type=int, default=4,
                            help="cities at province scale, Jiaxing included (2–11)")
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when a demo city is already loaded")

    def handle(self, *args, **options):
        scale, size, cities = options["scale"], options["size"], options["cities"]
        if size is not None and scale != "province":
            raise CommandError("--size applies to --scale province only")
        if size is not None and size < 1:
            raise CommandError("--size must be at least 1")
        if not 2 <= cities <= 11:
            raise CommandError("--cities must be between 2 and 11")
        if demo_city.is_loaded():
            if options["if_empty"]:
                self.stdout.write("The demo city is already loaded; nothing to do.")
                return
            raise CommandError("A demo city is already loaded (the demo resident exists). "
                               "Use --if-empty to skip, or start from an empty database.")
        started = time.monotonic()
        try:
            city = demo_city.generate(scale=scale, seed=options["seed"], size=size,
                                      cities=cities, progress=options["verbosity"] > 0)
        except IntegrityError as exc:
            raise CommandError(
                f"The demo city clashes with existing data ({exc}); nothing was loaded. "
                "Generated residents use 13900000000 upward and the demo staff 13800000000 "
                "upward: start from an empty database.") from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Demo city ({scale}, seed {options['seed']}): {len(city.regions):,} regions, "
            f"{len(city.communities):,} communities, {city.residents:,} generated residents "
            f"in {elapsed:.1f} s.")
        if options["verbosity"] > 0:
            self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
            for phone, who in DEMO_LOGINS:
                self.stdout.write(f"  {phone}  {who}")
