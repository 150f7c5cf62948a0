"""Residents' pages: "for you" (推荐), "why am I seeing this" and the personalisation switch.
Both pages read the precomputed rows only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.errors import InvalidInput
from sportsman.recommend import selectors, services
from sportsman.recommend.explain import data_used
from sportsman.recommend.models import Kind
from sportsman.regions.access import for_self

app_name = "recommend"


@for_self
def for_you(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or None
    try:
        page = selectors.for_you(request.user, kind=kind, limit=30)
    except InvalidInput:
        kind = None
        page = selectors.for_you(request.user, limit=30)
    return render(request, "recommend/for_you.html", {
        "page": page, "kind": kind, "kinds": Kind.choices})


@for_self
def why(request: HttpRequest) -> HttpResponse:
    page = selectors.for_you(request.user, limit=selectors.MAX_LIMIT)
    rows = [{**item, "data": data_used(item["params"])} for item in page.items]
    return render(request, "recommend/why.html", {
        "page": page, "rows": rows, "consented": services.is_personalised(request.user)})


@for_self
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    on = request.POST.get("on") == "1"
    services.set_personalisation(user=request.user, on=on, request=request)
    messages.success(request, _("Personalised recommendations are on.") if on
                     else _("Personalised recommendations are off. You now see only what is "
                            "popular near your community."))
    return HttpResponseRedirect(reverse("recommend:why"))


urlpatterns: list[URLPattern] = [
    path("", for_you, name="for_you"),
    path("why/", why, name="why"),
    path("personalisation/", switch, name="switch"),
]
