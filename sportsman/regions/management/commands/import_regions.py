"""Load a division file (the format of data/jiaxing_divisions_2023.csv) into the region tree."""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sportsman.regions.services import RegionFileError, bulk_load_tree

REQUIRED_COLUMNS = ("code12", "name", "level", "parent_code")


class Command(BaseCommand):
    help = ("Load a division CSV (code12,code,name,level,parent_code,town_kind_or_note). "
            "Bad rows are all reported and nothing is loaded; loading a file again adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--edition", type=int, default=2023,
                            help="the code edition year of the file (default 2023)")

    def handle(self, *args, **options):
        path: Path = options["file"]
        edition: int = options["edition"]
        if not 1980 <= edition <= 2100:
            raise CommandError(f"--edition {edition} is not a plausible year")
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise CommandError(f"{path}: missing column(s) {', '.join(missing)}")
                rows = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        try:
            with tqdm(total=len(rows), desc="regions", unit="row", leave=False,
                      disable=options["verbosity"] < 1 or len(rows) < 10_000) as bar:
                created = bulk_load_tree(rows, edition=edition, on_progress=bar.update)
        except RegionFileError as exc:
            for problem in exc.problems:
                self.stderr.write(f"{path}: {problem}")
            raise CommandError(f"{path}: {len(exc.problems)} problem(s); nothing was loaded.") \
                from None
        self.stdout.write(f"{path}: {len(rows)} rows; {created} regions created, "
                          f"{len(rows) - created} already present (names refreshed).")
