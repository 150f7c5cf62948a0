"""Facilities' cockpit figures (see ``sportsman.core.figures``), by the facility's community.

Utilisation is booked place-minutes over offered place-minutes of the bookable slots of the
period (a slot offers capacity × its length; a booking that was not cancelled takes its length),
by the day the slot starts. Maintenance tickets count as resolved on time when done within
``ON_TIME`` of being opened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.facilities.models import (
    Booking,
    BookingStatus,
    Facility,
    MaintenanceTicket,
    Slot,
    SlotStatus,
    TicketStatus,
    Visit,
)

DOMAIN = "facilities"
REGION = "facility__region_id"
ON_TIME = dt.timedelta(hours=72)


@figures.metric("facilities", label=_("facilities"), kind=Kind.STOCK, domain=DOMAIN, order=30)
def facilities(start: dt.date, end: dt.date) -> Iterator[Row]:
    since, until = figures.utc_bounds(start, end)
    qs = Facility.objects.all()
    before = dict(qs.filter(created_at__lt=since).values("region_id").annotate(n=Count("id"))
                  .values_list("region_id", "n"))
    added = (qs.filter(created_at__gte=since, created_at__lt=until)
             .values("region_id", day=figures.local_date("created_at")).annotate(n=Count("id"))
             .values_list("region_id", "day", "n"))
    return figures.stock_from_changes(
        before, ((r, figures.as_date(d), n) for r, d, n in added), start, end)


@figures.metric("smart_facilities", label=_("smart facilities (with devices)"), kind=Kind.STOCK,
                domain=DOMAIN, order=31)
def smart_facilities(start: dt.date, end: dt.date) -> Iterator[Row]:
    since, until = figures.utc_bounds(start, end)
    first = (Facility.objects.exclude(devices=None).annotate(first=Min("devices__created_at"))
             .filter(first__lt=until).values_list("region_id", "first"))
    tz = figures.zone()
    before: dict[int, int] = {}
    changes = []
    for region_id, at in first:
        if at < since:
            before[region_id] = before.get(region_id, 0) + 1
        else:
            changes.append((region_id, at.astimezone(tz).date(), 1))
    return figures.stock_from_changes(before, changes, start, end)


@figures.metric("bookings", label=_("bookings"), kind=Kind.FLOW, domain=DOMAIN, order=32)
def bookings(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Booking.objects.exclude(status=BookingStatus.CANCELLED), at="start",
                           region=REGION, value=Count("id"), start=start, end=end)


@figures.metric("visits", label=_("facility visits"), kind=Kind.FLOW, domain=DOMAIN, order=33)
def visits(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Visit.objects.all(), at="started_at", region=REGION,
                           value=Count("id"), start=start, end=end)


@figures.metric("place_minutes_offered", label=_("place-minutes offered for booking"),
                kind=Kind.FLOW, domain=DOMAIN, unit=_("minutes"), order=34)
def place_minutes_offered(start: dt.date, end: dt.date) -> Iterator[Row]:
    since, until = figures.utc_bounds(start, end)
    rows = (Slot.objects.filter(status=SlotStatus.OPEN, start__gte=since, start__lt=until)
            .values_list(REGION, "start", "end", "capacity"))
    return figures.summed((r, s, figures.minutes_between(s, e) * c) for r, s, e, c in rows)


@figures.metric("place_minutes_booked", label=_("place-minutes booked"), kind=Kind.FLOW,
                domain=DOMAIN, unit=_("minutes"), order=35)
def place_minutes_booked(start: dt.date, end: dt.date) -> Iterator[Row]:
    since, until = figures.utc_bounds(start, end)
    rows = (Booking.objects.exclude(status=BookingStatus.CANCELLED)
            .filter(start__gte=since, start__lt=until).values_list(REGION, "start", "end"))
    return figures.summed((r, s, figures.minutes_between(s, e)) for r, s, e in rows)


@figures.metric("tickets_opened", label=_("maintenance tickets opened"), kind=Kind.FLOW,
                domain=DOMAIN, order=40)
def tickets_opened(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(MaintenanceTicket.objects.all(), at="created_at", region=REGION,
                           value=Count("id"), start=start, end=end)


@figures.metric("tickets_done", label=_("maintenance tickets resolved"), kind=Kind.FLOW,
                domain=DOMAIN, order=41)
def tickets_done(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(MaintenanceTicket.objects.filter(status=TicketStatus.DONE),
                           at="done_at", region=REGION, value=Count("id"), start=start, end=end)


@figures.metric("tickets_done_on_time", label=_("maintenance tickets resolved on time"),
                kind=Kind.FLOW, domain=DOMAIN, order=42)
def tickets_done_on_time(start: dt.date, end: dt.date) -> Iterator[Row]:
    since, until = figures.utc_bounds(start, end)
    rows = (MaintenanceTicket.objects.filter(status=TicketStatus.DONE, done_at__gte=since,
                                             done_at__lt=until)
            .values_list(REGION, "created_at", "done_at"))
    return figures.summed((r, done, 1) for r, opened, done in rows if done - opened <= ON_TIME)


figures.ratio("utilisation", label=_("utilisation of bookable places"),
              numerator="place_minutes_booked", denominator="place_minutes_offered",
              domain=DOMAIN, order=34)
figures.ratio("tickets_on_time_rate", label=_("maintenance resolved on time"),
              numerator="tickets_done_on_time", denominator="tickets_done", domain=DOMAIN,
              order=42)

# The demand signals (slots, waitlists, lotteries, search misses) register with the metrics.
from sportsman.facilities import demand  # noqa: E402, F401
