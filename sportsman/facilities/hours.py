"""Opening hours: weekly rules, date exceptions (closures, school holidays) and public holidays.

One reading of the rules, in two forms that must agree (a test checks them against each other):
``intervals_on()`` answers for one facility and one date in Python (slots, the facility page),
``open_at_q()`` answers "open at this moment?" as a database filter (search over many facilities).

Precedence for a date: an exception covering it wins (closed, or its own hours); otherwise on a
public holiday the facility's ``holiday_hours`` applies (usual hours, Sunday's hours, or closed);
otherwise the weekday's rules. A facility whose status is not "open" is never open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q

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


def is_open_at(facility: Facility, when: dt.datetime) -> bool:
    t = local(when)
    return any(opens <= t.time() < closes for opens, closes in intervals_on(facility, t.date()))


def open_at_q(when: dt.datetime) -> Q:
    """Facilities open at ``when``, as a filter on ``Facility`` (three indexed subqueries)."""
    t = local(when)
    day, now = t.date(), t.time()
    covering = OpeningException.objects.filter(facility=OuterRef("pk"), start_date__lte=day,
                                               end_date__gte=day)
    open_by_exception = Exists(covering.filter(is_closed=False, opens__lte=now, closes__gt=now))
    holiday = PublicHoliday.objects.filter(date=day).exists()

    def by_rules(weekday: int) -> Exists:
        return Exists(OpeningRule.objects.filter(facility=OuterRef("pk"), weekday=weekday,
                                                 opens__lte=now, closes__gt=now))

    if holiday:
        weekly = ((Q(holiday_hours=HolidayHours.NORMAL) & by_rules(day.weekday()))
                  | (Q(holiday_hours=HolidayHours.WEEKEND) & by_rules(SUNDAY)))
    else:
        weekly = Q(by_rules(day.weekday()))
    return Q(status=FacilityStatus.OPEN) & (open_by_exception | (~Exists(covering) & weekly))
