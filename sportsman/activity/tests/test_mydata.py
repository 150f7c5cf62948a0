"""My data: totals per week/month/year by sport, streaks, the heat map, the community comparison."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.activity import selectors
from sportsman.activity.models import ActivityRecord, RegionDay, UserDay
from sportsman.activity.selectors import LOCAL_TZ, Period

pytestmark = pytest.mark.django_db


def put_day(user, day: dt.date, minutes: int, *, sessions: int = 1, verified: int | None = None,
            region=None) -> UserDay:
    """A rollup row as the write side leaves it (verified = all, unless told), its rank-table
    entries with it."""
    from sportsman.activity import ranktables

    v = minutes if verified is None else verified
    row = UserDay.objects.create(user=user, day=day, region=region or user.home_community,
                                 minutes=minutes, sessions=sessions, verified_minutes=v,
                                 verified_sessions=sessions if v else 0)
    ranktables.lock()
    ranktables.sync(user.pk, [day])
    return row


def put_record(user, start: dt.datetime, minutes: int, sport=None, *, key: str) -> ActivityRecord:
    return ActivityRecord.objects.create(
        user=user, source="visit", source_key=key, sport=sport, region=user.home_community,
        started_at=start, ended_at=start + dt.timedelta(minutes=minutes),
        duration_minutes=minutes, counted_minutes=minutes, is_verified=True)


def test_week_is_iso_monday_to_sunday_and_month_and_year_are_calendar():
    wed = dt.date(2026, 12, 30)
    assert selectors.period_bounds(Period.WEEK, wed) == (dt.date(2026, 12, 28), dt.date(2027, 1, 4))
    assert selectors.period_key(Period.WEEK, dt.date(2027, 1, 1)) == "2026-W53"
    assert selectors.period_bounds(Period.MONTH, wed) == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert selectors.period_bounds(Period.YEAR, wed) == (dt.date(2026, 1, 1), dt.date(2027, 1, 1))


def test_totals_add_the_period_only_and_fill_every_day(tree):
    me = tree.resident
    put_day(me, dt.date(2026, 11, 2), 30)  # Monday of the week
    put_day(me, dt.date(2026, 11, 8), 45, sessions=2, verified=20)  # Sunday
    put_day(me, dt.date(2026, 11, 9), 99)  # next week
    t = selectors.my_totals(me, period=Period.WEEK, on=dt.date(2026, 11, 5))
    assert (t.minutes, t.sessions, t.verified_minutes, t.days_active) == (75, 3, 50, 2)
    assert len(t.daily) == 7 and t.daily[0] == (dt.date(2026, 11, 2), 30)
    assert t.daily[1] == (dt.date(2026, 11, 3), 0)
    month = selectors.my_totals(me, period=Period.MONTH, on=dt.date(2026, 11, 5))
    assert month.minutes == 174 and len(month.daily) == 30


def test_by_sport_uses_local_days_and_counted_minutes(tree):
    from sportsman.core.models import Sport

    run = Sport.objects.create(slug="t-run", name_zh="跑步", name_en="Running", family="endurance")
    swim = Sport.objects.create(slug="t-swim", name_zh="游泳", name_en="Swimming",
                                family="endurance")
    me = tree.resident
    # 2026-11-01 00:30 in Shanghai is still 31 October in UTC: it belongs to November.
    put_record(me, dt.datetime(2026, 11, 1, 0, 30, tzinfo=LOCAL_TZ), 40, run, key="a")
    put_record(me, dt.datetime(2026, 11, 3, 8, tzinfo=LOCAL_TZ), 30, swim, key="b")
    put_record(me, dt.datetime(2026, 11, 4, 8, tzinfo=LOCAL_TZ), 20, run, key="c")
    put_record(me, dt.datetime(2026, 10, 31, 23, 50, tzinfo=LOCAL_TZ), 60, swim, key="d")
    rows = selectors.by_sport(me, dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    assert [(r.slug, r.minutes, r.sessions) for r in rows] == [("t-run", 60, 2),
                                                               ("t-swim", 30, 1)]


def test_streaks_current_survives_until_a_whole_day_is_missed():
    d = dt.date(2026, 11, 20)
    days = [d - dt.timedelta(days=n) for n in (10, 9, 8, 7, 2, 1)]
    s = selectors.streaks_from_days(sorted(days), on=d)
    assert (s.current, s.longest) == (2, 4)  # today not yet active: yesterday's run holds
    assert selectors.streaks_from_days(sorted(days), on=d + dt.timedelta(days=1)).current == 0
    assert selectors.streaks_from_days([], on=d).longest == 0


def test_streaks_from_rollups_ignore_zero_minute_days(tree):
    me = tree.resident
    for n, m in enumerate([10, 10, 0, 10, 10, 10]):
        put_day(me, dt.date(2026, 3, 1) + dt.timedelta(days=n), m)
    s = selectors.streaks(me, on=dt.date(2026, 3, 6))
    assert (s.current, s.longest) == (3, 3)


def test_calendar_and_heat_cells_cover_the_year(tree):
    me = tree.resident
    put_day(me, dt.date(2026, 1, 1), 15)
    put_day(me, dt.date(2026, 7, 1), 130)
    days = selectors.calendar(me, year=2026)
    cells = selectors.heat_cells(2026, days)
    assert len(cells) == 365
    first = cells[0]  # 2026-01-01 is a Thursday: row 3 of the first column
    assert (first.x, first.y, first.level) == (0, 36, 1)
    assert cells[181].minutes == 130 and cells[181].level == 4
    assert cells[1].level == 0


def test_compare_divides_by_active_residents_and_reports_all_residents_too(tree):
    me = tree.resident
    other = tree.user(home_community=tree.k1)
    tree.user(home_community=tree.k1)  # never exercises
    put_day(me, dt.date(2026, 5, 4), 60)
    put_day(other, dt.date(2026, 5, 5), 20)
    RegionDay.objects.create(region=tree.k1, day=dt.date(2026, 5, 4), minutes=60, sessions=1,
                             verified_minutes=60, active_users=1)
    RegionDay.objects.create(region=tree.k1, day=dt.date(2026, 5, 5), minutes=20, sessions=1,
                             verified_minutes=20, active_users=1)
    c = selectors.compare_with_community(me, period=Period.WEEK, on=dt.date(2026, 5, 6))
    assert c is not None
    assert (c.mine, c.community_minutes, c.active_residents, c.residents) == (60, 80, 2, 3)
    assert c.average_per_active == 40.0 and c.average_per_resident == pytest.approx(26.7)
    assert c.ratio == 1.5


def test_my_data_query_count_does_not_grow_with_days(tree):
    me = tree.resident
    for n in range(120):
        put_day(me, dt.date(2026, 1, 1) + dt.timedelta(days=n), 30)
    with CaptureQueriesContext(connection) as q:
        selectors.my_totals(me, period=Period.YEAR, on=dt.date(2026, 6, 1))
        selectors.streaks(me, on=dt.date(2026, 6, 1))
        selectors.calendar(me, year=2026)
        selectors.compare_with_community(me, period=Period.YEAR, on=dt.date(2026, 6, 1))
    assert len(q.captured_queries) == 2 + 1 + 1 + 4
