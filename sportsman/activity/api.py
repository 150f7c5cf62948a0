"""Exercise record API, read side: my data, rankings, my yearly report, a region's activity.

``/me/...`` operations are ``@for_self``. Rankings show nicknames, so they are not public:
``GET /rankings`` is ``@for_self`` and only answers for a region containing the caller's home
community (another region: 404). Staff read a region's totals through the ``@scoped``
``GET /regions/{region_id}/activity``. Bad input answers 400 with a stable code; nothing here
writes.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from sportsman.activity import rankings, report, selectors
from sportsman.activity.rankings import Metric
from sportsman.regions.access import Perm, access_for, for_self, scoped
from sportsman.regions.models import Region

router = Router(tags=["activity"])


# --- schemas -----------------------------------------------------------------------------------


class SportOut(Schema):
    sport_id: int | None
    slug: str
    name: str
    minutes: int
    sessions: int


class DayOut(Schema):
    day: dt.date
    minutes: int


class StreaksOut(Schema):
    current: int
    longest: int


class CompareOut(Schema):
    mine: int
    community_minutes: int
    active_residents: int
    residents: int
    average_per_active: float
    average_per_resident: float
    ratio: float | None


class MyActivityOut(Schema):
    period: str
    key: str
    start: dt.date
    end: dt.date
    minutes: int
    sessions: int
    verified_minutes: int
    verified_sessions: int
    days_active: int
    by_sport: list[SportOut]
    streaks: StreaksOut
    daily: list[DayOut]
    compare: CompareOut | None


class CalendarOut(Schema):
    year: int
    days: list[DayOut]
    total_minutes: int


class RankRowOut(Schema):
    user_id: int
    nickname: str
    score: int
    rank: int
    is_me: bool


class RankingOut(Schema):
    level: str
    region_id: int
    region_name: str
    period: str
    key: str
    metric: str
    items: list[RankRowOut]
    next_cursor: int | None
    my_rank: int | None
    my_score: int
    participants: int


class LevelRankOut(Schema):
    level: str
    region_id: int
    region_name: str
    rank: int | None
    score: int
    participants: int


class MyRanksOut(Schema):
    period: str
    key: str
    metric: str
    hidden: bool
    levels: list[LevelRankOut]


class RegionDayOut(Schema):
    day: dt.date
    minutes: int
    active_users: int


class TopOut(Schema):
    user_id: int
    nickname: str
    score: int
    rank: int


class RegionActivityOut(Schema):
    id: int
    name: str
    period: str
    key: str
    minutes: int
    sessions: int
    verified_minutes: int
    active_user_days: int
    daily: list[RegionDayOut]
    top: list[TopOut]


class PeriodQuery(Schema):
    period: str = "week"
    date: dt.date | None = None


class RankingQuery(Schema):
    level: str = "community"
    region: int | None = Field(None, ge=1, lt=2**63)
    period: str = "week"
    metric: str = "minutes"
    date: dt.date | None = None
    cursor: int = Field(0, ge=0, le=10**7)
    limit: int = Field(20, ge=1, le=rankings.MAX_PAGE)


class MyRanksQuery(Schema):
    period: str = "week"
    metric: str = "minutes"
    date: dt.date | None = None


class YearQuery(Schema):
    year: int | None = None


class StarsQuery(Schema):
    level: str = "community"
    region: int | None = Field(None, ge=1, lt=2**63)
    year: int | None = None
    top: int = Field(10, ge=1, le=100)


class StarsOut(Schema):
    level: str
    region_id: int
    region_name: str
    year: int
    items: list[TopOut]


def _year(value: int | None) -> int:
    return selectors.check_year(value if value is not None else selectors.today().year)


# --- my data -----------------------------------------------------------------------------------


@router.get("/me/activity", response=MyActivityOut)
@for_self
def my_activity(request: HttpRequest, q: Query[PeriodQuery]) -> dict:
    period = selectors.parse_period(q.period)
    on = q.date or selectors.today()
    selectors.check_year(on.year)
    totals = selectors.my_totals(request.user, period=period, on=on)
    streaks = selectors.streaks(request.user, on=min(on, selectors.today()))
    compare = selectors.compare_with_community(request.user, period=period, on=on,
                                               mine=totals.minutes)
    return {
        **{k: getattr(totals, k) for k in ("period", "key", "start", "end", "minutes",
                                           "sessions", "verified_minutes", "verified_sessions",
                                           "days_active")},
        "by_sport": [vars(s) for s in totals.by_sport],
        "streaks": {"current": streaks.current, "longest": streaks.longest},
        "daily": [{"day": d, "minutes": m} for d, m in totals.daily],
        "compare": {**vars(compare), "ratio": compare.ratio} if compare else None,
    }


@router.get("/me/activity/calendar", response=CalendarOut)
@for_self
def my_calendar(request: HttpRequest, q: Query[YearQuery]) -> dict:
    year = _year(q.year)
    days = selectors.calendar(request.user, year=year)
    return {"year": year, "total_minutes": sum(days.values()),
            "days": [{"day": d, "minutes": m} for d, m in sorted(days.items())]}


# --- rankings ----------------------------------------------------------------------------------


@router.get("/rankings", response=RankingOut)
@for_self
def ranking(request: HttpRequest, q: Query[RankingQuery]) -> dict:
    level = rankings.parse_level(q.level)
    period = selectors.parse_period(q.period)
    metric = rankings.parse_metric(q.metric)
    on = q.date or selectors.today()
    selectors.check_year(on.year)
    user = request.user
    region = rankings.region_for(user, level, q.region)
    page = rankings.ranking_page(region, period=period, on=on, metric=metric, cursor=q.cursor,
                                 limit=q.limit)
    rank, score, total = rankings.my_rank(user, region, period=period, on=on, metric=metric)
    return {"level": str(level), "region_id": region.pk, "region_name": region.name,
            "period": str(period), "key": selectors.period_key(period, on),
            "metric": str(metric),
            "items": [{**vars(r), "is_me": r.user_id == user.pk} for r in page.items],
            "next_cursor": page.next_cursor, "my_rank": rank, "my_score": score,
            "participants": total}


@router.get("/rankings/stars", response=StarsOut)
@for_self
def stars(request: HttpRequest, q: Query[StarsQuery]) -> dict:
    """The year's fitness stars (健身达人) of one of my regions: the residents within the top
    ``top`` ranks by verified minutes (ties at the cut-off are all stars)."""
    level = rankings.parse_level(q.level)
    year = _year(q.year)
    region = rankings.region_for(request.user, level, q.region)
    rows = rankings.fitness_stars(region, year=year, top=q.top)
    return {"level": str(level), "region_id": region.pk, "region_name": region.name,
            "year": year, "items": [vars(r) for r in rows]}


@router.get("/me/rankings", response=MyRanksOut)
@for_self
def my_rankings(request: HttpRequest, q: Query[MyRanksQuery]) -> dict:
    period = selectors.parse_period(q.period)
    metric = rankings.parse_metric(q.metric)
    on = q.date or selectors.today()
    selectors.check_year(on.year)
    levels = rankings.my_ranks(request.user, period=period, on=on, metric=metric)
    return {"period": str(period), "key": selectors.period_key(period, on),
            "metric": str(metric),
            "hidden": bool(getattr(request.user, "hide_from_rankings", False)),
            "levels": [{**vars(lr), "level": str(lr.level)} for lr in levels]}


# --- my yearly report --------------------------------------------------------------------------


@router.get("/me/report", response=report.YearlyReport)
@for_self
def my_report(request: HttpRequest, q: Query[YearQuery]) -> report.YearlyReport:
    return report.yearly_report(request.user, year=_year(q.year))


@router.get("/me/report.png")
@for_self
def my_report_png(request: HttpRequest, q: Query[YearQuery]) -> HttpResponse:
    year = _year(q.year)
    png = report.render_png(report.yearly_report(request.user, year=year))
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="sportsman-report-{year}.png"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- staff: a region's activity ----------------------------------------------------------------


@router.get("/regions/{region_id}/activity", response=RegionActivityOut)
@scoped(Perm.ACTIVITY_VIEW)
def region_activity(request: HttpRequest, region_id: int, q: Query[PeriodQuery]) -> dict:
    period = selectors.parse_period(q.period)
    on = q.date or selectors.today()
    selectors.check_year(on.year)
    region = get_object_or_404(Region, pk=region_id)
    access_for(request).require(Perm.ACTIVITY_VIEW, region)
    figures = selectors.region_activity(region, period=period, on=on)
    top = rankings.ranking_page_db(region, period=period, on=on, metric=Metric.MINUTES,
                                   limit=10)
    return {"id": region.pk, "name": region.name, "period": str(period),
            "key": selectors.period_key(period, on), "minutes": figures.minutes,
            "sessions": figures.sessions, "verified_minutes": figures.verified_minutes,
            "active_user_days": figures.active_user_days,
            "daily": [{"day": d, "minutes": m, "active_users": u} for d, m, u in figures.daily],
            "top": [vars(r) for r in top.items]}
