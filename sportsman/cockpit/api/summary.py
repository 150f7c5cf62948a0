"""Figures of a region's cockpit, scoped like the pages: the actor must hold the cockpit
permission over the region (another region: 404, as if it did not exist).

- ``GET /cockpit/metrics``: what each figure means (label, kind, unit, domain).
- ``GET /cockpit/{region_code}/summary?period=YYYY|YYYY-Qn|YYYY-MM``: the region's figures and
  each child's. ``figures`` are additive counts (a region's figure equals the sum of its
  children's); ``ratios`` are computed from them.
- ``GET /cockpit/{region_code}/series?metric=…&grain=day|week|month&period=…``: a trend.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from sportsman.cockpit import periods, tallies
from sportsman.cockpit.selectors import region_for
from sportsman.core import figures
from sportsman.core.errors import InvalidInput
from sportsman.regions.access import Perm, access_for, scoped
from sportsman.regions.models import Region

router = Router(tags=["cockpit"])


class MetricOut(Schema):
    key: str
    label: str
    kind: str
    unit: str
    domain: str


class RatioOut(Schema):
    key: str
    label: str
    numerator: str
    denominator: str
    scale: int
    unit: str


class MetricsOut(Schema):
    metrics: list[MetricOut]
    ratios: list[RatioOut]


class RegionOut(Schema):
    code: str
    name: str
    level: str


class ColumnOut(Schema):
    region: RegionOut
    figures: dict[str, int]
    ratios: dict[str, float | None]


class SummaryOut(Schema):
    region: RegionOut
    period: str
    start: dt.date
    end: dt.date
    as_of: dt.date | None = Field(..., description="the last day with figures")
    figures: dict[str, int]
    ratios: dict[str, float | None]
    children: list[ColumnOut]


class PeriodQuery(Schema):
    period: str | None = Field(None, max_length=16,
                               description="2026, 2026-Q3 or 2026-11; default: this month")


class SeriesQuery(PeriodQuery):
    metric: list[str] = Field(..., min_length=1, max_length=10)
    grain: Literal["day", "week", "month"] = "day"


class PointOut(Schema):
    start: dt.date
    end: dt.date
    values: dict[str, int]


class SeriesOut(Schema):
    region: RegionOut
    period: str
    grain: str
    points: list[PointOut]


def _region(region: Region) -> dict[str, str]:
    return {"code": region.code, "name": region.name, "level": region.level}


def _column(col: tallies.Column) -> dict[str, object]:
    return {"region": _region(col.region), "figures": col.values, "ratios": col.ratios()}


@router.get("/cockpit/metrics", response=MetricsOut)
@scoped(Perm.COCKPIT_VIEW)
def metric_list(request: HttpRequest):
    """Every figure the cockpit knows, in display order."""
    return {
        "metrics": [{"key": m.key, "label": str(m.label), "kind": str(m.kind),
                     "unit": str(m.unit), "domain": m.domain} for m in figures.metrics()],
        "ratios": [{"key": r.key, "label": str(r.label), "numerator": r.numerator,
                    "denominator": r.denominator, "scale": r.scale, "unit": str(r.unit)}
                   for r in figures.ratios()],
    }


@router.get("/cockpit/{region_code}/summary", response=SummaryOut)
@scoped(Perm.COCKPIT_VIEW)
def summary(request: HttpRequest, region_code: str, query: Query[PeriodQuery]):
    """The region's figures for the period, and each child's side by side."""
    region = region_for(access_for(request), region_code)
    period = periods.parse(query.period)
    sheet = tallies.sheet(region, period)
    return {"region": _region(region), "period": period.key, "start": period.start,
            "end": period.end, "as_of": sheet.as_of, "figures": sheet.total.values,
            "ratios": sheet.total.ratios(), "children": [_column(c) for c in sheet.children]}


@router.get("/cockpit/{region_code}/series", response=SeriesOut)
@scoped(Perm.COCKPIT_VIEW)
def series(request: HttpRequest, region_code: str, query: Query[SeriesQuery]):
    """The trend of up to ten metrics over the period, by day, week or month."""
    region = region_for(access_for(request), region_code)
    period = periods.parse(query.period)
    known = {m.key for m in figures.metrics()}
    unknown = [k for k in query.metric if k not in known]
    if unknown:
        raise InvalidInput(_("Unknown figure."), code="unknown_metric",
                           fields={"metric": _("Unknown: %(keys)s") % {"keys": ", ".join(unknown)}})
    points = tallies.series(region, query.metric, grain=query.grain, start=period.start,
                            end=period.end)
    return {"region": _region(region), "period": period.key, "grain": query.grain,
            "points": [{"start": p.start, "end": p.end, "values": p.values} for p in points]}
