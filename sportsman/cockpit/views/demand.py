"""The demand analysis page of a region's cockpit (需求分析), staff only (``COCKPIT_VIEW``; a
region outside the actor's subtrees: 404):

- ``/cockpit/<code>/demand/?period=&sort=&dir=``: the suggestions first, then a heat map of
  sport × time of the week, then the table of child region × sport × time band (demanded,
  offered, ratio and each signal), sortable by any column, printable; a child's name opens its
  own demand page;
- ``/cockpit/<code>/demand.xlsx?period=``: the suggestions and the table as a spreadsheet
  (audited like the cockpit's other exports).

Everything comes from ``sportsman.cockpit.demand``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _

from sportsman.cockpit import demand, periods
from sportsman.cockpit.demand import BANDS, Analysis, Row
from sportsman.cockpit.selectors import region_for
from sportsman.cockpit.views.common import CODE, SECTION, Ask, bad_ask, crumbs, picker, state, url
from sportsman.core import audit, xlsx
from sportsman.core.errors import InvalidInput
from sportsman.core.models import AuditEntry
from sportsman.regions.access import Perm, access_for, scoped
from sportsman.regions.views import _render

RANK = "rank"


def _ask(request: HttpRequest) -> Ask:
    """The period, and the column sorted by: highest (or first in rank) first unless
    ``dir=asc``."""
    return Ask(periods.parse(request.GET.get("period")), None,
               request.GET.get("sort", RANK)[:40] or RANK, request.GET.get("dir") != "asc",
               False)


def _sorts(a: Analysis) -> dict[str, tuple[Any, Callable[[Row], Any]]]:
    """Column key → (heading, sort key). ``rank`` is the analysis's own order."""
    order = {id(r): i for i, r in enumerate(a.rows)}
    out: dict[str, tuple[Any, Callable[[Row], Any]]] = {
        RANK: (_("Rank"), lambda r: -order[id(r)]),
        "region": (_("Region"), lambda r: r.region.code),
        "sport": (_("Sport"), lambda r: r.sport_name),
        "band": (_("Time of the week"),
                 lambda r: BANDS.index(r.band) if r.band in BANDS else len(BANDS)),
        "demanded": (_("Places demanded"), lambda r: r.demanded),
        "offered": (_("Places offered"), lambda r: r.offered),
        "ratio": (_("Demand per place"), lambda r: -1 if r.ratio is None else r.ratio),
    }
    for s in a.columns:
        out[s.key] = (s.label, _count_of(s.key))
    return out


def _count_of(key: str) -> Callable[[Row], int]:
    return lambda r: r.values.get(key, 0)


def _sorted(a: Analysis, ask: Ask) -> tuple[str, list[Row]]:
    sorts = _sorts(a)
    key = ask.sort if ask.sort in sorts else RANK
    return key, sorted(a.rows, key=sorts[key][1], reverse=ask.descending)


def _headings(a: Analysis, ask: Ask, current: str) -> list[dict[str, Any]]:
    """The table's headings, each a link sorting by it (rank and numbers highest first, names
    A–Z; the current column flips)."""
    out = []
    for key, (label, _fn) in _sorts(a).items():
        named = key in ("region", "sport", "band")
        descending = not ask.descending if key == current else not named
        out.append({"key": key, "label": label, "numeric": not named and key != RANK,
                    "current": key == current,
                    "aria_sort": ("descending" if ask.descending else "ascending")
                    if key == current else "",
                    "url": "?" + urlencode(ask.params(sort=key,
                                                      dir="" if descending else "asc"))})
    return out


def _cells(a: Analysis, row: Row) -> list[str]:
    return [f"{row.values.get(s.key, 0):,}" for s in a.columns]


@scoped(Perm.COCKPIT_VIEW)
def page(request: HttpRequest, code: str) -> HttpResponse:
    """Suggestions, heat map and table of the region's unmet demand for a period."""
    access = access_for(request)
    region = region_for(access, code)
    try:
        ask = _ask(request)
    except InvalidInput as exc:
        return bad_ask(request, region, exc)
    a = demand.analyse(region, ask.period)
    current, rows = _sorted(a, ask)
    rank = {id(r): i for i, r in enumerate(a.rows, start=1)}
    heat = a.heat()
    grid = heat.grid()
    period = {"period": ask.period.key}
    return _render(request, "cockpit/demand/page.html", state(request, region), SECTION, **{
        "region": region, "analysis": a, "ask": ask, "picker": picker(ask),
        "crumbs": crumbs(access, region, "cockpit:demand", {"period": ask.period.key}),
        "headings": _headings(a, ask, current),
        "rows": [{"row": row, "rank": rank[id(row)], "cells": _cells(a, row),
                  "url": url("cockpit:demand", row.region, period)
                  if row.region.pk != region.pk else ""} for row in rows],
        "heat": heat, "heat_grid": grid,
        "heat_data": {"bands": [label for _b, label in heat.bands],
                      "sports": [name for _s, name in heat.sports],
                      "cells": [[j, i, cell.ratio, cell.demanded, cell.offered,
                                 cell.turned_away]
                                for i, (_name, cells) in enumerate(grid)
                                for j, cell in enumerate(cells) if cell is not None]},
        "urls": {"xlsx": url("cockpit:demand_export", region, period),
                 "cockpit": url("cockpit:region", region, period)},
        "thresholds": {"turned_away": demand.MIN_TURNED_AWAY, "ratio": demand.MIN_RATIO,
                       "signs": [(s.label, s.threshold) for s in a.signals if s.threshold]},
    })


def sheets(a: Analysis) -> list[xlsx.Sheet]:
    """The suggestions and the table, as the page shows them (ranked)."""
    headers = [_("Region"), _("Region code"), _("Sport"), _("Time of the week"),
               _("Places demanded"), _("Places offered"), _("Demand per place"),
               *[str(s.label) for s in a.columns]]
    rows = [[r.region.name, r.region.code, r.sport_name, r.band_label, r.demanded, r.offered,
             r.ratio, *[r.values.get(s.key, 0) for s in a.columns]] for r in a.rows]
    return [(_("Suggestions"), [_("Suggestion")], [[s.text] for s in a.suggestions]),
            (_("Demand"), headers, rows)]


@scoped(Perm.COCKPIT_VIEW)
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The suggestions and the demand table as xlsx; the export is audited."""
    region = region_for(access_for(request), code)
    period = periods.parse(request.GET.get("period"))
    a = demand.analyse(region, period)
    content = xlsx.workbook(sheets(a))
    audit.record(actor=request.user, action="cockpit.demand_export", kind=AuditEntry.Kind.VIEW,
                 object_type="regions.region", object_id=region.pk, region=region,
                 request=request, data={"period": period.key, "rows": len(a.rows)})
    return xlsx.download(content, f"demand-{region.code}-{period.key}")


urlpatterns: list[URLPattern] = [
    re_path(rf"^{CODE}/demand/$", page, name="demand"),
    re_path(rf"^{CODE}/demand\.xlsx$", export, name="demand_export"),
]
