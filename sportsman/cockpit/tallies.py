"""Tallies: the domains' figures per region and day (``sportsman.core.figures``) stored, kept
fresh, and summed over subtrees and periods.

- :func:`refresh` recomputes the metrics for a range of days and replaces their tallies in one
  transaction per metric. The scheduler runs :func:`refresh_recent` every few minutes (from the
  last day computed to today) and :func:`refresh_month` nightly (the last 35 days, so late
  records — an imported recording of last week — reach the month's figures and assessments);
  ``manage.py rebuild_figures`` recomputes any range.
- :func:`sheet` sums a region's subtree for a period, for the region and each child side by side:
  flows over the period's days, stocks on the period's last computed day. One query per kind,
  over tallies (regions × days × metrics), never over records; answers are cached until the next
  refresh.
- :func:`series` gives the trend of some metrics by day, week or month.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from sportsman.cockpit import demand
from sportsman.cockpit.models import Tally, TallyMonth, Watermark
from sportsman.cockpit.periods import Period
from sportsman.core import figures
from sportsman.core.db import lock_table
from sportsman.core.figures import Kind, Metric
from sportsman.regions.models import Region, subtree_q

BATCH = 5000
RECENT_MAX_DAYS = 35
CACHE_SECONDS = 600


# --- writing ------------------------------------------------------------------------------------

def _chosen(keys: Iterable[str] | None) -> list[Metric]:
    all_metrics = figures.metrics()
    if keys is None:
        return all_metrics
    wanted = set(keys)
    unknown = wanted - {m.key for m in all_metrics}
    if unknown:
        raise ValueError(f"unknown metrics: {', '.join(sorted(unknown))}")
    return [m for m in all_metrics if m.key in wanted]


def refresh(start: dt.date, end: dt.date, *, keys: Iterable[str] | None = None,
            progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Recompute ``keys`` (all metrics by default) for the local days [start, end] and store
    them; returns the number of tallies written per metric. Without ``keys`` the demand signals
    are recomputed too (``demand.refresh``, counted under ``demand:<key>``)."""
    end = min(end, timezone.localdate())
    if start > end:
        return {}
    written: dict[str, int] = {}
    for m in _chosen(keys):
        rows = iter(m.compute(start, end))
        with transaction.atomic():
            lock_table(Tally)  # one refresh at a time: two would write the same rows
            Tally.objects.filter(metric=m.key, day__range=(start, end)).delete()
            count = 0
            while chunk := list(islice(rows, BATCH)):
                Tally.objects.bulk_create(
                    [Tally(metric=m.key, region_id=r, day=d, value=v) for r, d, v in chunk])
                count += len(chunk)
            if m.kind is Kind.FLOW:
                _roll_months(m.key, start, end)
            Watermark.advance(m.key, end)
        written[m.key] = count
        if progress is not None:
            progress(m.key, count)
    if keys is None:
        written.update(demand.refresh(start, end))
    return written


def _month_end(day: dt.date) -> dt.date:
    first_next = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def _roll_months(metric: str, start: dt.date, end: dt.date) -> None:
    """Re-sum the month totals of the months [start, end] touches from their daily tallies."""
    first, last = start.replace(day=1), _month_end(end)
    TallyMonth.objects.filter(metric=metric, month__range=(first, last)).delete()
    rows = (Tally.objects.filter(metric=metric, day__range=(first, last))
            .values("region_id", month=TruncMonth("day")).annotate(v=Sum("value"))
            .values_list("region_id", "month", "v"))
    TallyMonth.objects.bulk_create(
        [TallyMonth(metric=metric, region_id=r, month=figures.as_date(month), value=v)
         for r, month, v in rows if v], batch_size=BATCH)


def roll_up_months(keys: Iterable[str] | None = None) -> None:
    """Re-sum every month total of the flow metrics ``keys`` (default all) from the daily
    tallies: after tallies were written other than by :func:`refresh` (a test's fixture, a bulk
    load)."""
    for m in _chosen(keys):
        days = Tally.objects.filter(metric=m.key).aggregate(first=Min("day"), last=Max("day"))
        if m.kind is Kind.FLOW and days["first"] is not None:
            with transaction.atomic():
                _roll_months(m.key, days["first"], days["last"])


def _split_months(start: dt.date, end: dt.date,
                  through: dt.date) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """[start, end] as the months whose totals (``TallyMonth``: every day computed so far, at
    most ``through``) hold exactly their days inside it, and the day ranges left over (a
    period beginning or ending inside a month)."""
    months: list[dt.date] = []
    ranges: list[tuple[dt.date, dt.date]] = []
    month = start.replace(day=1)
    while month <= end:
        last = _month_end(month)
        lo, hi = max(month, start), min(last, end)
        if lo == month and min(last, through) <= hi:
            months.append(month)
        else:
            ranges.append((lo, hi))
        month = last + dt.timedelta(days=1)
    return months, ranges


def _flow_rows(inside: Q, keys: list[str], start: dt.date, end: dt.date, through: dt.date,
               by: str) -> list[tuple[Any, str, int]]:
    """Flow totals of ``keys`` over [start, end] grouped by ``by`` ("region__path" or
    "bucket": the month, or the day for the days outside whole months) and metric: whole months
    from their month totals, the rest from the days."""
    months, ranges = _split_months(start, end, through)
    out: list[tuple[Any, str, int]] = []
    if months:
        group = "region__path" if by == "region__path" else "month"
        out += [(g, metric, int(v)) for g, metric, v in
                TallyMonth.objects.filter(inside, metric__in=keys, month__in=months)
                .values(group, "metric").annotate(v=Sum("value"))
                .values_list(group, "metric", "v")]
    if ranges:
        group = "region__path" if by == "region__path" else "day"
        which = Q(pk__in=[])
        for lo, hi in ranges:
            which |= Q(day__range=(lo, hi))
        out += [(g, metric, int(v)) for g, metric, v in
                Tally.objects.filter(inside, which, metric__in=keys)
                .values(group, "metric").annotate(v=Sum("value"))
                .values_list(group, "metric", "v")]
    return out


def refresh_recent() -> dict[str, int]:
    """From the day before the oldest watermark (catching up any gap, at most 35 days) to
    today."""
    today = timezone.localdate()
    marks = dict(Watermark.objects.values_list("metric", "through"))
    oldest = today if any(m.key not in marks for m in figures.metrics()) else min(marks.values())
    start = max(oldest - dt.timedelta(days=1), today - dt.timedelta(days=RECENT_MAX_DAYS))
    return refresh(start, today)


def refresh_month() -> dict[str, int]:
    today = timezone.localdate()
    return refresh(today - dt.timedelta(days=RECENT_MAX_DAYS), today)


# --- reading ------------------------------------------------------------------------------------

@dataclass
class Column:
    """The figures of one region for one period."""

    region: Region
    values: dict[str, int] = field(default_factory=dict)

    def ratios(self) -> dict[str, float | None]:
        return {r.key: r.of(self.values) for r in figures.ratios()}

    def get(self, key: str) -> int | float | None:
        if key in self.values:
            return self.values[key]
        ratio = next((r for r in figures.ratios() if r.key == key), None)
        return ratio.of(self.values) if ratio is not None else None


@dataclass
class Sheet:
    period: Period
    as_of: dt.date | None  # the last day with figures (None: nothing computed for the period)
    total: Column
    children: list[Column]


def _version() -> str:
    last = Watermark.objects.aggregate(t=Max("refreshed_at"))["t"]
    return last.isoformat() if last else "-"


def _child_of(region: Region) -> Callable[[str], int | None]:
    """Maps a path inside ``region`` to the id of the child containing it."""
    prefix = len(region.path)

    def child(path: str) -> int | None:
        rest = path[prefix:]
        head = rest.split("/", 1)[0]
        return int(head) if head else None
    return child


def _stock_days(period: Period) -> dict[str, dt.date]:
    """Per stock metric, the day whose value stands for the period (None when the metric was
    never computed through the period's start)."""
    marks = dict(Watermark.objects.values_list("metric", "through"))
    out = {}
    for m in figures.metrics():
        through = marks.get(m.key)
        if m.kind is Kind.STOCK and through is not None and through >= period.start:
            out[m.key] = min(period.end, through)
    return out


def _flow_through() -> dt.date | None:
    """The last day any flow metric was computed through."""
    marks = [t for k, t in Watermark.objects.values_list("metric", "through")
             if (m := figures.get(k)) is not None and m.kind is Kind.FLOW]
    return max(marks) if marks else None


def sheet(region: Region, period: Period) -> Sheet:
    """``region``'s figures for ``period`` and each child's, side by side."""
    key = f"cockpit:sheet:{region.pk}:{period.start}:{period.end}:{_version()}"
    cached = cache.get(key)
    if cached is None:
        cached = _sums(region, period)
        cache.set(key, cached, CACHE_SECONDS)
    as_of, per_child = cached
    children = list(Region.objects.filter(parent=region).order_by("code"))
    total = Column(region)
    columns = []
    for child in children:
        col = Column(child, dict(per_child.get(child.pk, {})))
        columns.append(col)
    for values in per_child.values():
        for k, v in values.items():
            total.values[k] = total.values.get(k, 0) + v
    for m in figures.metrics():
        total.values.setdefault(m.key, 0)
        for col in columns:
            col.values.setdefault(m.key, 0)
    return Sheet(period, as_of, total, columns)


def _sums(region: Region, period: Period) -> tuple[dt.date | None, dict[int | None, dict[str,
                                                                                          int]]]:
    """Per child of ``region`` (None: tallies on the region itself), metric → value."""
    child = _child_of(region)
    out: dict[int | None, dict[str, int]] = defaultdict(dict)
    inside = subtree_q(region.path, "region")
    flow_keys = [m.key for m in figures.metrics() if m.kind is Kind.FLOW]
    through = _flow_through()
    flow_end = min(period.end, through) if through is not None else None
    if through is not None and flow_end is not None and flow_end >= period.start:
        for path, metric, v in _flow_rows(inside, flow_keys, period.start, flow_end, through,
                                          "region__path"):
            bucket = out[child(path)]
            bucket[metric] = bucket.get(metric, 0) + v
    stock_days = _stock_days(period)
    if stock_days:
        which = Q(pk__in=[])
        for metric, day in stock_days.items():
            which |= Q(metric=metric, day=day)
        rows = (Tally.objects.filter(inside).filter(which)
                .values("region__path", "metric").annotate(v=Sum("value"))
                .values_list("region__path", "metric", "v"))
        for path, metric, v in rows:
            bucket = out[child(path)]
            bucket[metric] = bucket.get(metric, 0) + int(v)
    days = [d for d in [flow_end, *stock_days.values()] if d is not None]
    return (max(days) if days else None), dict(out)


@dataclass
class Point:
    start: dt.date
    end: dt.date
    values: dict[str, int]


def _bucket_start(day: dt.date, grain: str) -> dt.date:
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def series(region: Region, keys: Sequence[str], *, grain: str, start: dt.date,
           end: dt.date) -> list[Point]:
    """The trend of ``keys`` for ``region``'s subtree from ``start`` to ``end`` by day, week or
    month: flows summed over each bucket, stocks on each bucket's last computed day. Cached
    until the next refresh."""
    wanted = hashlib.sha256(",".join(sorted(keys)).encode()).hexdigest()[:16]
    key = f"cockpit:series:{region.pk}:{grain}:{start}:{end}:{wanted}:{_version()}"
    cached = cache.get(key)
    if cached is None:
        cached = _series(region, keys, grain=grain, start=start, end=end)
        cache.set(key, cached, CACHE_SECONDS)
    return cached


def _series(region: Region, keys: Sequence[str], *, grain: str, start: dt.date,
            end: dt.date) -> list[Point]:
    chosen = _chosen(keys)
    marks = dict(Watermark.objects.values_list("metric", "through"))
    through = max(marks.values(), default=None)
    if through is None:
        return []
    end = min(end, through)
    inside = subtree_q(region.path, "region")
    per_day: dict[dt.date, dict[str, int]] = defaultdict(dict)
    flows = [m.key for m in chosen if m.kind is Kind.FLOW]
    stocks = [m.key for m in chosen if m.kind is Kind.STOCK]
    if grain == "month":
        # Whole months from their totals (counted on their first day), stocks on month ends.
        for day, metric, v in _flow_rows(inside, flows, start, end, through, "bucket"):
            day = figures.as_date(day)
            per_day[day][metric] = per_day[day].get(metric, 0) + v
        ends = {min(_month_end(d), end) for d in figures.days(start, end) if d.day == 1}
        ends |= {end} | {t for k, t in marks.items() if k in stocks and start <= t <= end}
        days_q = Q(day__in=sorted(ends))
        stock_rows = (Tally.objects.filter(inside, days_q, metric__in=stocks)
                      .values("day", "metric").annotate(v=Sum("value"))
                      .values_list("day", "metric", "v"))
    else:
        stock_rows = (Tally.objects.filter(inside, metric__in=flows + stocks,
                                           day__range=(start, end))
                      .values("day", "metric").annotate(v=Sum("value"))
                      .values_list("day", "metric", "v"))
    for day, metric, v in stock_rows:
        per_day[day][metric] = int(v)
    points: dict[dt.date, Point] = {}
    for day in figures.days(start, end):
        b = _bucket_start(day, grain)
        point = points.setdefault(b, Point(max(b, start), day, {m.key: 0 for m in chosen}))
        point.end = day
        for m in chosen:
            v = per_day.get(day, {}).get(m.key, 0)
            if m.kind is Kind.FLOW:
                point.values[m.key] += v
            elif day <= marks.get(m.key, through):
                point.values[m.key] = v
    return list(points.values())

