"""My points: the balance and the statement (the signed-in resident's own ledger)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from sportsman.regions.access import for_self
from sportsman.rewards import points
from sportsman.rewards.models import PointRule, RuleKind

PAGE_SIZE = 20


def _cursor(request: HttpRequest) -> int | None:
    raw = request.GET.get("cursor", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None


@for_self
def my_points(request: HttpRequest) -> HttpResponse:
    """My balance, how I earn points where I live, and my statement page by page."""
    user: Any = request.user
    rows = points.statement(user_id=user.pk, before=_cursor(request),
                            limit=PAGE_SIZE + 1)
    next_cursor = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    home = user.home_community
    rules: list[PointRule] = [r for kind in RuleKind.values
                              if (r := points.rule_for(kind=kind, region=home)) is not None]
    entries = [{"entry": e, "label": points.SOURCE_LABELS.get(e.source, e.source)}
               for e in rows[:PAGE_SIZE]]
    return render(request, "rewards/points/statement.html", {
        "balance": points.balance_of(user.pk), "entries": entries,
        "next_cursor": next_cursor, "rules": rules})


urlpatterns: list[URLPattern] = [
    path("points/", my_points, name="points"),
]
