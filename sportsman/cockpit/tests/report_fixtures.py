"""Figures for the monthly report's tests: the report is of last month (a finished month), with
figures on two of its days, on a day of the month before, and on a day of the same month a year
before; every metric computed through today.

A test module imports ``seeded_fixture`` (the ``seeded`` fixture) and
``private_media_fixture`` (autouse: stored files go to a temporary folder).

Per community, last month (k1, k2 in t1; k3 in t2; t1 and t2 in d1; k4 in d2):
exercise minutes on the 3rd and the 20th, registered residents on the last day, bookable
place-minutes (utilisation)."""

from __future__ import annotations

import dataclasses

import pytest
from django.utils import timezone

from sportsman.cockpit import periods, report, tallies
from sportsman.cockpit.models import Tally, Watermark
from sportsman.cockpit.periods import Period
from sportsman.core import figures

MINUTES = {"k1": (60, 40), "k2": (30, 10), "k3": (7, 0), "k4": (5, 0)}  # on the 3rd, the 20th
REGISTERED = {"k1": 10, "k2": 5, "k3": 8, "k4": 2}
OFFERED = {"k1": 600, "k2": 400}
BOOKED = {"k1": 150, "k2": 50}
PREVIOUS_MINUTES = {"k1": 50}  # the month before
YEAR_BEFORE_MINUTES = {"k1": 80}  # the same month a year before


@dataclasses.dataclass
class Seeded:
    tree: object
    period: Period

    def __getattr__(self, name: str) -> object:
        return getattr(self.tree, name)


def seed(tree) -> Seeded:
    period = report.last_month()
    previous = period.previous()
    year_before = periods.period_containing(
        period.grain, period.start.replace(year=period.start.year - 1))
    third, twentieth = period.start.replace(day=3), period.start.replace(day=20)
    rows = []
    for k, (a, b) in MINUTES.items():
        region = getattr(tree, k)
        rows += [Tally(region=region, day=third, metric="exercise_minutes", value=a)]
        if b:
            rows += [Tally(region=region, day=twentieth, metric="exercise_minutes", value=b)]
        rows += [Tally(region=region, day=period.end, metric="residents_registered",
                       value=REGISTERED[k])]
    for k, v in OFFERED.items():
        rows += [Tally(region=getattr(tree, k), day=third, metric="place_minutes_offered",
                       value=v),
                 Tally(region=getattr(tree, k), day=third, metric="place_minutes_booked",
                       value=BOOKED[k])]
    for k, v in PREVIOUS_MINUTES.items():
        rows += [Tally(region=getattr(tree, k), day=previous.start.replace(day=5),
                       metric="exercise_minutes", value=v)]
    for k, v in YEAR_BEFORE_MINUTES.items():
        rows += [Tally(region=getattr(tree, k), day=year_before.start.replace(day=5),
                       metric="exercise_minutes", value=v)]
    Tally.objects.bulk_create(rows)
    tallies.roll_up_months()
    today = timezone.localdate()
    Watermark.objects.bulk_create([Watermark(metric=m.key, through=today)
                                   for m in figures.metrics()])
    return Seeded(tree, period)


@pytest.fixture(name="seeded")
def seeded_fixture(tree) -> Seeded:
    return seed(tree)


@pytest.fixture(name="private_media", autouse=True)
def private_media_fixture(settings, tmp_path):
    """Stored reports go to a temporary folder per test."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}

