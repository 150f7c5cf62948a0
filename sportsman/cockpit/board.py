"""The dashboard of one region for one period: headline figures with their change against the
previous period, a panel per domain, the trend by day, week or month, and the subunits ranked.
The cockpit's page, its big screen, its JSON and its exports all show this one object.

Every figure comes from ``tallies.sheet`` and ``tallies.series`` (never from records), and the
panels follow the registry (``sportsman.core.figures``): a domain that declares figures gets its
panel, its trend and its columns in the exports without a template change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.cockpit import tallies
from sportsman.cockpit.periods import Grain, Period
from sportsman.core import figures, xlsx
from sportsman.core.errors import InvalidInput
from sportsman.regions.models import Region

# The cards at the top, in this order (those the registry knows; a missing app drops its cards).
HEADLINE = ("residents_registered", "residents_active_7d", "residents_active_30d",
            "exercise_minutes", "regular_share", "facilities", "smart_facilities",
            "utilisation", "bookings", "visits", "tickets_on_time_rate", "reports_on_time_rate",
            "points_earned", "points_spent", "vouchers_claimed", "vouchers_redeemed")
# The trend charts of the big screen.
SCREEN_TRENDS = ("exercise_minutes", "residents_active_7d", "visits", "bookings")
DEFAULT_SORT = "exercise_minutes"

GRAINS = {"day": gettext_lazy("by day"), "week": gettext_lazy("by week"),
          "month": gettext_lazy("by month")}
DEFAULT_GRAIN = {Grain.MONTH: "day", Grain.QUARTER: "week", Grain.YEAR: "month"}

# Panel titles of the domains that declare figures (and of those that will); an unknown domain
# is titled by its name.
DOMAINS = {
    "accounts": gettext_lazy("Residents"),
    "activity": gettext_lazy("Exercise"),
    "facilities": gettext_lazy("Facilities"),
    "rewards": gettext_lazy("Points and vouchers"),
    "groups": gettext_lazy("Sports groups"),
    "events": gettext_lazy("Events"),
    "instructors": gettext_lazy("Social sports instructors"),
    "associations": gettext_lazy("Sports associations"),
    "governance": gettext_lazy("Reports and surveys"),
    "fitness": gettext_lazy("Physical fitness"),
}

RATIO = "ratio"


@dataclass(frozen=True)
class Figure:
    """A metric (flow or stock) or a ratio, as the registry declares it."""

    key: str
    label: Any
    unit: Any
    kind: str  # "flow", "stock" or "ratio"
    domain: str
    order: int

    @property
    def is_ratio(self) -> bool:
        return self.kind == RATIO

    @property
    def heading(self) -> str:
        unit = str(self.unit)
        return f"{self.label} ({unit})" if unit else str(self.label)

    def show(self, value: int | float | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, float) or self.is_ratio:
            text = f"{value:,.2f}".rstrip("0").rstrip(".")
            return f"{text}%" if str(self.unit) == "%" else text
        return f"{value:,}"


def catalogue() -> list[Figure]:
    """Every figure the registry declares, metrics before ratios of the same order."""
    out = [Figure(m.key, m.label, m.unit, str(m.kind), m.domain, m.order)
           for m in figures.metrics()]
    out += [Figure(r.key, r.label, r.unit, RATIO, r.domain, r.order) for r in figures.ratios()]
    return sorted(out, key=lambda f: (f.order, f.is_ratio, f.key))


@dataclass(frozen=True)
class Value:
    figure: Figure
    value: int | float | None
    previous: int | float | None

    @property
    def text(self) -> str:
        return self.figure.show(self.value)

    @property
    def previous_text(self) -> str:
        return self.figure.show(self.previous)

    @property
    def change(self) -> float | None:
        """A ratio's difference in points; a count's change in percent of the previous value
        (None when there is nothing to compare with)."""
        if self.value is None or self.previous is None:
            return None
        if self.figure.is_ratio:
            return round(self.value - self.previous, 2)
        if not self.previous:
            return None
        return round((self.value - self.previous) * 100 / self.previous, 1)

    @property
    def direction(self) -> str:
        change = self.change
        if change is None:
            return ""
        return "up" if change > 0 else "down" if change < 0 else "flat"

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "—"
        sign = "+" if change > 0 else "−" if change < 0 else "±"
        if self.figure.is_ratio:
            return _("%(sign)s%(points)s pt") % {"sign": sign, "points": f"{abs(change):,.2f}"}
        return f"{sign}{abs(change):,.1f}%"

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.figure.key, "value": self.value, "text": self.text,
                "previous": self.previous, "change": self.change,
                "change_text": self.change_text, "direction": self.direction}


@dataclass(frozen=True)
class Panel:
    domain: str
    label: str
    values: list[Value]

    @property
    def keys(self) -> list[str]:
        return [v.figure.key for v in self.values]


@dataclass(frozen=True)
class Subunit:
    rank: int
    column: tallies.Column
    url: str
    cells: list[str]  # the texts of ``Board.columns``
    sort_text: str

    @property
    def region(self) -> Region:
        return self.column.region


@dataclass(frozen=True)
class Bucket:
    start: dt.date
    end: dt.date
    label: str
    values: dict[str, int | float | None]


@dataclass(frozen=True)
class Board:
    region: Region
    period: Period
    previous: Period
    grain: str
    as_of: dt.date | None
    total: tallies.Column
    figures: list[Figure]
    headline: list[Value]
    panels: list[Panel]
    columns: list[Figure]  # of the subunit table
    sort: Figure
    descending: bool
    subunits: list[Subunit]
    trend: list[Bucket]

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)

    @property
    def screen_trends(self) -> list[Figure]:
        return [f for key in SCREEN_TRENDS if (f := self.figure(key)) is not None]

    def trend_rows(self) -> list[tuple[Bucket, list[str]]]:
        return [(b, [f.show(b.values.get(f.key)) for f in self.figures]) for b in self.trend]

    def as_data(self) -> dict[str, Any]:
        """What the charts draw and the big screen refreshes from (``json_script`` and the JSON
        view give the same)."""
        return {
            "region": {"code": self.region.code, "name": self.region.name,
                       "level": self.region.level},
            "period": {"key": self.period.key, "label": self.period.label(),
                       "start": self.period.start.isoformat(),
                       "end": self.period.end.isoformat()},
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "grain": self.grain,
            "figures": {f.key: {"label": str(f.label), "unit": str(f.unit), "kind": f.kind}
                        for f in self.figures},
            "headline": [v.as_dict() for v in self.headline],
            "trend": {"labels": [b.label for b in self.trend],
                      "series": {f.key: [b.values.get(f.key) for b in self.trend]
                                 for f in self.figures}},
            "subunits": {"sort": self.sort.key, "label": str(self.sort.label),
                         "descending": self.descending,
                         "rows": [{"rank": s.rank, "code": s.region.code, "name": s.region.name,
                                   "url": s.url, "value": s.column.get(self.sort.key),
                                   "text": s.sort_text} for s in self.subunits]},
        }


def grain_for(period: Period, value: str | None) -> str:
    """The trend's grain: ``value`` if given (day, week or month), else the period's natural
    one (a month by day, a quarter by week, a year by month)."""
    if not value:
        return DEFAULT_GRAIN[period.grain]
    if value not in GRAINS:
        raise InvalidInput(_("Unknown grain."), code="bad_grain",
                           fields={"grain": _("Choose day, week or month.")})
    return value


def _label(start: dt.date, end: dt.date, grain: str) -> str:
    if grain == "month":
        return f"{start:%Y-%m}"
    if grain == "week":
        return f"{start:%m-%d}~{end:%m-%d}"
    return f"{start:%m-%d}"


def _ranked(children: list[tallies.Column], key: str,
            descending: bool) -> list[tallies.Column]:
    """By ``key``, ties by code; regions without a value (a ratio over nothing) last."""
    known = [c for c in children if c.get(key) is not None]
    unknown = [c for c in children if c.get(key) is None]
    known.sort(key=lambda c: c.region.code)
    known.sort(key=lambda c: c.get(key) or 0, reverse=descending)
    return known + unknown


def build(region: Region, period: Period, *, grain: str | None = None, sort: str | None = None,
          descending: bool = True, link: Callable[[Region], str] | None = None) -> Board:
    """``region``'s dashboard for ``period``: ``grain`` as ``grain_for``; subunits ranked by
    the figure ``sort`` (any metric or ratio; an unknown one falls back to exercise minutes),
    each with ``link(subunit)`` as its drill-down address. No access check: the caller has
    checked the actor's ``COCKPIT_VIEW`` over ``region``."""
    chosen_grain = grain_for(period, grain)
    every = catalogue()
    by_key = {f.key: f for f in every}
    sheet = tallies.sheet(region, period)
    before = tallies.sheet(region, period.comparable_before(sheet.as_of))

    def value(f: Figure) -> Value:
        return Value(f, sheet.total.get(f.key), before.total.get(f.key))

    headline = [value(by_key[k]) for k in HEADLINE if k in by_key]
    panels: dict[str, list[Value]] = {}
    for f in every:
        panels.setdefault(f.domain, []).append(value(f))
    sort_figure = (by_key.get(sort or "") or by_key.get(DEFAULT_SORT)
                   or (headline[0].figure if headline else every[0]))
    columns = [v.figure for v in headline]
    if sort_figure not in columns:
        columns.append(sort_figure)
    subunits = [Subunit(rank, col, link(col.region) if link else "",
                        [f.show(col.get(f.key)) for f in columns],
                        sort_figure.show(col.get(sort_figure.key)))
                for rank, col in enumerate(_ranked(sheet.children, sort_figure.key, descending),
                                           1)]
    points = tallies.series(region, [m.key for m in figures.metrics()], grain=chosen_grain,
                            start=period.start, end=period.end)
    trend = []
    for p in points:
        values: dict[str, int | float | None] = dict(p.values)
        values.update({r.key: r.of(p.values) for r in figures.ratios()})
        trend.append(Bucket(p.start, p.end, _label(p.start, p.end, chosen_grain), values))
    return Board(
        region=region, period=period, previous=period.previous(), grain=chosen_grain,
        as_of=sheet.as_of, total=sheet.total, figures=every, headline=headline,
        panels=[Panel(d, str(DOMAINS.get(d, d)), vs) for d, vs in panels.items()],
        columns=columns, sort=sort_figure, descending=descending, subunits=subunits,
        trend=trend)


# --- exports --------------------------------------------------------------------------------------

def subunits_sheet(board: Board) -> xlsx.Sheet:
    """The subunits ranked as on the page, with every figure, and the region's total last."""
    headers = [_("Rank"), _("Region"), _("Code"), *[f.heading for f in board.figures]]
    rows: list[list[Any]] = [[s.rank, s.region.name, s.region.code,
                              *[s.column.get(f.key) for f in board.figures]]
                             for s in board.subunits]
    rows.append(["", _("%(name)s (total)") % {"name": board.region.name}, board.region.code,
                 *[board.total.get(f.key) for f in board.figures]])
    return (f"{board.region.name} {board.period.key}", headers, rows)


def trend_sheet(board: Board) -> xlsx.Sheet:
    headers = [_("From"), _("To"), *[f.heading for f in board.figures]]
    rows = [[b.start, b.end, *[b.values.get(f.key) for f in board.figures]]
            for b in board.trend]
    return (f"{board.region.name} {board.period.key} {GRAINS[board.grain]}", headers, rows)
