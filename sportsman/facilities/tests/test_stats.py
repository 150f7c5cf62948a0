"""Utilisation against a small hand-computed case."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core.errors import InvalidInput
from sportsman.facilities.hours import LOCAL_TZ
from sportsman.facilities.models import (
    Booking,
    FacilityHour,
    OpeningException,
    PublicHoliday,
    Slot,
    Visit,
)
from sportsman.facilities.stats import utilisation
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

MON = dt.date(2026, 11, 23)
TUE = MON + dt.timedelta(days=1)


def at(day: dt.date, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=LOCAL_TZ)


def _book(facility, user, start, status):
    unit = facility.units.get()
    slot, _ = Slot.objects.get_or_create(unit=unit, start=start, defaults={
        "facility": facility, "end": start + dt.timedelta(hours=1), "capacity": 1})
    return Booking.objects.create(user=user, slot=slot, facility=facility, start=start,
                                  end=start + dt.timedelta(hours=1), status=status)


def _visit(facility, user, start):
    return Visit.objects.create(user=user, facility=facility, source="walk_in",
                                started_at=start, ended_at=start + dt.timedelta(minutes=30))


def test_utilisation_of_a_small_week_matches_the_hand_count(tree):
    # Open 08:00–12:00 every day; Tuesday closed by an exception → 4 open hours in the range.
    f = make_facility(tree.k1, opens=dt.time(8), closes=dt.time(12), units=1)
    OpeningException.objects.create(facility=f, start_date=TUE, end_date=TUE, is_closed=True)
    a, b = tree.user(), tree.user()
    _book(f, a, at(MON, 8), "completed")
    _book(f, b, at(MON, 9), "cancelled")  # not counted
    _book(f, b, at(MON, 10), "no_show")  # held the place: counted
    _book(f, a, at(MON + dt.timedelta(days=2), 8), "booked")  # outside the range
    _visit(f, a, at(MON, 8, 10))
    _visit(f, a, at(MON, 10))
    _visit(f, b, at(TUE, 23, 59))
    _visit(f, b, at(MON - dt.timedelta(days=1), 23, 30))  # Sunday night: outside
    FacilityHour.objects.create(facility=f, hour=at(MON, 8), visits=3, entries=5)
    FacilityHour.objects.create(facility=f, hour=at(TUE, 9), visits=2, entries=0)
    FacilityHour.objects.create(facility=f, hour=at(MON, 23), visits=1, entries=1)

    report = utilisation(f, MON, TUE)

    assert report.open_hours == 4.0
    assert report.booked_hours == 2.0
    assert report.places == 1
    assert report.rate == 0.5
    assert report.visits_per_day == {MON: 2, TUE: 1}
    assert (report.total_visits, report.unique_visitors) == (3, 2)
    assert report.heat[0][8] == 5 and report.heat[1][9] == 2 and report.heat[0][23] == 1
    assert sum(map(sum, report.heat)) == 8


def test_open_hours_count_places_and_public_holidays(tree):
    f = make_facility(tree.k1, opens=dt.time(8), closes=dt.time(12), units=2,
                      holiday_hours="closed")
    PublicHoliday.objects.create(date=TUE, name="节")
    report = utilisation(f, MON, TUE)
    assert report.open_hours == 4.0 and report.places == 2 and report.rate == 0.0


def test_a_reversed_or_too_long_range_is_refused(tree):
    f = make_facility(tree.k1)
    with pytest.raises(InvalidInput):
        utilisation(f, TUE, MON)
    with pytest.raises(InvalidInput):
        utilisation(f, MON, MON + dt.timedelta(days=400))
