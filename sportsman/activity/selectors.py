"""My data: what one resident's exercise record adds up to (read side; see docs/activity.md).

Every figure comes from the rollups (``UserDay``, ``RegionDay``) except the split by sport, which
groups ``ActivityRecord.counted_minutes`` (the rollups carry no sport). Each selector runs a fixed
number of grouped queries whatever the length of the period: never one query per day.

Periods are local (Asia/Shanghai) calendar periods: an ISO week (Monday to Sunday), a calendar
month or a calendar year, named by any day inside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Sum

from sportsman.activity.models import ActivityRecord, RegionDay, UserDay
from sportsman.core.errors import InvalidInput

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Years a resident may ask about: the platform has no data before, and none after next year.
FIRST_YEAR = 2000


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


def today() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()


def parse_period(value: str) -> Period:
    from django.utils.translation import gettext as _

    try:
        return Period(value)
    except ValueError:
        raise InvalidInput(_("Unknown period."), code="bad_period",
                           fields={"period": _("Choose week, month or year.")}) from None


def check_year(year: int) -> int:
    from django.utils.translation import gettext as _

    if not FIRST_YEAR <= year <= today().year + 1:
        raise InvalidInput(_("That year is out of range."), code="bad_year",
                           fields={"year": _("Choose a year from %(first)d to %(last)d.") % {
                               "first": FIRST_YEAR, "last": today().year + 1}})
    return year


def period_bounds(period: Period, on: dt.date) -> tuple[dt.date, dt.date]:
    """The local days ``[start, end)`` of the week, month or year containing ``on``."""
    if period is Period.WEEK:
        start = on - dt.timedelta(days=on.isoweekday() - 1)
        return start, start + dt.timedelta(days=7)
    if period is Period.MONTH:
        start = on.replace(day=1)
        nxt = (start.replace(year=start.year + 1, month=1) if start.month == 12
               else start.replace(month=start.month + 1))
        return start, nxt
    start = dt.date(on.year, 1, 1)
    return start, dt.date(on.year + 1, 1, 1)


def period_key(period: Period, on: dt.date) -> str:
    """A stable name for the period: "2026-W48", "2026-11", "2026"."""
    if period is Period.WEEK:
        year, week, _ = on.isocalendar()
        return f"{year}-W{week:02d}"
    if period is Period.MONTH:
        return f"{on.year}-{on.month:02d}"
    return str(on.year)


def local_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Aware datetimes bounding the local days ``[start, end)``."""
    return (dt.datetime.combine(start, dt.time(), LOCAL_TZ),
            dt.datetime.combine(end, dt.time(), LOCAL_TZ))


@dataclass
class SportTotal:
    sport_id: int | None
    slug: str
    name: str
    minutes: int
    sessions: int


@dataclass
class Totals:
    period: str
    key: str
    start: dt.date
    end: dt.date  # inclusive last day
    minutes: int = 0
    sessions: int = 0
    verified_minutes: int = 0
    verified_sessions: int = 0
    days_active: int = 0
    by_sport: list[SportTotal] = field(default_factory=list)
    daily: list[tuple[dt.date, int]] = field(default_factory=list)


def _sport_name(row: Any) -> str:
    from django.utils.translation import get_language
    from django.utils.translation import gettext as _

    if row["sport_id"] is None:
        return _("Other")
    zh = (get_language() or "zh").startswith("zh")
    return str(row["sport__name_zh"] if zh else row["sport__name_en"])


def by_sport(user: Any, start: dt.date, end: dt.date) -> list[SportTotal]:
    """Counted minutes and sessions per sport over local days ``[start, end)``, most first: one
    grouped query. Only the counted part of overlapping sessions is added (see models)."""
    lo, hi = local_range(start, end)
    rows = (ActivityRecord.objects
            .filter(user=user, started_at__gte=lo, started_at__lt=hi)
            .values("sport_id", "sport__slug", "sport__name_zh", "sport__name_en")
            .annotate(minutes=Sum("counted_minutes"), sessions=Count("id"))
            .order_by("-minutes", "sport_id"))
    return [SportTotal(r["sport_id"], r["sport__slug"] or "", _sport_name(r), r["minutes"] or 0,
                       r["sessions"]) for r in rows]


def my_totals(user: Any, *, period: Period, on: dt.date) -> Totals:
    """The resident's totals for the period containing ``on``: sums, days active, the split by
    sport and the daily series (every day of the period, zeros included). Three queries: the
    period's ``UserDay`` rows (sums and series from the same rows), and the sport split."""
    start, end = period_bounds(period, on)
    out = Totals(period=str(period), key=period_key(period, on), start=start,
                 end=end - dt.timedelta(days=1))
    days = {d["day"]: d for d in UserDay.objects.filter(user=user, day__gte=start, day__lt=end)
            .values("day", "minutes", "sessions", "verified_minutes", "verified_sessions")}
    for d in days.values():
        out.minutes += d["minutes"]
        out.sessions += d["sessions"]
        out.verified_minutes += d["verified_minutes"]
        out.verified_sessions += d["verified_sessions"]
        out.days_active += d["minutes"] > 0
    day = start
    while day < end:
        out.daily.append((day, days[day]["minutes"] if day in days else 0))
        day += dt.timedelta(days=1)
    out.by_sport = by_sport(user, start, end)
    return out


@dataclass
class Streaks:
    current: int
    longest: int
    longest_end: dt.date | None


def streaks_from_days(days: list[dt.date], *, on: dt.date) -> Streaks:
    """Runs of consecutive active days in a sorted list. The current streak is the run ending
    ``on`` — or the day before, since a streak is not broken until a whole day passes without
    exercise."""
    longest, longest_end, run, prev = 0, None, 0, None
    for day in days:
        run = run + 1 if prev is not None and day - prev == dt.timedelta(days=1) else 1
        if run > longest:
            longest, longest_end = run, day
        prev = day
    current = 0
    if prev is not None and on - prev <= dt.timedelta(days=1) and prev <= on:
        current = run
    return Streaks(current=current, longest=longest, longest_end=longest_end)


def streaks(user: Any, *, on: dt.date | None = None) -> Streaks:
    """Current and longest streak of days with exercise, up to ``on``: one query over the
    resident's active days (a few hundred rows a year)."""
    on = on or today()
    days = list(UserDay.objects.filter(user=user, minutes__gt=0, day__lte=on)
                .order_by("day").values_list("day", flat=True))
    return streaks_from_days(days, on=on)


def calendar(user: Any, *, year: int) -> dict[dt.date, int]:
    """Minutes per active local day of ``year`` (days without exercise are absent): one query."""
    return dict(UserDay.objects.filter(user=user, day__year=year, minutes__gt=0)
                .values_list("day", "minutes"))


@dataclass
class HeatCell:
    day: dt.date
    minutes: int
    level: int  # 0 (none) … 4 (most)
    x: int
    y: int


HEAT_STEPS = (1, 30, 60, 120)  # minutes at which a day reaches level 1, 2, 3, 4


def heat_cells(year: int, minutes: dict[dt.date, int], *, cell: int = 12) -> list[HeatCell]:
    """The year laid out as a GitHub-style grid: a column per ISO-aligned week, a row per
    weekday (Monday on top); positions in pixels for an inline SVG."""
    first = dt.date(year, 1, 1)
    origin = first - dt.timedelta(days=first.isoweekday() - 1)
    out, day = [], first
    while day.year == year:
        m = minutes.get(day, 0)
        level = sum(m >= step for step in HEAT_STEPS)
        offset = (day - origin).days
        out.append(HeatCell(day, m, level, (offset // 7) * cell, (offset % 7) * cell))
        day += dt.timedelta(days=1)
    return out


@dataclass
class Comparison:
    mine: int
    community_minutes: int
    active_residents: int
    residents: int
    average_per_active: float
    average_per_resident: float

    @property
    def ratio(self) -> float | None:
        """Mine over the community's average per active resident (the headline figure)."""
        return round(self.mine / self.average_per_active, 2) if self.average_per_active else None


def compare_with_community(user: Any, *, period: Period, on: dt.date,
                           mine: int | None = None) -> Comparison | None:
    """My minutes against my home community's average for the period. The headline average
    divides the community's minutes (``RegionDay``) by the residents of the community with any
    exercise in the period (a resident who never records would drag the figure to meaningless
    lows); the average over all registered residents is returned as well. Four queries (three
    when ``mine`` is given); None without a home community."""
    from sportsman.accounts.models import User

    region_id = user.home_community_id
    if region_id is None:
        return None
    start, end = period_bounds(period, on)
    if mine is None:
        mine = UserDay.objects.filter(user=user, day__gte=start, day__lt=end).aggregate(
            m=Sum("minutes"))["m"] or 0
    community = RegionDay.objects.filter(region_id=region_id, day__gte=start, day__lt=end)\
        .aggregate(m=Sum("minutes"))["m"] or 0
    # Whoever exercised as a resident of the community (the same rows RegionDay adds up).
    active = (UserDay.objects.filter(region_id=region_id, day__gte=start, day__lt=end,
                                     minutes__gt=0)
              .values("user_id").distinct().count())
    residents = User.objects.filter(home_community_id=region_id).count()
    return Comparison(mine=mine, community_minutes=community, active_residents=active,
                      residents=residents,
                      average_per_active=round(community / active, 1) if active else 0.0,
                      average_per_resident=round(community / residents, 1) if residents else 0.0)


@dataclass
class RegionActivity:
    minutes: int
    sessions: int
    verified_minutes: int
    active_user_days: int
    daily: list[tuple[dt.date, int, int]]  # (day, minutes, active users)


def region_activity(region: Any, *, period: Period, on: dt.date) -> RegionActivity:
    """A region's exercise over the period, its subtree's community rollups added up: one grouped
    query by day (totals are the sum of the series). ``active_user_days`` adds each day's
    active residents (a person active on three days counts three times). Caller checks
    ``Perm.ACTIVITY_VIEW`` on the region."""
    from sportsman.regions.models import subtree_q

    start, end = period_bounds(period, on)
    rows = (RegionDay.objects.filter(subtree_q(region.path, "region"), day__gte=start,
                                     day__lt=end)
            .values("day").annotate(minutes=Sum("minutes"), sessions=Sum("sessions"),
                                    verified=Sum("verified_minutes"),
                                    users=Sum("active_users"))
            .order_by("day"))
    by_day = {r["day"]: r for r in rows}
    daily, day = [], start
    while day < end:
        r = by_day.get(day)
        daily.append((day, int(r["minutes"]) if r else 0, int(r["users"]) if r else 0))
        day += dt.timedelta(days=1)
    return RegionActivity(
        minutes=sum(int(r["minutes"]) for r in by_day.values()),
        sessions=sum(int(r["sessions"]) for r in by_day.values()),
        verified_minutes=sum(int(r["verified"]) for r in by_day.values()),
        active_user_days=sum(int(r["users"]) for r in by_day.values()),
        daily=daily)
