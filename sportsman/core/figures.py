"""The figures a cockpit shows, each declared by the app that owns the records behind it.

An app lists its figures in a ``figures`` module (found by ``autodiscover``): a *metric* is a
count per region and local day, computed from that app's records by a function
``compute(start, end) -> [(region_id, day, value), …]`` over a range of days. The cockpit stores
what they return (``cockpit.Tally``) and sums it over subtrees and periods, so a panel appears as
soon as its domain's app declares it, and the cockpit never reads another app's tables.

Two kinds:
- ``FLOW``: what happened that day (minutes exercised, bookings). A period's figure is the sum of
  its days.
- ``STOCK``: the state at the end of the day (registered residents, facilities, residents active in
  the last 30 days). A period's figure is its last day's value.
Both are additive over regions: a region's figure is the sum of its children's and of the
records that belong to the region itself (a city's event, a district's club). Shares and rates
(utilisation, the share of regular exercisers) are *ratios* of two metrics, computed after summing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Func, QuerySet
from django.db.models.functions import TruncDate
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy

Row = tuple[int, dt.date, int]
Compute = Callable[[dt.date, dt.date], Iterable[Row]]


class Kind(StrEnum):
    FLOW = "flow"
    STOCK = "stock"


@dataclass(frozen=True)
class Metric:
    key: str
    label: Any  # a lazy translation
    kind: Kind
    domain: str
    unit: Any
    order: int
    compute: Compute


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator × scale`` once both are summed (None when the denominator is 0)."""

    key: str
    label: Any
    numerator: str
    denominator: str
    scale: int
    unit: Any
    domain: str
    order: int

    def of(self, figures: Mapping[str, int]) -> float | None:
        den = figures.get(self.denominator, 0)
        if not den:
            return None
        return round(figures.get(self.numerator, 0) * self.scale / den, 2)


_METRICS: dict[str, Metric] = {}
_RATIOS: dict[str, Ratio] = {}


def metric(key: str, *, label: Any, kind: Kind, domain: str, unit: Any = "",
           order: int = 100) -> Callable[[Compute], Compute]:
    """Declare a metric; the decorated function computes it over a range of days."""
    if len(key) > 40:
        raise ValueError(f"metric key {key!r} is longer than 40 characters")

    def register(compute: Compute) -> Compute:
        _METRICS[key] = Metric(key, label, kind, domain, unit, order, compute)
        return compute
    return register


def ratio(key: str, *, label: Any, numerator: str, denominator: str, scale: int = 100,
          unit: str = "%", domain: str, order: int = 100) -> Ratio:
    r = Ratio(key, label, numerator, denominator, scale, unit, domain, order)
    _RATIOS[key] = r
    return r


def autodiscover() -> None:
    autodiscover_modules("figures")


def metrics() -> list[Metric]:
    return sorted(_METRICS.values(), key=lambda m: (m.order, m.key))


def ratios() -> list[Ratio]:
    return sorted(_RATIOS.values(), key=lambda r: (r.order, r.key))


def get(key: str) -> Metric | None:
    return _METRICS.get(key)


# --- helpers for the apps' compute functions ------------------------------------------------------

def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(field: str) -> Func:
    """The local (Asia/Shanghai) calendar day of a datetime column, for GROUP BY."""
    return TruncDate(field, tzinfo=zone())


def utc_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end + 1 day 00:00) in local time, as aware datetimes."""
    tz = zone()
    return (dt.datetime.combine(start, dt.time(), tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz))


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def as_date(value: Any) -> dt.date:
    """TruncDate gives a date on PostgreSQL and may give a string on SQLite."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def stock_from_changes(before: Mapping[int, int], changes: Iterable[tuple[int, dt.date, int]],
                       start: dt.date, end: dt.date) -> Iterator[Row]:
    """Daily values of a stock from its value before ``start`` (per region) and its changes
    per (region, day) inside the range."""
    delta: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for region_id, day, change in changes:
        delta[region_id][day] = delta[region_id].get(day, 0) + change
    for region_id in set(before) | set(delta):
        value = before.get(region_id, 0)
        per_day = delta.get(region_id, {})
        for day in days(start, end):
            value += per_day.get(day, 0)
            if value:
                yield region_id, day, value


def covered_days(spans: Iterable[tuple[int, dt.date, dt.date]], start: dt.date,
                 end: dt.date) -> Iterator[Row]:
    """Per region and day in [start, end], how many people cover the day, from spans
    ``(region_id, first, last)`` each belonging to one person and not overlapping one another
    for that person (``merge_spans`` makes them so)."""
    delta: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for region_id, first, last in spans:
        first, last = max(first, start), min(last, end)
        if first > last:
            continue
        delta[region_id][first] += 1
        delta[region_id][last + dt.timedelta(days=1)] -= 1
    for region_id, per_day in delta.items():
        value = 0
        for day in days(start, end):
            value += per_day.get(day, 0)
            if value:
                yield region_id, day, value


def merge_spans(spans: Iterable[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Union of day spans (inclusive ends) as sorted, disjoint spans."""
    out: list[list[dt.date]] = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1] + dt.timedelta(days=1):
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return [(a, b) for a, b in out]


def per_day(qs: QuerySet[Any], *, at: str, region: str, value: Any, start: dt.date,
            end: dt.date) -> Iterator[Row]:
    """A flow metric from a queryset: ``value`` (an aggregate) per ``region`` (a field path to a
    region id) and local day of ``at``, for rows whose ``at`` falls in [start, end]."""
    since, until = utc_bounds(start, end)
    rows = (qs.filter(**{f"{at}__gte": since, f"{at}__lt": until}).exclude(**{region: None})
            .values(region, day=local_date(at)).annotate(v=value)
            .values_list(region, "day", "v"))
    for region_id, day, v in rows:
        if v:
            yield region_id, as_date(day), int(v)


def summed(rows: Iterable[tuple[int | None, dt.datetime, int]]) -> Iterator[Row]:
    """A flow metric from rows ``(region_id, when, value)`` read in Python: the values summed per
    region and local day (for values the database cannot aggregate the same way on SQLite and
    PostgreSQL, such as minutes between two datetimes)."""
    tz = zone()
    totals: dict[tuple[int, dt.date], int] = defaultdict(int)
    for region_id, when, value in rows:
        if region_id is not None:
            totals[(region_id, when.astimezone(tz).date())] += value
    for (region_id, day), value in totals.items():
        if value:
            yield region_id, day, value


def minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    return int((end - start).total_seconds() // 60)


# --- demand signals: counts by sport and time band ----------------------------------------------
#
# Demand analysis needs two more dimensions than a metric has: the sport and the time of the week
# asked for. A *signal* is declared like a metric, in the app's ``figures`` module, and computes
# ``(region_id, local day, sport slug, band, value)`` rows over a range of days; the cockpit
# stores them (``cockpit.DemandTally``) and weighs them per region, sport and band
# (``sportsman.cockpit.demand``). Its *role* says how it counts: places offered, places taken,
# people turned away (they asked for a place and got none), or another counted sign of demand
# (full slots, searches that found nothing nearby; later reports and survey answers). A sign with
# a ``threshold`` speaks for itself: from that count up, the cockpit phrases a suggestion with its
# ``sentence`` and ``advice``.

SignalRow = tuple[int, dt.date, str, str, int]  # region id, day, sport slug ("": none), band
SignalCompute = Callable[[dt.date, dt.date], Iterable[SignalRow]]
ANY_TIME = ""  # the band of a signal not tied to a time (a search, a report)
MORNING_ENDS = dt.time(12)
EVENING_STARTS = dt.time(18)


class Band(StrEnum):
    WEEKDAY_MORNING = "weekday_morning"
    WEEKDAY_DAYTIME = "weekday_daytime"
    WEEKDAY_EVENING = "weekday_evening"
    WEEKEND_MORNING = "weekend_morning"
    WEEKEND_DAYTIME = "weekend_daytime"
    WEEKEND_EVENING = "weekend_evening"


BAND_LABELS: dict[str, Any] = {
    Band.WEEKDAY_MORNING: gettext_lazy("weekday mornings"),
    Band.WEEKDAY_DAYTIME: gettext_lazy("weekday afternoons"),
    Band.WEEKDAY_EVENING: gettext_lazy("weekday evenings"),
    Band.WEEKEND_MORNING: gettext_lazy("weekend and holiday mornings"),
    Band.WEEKEND_DAYTIME: gettext_lazy("weekend and holiday afternoons"),
    Band.WEEKEND_EVENING: gettext_lazy("weekend and holiday evenings"),
    ANY_TIME: gettext_lazy("any time"),
}


def time_band(when: dt.datetime, *, holidays: Container[dt.date] = ()) -> str:
    """The band of a local time: weekday or weekend (Saturday, Sunday and the public holidays
    given), morning (before 12:00), afternoon (12:00–18:00) or evening (from 18:00)."""
    local = when.astimezone(zone())
    rest = local.weekday() >= 5 or local.date() in holidays
    t = local.time()
    part = "morning" if t < MORNING_ENDS else "daytime" if t < EVENING_STARTS else "evening"
    return f"{'weekend' if rest else 'weekday'}_{part}"


class Role(StrEnum):
    OFFERED = "offered"  # places offered
    TAKEN = "taken"  # places taken: demand met
    TURNED_AWAY = "turned_away"  # people who asked for a place and got none: demand not met
    SIGN = "sign"  # another counted sign of demand


@dataclass(frozen=True)
class Signal:
    key: str
    label: Any
    role: Role
    domain: str
    order: int
    compute: SignalCompute
    # How a count reads inside a sentence ("%(count)d on the waitlist"); blank: the label.
    phrase: Any = ""
    # A sign suggests something by itself from ``threshold`` up in a region, sport and band;
    # ``sentence`` may use %(count)d, %(region)s, %(sport)s, %(band)s and %(period)s.
    threshold: int = 0
    sentence: Any = ""
    advice: Any = ""


_SIGNALS: dict[str, Signal] = {}


def signal(key: str, *, label: Any, role: Role, domain: str, order: int = 100,
           phrase: Any = "", threshold: int = 0, sentence: Any = "",
           advice: Any = "") -> Callable[[SignalCompute], SignalCompute]:
    """Declare a demand signal; the decorated function computes it over a range of days."""
    if len(key) > 32:
        raise ValueError(f"signal key {key!r} is longer than 32 characters")
    if threshold and not sentence:
        raise ValueError(f"signal {key!r} has a threshold but no sentence")

    def register(compute: SignalCompute) -> SignalCompute:
        _SIGNALS[key] = Signal(key, label, role, domain, order, compute, phrase, threshold,
                               sentence, advice)
        return compute
    return register


def signals() -> list[Signal]:
    return sorted(_SIGNALS.values(), key=lambda s: (s.order, s.key))


def get_signal(key: str) -> Signal | None:
    return _SIGNALS.get(key)


def banded(rows: Iterable[tuple[int | None, dt.datetime, str | None, int]], *,
           holidays: Container[dt.date] = ()) -> Iterator[SignalRow]:
    """A signal from rows ``(region_id, when, sport slug, value)`` read in Python: the values
    summed per region, local day, sport and band of ``when``."""
    tz = zone()
    totals: dict[tuple[int, dt.date, str, str], int] = defaultdict(int)
    for region_id, when, sport, value in rows:
        if region_id is not None and value:
            totals[(region_id, when.astimezone(tz).date(), sport or "",
                    time_band(when, holidays=holidays))] += value
    for (region_id, day, sport, band), value in totals.items():
        if value:
            yield region_id, day, sport, band, value
