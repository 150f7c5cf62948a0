"""The console's community-governance section: one page linking the areas the actor may work
in, with the current region's open and overdue reports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from sportsman.governance import reports
from sportsman.regions.access import Perm, scoped
from sportsman.regions.views import _render, console_state

GOVERNANCE_PERMS = (Perm.REPORT_HANDLE, Perm.REPORT_RULES, Perm.DELIBERATION_MANAGE,
                    Perm.SURVEY_MANAGE, Perm.POST_MODERATE, Perm.VOLUNTEER_MANAGE)


@scoped(Perm.CONSOLE)
def hub(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    access = state.access
    can = {p.name.lower(): access.has_anywhere(p) for p in GOVERNANCE_PERMS}
    counts = {}
    if can["report_handle"]:
        counts = {"open": reports.reports_for(access, region=state.region, status="open").count(),
                  "overdue": reports.reports_for(access, region=state.region,
                                                 overdue=True).count()}
    return _render(request, "governance/hub.html", state, "governance", can=can, counts=counts)


urlpatterns: list[URLPattern] = [path("console/", hub, name="console")]
