"""My data, rankings and the yearly report (resident pages; logged-in residents, own data).

The figures come from the same selectors as the API; a page never computes a figure itself.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from sportsman.activity import rankings, report, selectors
from sportsman.activity.rankings import LEVELS, Metric, RankLevel
from sportsman.activity.selectors import Period
from sportsman.core.errors import DomainError
from sportsman.regions.access import for_self


def _period(request: HttpRequest) -> Period:
    try:
        return Period(request.GET.get("period", "week"))
    except ValueError:
        return Period.WEEK


def _tabs() -> list[tuple[str, str]]:
    return [(Period.WEEK, _("Week")), (Period.MONTH, _("Month")), (Period.YEAR, _("Year"))]


@for_self
def my_data(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    on = selectors.today()
    user = request.user
    totals = selectors.my_totals(user, period=period, on=on)
    year_days = selectors.calendar(user, year=on.year)
    cells = selectors.heat_cells(on.year, year_days)
    top = max((m for _d, m in totals.daily), default=0)
    return render(request, "activity/my_data.html", {
        "period": str(period), "tabs": _tabs(), "totals": totals,
        # Bars for the week or month (a viewBox 10 units a day, 100 high; no JS).
        "bars": [(d, m, i * 10, 100 - h, h) for i, (d, m) in enumerate(totals.daily)
                 for h in [round(100 * m / top) if top else 0]],
        "bars_width": 10 * len(totals.daily),
        "streaks": selectors.streaks(user, on=on),
        "compare": selectors.compare_with_community(user, period=period, on=on,
                                                    mine=totals.minutes),
        "cells": cells, "year": on.year, "year_minutes": sum(year_days.values()),
        "heat_width": (cells[-1].x + 12) if cells else 0,
    })


@for_self
def ranking(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    try:
        level = RankLevel(request.GET.get("level", "community"))
    except ValueError:
        level = RankLevel.COMMUNITY
    try:
        metric = Metric(request.GET.get("metric", "minutes"))
    except ValueError:
        metric = Metric.MINUTES
    on = selectors.today()
    user = request.user
    context: dict = {"period": str(period), "level": str(level), "metric": str(metric),
                     "tabs": _tabs(), "hidden": getattr(user, "hide_from_rankings", False),
                     "levels": [(lv, rankings.level_label(lv)) for lv in LEVELS],
                     "metrics": [(Metric.MINUTES, _("Minutes")), (Metric.SESSIONS, _("Sessions"))]}
    try:
        region = rankings.region_for(user, level, None)
    except DomainError as exc:
        context["problem"] = exc.message
        return render(request, "activity/rankings.html", context)
    page = rankings.ranking_page(region, period=period, on=on, metric=metric, limit=50)
    rank, score, total = rankings.my_rank(user, region, period=period, on=on, metric=metric)
    context.update(region=region, page=page, my_rank=rank, my_score=score, participants=total,
                   star_year=on.year - 1,
                   stars=rankings.fitness_stars(region, year=on.year - 1, top=10))
    return render(request, "activity/rankings.html", context)


def _year(year: int) -> int:
    try:
        return selectors.check_year(year)
    except DomainError:
        raise Http404(_("No report for that year.")) from None


@for_self
def yearly_report(request: HttpRequest, year: int) -> HttpResponse:
    data = report.yearly_report(request.user, year=_year(year))
    return render(request, "activity/report.html", {
        "report": data, "lines": report.report_lines(data), "year": year,
        "years": [y for y in range(selectors.today().year, selectors.today().year - 5, -1)],
    })


@for_self
def yearly_report_png(request: HttpRequest, year: int) -> HttpResponse:
    png = report.render_png(report.yearly_report(request.user, year=_year(year)))
    response = HttpResponse(png, content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="sportsman-report-{year}.png"'
    response["Cache-Control"] = "private, max-age=300"
    return response


urlpatterns = [
    path("me/", my_data, name="my_data"),
    path("rankings/", ranking, name="rankings"),
    path("me/report/<int:year>/", yearly_report, name="report"),
    path("me/report/<int:year>.png", yearly_report_png, name="report_png"),
]

