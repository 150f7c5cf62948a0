"""Spreadsheets for venue staff: the facility register (in the import format, so an exported file
can be edited and imported again), the bookings of a day, and a utilisation report.

Callers pass querysets already narrowed to the actor's scope and audit the export themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from sportsman.core import xlsx
from sportsman.core.models import Sport
from sportsman.facilities import hours
from sportsman.facilities.imports import COLUMNS
from sportsman.facilities.models import Booking, Facility, OpeningException, OpeningRule, Unit
from sportsman.facilities.stats import Utilisation

EXPORT_MAX_ROWS = 50_000
WEEKDAY_ZH = "一二三四五六日"


def hours_text(rules: Iterable[OpeningRule]) -> str:
    """Weekly rules in the import's 开放时间 notation, consecutive days with equal hours merged."""
    by_day: dict[int, list[str]] = {d: [] for d in range(7)}
    for r in rules:
        by_day[r.weekday].append(f"{hours.hhmm(r.opens)}-{hours.hhmm(r.closes)}")
    parts: list[str] = []
    day = 0
    while day < 7:
        times = by_day[day]
        last = day
        while last + 1 < 7 and by_day[last + 1] == times:
            last += 1
        if times:
            span = (f"周{WEEKDAY_ZH[day]}" if last == day
                    else f"周{WEEKDAY_ZH[day]}至周{WEEKDAY_ZH[last]}")
            parts.append(f"{span} {','.join(times)}")
        day = last + 1
    return "; ".join(parts)


def exceptions_text(exceptions: Iterable[OpeningException]) -> str:
    parts = []
    for e in exceptions:
        span = f"{e.start_date} 至 {e.end_date}"
        if e.is_closed or e.opens is None or e.closes is None:
            parts.append(f"{span} 闭馆")
        else:
            parts.append(f"{span} {e.opens:%H:%M}-{e.closes:%H:%M}")
    return "; ".join(parts)


def facilities_workbook(qs: QuerySet[Facility]) -> bytes:
    """The register in the import's columns; prefetches keep it to a handful of queries."""
    return xlsx.workbook([(_("Facilities"), [h for h, _key in COLUMNS], facility_rows(qs))])


def facility_rows(qs: QuerySet[Facility]) -> Iterable[list[Any]]:
    """The register's rows in the import's columns, streamed in chunks of 1,000 (also the bulk
    exchange's facilities export, docs/exchange.md)."""
    qs = qs.select_related("region").prefetch_related(
        Prefetch("sports", queryset=Sport.objects.order_by("slug")),
        Prefetch("opening_rules", queryset=OpeningRule.objects.order_by("weekday", "opens")),
        Prefetch("opening_exceptions", queryset=OpeningException.objects.order_by("start_date")),
        Prefetch("units", queryset=Unit.objects.filter(is_active=True).order_by("position",
                                                                                 "id")))

    def rows() -> Iterable[list[Any]]:
        for f in qs.iterator(chunk_size=1000):
            units = list(f.units.all())
            values = {
                "name": f.name, "category": f.category, "owner_kind": f.owner_kind,
                "region_code": f.region.code, "address": f.address, "lat": f.lat, "lng": f.lng,
                "sports": "、".join(s.name_zh for s in f.sports.all()),
                "capacity": f.capacity, "hours": hours_text(f.opening_rules.all()),
                "exceptions": exceptions_text(f.opening_exceptions.all()),
                "units": ",".join(u.name for u in units),
                "slot_minutes": units[0].slot_minutes if units else "",
                "price": (f"{units[0].price_cents / 100:g}" if units else ""),
                "contact_name": f.contact_name, "contact_phone": f.contact_phone,
                "holiday_hours": f.holiday_hours, "external_ref": f.external_ref,
                "description": f.description,
            }
            yield [values[key] for _header, key in COLUMNS]

    return rows()


def bookings_workbook(facility: Facility, day: dt.date, bookings: QuerySet[Booking]) -> bytes:
    """A day's bookings of one facility; residents shown by nickname and masked phone."""
    def rows() -> Iterable[list[Any]]:
        for b in bookings:
            user = b.user
            yield [b.start, b.end, b.slot.unit.name, user.nickname or "",
                   getattr(user, "masked_phone", ""), b.get_status_display(), b.checked_in_at]

    title = f"{facility.name} {day:%Y-%m-%d}"
    return xlsx.workbook([(title, [_("Start"), _("End"), _("Unit"), _("Nickname"), _("Phone"),
                           _("Status"), _("Checked in at")], rows())])


def utilisation_workbook(facility: Facility, report: Utilisation) -> bytes:
    summary: list[list[Any]] = [
        [_("Facility"), facility.name],
        [_("From"), report.date_from], [_("To"), report.date_to],
        [_("Booked hours"), report.booked_hours], [_("Open hours"), report.open_hours],
        [_("Places per slot"), report.places],
        [_("Utilisation"), report.rate if report.rate is not None else ""],
        [_("Visits"), report.total_visits], [_("Unique visitors"), report.unique_visitors],
    ]
    per_day: list[list[Any]] = [[day, n] for day, n in report.visits_per_day.items()]
    heat: list[list[Any]] = [[f"周{WEEKDAY_ZH[wd]}", *report.heat[wd]] for wd in range(7)]
    return xlsx.workbook([
        (_("Summary"), [_("Item"), _("Value")], summary),
        (_("Visits per day"), [_("Day"), _("Visits")], per_day),
        (_("Heat map"), [_("Weekday"), *[f"{h:02d}" for h in range(24)]], heat),
    ])


def subsidy_workbook(region_name: str, date_from: dt.date, date_to: dt.date,
                     rows: list[dict[str, Any]]) -> bytes:
    headers = ["场馆编号", "场馆", "社区", "类别", "到场人次", "服务人数", "使用时长(小时)",
               "预约利用率", "活跃指数", "补贴金额(元)"]
    title = f"{region_name} {date_from:%Y%m%d}-{date_to:%Y%m%d}"
    return xlsx.workbook([(title, headers, (
        [r["facility_id"], r["name"], r["community"], r["category"], r["visits"],
         r["visitors"], r["hours"], "" if r["utilisation"] is None else r["utilisation"],
         r["index"], r["share_cents"] / 100] for r in rows))])
