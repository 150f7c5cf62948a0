"""Demand analysis of a region, scoped like its cockpit (another region: 404).

- ``GET /cockpit/{region_code}/demand?period=YYYY|YYYY-Qn|YYYY-MM``: per child region × sport ×
  time band, ranked by the people turned away: places demanded (taken + turned away), offered,
  their ratio and every demand signal; and the suggestions in plain language (in the request's
  language). See ``sportsman.cockpit.demand``.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from sportsman.cockpit import demand, periods
from sportsman.cockpit.api.summary import PeriodQuery, RegionOut
from sportsman.cockpit.selectors import region_for
from sportsman.regions.access import Perm, access_for, scoped
from sportsman.regions.models import Region

router = Router(tags=["cockpit"])


class SignalOut(Schema):
    key: str
    label: str
    role: str = Field(..., description="offered, taken, turned_away or sign")
    domain: str


class SportOut(Schema):
    slug: str = Field(..., description='"" when the records name no sport')
    name: str


class RowOut(Schema):
    region: RegionOut
    sport: SportOut
    band: str = Field(..., description='weekday_morning … weekend_evening; "" for any time')
    band_label: str
    demanded: int
    offered: int
    ratio: float | None = Field(..., description="demanded / offered; null when none offered")
    turned_away: int
    signals: dict[str, int]


class SuggestionOut(Schema):
    text: str
    kind: str = Field(..., description='"capacity" or the key of the signal that speaks')
    region: RegionOut
    sport: str
    band: str
    weight: int


class DemandOut(Schema):
    region: RegionOut
    period: str
    start: dt.date
    end: dt.date
    as_of: dt.date | None
    signals: list[SignalOut]
    suggestions: list[SuggestionOut]
    rows: list[RowOut]


def _region(region: Region) -> dict[str, str]:
    return {"code": region.code, "name": region.name, "level": region.level}


@router.get("/cockpit/{region_code}/demand", response=DemandOut)
@scoped(Perm.COCKPIT_VIEW)
def demand_analysis(request: HttpRequest, region_code: str, query: Query[PeriodQuery]):
    """Unmet demand in the region's subtree for the period, ranked, with suggestions."""
    region = region_for(access_for(request), region_code)
    period = periods.parse(query.period)
    a = demand.analyse(region, period)
    return {
        "region": _region(region), "period": period.key, "start": period.start,
        "end": period.end, "as_of": a.as_of,
        "signals": [{"key": s.key, "label": str(s.label), "role": str(s.role),
                     "domain": s.domain} for s in a.signals],
        "suggestions": [{"text": s.text, "kind": s.kind, "region": _region(s.region),
                         "sport": s.sport, "band": s.band, "weight": s.weight}
                        for s in a.suggestions],
        "rows": [{"region": _region(r.region), "sport": {"slug": r.sport, "name": r.sport_name},
                  "band": r.band, "band_label": r.band_label, "demanded": r.demanded,
                  "offered": r.offered, "ratio": r.ratio, "turned_away": r.turned_away,
                  "signals": r.values} for r in a.rows],
    }
