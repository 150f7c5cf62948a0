"""Merchant pages: apply to become a merchant and see my applications (residents); the staff
review queue of merchants in my region (console). The venues a merchant operates are chosen
among the facilities of its town (the apply page reloads that list when the town changes) and
confirmed or changed by the reviewer."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core.errors import InvalidInput
from sportsman.core.models import Sport
from sportsman.facilities.models import Facility
from sportsman.regions.access import Perm, access_for, for_self, scoped
from sportsman.regions.models import Level, Region, subtree_q
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
    facilities = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Venues you operate"), required=False,
        queryset=Facility.objects.none(), widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Public venues in this town or street that you run. Some voucher "
                               "campaigns are valid only at certain venues."))

    def __init__(self, *args: Any, user: Any, region_id: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        home = user.home_community
        towns = Region.objects.filter(level=Level.TOWN)
        if home is not None and home.ancestor_ids:
            # The towns of my district: where a neighbourhood business usually is.
            district_id = home.ancestor_ids[-2] if len(home.ancestor_ids) >= 2 else None
            towns = towns.filter(parent_id=district_id) if district_id else towns
            self.fields["region"].initial = home.parent_id
        self.fields["region"].queryset = towns.order_by("code")  # type: ignore[attr-defined]
        self.fields["region"].widget.attrs.update({
            # A new town brings its own venues (the page again, only the venues taken).
            "hx-get": reverse("rewards:merchant_apply"), "hx-trigger": "change",
            "hx-target": "#venues", "hx-select": "#venues", "hx-swap": "outerHTML"})
        self.fields["sports"].label_from_instance = lambda s: s.name_zh  # type: ignore[attr-defined]
        chosen = str((self.data.get("region") if self.is_bound else region_id)
                     or self.fields["region"].initial or "")
        town = towns.filter(pk=int(chosen)).first() if chosen.isdigit() else None
        self.fields["facilities"].queryset = (  # type: ignore[attr-defined]
            venues_in(town) if town is not None else Facility.objects.none())


def venues_in(region: Region) -> QuerySet[Facility]:
    return Facility.objects.filter(subtree_q(region.path, "region")).order_by("name", "id")


@for_self
def apply(request: HttpRequest) -> HttpResponse:
    """Register my business as a merchant (reviewed by the town's staff)."""
    form = ApplyForm(request.POST or None, user=request.user,
                     region_id=request.GET.get("region"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            merchants.register_merchant(
                actor=request.user, name=data["name"], region_id=data["region"].pk,
                address=data["address"], contact_phone=data["contact_phone"],
                licence_no=data["licence_no"], sports=[s.pk for s in data["sports"]],
                facilities=[f.pk for f in data["facilities"]])
        except InvalidInput as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Application sent. We will tell you when it is reviewed."))
            return HttpResponseRedirect(reverse("rewards:my_merchants"))
    return render(request, "rewards/merchants/apply.html", {"form": form})


@for_self
def my_merchants(request: HttpRequest) -> HttpResponse:
    return render(request, "rewards/merchants/mine.html", {
        "applications": list(merchants.applications_of(request.user)
                             .prefetch_related("facilities")),
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
                .prefetch_related("sports", Prefetch("facilities",
                                                     queryset=Facility.objects.only("id", "name")))
                [:500])
    _offer_venues([m for m in rows if m.status in (MerchantStatus.PENDING,
                                                   MerchantStatus.APPROVED)])
    return _render(request, "rewards/console/merchants.html", console_state(request),
                   "merchants", rows=rows, status=status, filters=STATUS_FILTERS,
                   can_rewards=access.has_anywhere(Perm.REWARDS_MANAGE), can_merchants=True)


def _offer_venues(pending: list[Any]) -> None:
    """Each pending or approved merchant's ``venue_choices``: the facilities of its region, with
    the ones it chose (or operates) marked — one query for the whole page."""
    paths = sorted({m.region.path for m in pending})
    if not paths:
        return
    where = Q()
    for path_ in paths:
        where |= subtree_q(path_, "region")
    found = list(Facility.objects.filter(where).select_related("region")
                 .only("id", "name", "region__path").order_by("name", "id")[:5000])
    for m in pending:
        chosen = {f.pk for f in m.facilities.all()}
        m.venue_choices = [(f, f.pk in chosen) for f in found  # type: ignore[attr-defined]
                           if f.region.path.startswith(m.region.path)]


def _venue_ids(request: HttpRequest) -> list[int]:
    raw = request.POST.getlist("facilities")
    venues = [int(v) for v in raw if v.isdigit() and 0 < int(v) < 2**63]
    if len(venues) != len(raw):
        raise InvalidInput(_("Unknown venue."), fields={"facilities": [_("Unknown venue.")]})
    return venues


@scoped(Perm.MERCHANT_REVIEW)
@require_POST
def console_venues(request: HttpRequest, merchant_id: int) -> HttpResponse:
    """Change the venues an approved merchant operates."""
    merchant = merchants.set_venues(actor=access_for(request), merchant_id=merchant_id,
                                    facilities=_venue_ids(request), request=request)
    messages.success(request, _("The venues of %(name)s are saved.") % {"name": merchant.name})
    return HttpResponseRedirect(reverse("rewards:console_merchants") + "?status=approved")


@scoped(Perm.MERCHANT_REVIEW)
@require_POST
def console_review(request: HttpRequest, merchant_id: int) -> HttpResponse:
    """Approve (with the venues the reviewer ticked, when the form offered any) or reject."""
    approve = request.POST.get("decision") == "approve"
    venues = _venue_ids(request) if request.POST.get("venues_offered") else None
    merchant = merchants.review_merchant(actor=access_for(request), merchant_id=merchant_id,
                                         approve=approve,
                                         note=request.POST.get("note", "")[:200],
                                         facilities=venues, request=request)
    messages.success(request, (_("%(name)s approved.") if approve else _("%(name)s rejected."))
                     % {"name": merchant.name})
    return HttpResponseRedirect(reverse("rewards:console_merchants"))


urlpatterns: list[URLPattern] = [
    path("merchants/apply/", apply, name="merchant_apply"),
    path("merchants/mine/", my_merchants, name="my_merchants"),
    path("console/merchants/", console_merchants, name="console_merchants"),
    path("console/merchants/<int:merchant_id>/review/", console_review,
         name="console_merchant_review"),
    path("console/merchants/<int:merchant_id>/venues/", console_venues,
         name="console_merchant_venues"),
]
