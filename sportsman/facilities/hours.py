"""Opening hours: weekly rules, date exceptions (closures, school holidays) and public holidays.

One reading of the rules, in two forms that must agree (a test checks them against each other):
``intervals_on()`` answers for one facility and one date in Python (slots, the facility page),
``open_at_sql()`` answers "open at this moment?" as a SQL condition (search over many
facilities).

Precedence for a date: an exception covering it wins (closed, or its own hours); otherwise on a
public holiday the facility's ``holiday_hours`` applies (usual hours, Sunday's hours, or closed);
otherwise the weekday's rules. A facility whose status is not "open" is never open.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from sportsman.facilities.models import (
    Facility,
    FacilityStatus,
    HolidayHours,
    OpeningException,
    OpeningRule,
    PublicHoliday,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
SUNDAY = 6

Interval = tuple[dt.time, dt.time]


def local(when: dt.datetime) -> dt.datetime:
    return when.astimezone(LOCAL_TZ)


def aware(day: dt.date, at: dt.time) -> dt.datetime:
    """The local wall-clock time ``at`` on ``day`` as an aware datetime."""
    return dt.datetime.combine(day, at, tzinfo=LOCAL_TZ)


def intervals_on(facility: Facility, day: dt.date, *,
                 rules: Iterable[OpeningRule] | None = None,
                 exceptions: Iterable[OpeningException] | None = None,
                 is_holiday: bool | None = None) -> list[Interval]:
    """The opening intervals of ``facility`` on local date ``day``, sorted. Pass ``rules`` and
    ``exceptions`` when they are already loaded (lists of many facilities) to save queries."""
    if facility.status != FacilityStatus.OPEN:
        return []
    if exceptions is None:
        exceptions = facility.opening_exceptions.filter(start_date__lte=day, end_date__gte=day)
    for exc in exceptions:
        if exc.start_date <= day <= exc.end_date:
            if exc.is_closed or exc.opens is None or exc.closes is None:
                return []
            return [(exc.opens, exc.closes)]
    weekday = day.weekday()
    if is_holiday is None:
        is_holiday = PublicHoliday.objects.filter(date=day).exists()
    if is_holiday:
        if facility.holiday_hours == HolidayHours.CLOSED:
            return []
        if facility.holiday_hours == HolidayHours.WEEKEND:
            weekday = SUNDAY
    if rules is None:
        rules = facility.opening_rules.filter(weekday=weekday)
    return sorted((r.opens, r.closes) for r in rules if r.weekday == weekday)


@functools.lru_cache(maxsize=4096)  # a city's rules use a few hundred distinct times
def hhmm(value: dt.time | str) -> str:
    """A time as the API writes it ("24:00" for the end of the day, 23:59:59), from a time or
    its text as the database stores it ("06:30:00")."""
    text = value if isinstance(value, str) else value.isoformat()
    return "24:00" if text.startswith("23:59:59") else text[:5]


def is_open_at(facility: Facility, when: dt.datetime) -> bool:
    t = local(when)
    return any(opens <= t.time() < closes for opens, closes in intervals_on(facility, t.date()))


def open_at_sql(when: dt.datetime, alias: str) -> tuple[str, list[Any]]:
    """Facilities open at ``when`` as a SQL condition on the facility table named ``alias``
    (three indexed subqueries) and its parameters: what search filters by and shows as "open
    now" for a page of results, in one statement with the rest."""
    t = local(when)
    day = connection.ops.adapt_datefield_value(t.date())
    now = connection.ops.adapt_timefield_value(t.time())
    exc, rule = OpeningException._meta.db_table, OpeningRule._meta.db_table
    holiday = f"EXISTS (SELECT 1 FROM {PublicHoliday._meta.db_table} h WHERE h.date = %s)"  # noqa: S608 (our tables; values are parameters)
    covering = (f"SELECT 1 FROM {exc} e WHERE e.facility_id = {alias}.id"  # noqa: S608 (our tables; values are parameters)
                " AND e.start_date <= %s AND e.end_date >= %s")
    by_rules = (f"EXISTS (SELECT 1 FROM {rule} r WHERE r.facility_id = {alias}.id"  # noqa: S608 (our tables; values are parameters)
                " AND r.weekday = %s AND r.opens <= %s AND r.closes > %s)")
    sql = (f"({alias}.status = %s AND (EXISTS ({covering} AND NOT e.is_closed"
           " AND e.opens <= %s AND e.closes > %s)"
           f" OR (NOT EXISTS ({covering})"
           f" AND (((NOT {holiday} OR {alias}.holiday_hours = %s) AND {by_rules})"
           f" OR ({holiday} AND {alias}.holiday_hours = %s AND {by_rules})))))")
    params = [FacilityStatus.OPEN, day, day, now, now, day, day,
              day, HolidayHours.NORMAL, t.date().weekday(), now, now,
              day, HolidayHours.WEEKEND, SUNDAY, now, now]
    return sql, params
