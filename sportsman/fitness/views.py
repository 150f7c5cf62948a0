"""Fitness pages. Console (FITNESS_MANAGE, laptop): the records of the current region's subtree
with the upload of a station's file and its error report; the test stations. Resident (phone):
my tests with the trend of the total and of every item."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.errors import DomainError
from sportsman.fitness import api, imports, scoring, selectors, services
from sportsman.fitness.models import Edition, Grade, NoGrade
from sportsman.regions.access import Perm, for_self, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import ConsoleState, _render, console_state

SECTION = "fitness"
PAGE = 50


def _int(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else 0


def _records_context(request: HttpRequest, state: ConsoleState) -> dict[str, Any]:
    grade = request.GET.get("grade", "")
    station = _int(request.GET.get("station"))
    qs = selectors.tests_for(state.access, region=state.region, station_id=station or None,
                             grade=grade if grade in Grade.values else None)
    rows, cursor = selectors.page_after(qs, cursor=request.GET.get("cursor"), limit=PAGE)
    return {
        "tests": [{"t": t, "name": api.masked_name(t)} for t in rows], "next_cursor": cursor,
        "grade": grade, "grades": Grade.choices, "no_grades": dict(NoGrade.choices),
        "station": station, "editions": Edition.choices,
        "stations": list(selectors.stations_for(state.access, region=state.region)[:300]),
        "notice": scoring.table(Edition.E2003).is_demonstration,
    }


@scoped(Perm.FITNESS_MANAGE)
def records(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    return _render(request, "fitness/console/records.html", state, SECTION,
                   **_records_context(request, state))


@scoped(Perm.FITNESS_MANAGE)
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """Import the chosen file; the page answers with the report or every bad row."""
    state = console_state(request)
    upload_file = request.FILES.get("file")
    report, problems = None, []
    if upload_file is None:
        problems = [{"row": 0, "column": "", "code": "file_missing", "reason": _("Choose a file.")}]
    else:
        try:
            report = imports.import_tests(
                access=state.access, station_id=_int(request.POST.get("station_id")),
                edition=request.POST.get("edition", Edition.E2003),
                content=upload_file.read(imports.MAX_BYTES + 1), request=request)
        except imports.FitnessFileError as exc:
            problems = [api.problem(p) for p in exc.problems]
        except DomainError as exc:
            problems = [{"row": 0, "column": "", "code": exc.code, "reason": str(exc.message)}]
    return _render(request, "fitness/console/records.html", state, SECTION,
                   report=report, problems=problems, **_records_context(request, state))


def _regions(state: ConsoleState) -> list:
    return list(state.access.regions(Perm.FITNESS_MANAGE).filter(subtree_q(state.region.path))
                .order_by("path")[:300])


@scoped(Perm.FITNESS_MANAGE)
def stations(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    error = None
    if request.method == "POST":
        try:
            services.create_station(access=state.access,
                                    region_id=_int(request.POST.get("region_id")),
                                    name=request.POST.get("name", ""),
                                    code=request.POST.get("code", ""),
                                    address=request.POST.get("address", ""), request=request)
            return HttpResponseRedirect(reverse("fitness_console:stations"))
        except DomainError as exc:
            error = exc
    return _render(request, "fitness/console/stations.html", state, SECTION,
                   stations=list(selectors.stations_for(state.access, region=state.region)[:300]),
                   regions=_regions(state), error=error)


@for_self
def my_data(request: HttpRequest) -> HttpResponse:
    tests = selectors.my_tests(request.user)
    latest = tests[-1] if tests else None
    return render(request, "fitness/my_data.html", {
        "tests": list(reversed(tests)), "latest": latest,
        "latest_items": api._items(latest) if latest else [],
        "trend": selectors.trends(tests), "grades": dict(Grade.choices),
        "no_grades": dict(NoGrade.choices),
        "is_demonstration": any(t.is_demonstration for t in tests),
    })


console_urlpatterns: list[URLPattern] = [
    path("", records, name="records"),
    path("upload", upload, name="upload"),
    path("stations", stations, name="stations"),
]
resident_urlpatterns: list[URLPattern] = [
    path("my/", my_data, name="my_data"),
]
