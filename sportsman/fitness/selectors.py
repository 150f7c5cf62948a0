"""Reading fitness records: staff lists are narrowed to FITNESS_MANAGE; a resident reads only
the records linked to their account."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Prefetch, QuerySet

from sportsman.fitness import scoring
from sportsman.fitness.models import FitnessTest, ItemResult, TestStation
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region, subtree_q


def stations_for(access: Access, *, region: Region | None = None) -> QuerySet[TestStation]:
    qs = access.scope(TestStation.objects.select_related("region"), Perm.FITNESS_MANAGE)
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    return qs.order_by("region__path", "name", "id")


def tests_for(access: Access, *, region: Region | None = None, station_id: int | None = None,
              grade: str | None = None) -> QuerySet[FitnessTest]:
    """Test records of the actor's scope, newest first (``-tested_on, -id``, the keyset)."""
    qs = access.scope(FitnessTest.objects.select_related("station", "region"),
                      Perm.FITNESS_MANAGE)
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    if grade is not None:
        qs = qs.filter(grade=grade)
    return qs.order_by("-tested_on", "-id")


def record_in_scope(access: Access, test_id: int) -> FitnessTest | None:
    return tests_for(access).prefetch_related("items").filter(pk=test_id).first()


def my_tests(user: Any) -> list[FitnessTest]:
    """The resident's own records, oldest first, with their items (two queries)."""
    return list(FitnessTest.objects.filter(user=user).select_related("station")
                .prefetch_related(Prefetch("items", queryset=ItemResult.objects.order_by("item")))
                .order_by("tested_on", "id"))


def trends(tests: list[FitnessTest]) -> dict[str, Any]:
    """Chart data for a resident's records: the days, the total per day and each scored item's
    points per day (None where the item was not scored that day)."""
    labels = [t.tested_on.isoformat() for t in tests]
    per_item: dict[str, list[int | None]] = defaultdict(lambda: [None] * len(tests))
    for i, t in enumerate(tests):
        for item in t.items.all():
            if item.points is not None:
                per_item[item.item][i] = item.points
    return {
        "labels": labels,
        "total": [t.total if t.grade else None for t in tests],
        "items": [{"item": k, "label": str(scoring.ITEMS[k][0]), "points": v}
                  for k, v in sorted(per_item.items())],
    }


def page_after(qs: QuerySet[FitnessTest], *, cursor: str | None,
               limit: int) -> tuple[list[FitnessTest], str | None]:
    """One page of ``tests_for`` after ``cursor`` ("<tested_on>.<id>" of the last row seen) and
    the next page's cursor (None on the last page). An unreadable cursor starts over."""
    import datetime as dt

    from django.db.models import Q

    if cursor:
        day_text, _sep, pk_text = cursor.partition(".")
        try:
            day, pk = dt.date.fromisoformat(day_text), int(pk_text)
        except ValueError:
            day, pk = None, 0
        if day is not None:
            qs = qs.filter(Q(tested_on__lt=day) | Q(tested_on=day, id__lt=pk))
    rows = list(qs[: limit + 1])
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], f"{last.tested_on.isoformat()}.{last.pk}"
    return rows, None
