"""The dashboards of the four levels (驾驶舱), staff only (``COCKPIT_VIEW``):

- ``/cockpit/``: to the actor's home region's cockpit;
- ``/cockpit/<code>/?period=&grain=&sort=&dir=``: a region of the actor's subtree (another
  region: 404) — headline figures, trend, subunits ranked (each a link into its cockpit), live
  occupancy map, a panel per domain; ``&screen=1`` is the big screen (大屏);
- ``/cockpit/<code>/data.json``: the same figures (the big screen refreshes from it);
- ``/cockpit/<code>/occupancy.json``: the map's facilities and the people there now;
- ``/cockpit/<code>/export.xlsx?table=subunits|trend``: the tables as spreadsheets (audited).

Every figure comes from ``sportsman.cockpit.board`` (built on the tallies), the map from
``facilities.selectors.occupancy_points``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path, re_path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.cockpit import board, index, periods, supervision
from sportsman.cockpit.selectors import home_region, region_for
from sportsman.cockpit.views.common import (
    CODE,
    SECTION,
    Ask,
    bad_ask,
    crumbs,
    here,
    picker,
    state,
    url,
)
from sportsman.core import audit, xlsx
from sportsman.core.errors import DomainError, InvalidInput
from sportsman.core.models import AuditEntry
from sportsman.regions.access import Access, Perm, access_for, scoped
from sportsman.regions.models import Region
from sportsman.regions.views import _render

TABLES = ("subunits", "trend")
CROWD_LABELS = {"quiet": gettext_lazy("quiet"), "moderate": gettext_lazy("moderate"),
                "busy": gettext_lazy("busy"), "unknown": gettext_lazy("not known")}
BUSIEST_SHOWN = 10


def _ask(request: HttpRequest) -> Ask:
    """Raises InvalidInput (code ``bad_period`` or ``bad_grain``) on a period or grain that is
    not one."""
    period = periods.parse(request.GET.get("period"))
    grain = request.GET.get("grain") or None
    board.grain_for(period, grain)
    return Ask(period, grain, request.GET.get("sort", "")[:40],
               request.GET.get("dir") != "asc", request.GET.get("screen") == "1")


def _board(region: Region, ask: Ask) -> board.Board:
    def link(child: Region) -> str:
        return url("cockpit:region", child, ask.params())
    return board.build(region, ask.period, grain=ask.grain, sort=ask.sort,
                       descending=ask.descending, link=link)


def _taskurl(access: Access, region: Region) -> str | None:
    """Where to issue ``region`` a supervision task, when the actor supervises a region above
    it (tasks go strictly downwards)."""
    parent = region.parent
    if parent is None or not access.can(Perm.SUPERVISION, parent):
        return None
    return f"{reverse('cockpit:task_new')}?{urlencode({'to': region.code})}"


def _supervision(region: Region) -> dict[str, Any]:
    """The region's open and overdue supervision tasks."""
    return supervision.panel(region).as_dict()


def _occupancy(region: Region) -> dict[str, Any]:
    from sportsman.facilities.selectors import occupancy_points

    live = occupancy_points(region)
    return {
        "facilities": live.facilities, "people": live.people,
        "at": timezone.localtime().isoformat(timespec="seconds"),
        "tiles": getattr(settings, "FACILITY_MAP_TILES", ""),
        "points": [{"id": p.id, "name": p.name, "lat": p.lat, "lng": p.lng,
                    "people": p.people, "capacity": p.capacity, "crowd": p.crowd,
                    "crowd_label": str(CROWD_LABELS.get(p.crowd, p.crowd)), "open": p.is_open,
                    "at": timezone.localtime(p.at).strftime("%H:%M") if p.at else "",
                    "url": reverse("facilities:facility", args=[p.id])}
                   for p in live.points],
    }


def _columns(b: board.Board, ask: Ask) -> list[dict[str, Any]]:
    """The subunit table's headings: each a link sorting by it (descending first)."""
    out = []
    for f in b.columns:
        current = f.key == b.sort.key
        flip = current and b.descending
        out.append({"figure": f, "current": current, "total": f.show(b.total.get(f.key)),
                    "aria_sort": ("descending" if b.descending else "ascending") if current
                    else "",
                    "url": here(ask.params(sort=f.key, dir="asc" if flip else ""))})
    return out


# --- views --------------------------------------------------------------------------------------

@scoped(Perm.COCKPIT_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    """The cockpit of the topmost region the actor holds the cockpit over."""
    region = home_region(access_for(request))
    return HttpResponseRedirect(url("cockpit:region", region))


@scoped(Perm.COCKPIT_VIEW)
def region_page(request: HttpRequest, code: str) -> HttpResponse:
    """A region's cockpit for a period, on the console or (``screen=1``) on the big screen."""
    access = access_for(request)
    region = region_for(access, code)
    try:
        ask = _ask(request)
    except InvalidInput as exc:
        return bad_ask(request, region, exc)
    b = _board(region, ask)
    context: dict[str, Any] = {
        "region": region, "board": b, "ask": ask, "data": b.as_data(),
        "occupancy": _occupancy(region), "crumbs": crumbs(access, region, "cockpit:region", ask.params()),
        "picker": picker(ask), "busiest": BUSIEST_SHOWN,
        "grains": [{"key": g, "label": label, "active": g == b.grain,
                    "url": here(ask.params(grain=g))} for g, label in board.GRAINS.items()],
        "urls": {
            "data": url("cockpit:data", region, ask.params(screen="")),
            "occupancy": url("cockpit:occupancy", region),
            "screen": url("cockpit:region", region, ask.params(screen="1")),
            "console": url("cockpit:region", region, ask.params(screen="")),
            "subunits_xlsx": url("cockpit:export", region,
                                  ask.params(screen="", table="subunits")),
            "trend_xlsx": url("cockpit:export", region, ask.params(screen="", table="trend")),
            "task_new": _taskurl(access, region),
        },
    }
    if ask.screen:
        return render(request, "cockpit/dashboard/screen.html", context)
    context.update(columns=_columns(b, ask), supervision=_supervision(region),
                   index_panel=index.panel_dict(index.panel(region, b.period)))
    return _render(request, "cockpit/dashboard/region.html", state(request, region), SECTION,
                   **context)


@scoped(Perm.COCKPIT_VIEW)
def data(request: HttpRequest, code: str) -> HttpResponse:
    """The page's figures as JSON (what the charts draw); a bad period: the API's error shape."""
    try:
        region = region_for(access_for(request), code)
        b = _board(region, _ask(request))
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(b.as_data())


@scoped(Perm.COCKPIT_VIEW)
def occupancy(request: HttpRequest, code: str) -> HttpResponse:
    """The facilities of the region's subtree with the people there now (the live map)."""
    try:
        region = region_for(access_for(request), code)
    except DomainError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    response = JsonResponse(_occupancy(region))
    response["Cache-Control"] = "no-store"
    return response


@scoped(Perm.COCKPIT_VIEW)
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The subunit table or the trend table of the page as xlsx; the export is audited."""
    region = region_for(access_for(request), code)
    table = request.GET.get("table", "")
    if table not in TABLES:
        raise InvalidInput(_("Unknown table."), code="bad_table",
                           fields={"table": _("Choose subunits or trend.")})
    b = _board(region, _ask(request))
    sheet = board.subunits_sheet(b) if table == "subunits" else board.trend_sheet(b)
    rows = list(sheet[2])
    content = xlsx.workbook([(sheet[0], sheet[1], rows)])
    audit.record(actor=request.user, action="cockpit.export", kind=AuditEntry.Kind.VIEW,
                 object_type="regions.region", object_id=region.pk, region=region,
                 request=request, data={"table": table, "period": b.period.key,
                                        "grain": b.grain, "rows": len(rows)})
    return xlsx.download(content, f"cockpit-{region.code}-{b.period.key}-{table}")



urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
    re_path(rf"^{CODE}/$", region_page, name="region"),
    re_path(rf"^{CODE}/data\.json$", data, name="data"),
    re_path(rf"^{CODE}/occupancy\.json$", occupancy, name="occupancy"),
    re_path(rf"^{CODE}/export\.xlsx$", export, name="export"),
]
