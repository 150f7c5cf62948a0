"""``hours.open_at_sql`` (the SQL condition search filters and answers "open now" by) agrees with ``hours.is_open_at`` (the
Python reading) on random weeks, exceptions, public holidays and holiday rules, probed at every
boundary and a minute either side."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sportsman.facilities import hours
from sportsman.facilities.models import (
    Facility,
    HolidayHours,
    OpeningException,
    OpeningRule,
    PublicHoliday,
)

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 23)


@st.composite
def day_periods(draw):
    """Up to three sorted, non-overlapping periods on a 15-minute grid."""
    marks = sorted(draw(st.sets(st.integers(0, 95), max_size=6)))
    if len(marks) % 2:
        marks = marks[:-1]
    return [(dt.time(a // 4, a % 4 * 15), dt.time(b // 4, b % 4 * 15))
            for a, b in zip(marks[::2], marks[1::2], strict=True)]


@st.composite
def exceptions(draw):
    out = []
    for offset in draw(st.sets(st.integers(0, 6), max_size=2)):
        closed = draw(st.booleans())
        a = draw(st.integers(0, 94))
        b = draw(st.integers(a + 1, 95))
        out.append((MONDAY + dt.timedelta(days=offset), closed,
                    dt.time(a // 4, a % 4 * 15), dt.time(b // 4, b % 4 * 15)))
    return out


def _probes(day: dt.date, week, excs) -> list[dt.time]:
    """The boundaries that can matter on ``day`` (its weekday's periods, Sunday's for a
    holiday, its exceptions) and a minute either side."""
    marks = {dt.time(0), dt.time(12), dt.time(23, 59)}
    for o, c in [*week[day.weekday()], *week[6]]:
        marks |= {o, c}
    for d, _closed, o, c in excs:
        if d == day:
            marks |= {o, c}
    out = set()
    for m in marks:
        base = dt.datetime.combine(day, m)
        for delta in (-1, 0, 1):
            moved = base + dt.timedelta(minutes=delta)
            if moved.date() == day:
                out.add(moved.time())
    return sorted(out)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(week=st.lists(day_periods(), min_size=7, max_size=7), excs=exceptions(),
       holiday_offset=st.one_of(st.none(), st.integers(0, 6)),
       holiday_hours=st.sampled_from(HolidayHours.values),
       status=st.sampled_from(["open", "open", "open", "maintenance"]))
def test_open_at_sql_agrees_with_is_open_at(tree, week, excs, holiday_offset, holiday_hours,
                                          status):
    with transaction.atomic():
        facility = Facility.objects.create(
            name="p", owner_kind="school", category="school_ground", region=tree.k1,
            address="x", lat=30.0, lng=120.0, holiday_hours=holiday_hours, status=status)
        OpeningRule.objects.bulk_create([
            OpeningRule(facility=facility, weekday=wd, opens=o, closes=c)
            for wd, periods in enumerate(week) for o, c in periods])
        OpeningException.objects.bulk_create([
            OpeningException(facility=facility, start_date=d, end_date=d, is_closed=closed,
                             opens=None if closed else o, closes=None if closed else c)
            for d, closed, o, c in excs])
        if holiday_offset is not None:
            PublicHoliday.objects.create(date=MONDAY + dt.timedelta(days=holiday_offset),
                                         name="节")
        for offset in range(7):
            day = MONDAY + dt.timedelta(days=offset)
            for t in _probes(day, week, excs):
                when = hours.aware(day, t)
                sql, params = hours.open_at_sql(when, "f")
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT COUNT(*) FROM {Facility._meta.db_table} f"  # noqa: S608
                                   f" WHERE f.id = %s AND {sql}", [facility.pk, *params])
                    in_db = cursor.fetchone()[0] == 1
                assert in_db == hours.is_open_at(facility, when), (day, t)
        transaction.set_rollback(True)
