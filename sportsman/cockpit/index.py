"""The composite sports index (综合体育指数): one figure from 0 to 100 per region and period, from
the weighted indicators its city configures (``IndexConfig``, ``Perm.INDEX_CONFIG``).

Indicators (:func:`catalogue`) are the registry's figures (``sportsman.core.figures``): every
metric, every ratio, and per-resident forms of the metrics computed here from
``residents_registered`` (a flow per resident, e.g. exercise minutes per resident; a stock per
1,000 residents, e.g. facilities per 1,000 residents) — nothing new is tallied for them.

Scoring (:func:`score`) compares a set of regions (*the compared units*) on each indicator and
gives each a share from 0 to 1:

- ``minmax``: where the unit lies between the lowest and the highest compared value (higher is
  better: (v − min) / (max − min); lower is better: (max − v) / (max − min)); when every unit has
  the same value, each gets 1;
- ``target``: the value against the target (higher is better: v / target, at most 1; lower is
  better: 1 up to the target, then target / v).

A unit without a value (no residents, no tickets, nothing offered for booking) gets 0 on that
indicator; an indicator no compared unit has a value for is left out and the others' weights
are scaled up to 100. The index is Σ weight × share over the indicators left in.

The compared units: a region is compared with its siblings (the children of its parent), so
:func:`index_of` of a town equals its place among its district's towns; a city, which has no
siblings under its own configuration, is placed within the range of itself and its districts.
:func:`children_index` scores a region's children among themselves (an assessment's data items
use the same scoring). :func:`panel` is what a cockpit page shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.cockpit import tallies
from sportsman.cockpit.models.assessment import (
    Direction,
    IndexConfig,
    IndexIndicator,
    Normalisation,
)
from sportsman.cockpit.periods import Period
from sportsman.core import audit, figures
from sportsman.core.errors import Conflict, InvalidInput
from sportsman.core.figures import Kind
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Level, Region

RESIDENTS = "residents_registered"
MAX_INDICATORS = 12
NOTE_MAX = 200
WEIGHT_MAX = Decimal(1000)
TARGET_MAX = Decimal("1e9")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

# The suggested configuration (the demo city's): participation first, then use of the places,
# exercise per resident and upkeep, each compared among the units. (A target such as the national
# 38.5 % of regular exercisers suits surveyed figures; the platform only sees the residents who
# record their exercise on it, so its shares are far lower.)
DEFAULT_INDICATORS: list[dict[str, Any]] = [
    {"figure": "regular_share", "weight": 30},
    {"figure": "active_share_30d", "weight": 25},
    {"figure": "utilisation", "weight": 20},
    {"figure": "exercise_minutes_per_resident", "weight": 15},
    {"figure": "tickets_on_time_rate", "weight": 10},
]


class IndexConfigChanged(Conflict):
    code = "index_config_changed"
    default_message = gettext_lazy("Someone else saved the index configuration at the same time. "
                                   "Reload it and try again.")


# --- the indicators ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    value: Callable[[tallies.Column], float | None]


def _figure(key: str) -> Callable[[tallies.Column], float | None]:
    def value(col: tallies.Column) -> float | None:
        v = col.get(key)
        return None if v is None else float(v)
    return value


def _per_residents(key: str, scale: int) -> Callable[[tallies.Column], float | None]:
    def value(col: tallies.Column) -> float | None:
        residents = col.values.get(RESIDENTS, 0)
        if not residents:
            return None
        return round(col.values.get(key, 0) * scale / residents, 4)
    return value


def catalogue() -> dict[str, Indicator]:
    """Every figure an indicator may use, by key, in the registry's order."""
    out: dict[str, Indicator] = {}
    ms = figures.metrics()
    for m in ms:
        out[m.key] = Indicator(m.key, str(m.label), str(m.unit), _figure(m.key))
    for r in figures.ratios():
        out[r.key] = Indicator(r.key, str(r.label), str(r.unit), _figure(r.key))
    if figures.get(RESIDENTS) is not None:
        for m in ms:
            if m.key == RESIDENTS:
                continue
            if m.kind is Kind.FLOW:
                out[f"{m.key}_per_resident"] = Indicator(
                    f"{m.key}_per_resident", _("%(figure)s per resident") % {"figure": m.label},
                    str(m.unit), _per_residents(m.key, 1))
            else:
                out[f"{m.key}_per_1000"] = Indicator(
                    f"{m.key}_per_1000",
                    _("%(figure)s per 1,000 residents") % {"figure": m.label}, "",
                    _per_residents(m.key, 1000))
    return out


def label_of(key: str) -> str:
    found = catalogue().get(key)
    return found.label if found is not None else key


# --- scoring -------------------------------------------------------------------------------------

class Weighted(Protocol):
    """An index indicator or an assessment's data item."""

    figure: str
    weight: Any
    direction: str
    normalisation: str
    target: Any


def shares(spec: Weighted, values: Sequence[float | None]) -> list[float | None]:
    """Each compared unit's share (0..1) of the indicator; None where it has no value."""
    present = [v for v in values if v is not None]
    if not present:
        return [None] * len(values)
    higher = spec.direction != Direction.LOWER
    if spec.normalisation == Normalisation.TARGET:
        target = float(spec.target)

        def one(v: float) -> float:
            if higher:
                return max(v, 0.0) / target
            return 1.0 if v <= target else target / v
    else:
        lo, hi = min(present), max(present)

        def one(v: float) -> float:
            if hi <= lo:
                return 1.0
            return (v - lo) / (hi - lo) if higher else (hi - v) / (hi - lo)
    return [None if v is None else round(min(max(one(v), 0.0), 1.0), 6) for v in values]


@dataclass
class Part:
    figure: str
    label: str
    unit: str
    weight: Decimal
    value: float | None
    share: float | None
    points: float | None  # the part of the 0–100 index; None: the indicator was left out


@dataclass
class IndexLine:
    region: Region
    index: float | None
    parts: list[Part] = field(default_factory=list)
    rank: int | None = None


def competition_ranks(values: Sequence[Any]) -> list[int | None]:
    """Ranks by value, highest first, ties sharing a rank (1, 1, 3); None values get no rank."""
    order = sorted((v for v in values if v is not None), reverse=True)
    first: dict[Any, int] = {}
    for position, v in enumerate(order, start=1):
        first.setdefault(v, position)
    return [None if v is None else first[v] for v in values]


def score(specs: Sequence[Weighted], columns: Sequence[tallies.Column]) -> list[IndexLine]:
    """The index of each column's region, comparing the columns with one another."""
    known = catalogue()
    table: list[tuple[Weighted, Indicator | None, list[float | None], list[float | None]]] = []
    for spec in specs:
        indicator = known.get(spec.figure)
        values = [indicator.value(c) if indicator else None for c in columns]
        table.append((spec, indicator, values, shares(spec, values)))
    kept = sum((Decimal(spec.weight) for spec, _i, _v, s in table
                if any(x is not None for x in s)), Decimal(0))
    lines = []
    for n, col in enumerate(columns):
        parts, total = [], 0.0
        for spec, indicator, values, col_shares in table:
            used = kept > 0 and any(x is not None for x in col_shares)
            points = (float(Decimal(spec.weight) / kept * HUNDRED) * (col_shares[n] or 0.0)
                      if used else None)
            total += points or 0.0
            parts.append(Part(spec.figure, indicator.label if indicator else spec.figure,
                              indicator.unit if indicator else "", Decimal(spec.weight),
                              values[n], col_shares[n],
                              None if points is None else round(points, 2)))
        lines.append(IndexLine(col.region, round(total, 1) if kept > 0 else None, parts))
    for line, rank in zip(lines, competition_ranks([ln.index for ln in lines]), strict=True):
        line.rank = rank
    return lines


# --- the configuration ---------------------------------------------------------------------------

def city_of(region: Region) -> Region | None:
    """The city whose configuration applies to ``region`` (itself if it is a city)."""
    if region.level == Level.CITY:
        return region
    return Region.objects.filter(id__in=region.ancestor_ids, level=Level.CITY).first()


def current_config(city: Region | None) -> IndexConfig | None:
    """The city's latest configuration, indicators prefetched; None if it never made one."""
    if city is None:
        return None
    return (IndexConfig.objects.filter(city=city)
            .prefetch_related(Prefetch("indicators", IndexIndicator.objects.order_by("position")))
            .select_related("created_by").order_by("-version").first())


def config_history(city: Region, limit: int = 20) -> list[IndexConfig]:
    return list(IndexConfig.objects.filter(city=city).select_related("created_by")
                .order_by("-version")[:limit])


@dataclass(frozen=True)
class IndicatorInput:
    figure: str
    weight: Any
    direction: str = Direction.HIGHER
    normalisation: str = Normalisation.MINMAX
    target: Any = None


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def scale_to(weights: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """``weights`` scaled to sum to exactly ``total`` in cents (the rounding remainder goes to
    the largest)."""
    if not weights:
        return []
    given = sum(weights, Decimal(0))
    out = [(w * total / given).quantize(CENT, ROUND_HALF_UP) for w in weights]
    biggest = max(range(len(out)), key=lambda i: out[i])
    out[biggest] += total - sum(out, Decimal(0))
    return out


def _clean(indicators: Sequence[IndicatorInput]) -> list[IndicatorInput]:
    known = catalogue()
    problems: dict[str, str] = {}
    if not 1 <= len(indicators) <= MAX_INDICATORS:
        problems["indicators"] = _("Give from 1 to %(n)d indicators.") % {"n": MAX_INDICATORS}
    seen: set[str] = set()
    out: list[IndicatorInput] = []
    for n, ind in enumerate(indicators[:MAX_INDICATORS + 1]):
        where = f"indicators.{n}"
        if ind.figure not in known:
            problems[f"{where}.figure"] = _("Unknown figure: %(key)s.") % {"key": ind.figure}
        elif ind.figure in seen:
            problems[f"{where}.figure"] = _("This figure is already an indicator.")
        seen.add(ind.figure)
        weight = parse_decimal(ind.weight)
        if weight is None or not 0 < weight <= WEIGHT_MAX:
            problems[f"{where}.weight"] = _("A weight is a number above 0 and at most "
                                            "%(max)s.") % {"max": WEIGHT_MAX}
        if ind.direction not in Direction.values:
            problems[f"{where}.direction"] = _("Choose higher or lower is better.")
        target = None
        if ind.normalisation == Normalisation.TARGET:
            target = parse_decimal(ind.target)
            if target is None or not 0 < target <= TARGET_MAX:
                problems[f"{where}.target"] = _("A target value is a number above 0.")
        elif ind.normalisation != Normalisation.MINMAX:
            problems[f"{where}.normalisation"] = _("Choose min–max or a target value.")
        out.append(IndicatorInput(ind.figure, weight, ind.direction, ind.normalisation, target))
    if not problems:
        weights = scale_to([i.weight for i in out], HUNDRED)
        for n, w in enumerate(weights):
            if w <= 0:
                problems[f"indicators.{n}.weight"] = _("This weight is too small next to the "
                                                       "others.")
        out = [IndicatorInput(i.figure, w, i.direction, i.normalisation, i.target)
               for i, w in zip(out, weights, strict=True)]
    if problems:
        raise InvalidInput(_("The index configuration is not valid."), code="bad_index_config",
                           fields=problems)
    return out


def save_config(*, actor: Access, city: Region, indicators: Sequence[IndicatorInput],
                note: str = "", request: Any = None) -> IndexConfig:
    """Save the next version of ``city``'s index configuration. The actor holds
    ``Perm.INDEX_CONFIG`` over the city. Figures must be known, weights above 0 (scaled here to
    a sum of 100), a target given where the normalisation is a target. Earlier versions stay as
    they were (assessments name the version they copied). Audited (``index.configure``)."""
    actor.require(Perm.INDEX_CONFIG, city)
    if city.level != Level.CITY:
        raise InvalidInput(_("Only a city configures the sports index."), code="not_a_city")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(fields={"note": _("At most %(n)d characters.") % {"n": NOTE_MAX}})
    cleaned = _clean(indicators)
    with transaction.atomic():
        last = IndexConfig.objects.filter(city=city).aggregate(v=Max("version"))["v"] or 0
        try:
            with transaction.atomic():
                config = IndexConfig.objects.create(city=city, version=last + 1, note=note,
                                                    created_by=actor.user)
        except IntegrityError:
            raise IndexConfigChanged() from None
        IndexIndicator.objects.bulk_create([
            IndexIndicator(config=config, position=n, figure=i.figure, weight=i.weight,
                           direction=i.direction, normalisation=i.normalisation, target=i.target)
            for n, i in enumerate(cleaned)])
        audit.record(actor=actor.user, action="index.configure", obj=config, region=city,
                     request=request, data={"version": config.version, "indicators": [
                         {"figure": i.figure, "weight": str(i.weight), "direction": i.direction,
                          "normalisation": i.normalisation,
                          "target": None if i.target is None else str(i.target)}
                         for i in cleaned]})
    return config


def default_indicators() -> list[IndicatorInput]:
    """The suggested indicators that this deployment's figures can compute."""
    known = catalogue()
    return [IndicatorInput(**d) for d in DEFAULT_INDICATORS if d["figure"] in known]


# --- the index of a region -----------------------------------------------------------------------

def _indicators(config: IndexConfig) -> list[IndexIndicator]:
    return list(config.indicators.all())


def index_of(region: Region, period: Period) -> IndexLine | None:
    """``region``'s index for ``period`` (None when its city has no configuration)."""
    city = city_of(region)
    config = current_config(city)
    if config is None or city is None:
        return None
    specs = _indicators(config)
    if region.pk == city.pk or region.parent_id is None:
        sheet = tallies.sheet(region, period)
        line = score(specs, [sheet.total, *sheet.children])[0]
        line.rank = None  # placed among its own districts, not ranked with them
        return line
    parent = Region.objects.get(pk=region.parent_id)
    siblings = tallies.sheet(parent, period).children
    return next(line for line in score(specs, siblings) if line.region.pk == region.pk)


def children_index(region: Region, period: Period,
                   config: IndexConfig | None = None) -> list[IndexLine]:
    """The index of each child of ``region``, compared among themselves, best first."""
    config = config or current_config(city_of(region))
    if config is None:
        return []
    lines = score(_indicators(config), tallies.sheet(region, period).children)
    return sorted(lines, key=lambda ln: (ln.rank is None, ln.rank or 0, ln.region.code))


@dataclass
class IndexPanel:
    region: Region
    period: Period
    config: IndexConfig | None
    line: IndexLine | None  # the region's own index
    children: list[IndexLine]
    as_of: dt.date | None


def _cockpit_url(region: Region) -> str:
    try:
        return reverse("cockpit:region", kwargs={"code": region.code})
    except NoReverseMatch:
        return ""


def _part_dict(p: Part) -> dict[str, Any]:
    return {"figure": p.figure, "label": p.label, "unit": p.unit, "weight": float(p.weight),
            "value": p.value, "share": p.share, "points": p.points}


def panel_dict(p: IndexPanel) -> dict[str, Any]:
    """The panel as plain data: the template partial's context and a big screen's JSON."""
    line = p.line
    return {
        "region": {"code": p.region.code, "name": p.region.name},
        "period": p.period.key, "period_label": p.period.label(),
        "as_of": p.as_of.isoformat() if p.as_of else None,
        "configured": p.config is not None,
        "version": p.config.version if p.config else None,
        "index": line.index if line else None, "rank": line.rank if line else None,
        "parts": [_part_dict(x) for x in line.parts] if line else [],
        "children": [{"code": c.region.code, "name": c.region.name, "index": c.index,
                      "rank": c.rank, "url": _cockpit_url(c.region)} for c in p.children],
    }


def panel(region: Region, period: Period) -> IndexPanel:
    """What a region's cockpit shows of the index: its own index with each indicator's part,
    and its children's indices ranked. Render it with the template
    ``cockpit/assessment/_index_panel.html`` with ``index_panel = panel_dict(panel(...))`` in
    the context. The caller has checked that the actor may see ``region``'s cockpit."""
    config = current_config(city_of(region))
    if config is None:
        return IndexPanel(region, period, None, None, [], None)
    return IndexPanel(region, period, config, index_of(region, period),
                      children_index(region, period, config),
                      tallies.sheet(region, period).as_of)
