"""Utilisation of a facility over a date range, for the venue console and its export.

- booked hours: the summed length of the bookings that were kept (booked, checked in,
  completed, or missed: a no-show still held the place), starting in the range;
- open hours: the opening intervals of every day in the range (weekly rules, exceptions and
  public holidays, read once) times the places per slot of the active units (one when the
  facility has none), so a two-court facility open 10 hours offers 20 court-hours;
- rate: booked ÷ open;
- visits per day and unique visitors, from ``Visit`` in one grouped query each;
- the weekday × hour heat map from the hourly rollup ``FacilityHour`` (the greater of visits
  started and people counted in: counters see the checked-in visitors too).

Every number is one aggregate query; only the calendar (at most a year of days) is walked in
Python, never the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, Greatest, TruncDate
from django.utils.translation import gettext as _

from sportsman.core.errors import InvalidInput
from sportsman.facilities import hours
from sportsman.facilities.models import (
    BookingStatus,
    Facility,
    FacilityHour,
    PublicHoliday,
    Unit,
    Visit,
)

MAX_DAYS = 366
KEPT = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN, BookingStatus.COMPLETED,
        BookingStatus.NO_SHOW)


@dataclass
class Utilisation:
    date_from: dt.date
    date_to: dt.date
    booked_hours: float
    open_hours: float
    places: int
    rate: float | None
    visits_per_day: dict[dt.date, int]
    unique_visitors: int
    total_visits: int
    heat: list[list[int]] = field(default_factory=list)  # [weekday 0..6][hour 0..23]

    @property
    def heat_max(self) -> int:
        return max((max(row) for row in self.heat), default=0)

    @property
    def days(self) -> list[dt.date]:
        n = (self.date_to - self.date_from).days + 1
        return [self.date_from + dt.timedelta(days=i) for i in range(n)]


def check_range(date_from: dt.date, date_to: dt.date) -> None:
    if date_to < date_from:
        msg = _("The start date is after the end date.")
        raise InvalidInput(msg, fields={"from": [msg]})
    if (date_to - date_from).days + 1 > MAX_DAYS:
        msg = _("At most %(n)d days at once.") % {"n": MAX_DAYS}
        raise InvalidInput(msg, fields={"to": [msg]})


def open_minutes(facility: Facility, date_from: dt.date, date_to: dt.date) -> int:
    """Minutes open over the range, from rules, exceptions and holidays loaded once."""
    rules = list(facility.opening_rules.all())
    exceptions = list(facility.opening_exceptions.filter(start_date__lte=date_to,
                                                         end_date__gte=date_from))
    holidays = set(PublicHoliday.objects.filter(date__gte=date_from, date__lte=date_to)
                   .values_list("date", flat=True))
    total = 0
    day = date_from
    while day <= date_to:
        covering = [e for e in exceptions if e.start_date <= day <= e.end_date]
        for opens, closes in hours.intervals_on(facility, day, rules=rules, exceptions=covering,
                                                is_holiday=day in holidays):
            total += ((closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute))
        day += dt.timedelta(days=1)
    return total


def utilisation(facility: Facility, date_from: dt.date, date_to: dt.date) -> Utilisation:
    """The utilisation of ``facility`` from ``date_from`` to ``date_to`` (local days,
    inclusive). The caller has checked the facility is in the actor's scope."""
    check_range(date_from, date_to)
    start = hours.aware(date_from, dt.time(0))
    end = hours.aware(date_to + dt.timedelta(days=1), dt.time(0))
    length = ExpressionWrapper(F("end") - F("start"), output_field=DurationField())
    booked = (facility.bookings.filter(start__gte=start, start__lt=end, status__in=KEPT)
              .aggregate(total=Sum(length))["total"]) or dt.timedelta(0)
    places = (Unit.objects.filter(facility=facility, is_active=True)
              .aggregate(n=Sum("capacity"))["n"]) or 1
    open_h = open_minutes(facility, date_from, date_to) / 60
    booked_h = booked.total_seconds() / 3600
    capacity_h = open_h * places
    visits = Visit.objects.filter(facility=facility, started_at__gte=start, started_at__lt=end)
    per_day = {row["day"]: row["n"] for row in
               visits.annotate(day=TruncDate("started_at", tzinfo=hours.LOCAL_TZ))
               .values("day").annotate(n=Count("id")).order_by("day")}
    counts = visits.aggregate(total=Count("id"), unique=Count("user", distinct=True))
    heat = [[0] * 24 for _ in range(7)]
    cells = (FacilityHour.objects.filter(facility=facility, hour__gte=start, hour__lt=end)
             .annotate(wd=ExtractIsoWeekDay("hour", tzinfo=hours.LOCAL_TZ),
                       hr=ExtractHour("hour", tzinfo=hours.LOCAL_TZ))
             .values("wd", "hr").annotate(n=Sum(Greatest("visits", "entries")))
             .order_by("wd", "hr"))
    for row in cells:
        heat[row["wd"] - 1][row["hr"]] = int(row["n"] or 0)
    return Utilisation(
        date_from=date_from, date_to=date_to, booked_hours=round(booked_h, 2),
        open_hours=round(open_h, 2), places=places,
        rate=round(booked_h / capacity_h, 4) if capacity_h else None,
        visits_per_day={date_from + dt.timedelta(days=i): per_day.get(
            date_from + dt.timedelta(days=i), 0)
            for i in range((date_to - date_from).days + 1)},
        unique_visitors=counts["unique"], total_visits=counts["total"], heat=heat)
