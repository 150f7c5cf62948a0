"""Campaign pages: the resident's tracked click (``for_self``), and the console's campaigns
(CAMPAIGN_SEND, laptop): the list of the current region's subtree with their figures, compose
with the audience builder (an HTMX preview of the count), a campaign's page with send,
schedule and cancel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.errors import DomainError
from sportsman.notifications import audience, campaigns
from sportsman.notifications.categories import CATEGORY_SPECS, Category
from sportsman.notifications.models import CampaignStatus
from sportsman.notifications.quiet import LOCAL_TZ
from sportsman.regions.access import Perm, for_self, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import ConsoleState, _render, console_state

SECTION = "campaigns"


@for_self
def click(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return HttpResponseRedirect(campaigns.record_click(user=request.user,
                                                       campaign_id=campaign_id))


def _int(raw: Any) -> int | None:
    return int(raw) if isinstance(raw, str) and raw.isdigit() and 0 < int(raw) < 2**63 else None


def spec_from_form(data: Any) -> dict[str, Any]:
    """The audience builder's fields as an audience spec (checked by ``clean_spec``)."""
    spec: dict[str, Any] = {}
    for key in ("age_min", "age_max"):
        raw = data.get(key, "").strip()
        if raw:
            spec[key] = int(raw) if raw.isdigit() else raw
    if data.get("sex"):
        spec["sex"] = data["sex"]
    sports = [int(v) if v.isdigit() else v for v in data.getlist("sports") if v]
    if sports:
        spec["sports"] = sports
    found: dict[str, Any] = {}
    for src in audience.sources():
        raw = data.get(f"source_{src.key}", "").strip()
        if raw:
            found[src.key] = raw if src.choices else (int(raw) if raw.isdigit() else raw)
    if found:
        spec["sources"] = found
    return spec


def _regions(state: ConsoleState) -> list:
    return list(state.access.regions(Perm.CAMPAIGN_SEND).filter(subtree_q(state.region.path))
                .order_by("path")[:300])


def _categories() -> list[tuple[str, str]]:
    return [(c.value, str(c.label)) for c in Category if not CATEGORY_SPECS[c].urgent]


def _compose_context(state: ConsoleState) -> dict[str, Any]:
    from sportsman.core.models import Sport

    return {"regions": _regions(state), "categories": _categories(),
            "sources": audience.sources(), "sports": list(Sport.objects.order_by("name_zh")[:200])}


@scoped(Perm.CAMPAIGN_SEND)
def campaign_list(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    rows = campaigns.list_campaigns_for(state.access, region=state.region, limit=100)
    figures = campaigns.figures_of(rows)
    return _render(request, "notifications/console/campaigns.html", state, SECTION,
                   rows=[(c, figures[c.pk]) for c in rows], **_compose_context(state))


@scoped(Perm.CAMPAIGN_SEND)
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    try:
        result = campaigns.preview(access=state.access,
                                   region_id=_int(request.POST.get("region_id")) or 0,
                                   spec=spec_from_form(request.POST), request=request)
        error = None
    except DomainError as exc:
        result, error = None, exc
    return render(request, "notifications/console/preview.html",
                  {"preview": result, "error": error})


@scoped(Perm.CAMPAIGN_SEND)
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    campaign = campaigns.create_campaign(
        access=state.access, region_id=_int(request.POST.get("region_id")) or 0,
        title=request.POST.get("title", ""), body=request.POST.get("body", ""),
        link=request.POST.get("link", ""), category=request.POST.get("category", "campaign"),
        spec=spec_from_form(request.POST), request=request)
    return HttpResponseRedirect(reverse("campaigns:detail", args=[campaign.pk]))


@scoped(Perm.CAMPAIGN_SEND)
def detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    state = console_state(request)
    campaign = campaigns.campaign_in_scope(state.access, campaign_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "send":
            campaigns.send_campaign(access=state.access, campaign_id=campaign.pk,
                                    request=request)
            messages.success(request, _("The campaign is being sent."))
        elif action == "schedule":
            raw = request.POST.get("send_at", "")
            try:
                when = dt.datetime.fromisoformat(raw).replace(tzinfo=LOCAL_TZ)
            except ValueError:
                when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # refused as not ahead
            campaigns.send_campaign(access=state.access, campaign_id=campaign.pk,
                                    send_at=when, request=request)
            messages.success(request, _("The campaign is scheduled."))
        elif action == "cancel":
            campaigns.cancel_campaign(access=state.access, campaign_id=campaign.pk,
                                      request=request)
            messages.success(request, _("The campaign is cancelled."))
        return HttpResponseRedirect(request.get_full_path())
    return _render(request, "notifications/console/campaign.html", state, SECTION,
                   campaign=campaign, figures=campaigns.figures_of([campaign])[campaign.pk],
                   is_draft=campaign.status == CampaignStatus.DRAFT,
                   can_cancel=campaign.status in campaigns.TRANSITIONS
                   and CampaignStatus.CANCELLED in campaigns.TRANSITIONS[campaign.status])


urlpatterns: list[URLPattern] = [
    path("", campaign_list, name="list"),
    path("preview", preview, name="preview"),
    path("new", create, name="create"),
    path("<int:campaign_id>/", detail, name="detail"),
]
