"""Public facility pages (no login): "where can I exercise now" — a list and a map near me, near my
home community, or by name — and the facility page with its hours, how busy it is, today's busy
curve and the slots to book."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core.errors import InvalidInput
from sportsman.core.models import Sport
from sportsman.facilities import hours, search_misses, selectors
from sportsman.facilities.geo import to_gcj02
from sportsman.facilities.models import Category
from sportsman.regions.access import public

CROWD_LABELS = {
    "quiet": _("quiet"),
    "moderate": _("moderate"),
    "busy": _("busy"),
    "unknown": _("not known"),
}
DISTANCES = [(1000, _("1 km")), (3000, _("3 km")), (5000, _("5 km")), (10000, _("10 km")),
             (50000, _("50 km"))]


class FindForm(forms.Form):
    q = forms.CharField(label=_("Name contains"), required=False, max_length=100)
    sport = forms.ChoiceField(label=_("Sport"), required=False)
    category = forms.ChoiceField(label=_("Kind of place"), required=False,
                                 choices=[("", _("any")), *Category.choices])
    distance = forms.TypedChoiceField(label=_("Within"), required=False, coerce=int,
                                      empty_value=None,
                                      choices=[("", _("5 km")), *DISTANCES])
    crowd = forms.ChoiceField(label=_("How busy"), required=False,
                              choices=[("", _("any")), ("quiet", _("quiet")),
                                       ("moderate", _("moderate")), ("busy", _("busy"))])
    open_now = forms.BooleanField(label=_("Open now"), required=False)
    free = forms.BooleanField(label=_("Free only"), required=False)
    near = forms.ChoiceField(required=False, widget=forms.HiddenInput,
                             choices=[("", ""), ("me", "me"), ("home", "home")])
    lat = forms.FloatField(required=False, min_value=-90, max_value=90,
                           widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180,
                           widget=forms.HiddenInput)
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sport"].choices = [  # type: ignore[attr-defined]
            ("", _("any")), *[
            (s.slug, s.name_zh) for s in Sport.objects.order_by("family", "slug")]]


FILTERS = ("sport", "category", "distance", "crowd", "open_now", "free")


def _hit_row(item: dict[str, Any]) -> dict[str, Any]:
    distance = item["distance_m"]
    km = round(distance / 1000, 1) if distance is not None else None
    return {"facility": item, "distance_m": distance, "distance_km": km,
            "open_now": item["open_now"], "crowd": item["crowd"],
            "crowd_label": CROWD_LABELS.get(item["crowd"], item["crowd"]),
            "sports": [s["name"] for s in item["sports"]]}


@public
def find(request: HttpRequest) -> HttpResponse:
    """List and map of facilities near the browser's position (lat/lng in the query string),
    near the signed-in resident's home community, or all by name, with filters."""
    form = FindForm(request.GET or None)
    error = None
    rows: list[dict[str, Any]] = []
    next_query = None
    point = None
    near_home = False
    if form.is_bound and not form.is_valid():
        error = _("Some filters are not valid.")
    else:
        data = form.cleaned_data if form.is_bound else {}
        lat, lng = data.get("lat"), data.get("lng")
        community = None
        user = request.user
        if data.get("near") == "home" and user.is_authenticated:
            community = getattr(user, "home_community", None)
            near_home = community is not None
        if community is not None:
            lat = lng = None  # "near my home community" wins over a stale position
        try:
            page = selectors.search_facilities(
                lat=lat, lng=lng, radius_m=data.get("distance"), sport=data.get("sport") or None,
                category=data.get("category") or None, open_now=bool(data.get("open_now")),
                free=True if data.get("free") else None, crowd=data.get("crowd") or None,
                q=data.get("q") or None, near_community=community,
                cursor=data.get("cursor") or None, limit=20, count_miss=True,
                searcher=search_misses.searcher(request))
        except InvalidInput as exc:
            error = exc.message
        else:
            rows = [_hit_row(h) for h in page.items]
            point = page.point
            if page.next_cursor:
                params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
                next_query = urlencode({**params, "cursor": page.next_cursor})
    markers = [{"id": r["facility"]["id"], "name": r["facility"]["name"],
                "lat": r["facility"]["lat"], "lng": r["facility"]["lng"],
                "url": f"/places/{r['facility']['id']}/",
                "open": r["open_now"]} for r in rows]
    return render(request, "facilities/find.html", {
        "form": form, "rows": rows, "error": error, "next_query": next_query,
        "map_data": {"markers": markers,
                     "center": list(point) if point else None,
                     "tiles": getattr(settings, "FACILITY_MAP_TILES", "")},
        "near_home": near_home, "has_home": bool(getattr(request.user, "home_community_id",
                                                         None)),
        # On a phone the list comes first: the filters stay folded unless one is in use.
        "filters_open": any(request.GET.get(k) for k in FILTERS),
    })


def _day_choice(request: HttpRequest, today: dt.date) -> dt.date:
    raw = request.GET.get("day", "")
    if raw == "tomorrow":
        return today + dt.timedelta(days=1)
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return today
    if not today <= day <= today + dt.timedelta(days=60):
        return today
    return day


def busy_bars(curve: list[int], *, now_hour: int | None) -> dict[str, Any]:
    """Geometry of the inline SVG bar chart for a busy curve (24 local hours)."""
    top = max(curve) if curve and max(curve) > 0 else 1
    width, height, gap = 12, 60, 2
    bars = []
    for hour, value in enumerate(curve):
        h = round(height * value / top)
        bars.append({"hour": hour, "value": value, "x": hour * (width + gap), "y": height - h,
                     "h": h, "w": width, "now": hour == now_hour})
    return {"bars": bars, "width": 24 * (width + gap), "height": height, "max": top}


@public
def facility(request: HttpRequest, facility_id: int) -> HttpResponse:
    """One facility: photos, this week's hours, people there now, today's busy curve and the
    free slots of a chosen day (today, tomorrow or a date) with book / waitlist / lottery."""
    from sportsman.facilities.booking import slots_for

    now = timezone.now()
    detail = selectors.facility_detail(facility_id, now=now)
    f = detail.facility
    today = hours.local(now).date()
    day = _day_choice(request, today)
    # Past slots are left out: a phone shows what can still be booked.
    slots = [s for s in slots_for(f, day, now=now) if s.status != "past"] \
        if f.is_bookable else []
    glat, glng = to_gcj02(f.lat, f.lng)
    directions = "https://uri.amap.com/marker?" + urlencode(
        {"position": f"{glng:.6f},{glat:.6f}", "name": f.name, "coordinate": "gaode",
         "callnative": "1"})
    return render(request, "facilities/facility.html", {
        "d": detail, "f": f, "day": day, "today": today,
        "tomorrow": today + dt.timedelta(days=1), "slots": slots,
        "crowd_label": CROWD_LABELS.get(detail.crowd, detail.crowd),
        "chart": busy_bars(detail.busy_curve, now_hour=hours.local(now).hour),
        "directions": directions,
        "map_data": {"markers": [{"id": f.pk, "name": f.name, "lat": f.lat, "lng": f.lng,
                                  "url": "", "open": detail.open_now}],
                     "center": [f.lat, f.lng],
                     "tiles": getattr(settings, "FACILITY_MAP_TILES", "")},
    })


urlpatterns = [
    path("places/", find, name="find"),
    path("places/<int:facility_id>/", facility, name="facility"),
]
