"""Acting for others (代办): a resident authorises a family member or grid worker by phone,
sees who may act for them and whom they may act for, and ends either."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.errors import DomainError
from sportsman.governance import proxy
from sportsman.governance.models import Relation
from sportsman.regions.access import for_self


@for_self
def helpers(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            proxy.grant(actor=request.user, agent_phone=request.POST.get("phone", ""),
                        relation=request.POST.get("relation", ""))
        except DomainError as exc:
            messages.error(request, exc.message if not exc.fields else
                           "; ".join(str(m) for v in exc.fields.values() for m in v))
        else:
            messages.success(request, _("Done: they can now report, sign up and answer surveys "
                                        "for you."))
        return HttpResponseRedirect(reverse("governance:helpers"))
    return render(request, "governance/proxy/helpers.html", {
        "given": list(proxy.grants_given(request.user)),
        "held": list(proxy.grants_held(request.user)), "relations": Relation.choices})


@for_self
@require_POST
def end(request: HttpRequest, grant_id: int) -> HttpResponse:
    try:
        proxy.revoke(actor=request.user, grant_id=grant_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Ended."))
    return HttpResponseRedirect(reverse("governance:helpers"))


urlpatterns: list[URLPattern] = [
    path("helpers/", helpers, name="helpers"),
    path("helpers/<int:grant_id>/end/", end, name="helper_end"),
]
