"""Demand analysis (需求分析): where, for which sport and at which time of the week people ask for
more than is offered, turned into plain suggestions.

The domains declare *demand signals* (``sportsman.core.figures.signal``): counts per region,
local day, sport and time band, each with a role — places offered, places taken, people turned
away, or another sign of demand (full slots, searches that found nothing nearby; reports and
survey answers when those apps declare theirs). This module

- stores them: :func:`refresh` recomputes them into ``DemandTally`` (one transaction per signal)
  and is run with the figures (``tallies.refresh``: the same jobs, the same ``rebuild_figures``);
  upcoming slots already carry bookings, waitlists and lottery entries, so a refresh that reaches
  today also covers the next ``AHEAD_DAYS`` days;
- weighs them: :func:`analyse` sums a region's subtree for a period per child region × sport ×
  band — demanded (taken + turned away), offered, their ratio, and each signal — ranks the rows
  by the people turned away, and phrases suggestions above noise thresholds;
- gives the dashboard its panel: :func:`panel`.

Like the figures, the cost grows with regions × days × sports × bands, never with records; the
cockpit never reads another app's tables.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.cockpit.models import DemandTally, Watermark
from sportsman.cockpit.periods import Period
from sportsman.core import figures
from sportsman.core.db import lock_table
from sportsman.core.figures import ANY_TIME, BAND_LABELS, Band, Role, Signal
from sportsman.core.models import Sport
from sportsman.regions.models import Region, subtree_q

MARK = "demand:"  # watermarks of the signals: "demand:<key>"
AHEAD_DAYS = 14
BATCH = 5000
CACHE_SECONDS = 600
# A region, sport and band is worth a sentence when at least this many people were turned away
# and the demand is at least this many times the places offered; from HIGH_RATIO up the advice
# is to open more, below it to rearrange.
MIN_TURNED_AWAY = 10
MIN_RATIO = 1.2
HIGH_RATIO = 2.0
MAX_SUGGESTIONS = 20
PANEL_SUGGESTIONS = 5
PANEL_ROWS = 10
NO_SPORT = gettext_lazy("no particular sport")
BANDS = [*Band, ANY_TIME]


# --- writing ------------------------------------------------------------------------------------

def refresh(start: dt.date, end: dt.date, *,
            progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Recompute every demand signal for the local days [start, end] (through ``AHEAD_DAYS``
    after today when ``end`` reaches today) and replace their tallies; returns the number of
    tallies written per signal (keyed ``demand:<key>``). The watermark ``demand:<key>`` records
    the last day up to today computed."""
    today = timezone.localdate()
    last = today + dt.timedelta(days=AHEAD_DAYS) if end >= today else end
    if start > last:
        return {}
    through = min(end, today)
    written: dict[str, int] = {}
    for s in figures.signals():
        rows = iter(s.compute(start, last))
        with transaction.atomic():
            lock_table(DemandTally)  # one refresh at a time
            DemandTally.objects.filter(signal=s.key, day__range=(start, last)).delete()
            count = 0
            while chunk := list(islice(rows, BATCH)):
                DemandTally.objects.bulk_create(
                    [DemandTally(signal=s.key, region_id=r, day=d, sport=sport, band=band,
                                 value=v) for r, d, sport, band, v in chunk])
                count += len(chunk)
            Watermark.advance(MARK + s.key, through)
        written[MARK + s.key] = count
        if progress is not None:
            progress(MARK + s.key, count)
    return written


# --- reading ------------------------------------------------------------------------------------

@dataclass
class Row:
    """The demand of one region for one sport at one time of the week over a period."""

    region: Region
    sport: str  # slug; "" when the records name none
    sport_name: str
    band: str  # a figures.Band, or "" (not tied to a time)
    values: dict[str, int] = field(default_factory=dict)  # signal key → count

    def _role(self, role: Role) -> int:
        return sum(self.values.get(s.key, 0) for s in figures.signals() if s.role is role)

    @property
    def offered(self) -> int:
        return self._role(Role.OFFERED)

    @property
    def taken(self) -> int:
        return self._role(Role.TAKEN)

    @property
    def turned_away(self) -> int:
        return self._role(Role.TURNED_AWAY)

    @property
    def signs(self) -> int:
        return self._role(Role.SIGN)

    @property
    def demanded(self) -> int:
        return self.taken + self.turned_away

    @property
    def ratio(self) -> float | None:
        """Places demanded per place offered (None when nothing was offered)."""
        return round(self.demanded / self.offered, 2) if self.offered else None

    @property
    def band_label(self) -> str:
        return str(BAND_LABELS.get(self.band, self.band))


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "capacity", or the key of the sign that speaks
    region: Region
    sport: str
    band: str
    weight: int  # people turned away, or the sign's count: the order of the list


@dataclass
class Analysis:
    region: Region
    period: Period
    as_of: dt.date | None  # the last day computed (None: never)
    signals: list[Signal]
    rows: list[Row]  # ranked: most people turned away first
    suggestions: list[Suggestion]

    @property
    def columns(self) -> list[Signal]:
        """The signals shown as columns besides demanded and offered."""
        return [s for s in self.signals if s.role in (Role.TURNED_AWAY, Role.SIGN)]

    def heat(self) -> Heat:
        return heat(self.rows)


def _version() -> str:
    last = (Watermark.objects.filter(metric__startswith=MARK)
            .aggregate(t=Max("refreshed_at"))["t"])
    return last.isoformat() if last else "-"


def _as_of(period: Period) -> dt.date | None:
    through = (Watermark.objects.filter(metric__startswith=MARK)
               .aggregate(t=Max("through"))["t"])
    if through is None or through < period.start:
        return None
    return min(through, period.end)


Sums = dict[tuple[int | None, str, str], dict[str, int]]


def _sums(region: Region, period: Period) -> Sums:
    """(child id or None for the region itself, sport, band) → signal → value."""
    prefix = len(region.path)
    out: Sums = defaultdict(dict)
    rows = (DemandTally.objects.filter(subtree_q(region.path, "region"),
                                       day__range=(period.start, period.end))
            .values("region__path", "signal", "sport", "band").annotate(v=Sum("value"))
            .values_list("region__path", "signal", "sport", "band", "v"))
    for path, signal, sport, band, v in rows:
        head = path[prefix:].split("/", 1)[0]
        bucket = out[(int(head) if head else None, sport, band)]
        bucket[signal] = bucket.get(signal, 0) + int(v)
    return dict(out)


def _cached_sums(region: Region, period: Period) -> Sums:
    key = f"cockpit:demand:{region.pk}:{period.key}:{_version()}"
    sums = cache.get(key)
    if sums is None:
        sums = _sums(region, period)
        cache.set(key, sums, CACHE_SECONDS)
    return sums


def _rank(row: Row) -> tuple[Any, ...]:
    return (-row.turned_away, -(row.ratio or 0), -row.signs, row.region.code, row.sport,
            BANDS.index(row.band) if row.band in BANDS else len(BANDS))


def analyse(region: Region, period: Period) -> Analysis:
    """``region``'s demand for ``period`` per child region (the region itself for a community,
    or for records held by the region directly) × sport × band, ranked, with suggestions. The
    caller has checked that the actor may see ``region``."""
    sums = _cached_sums(region, period)
    ids = {child for child, _sport, _band in sums if child is not None}
    regions = {r.pk: r for r in Region.objects.filter(pk__in=ids)}
    slugs = {sport for _child, sport, _band in sums if sport}
    names = {s.slug: s.name for s in Sport.objects.filter(slug__in=slugs)}
    rows = []
    for (child, sport, band), values in sums.items():
        where = regions.get(child, region) if child is not None else region
        rows.append(Row(where, sport, names.get(sport, sport) if sport else str(NO_SPORT), band,
                        dict(values)))
    rows.sort(key=_rank)
    signals = figures.signals()
    return Analysis(region, period, _as_of(period), signals, rows,
                    suggest(rows, signals, period))


# --- suggestions --------------------------------------------------------------------------------

def _evidence(row: Row, signals: Iterable[Signal]) -> str:
    """"18 full slots, 41 left on the waitlist": the row's counted signs and people turned
    away, in the signals' order."""
    parts = []
    for s in signals:
        count = row.values.get(s.key, 0)
        if s.role in (Role.TURNED_AWAY, Role.SIGN) and count:
            parts.append(s.phrase % {"count": count} if s.phrase else f"{s.label} {count}")
    return _(", ").join(parts)


def _capacity(row: Row, signals: list[Signal]) -> Suggestion | None:
    ratio = row.ratio
    if row.band == ANY_TIME or ratio is None or row.turned_away < MIN_TURNED_AWAY \
            or ratio < MIN_RATIO:
        return None
    advice = (_("consider longer opening hours or opening school sports grounds at these times")
              if ratio >= HIGH_RATIO else
              _("consider more slots at these times, or moving some from quieter times"))
    text = _("%(region)s: demand for %(sport)s on %(band)s is %(ratio)s times the places "
             "offered (%(evidence)s) — %(advice)s") % {
        "region": row.region.name, "sport": row.sport_name, "band": row.band_label,
        "ratio": f"{ratio:.1f}", "evidence": _evidence(row, signals), "advice": advice}
    return Suggestion(text, "capacity", row.region, row.sport, row.band, row.turned_away)


def _signs(rows: list[Row], signals: list[Signal], period: Period) -> list[Suggestion]:
    """Signs that speak by themselves (a threshold and a sentence), summed per region and
    sport over the times of the week."""
    out = []
    for s in signals:
        if not s.threshold:
            continue
        totals: dict[tuple[int, str], int] = defaultdict(int)
        first: dict[tuple[int, str], Row] = {}
        for row in rows:
            count = row.values.get(s.key, 0)
            if count:
                totals[(row.region.pk, row.sport)] += count
                first.setdefault((row.region.pk, row.sport), row)
        for where, count in totals.items():
            if count < s.threshold:
                continue
            row = first[where]
            finding = s.sentence % {"count": count, "region": row.region.name,
                                    "sport": row.sport_name, "band": row.band_label,
                                    "period": period.label()}
            text = _("%(finding)s — %(advice)s") % {"finding": finding, "advice": s.advice} \
                if s.advice else str(finding)
            out.append(Suggestion(text, s.key, row.region, row.sport, ANY_TIME, count))
    return out


def _pick(found: list[Suggestion], limit: int) -> list[Suggestion]:
    """At most ``limit`` sentences: people turned away first (the firmest evidence), most
    first; then the signs that speak, largest first. Each kind keeps at least half the room
    when it has that many, so neither hides the other."""
    def order(s: Suggestion) -> tuple[Any, ...]:
        return -s.weight, s.region.code, s.sport, s.band

    capacity = sorted((s for s in found if s.kind == "capacity"), key=order)
    signs = sorted((s for s in found if s.kind != "capacity"), key=order)
    keep = min(len(capacity), max(limit - limit // 2, limit - len(signs)))
    return capacity[:keep] + signs[:limit - keep]


def suggest(rows: list[Row], signals: list[Signal], period: Period) -> list[Suggestion]:
    """Plain sentences for the rows above the thresholds (see ``_pick`` for the order)."""
    found = [s for row in rows if (s := _capacity(row, signals)) is not None]
    return _pick(found + _signs(rows, signals, period), MAX_SUGGESTIONS)


# --- the heat map -------------------------------------------------------------------------------

@dataclass(frozen=True)
class HeatCell:
    demanded: int
    offered: int
    turned_away: int
    ratio: float | None
    level: int  # 0 (nothing asked) … 5 (demand at least twice the offer)


@dataclass(frozen=True)
class Heat:
    """Demand per sport (rows) and time band (columns) over the whole region."""

    bands: list[tuple[str, str]]  # (band, label)
    sports: list[tuple[str, str]]  # (slug, name)
    cells: dict[tuple[str, str], HeatCell]

    def grid(self) -> list[tuple[str, list[HeatCell | None]]]:
        return [(name, [self.cells.get((slug, band)) for band, _label in self.bands])
                for slug, name in self.sports]


def _level(ratio: float | None, turned_away: int) -> int:
    if ratio is None:
        return 5 if turned_away else 0
    return (0 if ratio < 0.25 else 1 if ratio < 0.5 else 2 if ratio < 0.8 else
            3 if ratio < 1.0 else 4 if ratio < HIGH_RATIO else 5)


def heat(rows: list[Row]) -> Heat:
    totals: dict[tuple[str, str], Row] = {}
    names: dict[str, str] = {}
    for row in rows:
        if row.band == ANY_TIME:
            continue
        names[row.sport] = row.sport_name
        total = totals.setdefault((row.sport, row.band),
                                  Row(row.region, row.sport, row.sport_name, row.band))
        for k, v in row.values.items():
            total.values[k] = total.values.get(k, 0) + v
    cells = {k: HeatCell(r.demanded, r.offered, r.turned_away, r.ratio,
                         _level(r.ratio, r.turned_away)) for k, r in totals.items()}
    by_demand: dict[str, int] = defaultdict(int)
    for (sport, _band), cell in cells.items():
        by_demand[sport] += cell.demanded
    sports = sorted(names.items(), key=lambda kv: (-by_demand[kv[0]], kv[1]))
    return Heat([(b.value, str(BAND_LABELS[b])) for b in Band], sports, cells)


# --- the dashboard's panel ----------------------------------------------------------------------

@dataclass(frozen=True)
class Panel:
    """What the region's dashboard shows of its demand: the first suggestions and rows."""

    region: Region
    period: Period
    as_of: dt.date | None
    suggestions: list[Suggestion]
    rows: list[Row]
    more: int  # suggestions left out

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.key, "as_of": self.as_of,
                "suggestions": [s.text for s in self.suggestions], "more": self.more,
                "rows": [{"region": r.region.name, "code": r.region.code, "sport": r.sport_name,
                          "band": r.band_label, "demanded": r.demanded, "offered": r.offered,
                          "ratio": r.ratio, "turned_away": r.turned_away} for r in self.rows]}


def panel(region: Region, period: Period) -> Panel:
    """The demand panel of ``region``'s dashboard for ``period``: the first ``PANEL_SUGGESTIONS``
    suggestions and the ``PANEL_ROWS`` rows with the most people turned away (from the same
    cached sums as the demand page; the caller has checked the actor's scope). The full page is
    ``reverse("cockpit:demand", args=[region.code])``."""
    a = analyse(region, period)
    rows = [r for r in a.rows if r.turned_away or r.signs][:PANEL_ROWS]
    shown = _pick(a.suggestions, PANEL_SUGGESTIONS)
    return Panel(region, period, a.as_of, shown, rows, len(a.suggestions) - len(shown))
