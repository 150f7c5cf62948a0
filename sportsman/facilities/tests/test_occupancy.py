"""Occupancy: crowd levels against capacity, the busy curve in local hours, never below zero."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.facilities import occupancy
from sportsman.facilities.hours import LOCAL_TZ
from sportsman.facilities.models import Facility, FacilityHour
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

T = dt.datetime(2026, 11, 30, 10, 0, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(("people", "capacity", "level"), [
    (0, 10, "quiet"), (2, 10, "quiet"), (3, 10, "moderate"), (6, 10, "moderate"),
    (7, 10, "busy"), (15, 10, "busy"), (5, 0, "unknown"),
])
def test_crowd_level(tree, people, capacity, level):
    facility = make_facility(tree.k2, capacity=capacity)
    occupancy.set_occupancy(facility.pk, people, at=T)
    facility.refresh_from_db()
    assert occupancy.crowd_level(facility) == level


def test_crowd_level_is_unknown_before_anyone_reported(tree):
    assert occupancy.crowd_level(make_facility(tree.k2, capacity=10)) == "unknown"


def test_occupancy_never_goes_below_zero(tree):
    facility = make_facility(tree.k2)
    occupancy.adjust_occupancy(facility.pk, 2, at=T)
    occupancy.adjust_occupancy(facility.pk, -5, at=T)
    assert Facility.objects.get(pk=facility.pk).occupancy == 0


def test_busy_curve_follows_local_hours(tree):
    facility = make_facility(tree.k2)
    occupancy.bump_hours(facility.pk, visits={T: 3, T + dt.timedelta(minutes=30): 1},
                         entries={T.replace(hour=7): 5}, peaks={T.replace(hour=23): 9})
    occupancy.bump_hours(facility.pk, peaks={T: 2})
    curve = occupancy.busy_curve(facility, T.date())
    assert len(curve) == 24
    assert (curve[10], curve[7], curve[23], curve[0]) == (4, 5, 9, 0)
    assert occupancy.busy_curve(facility, T.date() + dt.timedelta(days=1)) == [0] * 24
    assert FacilityHour.objects.get(facility=facility, hour=T).peak == 2


def test_present_reading_older_than_the_last_is_ignored(tree):
    facility = make_facility(tree.k2)
    assert occupancy.set_occupancy(facility.pk, 8, at=T)
    assert not occupancy.set_occupancy(facility.pk, 2, at=T - dt.timedelta(minutes=1))
    assert Facility.objects.get(pk=facility.pk).occupancy == 8
