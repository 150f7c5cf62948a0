"""Merchant pages: apply to become a merchant and see my applications (residents); the staff
review queue of merchants in my region (console)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core.errors import InvalidInput
from sportsman.core.models import Sport
from sportsman.regions.access import Perm, access_for, for_self, scoped
from sportsman.regions.models import Level, Region
from sportsman.regions.views import _render, console_state
from sportsman.rewards import merchants
from sportsman.rewards.models import MerchantStatus


class ApplyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the business"), max_length=100)
    region = forms.ModelChoiceField(
        label=gettext_lazy("Town or street"), queryset=Region.objects.none(),
        help_text=gettext_lazy("Staff of this town or street review your application."))
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200)
    contact_phone = forms.CharField(label=gettext_lazy("Contact phone"), max_length=20,
                                    required=False)
    licence_no = forms.CharField(label=gettext_lazy("Business licence number"), max_length=32,
                                 required=False)
    sports = forms.ModelMultipleChoiceField(label=gettext_lazy("Sports"), required=False,
                                            queryset=Sport.objects.order_by("slug"),
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        home = user.home_community
        towns = Region.objects.filter(level=Level.TOWN)
        if home is not None and home.ancestor_ids:
            # The towns of my district: where a neighbourhood business usually is.
            district_id = home.ancestor_ids[-2] if len(home.ancestor_ids) >= 2 else None
            towns = towns.filter(parent_id=district_id) if district_id else towns
            self.fields["region"].initial = home.parent_id
        self.fields["region"].queryset = towns.order_by("code")  # type: ignore[attr-defined]
        self.fields["sports"].label_from_instance = lambda s: s.name_zh  # type: ignore[attr-defined]


@for_self
def apply(request: HttpRequest) -> HttpResponse:
    """Register my business as a merchant (reviewed by the town's staff)."""
    form = ApplyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            merchants.register_merchant(
                actor=request.user, name=data["name"], region_id=data["region"].pk,
                address=data["address"], contact_phone=data["contact_phone"],
                licence_no=data["licence_no"], sports=[s.pk for s in data["sports"]])
        except InvalidInput as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Application sent. We will tell you when it is reviewed."))
            return HttpResponseRedirect(reverse("rewards:my_merchants"))
    return render(request, "rewards/merchants/apply.html", {"form": form})


@for_self
def my_merchants(request: HttpRequest) -> HttpResponse:
    return render(request, "rewards/merchants/mine.html", {
        "applications": list(merchants.applications_of(request.user)),
        "can_counter": bool(merchants.operable_merchants(request.user))})


STATUS_FILTERS = [("pending", gettext_lazy("Waiting for review")),
                  ("approved", gettext_lazy("Approved")), ("rejected", gettext_lazy("Rejected")),
                  ("", gettext_lazy("All"))]


@scoped(Perm.MERCHANT_REVIEW)
def console_merchants(request: HttpRequest) -> HttpResponse:
    """Merchants of my region; the pending ones with approve / reject."""
    access = access_for(request)
    status = request.GET.get("status", MerchantStatus.PENDING)
    if status not in MerchantStatus.values:
        status = ""
    rows = list(merchants.list_merchants_for(access, status=status or None)
                .prefetch_related("sports")[:500])
    return _render(request, "rewards/console/merchants.html", console_state(request),
                   "merchants", rows=rows, status=status, filters=STATUS_FILTERS,
                   can_rewards=access.has_anywhere(Perm.REWARDS_MANAGE), can_merchants=True)


@scoped(Perm.MERCHANT_REVIEW)
@require_POST
def console_review(request: HttpRequest, merchant_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    merchant = merchants.review_merchant(actor=access_for(request), merchant_id=merchant_id,
                                         approve=approve,
                                         note=request.POST.get("note", "")[:200],
                                         request=request)
    messages.success(request, (_("%(name)s approved.") if approve else _("%(name)s rejected."))
                     % {"name": merchant.name})
    return HttpResponseRedirect(reverse("rewards:console_merchants"))


urlpatterns: list[URLPattern] = [
    path("merchants/apply/", apply, name="merchant_apply"),
    path("merchants/mine/", my_merchants, name="my_merchants"),
    path("console/merchants/", console_merchants, name="console_merchants"),
    path("console/merchants/<int:merchant_id>/review/", console_review,
         name="console_merchant_review"),
]
