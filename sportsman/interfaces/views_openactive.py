"""OpenActive open data (docs/openactive.md): the dataset site at /openactive/ and one RPDE
feed per kind at /openactive/<kind>/. Public: they carry only what public pages show."""

from __future__ import annotations

import json

from django.conf import settings
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import _json_script_escapes  # type: ignore[attr-defined]
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from sportsman.interfaces import feeds
from sportsman.interfaces.models import FeedItem, FeedKind
from sportsman.interfaces.openactive import absolute, publisher
from sportsman.regions.access import public

CONTENT_TYPE = "application/json; charset=utf-8"
# Pages before the last never change their items (new items go after them): cache for hours.
# The last page is where new items appear: a few seconds (RPDE's validator wants <= 8).
CACHE_PAGE = "public, max-age=3600"
CACHE_LAST = "public, max-age=8"


@public
def feed(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in FeedKind.values:
        raise Http404
    try:
        cursor = feeds.parse_cursor(request.GET.get("afterTimestamp"), request.GET.get("afterId"))
    except feeds.BadCursor:
        return JsonResponse({"code": "invalid_cursor", "message": _(
            "afterTimestamp must be a whole number and come with afterId."), "fields": {}},
            status=400)
    rows = feeds.page(kind, cursor)
    base = request.build_absolute_uri(reverse("openactive:feed", args=[kind]))
    if rows:
        last = rows[-1]
        nxt = f"{base}?afterTimestamp={last[0]}&afterId={last[1]}"
    elif cursor is not None:
        nxt = f"{base}?afterTimestamp={cursor[0]}&afterId={cursor[1]}"
    else:
        nxt = base
    response = HttpResponse(feeds.render(kind, rows, nxt), content_type=CONTENT_TYPE)
    response["Cache-Control"] = CACHE_PAGE if rows else CACHE_LAST
    return response


def dataset(request: HttpRequest) -> dict:
    """The Dataset Site's JSON-LD (OpenActive Dataset Site specification)."""
    modified = FeedItem.objects.aggregate(m=Max("changed_at"))["m"]
    site = absolute(reverse("openactive:site"))
    org = publisher()
    org.update({"legalName": str(settings.OPENACTIVE_PUBLISHER),
                "logo": {"@type": "ImageObject", "url": absolute("/static/icons/icon-512.png")}})
    names = {
        FeedKind.FACILITY_USES: _("Facilities"),
        FeedKind.SLOTS: _("Facility slots"),
        FeedKind.SESSION_SERIES: _("Group activities and public events"),
        FeedKind.SCHEDULED_SESSIONS: _("Sessions of group activities and events"),
    }
    data = {
        "@context": ["https://schema.org/", "https://openactive.io/"],
        "@type": "Dataset", "@id": site, "url": site,
        "name": _("Sportsman open sports data"),
        "description": _("Public sports facilities, their bookable slots, sports groups' "
                         "activities and public events, as OpenActive open data."),
        "keywords": [_("sport"), _("facilities"), _("activities"), _("events"), "OpenActive"],
        "license": feeds.LICENSE,
        "inLanguage": ["zh-CN"],
        "schemaVersion": "https://openactive.io/modelling-opportunity-data/2.0/",
        "documentation": "https://permalink.openactive.io/dataset-site/open-data-documentation",
        "discussionUrl": site,
        "publisher": org,
        "distribution": [
            {"@type": "DataDownload", "name": str(names[FeedKind(kind)]),
             "additionalType": f"https://openactive.io/{FeedKind(kind).label}",
             "encodingFormat": "application/vnd.openactive.rpde+json; version=1",
             "contentUrl": absolute(reverse("openactive:feed", args=[kind])),
             "identifier": FeedKind(kind).label}
            for kind in FeedKind.values],
    }
    if modified:
        data["dateModified"] = modified.isoformat(timespec="seconds")
    return data


@public
def site(request: HttpRequest) -> HttpResponse:
    data = dataset(request)
    text = json.dumps(data, ensure_ascii=False, indent=2).translate(_json_script_escapes)
    return render(request, "interfaces/openactive/dataset.html",
                  {"dataset": data, "json_ld": mark_safe(text)})  # noqa: S308 (escaped above)


urlpatterns = [
    path("", site, name="site"),
    path("<slug:kind>/", feed, name="feed"),
]
