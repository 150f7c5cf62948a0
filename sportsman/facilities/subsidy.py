"""Facility subsidy evaluation: an activity index per facility over a period, and a subsidy
budget allocated over a region's facilities in proportion to it.

The index of a facility (0–100) weighs four parts, each scaled to the region's most active
facility in the period so that the index compares facilities with each other:

- visits (35 %), unique visitors (30 %), hours spent there (25 %) — from ``Visit``;
- utilisation (10 %): booked hours ÷ bookable hours, for facilities with bookable units; a place
  without units (a fitness path, a trail) is scored on the other three parts, re-weighted to
  100 %, so it is not punished for having nothing to book.

The budget (in fen) is split in proportion to the index with the largest-remainder method: the
shares add up to the budget exactly, and a facility with no activity gets nothing. Every figure
is a grouped query over all facilities of the region at once; only the calendar of each
facility's opening hours is walked in Python (rules, exceptions and holidays loaded once).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, QuerySet, Sum
from django.utils.translation import gettext as _

from sportsman.core.errors import InvalidInput
from sportsman.facilities import hours
from sportsman.facilities.models import (
    Booking,
    Facility,
    OpeningException,
    OpeningRule,
    PublicHoliday,
    Unit,
    Visit,
)
from sportsman.facilities.stats import KEPT, check_range

WEIGHTS = {"visits": 0.35, "visitors": 0.30, "hours": 0.25, "utilisation": 0.10}
MAX_BUDGET_CENTS = 10**13  # ¥100 billion: anything above is a typing error


@dataclass
class Score:
    facility: Facility
    visits: int
    visitors: int
    hours: float
    utilisation: float | None  # None: nothing bookable
    index: float = 0.0
    share_cents: int = 0


def _open_place_hours(facilities: list[Facility], places: dict[int, int], date_from: dt.date,
                      date_to: dt.date) -> dict[int, float]:
    """Bookable hours (open hours × places of the active units) per facility with units."""
    ids = [f.pk for f in facilities if places.get(f.pk)]
    rules: dict[int, list[OpeningRule]] = defaultdict(list)
    for rule in OpeningRule.objects.filter(facility_id__in=ids):
        rules[rule.facility_id].append(rule)
    exceptions: dict[int, list[OpeningException]] = defaultdict(list)
    for exc in OpeningException.objects.filter(facility_id__in=ids, start_date__lte=date_to,
                                               end_date__gte=date_from):
        exceptions[exc.facility_id].append(exc)
    holidays = set(PublicHoliday.objects.filter(date__gte=date_from, date__lte=date_to)
                   .values_list("date", flat=True))
    days = [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    out: dict[int, float] = {}
    for f in facilities:
        if f.pk not in places:
            continue
        minutes = 0
        for day in days:
            covering = [e for e in exceptions[f.pk] if e.start_date <= day <= e.end_date]
            for opens, closes in hours.intervals_on(f, day, rules=rules[f.pk],
                                                    exceptions=covering,
                                                    is_holiday=day in holidays):
                minutes += (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
        out[f.pk] = minutes / 60 * places[f.pk]
    return out


def evaluate(facilities: QuerySet[Facility], date_from: dt.date, date_to: dt.date,
             *, budget_cents: int = 0) -> list[Score]:
    """Score ``facilities`` (already narrowed to the actor's scope) over the local days
    ``date_from``..``date_to`` and split ``budget_cents`` over them. Sorted by index, highest
    first."""
    check_range(date_from, date_to)
    if not 0 <= budget_cents <= MAX_BUDGET_CENTS:
        msg = _("The budget is out of range.")
        raise InvalidInput(msg, code="budget_out_of_range", fields={"budget": [msg]})
    start = hours.aware(date_from, dt.time(0))
    end = hours.aware(date_to + dt.timedelta(days=1), dt.time(0))
    items = list(facilities.select_related("region").order_by("pk"))
    ids = [f.pk for f in items]
    length = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    visit_rows: dict[int, dict[str, Any]] = {r["facility_id"]: dict(r) for r in (
        Visit.objects.filter(facility_id__in=ids, started_at__gte=start, started_at__lt=end,
                             ended_at__isnull=False)
        .values("facility_id")
        .annotate(n=Count("id"), people=Count("user", distinct=True), spent=Sum(length)))}
    places = {r["facility_id"]: r["n"] for r in (
        Unit.objects.filter(facility_id__in=ids, is_active=True).values("facility_id")
        .annotate(n=Sum("capacity")))}
    booked_length = ExpressionWrapper(F("end") - F("start"), output_field=DurationField())
    booked = {r["facility_id"]: r["t"] for r in (
        Booking.objects.filter(facility_id__in=ids, start__gte=start, start__lt=end,
                               status__in=KEPT)
        .values("facility_id").annotate(t=Sum(booked_length)))}
    bookable = _open_place_hours(items, places, date_from, date_to)
    scores: list[Score] = []
    for f in items:
        row = visit_rows.get(f.pk, {})
        spent = row.get("spent") or dt.timedelta(0)
        capacity_h = bookable.get(f.pk)
        utilisation = None
        if capacity_h:
            booked_h = (booked.get(f.pk) or dt.timedelta(0)).total_seconds() / 3600
            utilisation = min(1.0, booked_h / capacity_h)
        scores.append(Score(facility=f, visits=row.get("n", 0), visitors=row.get("people", 0),
                            hours=round(spent.total_seconds() / 3600, 2),
                            utilisation=utilisation))
    _index(scores)
    _allocate(scores, budget_cents)
    scores.sort(key=lambda s: (-s.index, s.facility.pk))
    return scores


def _index(scores: list[Score]) -> None:
    top = {"visits": max((s.visits for s in scores), default=0),
           "visitors": max((s.visitors for s in scores), default=0),
           "hours": max((s.hours for s in scores), default=0.0)}
    for s in scores:
        parts = {"visits": s.visits / top["visits"] if top["visits"] else 0.0,
                 "visitors": s.visitors / top["visitors"] if top["visitors"] else 0.0,
                 "hours": s.hours / top["hours"] if top["hours"] else 0.0}
        weights = dict(WEIGHTS)
        if s.utilisation is None:
            weights.pop("utilisation")
        else:
            parts["utilisation"] = s.utilisation
        total_weight = sum(weights.values())
        s.index = round(100 * sum(weights[k] * parts[k] for k in weights) / total_weight, 2)


def _allocate(scores: list[Score], budget_cents: int) -> None:
    """Largest remainder: floor of each exact share, then one fen each to the largest
    remainders (ties to the smaller facility id) until the budget is spent."""
    total = sum(s.index for s in scores)
    if not budget_cents or total <= 0:
        return
    exact = [(budget_cents * s.index / total, s) for s in scores]
    for value, s in exact:
        s.share_cents = int(value)
    left = budget_cents - sum(s.share_cents for s in scores)
    order = sorted(exact, key=lambda pair: (-(pair[0] - int(pair[0])), pair[1].facility.pk))
    for _value, s in order[:left]:
        s.share_cents += 1


def as_rows(scores: list[Score]) -> list[dict[str, Any]]:
    return [{"facility_id": s.facility.pk, "name": s.facility.name,
             "community": s.facility.region.name, "category": s.facility.category,
             "visits": s.visits, "visitors": s.visitors, "hours": s.hours,
             "utilisation": None if s.utilisation is None else round(s.utilisation, 4),
             "index": s.index, "share_cents": s.share_cents} for s in scores]
