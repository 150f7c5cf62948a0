"""The yearly report (年度运动报告): one resident's year in figures, as data for a page and the API,
and as a shareable PNG drawn with Pillow.

Privacy: the image names the resident by nickname only (never the phone number or real name;
without a nickname it says "a Sportsman resident"), and a resident who opted out of rankings gets
no ranks — on the page, in the API and in the image.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum

from sportsman.activity import rankings, selectors
from sportsman.activity.models import RegionDay, UserDay
from sportsman.activity.rankings import Metric, RankLevel
from sportsman.activity.selectors import Period

log = logging.getLogger(__name__)

FONT_PATHS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")


@dataclass
class YearlyReport:
    year: int
    nickname: str
    minutes: int
    sessions: int
    verified_minutes: int
    days_active: int
    favourite_sport: str | None
    favourite_sport_minutes: int
    longest_streak: int
    busiest_month: int | None
    busiest_month_minutes: int
    community_name: str | None
    community_rank: int | None
    community_ranked: int
    city_name: str | None
    city_rank: int | None
    city_ranked: int
    community_average: float  # minutes per active resident of my community this year
    hidden_from_rankings: bool


def yearly_report(user: Any, *, year: int) -> YearlyReport:
    """The figures of ``user``'s report for ``year``. Queries: the year's days (totals, days
    active, longest streak and busiest month come from the same rows), the sport split, the
    regions, two per rank (the rank tables, or the Redis boards when held; none when opted
    out), and the community's average (two, cached for everyone there)."""
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    days = list(UserDay.objects.filter(user=user, day__gte=start, day__lt=end)
                .order_by("day").values_list("day", "minutes", "sessions", "verified_minutes"))
    active = [d for d, m, _s, _v in days if m > 0]
    months: Counter[int] = Counter()
    for d, m, _s, _v in days:
        months[d.month] += m
    busiest = max(months.items(), key=lambda kv: (kv[1], -kv[0])) if any(months.values()) \
        else None
    sports = selectors.by_sport(user, start, end)
    streak = selectors.streaks_from_days(active, on=end)
    regions = rankings.my_regions(user)
    community, city = regions.get(RankLevel.COMMUNITY), regions.get(RankLevel.CITY)
    hidden = bool(user.hide_from_rankings)
    ranks: dict[RankLevel, tuple[int | None, int]] = {}
    for level, region in ((RankLevel.COMMUNITY, community), (RankLevel.CITY, city)):
        if region is None or hidden:
            ranks[level] = (None, 0)
            continue
        rank, _score, total = rankings.my_rank(user, region, period=Period.YEAR, on=start,
                                                  metric=Metric.MINUTES)
        ranks[level] = (rank, total)
    average = community_average(community, year=year) if community is not None else 0.0
    return YearlyReport(
        year=year, nickname=user.nickname or "",
        minutes=sum(m for _d, m, _s, _v in days), sessions=sum(s for _d, _m, s, _v in days),
        verified_minutes=sum(v for _d, _m, _s, v in days), days_active=len(active),
        favourite_sport=sports[0].name if sports and sports[0].minutes else None,
        favourite_sport_minutes=sports[0].minutes if sports else 0,
        longest_streak=streak.longest,
        busiest_month=busiest[0] if busiest else None,
        busiest_month_minutes=busiest[1] if busiest else 0,
        community_name=community.name if community else None,
        community_rank=ranks[RankLevel.COMMUNITY][0],
        community_ranked=ranks[RankLevel.COMMUNITY][1],
        city_name=city.name if city else None,
        city_rank=ranks[RankLevel.CITY][0], city_ranked=ranks[RankLevel.CITY][1],
        community_average=average, hidden_from_rankings=hidden)


AVERAGE_SECONDS = 600


def community_average(community: Any, *, year: int) -> float:
    """Minutes per active resident of ``community`` in ``year`` (its residents who exercised as
    its residents): the same for everyone there, so cached for ``AVERAGE_SECONDS`` — counting
    the distinct residents of a community's year is most of a report's cost. Two queries."""
    from django.core.cache import cache

    key = f"activity:community-average:{community.pk}:{year}"
    cached = cache.get(key)
    if cached is not None:
        return float(cached)
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    total_minutes = RegionDay.objects.filter(region=community, day__gte=start, day__lt=end)\
        .aggregate(m=Sum("minutes"))["m"] or 0
    residents = (UserDay.objects.filter(region=community, day__gte=start, day__lt=end,
                                        minutes__gt=0).values("user_id").distinct().count())
    average = round(total_minutes / residents, 1) if residents else 0.0
    cache.set(key, average, AVERAGE_SECONDS)
    return average


@functools.cache
def _font_file() -> str | None:
    import os

    for path in FONT_PATHS:
        if os.path.exists(path):
            return path
    log.warning("report: no CJK font at %s; the PNG falls back to Pillow's default font "
                "(Chinese text will not render)", FONT_PATHS[0])
    return None


@functools.cache
def _font(size: int) -> Any:
    from PIL import ImageFont

    path = _font_file()
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size=size)


def report_lines(report: YearlyReport) -> list[tuple[str, str]]:
    """The report's (label, value) lines, translated: shared by the page and the image."""
    from django.utils.translation import gettext as _

    lines = [
        (_("Minutes of exercise"), f"{report.minutes:,}"),
        (_("Sessions"), f"{report.sessions:,}"),
        (_("Days active"), f"{report.days_active}"),
        (_("Longest streak"), _("%(n)d days") % {"n": report.longest_streak}),
    ]
    if report.favourite_sport:
        lines.append((_("Favourite sport"), report.favourite_sport))
    if report.busiest_month:
        from django.utils.dates import MONTHS

        lines.append((_("Busiest month"), _("%(month)s · %(minutes)s minutes") % {
            "month": MONTHS[report.busiest_month], "minutes": f"{report.busiest_month_minutes:,}"}))
    if not report.hidden_from_rankings:
        if report.community_rank:
            lines.append((_("Rank in %(region)s") % {"region": report.community_name},
                          f"{report.community_rank} / {report.community_ranked}"))
        if report.city_rank:
            lines.append((_("Rank in %(region)s") % {"region": report.city_name},
                          f"{report.city_rank} / {report.city_ranked}"))
    if report.community_average:
        lines.append((_("My community's average"),
                      _("%(minutes)s minutes") % {"minutes": f"{report.community_average:,.0f}"}))
    return lines


def render_png(report: YearlyReport) -> bytes:
    """The report as a 750×1200 PNG for sharing (phone-screen width): title, nickname, figures."""
    from django.utils.translation import gettext as _
    from PIL import Image, ImageDraw

    width, height = 750, 1200
    image = Image.new("RGB", (width, height), (13, 110, 253))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((40, 260, width - 40, height - 80), radius=28, fill=(255, 255, 255))
    title = _("My %(year)d exercise report") % {"year": report.year}
    draw.text((60, 70), title, font=_font(52), fill=(255, 255, 255))
    who = report.nickname or _("A Sportsman resident")
    draw.text((60, 160), who, font=_font(36), fill=(225, 236, 255))
    y = 300
    for label, value in report_lines(report):
        draw.text((80, y), label, font=_font(30), fill=(90, 98, 110))
        draw.text((80, y + 40), value, font=_font(44), fill=(20, 24, 30))
        y += 98
        if y > height - 160:
            break
    draw.text((60, height - 60), _("Sportsman"), font=_font(26), fill=(225, 236, 255))
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()
