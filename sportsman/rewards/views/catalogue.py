"""Catalogue pages: the rewards offered where I live and redeeming them, my orders with their
one-time codes as QR codes; the merchant counter that hands orders over; and the staff console
of the catalogue and the earning rules."""

from __future__ import annotations

from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core.errors import DomainError, InvalidInput
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import Level, Region
from sportsman.regions.views import _render, console_state
from sportsman.rewards import catalogue, merchants, points
from sportsman.rewards.models import (
    Merchant,
    MerchantStatus,
    OrderStatus,
    PointRule,
    RewardKind,
    RuleKind,
)

SECTION = "rewards"


def order_qr(code: str) -> str:
    """The order's code as an inline SVG QR code of ``SPR:<code>`` (what the counter scans)."""
    return segno.make(f"{catalogue.CODE_PREFIX}{code}", error="m").svg_inline(scale=6, border=2)


# --- residents ---------------------------------------------------------------------------------

@public
def rewards_page(request: HttpRequest) -> HttpResponse:
    """The catalogue of my home community (or ``?region=``), with my balance when signed in."""
    region = None
    raw = request.GET.get("region", "")
    if raw.isdigit() and int(raw) < 2**63:
        region = Region.objects.filter(pk=int(raw)).first()
    elif request.user.is_authenticated:
        region = request.user.home_community
    balance = points.balance_of(request.user.pk) if request.user.is_authenticated else None
    return render(request, "rewards/catalogue/list.html", {
        "region": region, "rewards": list(catalogue.catalogue_for(region)), "balance": balance})


@for_self
@require_POST
def redeem(request: HttpRequest, reward_id: int) -> HttpResponse:
    order = catalogue.redeem(actor=request.user, reward_id=reward_id)
    messages.success(request, _("Redeemed %(name)s. Show the code at the counter to collect it.")
                     % {"name": order.reward.name})
    return HttpResponseRedirect(reverse("rewards:orders") + f"#order-{order.pk}")


@for_self
def my_orders(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("cursor", "")
    qs = catalogue.my_orders(request.user)
    if raw.isdigit() and 0 < int(raw) < 2**63:
        qs = qs.filter(id__lt=int(raw))
    rows = list(qs[:21])
    next_cursor = rows[19].pk if len(rows) > 20 else None
    orders = [{"order": o, "qr": order_qr(o.code) if o.status == OrderStatus.PENDING else ""}
              for o in rows[:20]]
    return render(request, "rewards/catalogue/orders.html",
                  {"orders": orders, "next_cursor": next_cursor})


@for_self
@require_POST
def cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    order = catalogue.cancel_order(actor=request.user, order_id=order_id)
    messages.success(request, _("Order cancelled; %(points)s points are back.")
                     % {"points": order.points})
    return HttpResponseRedirect(reverse("rewards:orders"))


# --- the merchant counter ------------------------------------------------------------------------

@scoped(Perm.MERCHANT_OPERATE)
def counter(request: HttpRequest) -> HttpResponse:
    """Hand over reward orders: type the customer's code or scan their QR code."""
    mine = merchants.operable_merchants(access_for(request))
    done = None
    if request.method == "POST":
        try:
            done = catalogue.fulfil_order(actor=access_for(request),
                                          code=request.POST.get("code", "")[:40],
                                          request=request)
        except DomainError as exc:  # shown on the counter, which stays ready for the next code
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Hand over: %(name)s.") % {"name": done.reward.name})
            return HttpResponseRedirect(reverse("rewards:counter_orders"))
    recent = list(catalogue.fulfilled_by_merchants(access_for(request))[:20])
    return render(request, "rewards/merchants/counter.html",
                  {"merchants": mine, "recent": recent})


# --- staff: the catalogue and the rules ----------------------------------------------------------

class RewardForm(forms.Form):
    region = forms.ModelChoiceField(label=gettext_lazy("Region"), queryset=Region.objects.none())
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=RewardKind.choices)
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    points_cost = forms.IntegerField(label=gettext_lazy("Points"), min_value=1,
                                     max_value=10_000_000)
    stock = forms.IntegerField(label=gettext_lazy("Stock"), min_value=0, max_value=10_000_000,
                               initial=0)
    per_person_limit = forms.IntegerField(label=gettext_lazy("At most per person"),
                                          min_value=1, max_value=1000, required=False)
    merchant = forms.ModelChoiceField(label=gettext_lazy("Collected at"), required=False,
                                      queryset=Merchant.objects.none(),
                                      empty_label=gettext_lazy("any approved merchant"))

    def __init__(self, *args: Any, access: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = access.regions(Perm.REWARDS_MANAGE).filter(
            level__in=[Level.CITY, Level.DISTRICT, Level.TOWN]).order_by("path")
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        self.fields["merchant"].queryset = (  # type: ignore[attr-defined]
            access.scope(Merchant.objects.filter(status=MerchantStatus.APPROVED),
                         Perm.REWARDS_MANAGE).order_by("name"))


class StockForm(forms.Form):
    stock = forms.IntegerField(min_value=0, max_value=10_000_000)
    is_active = forms.BooleanField(required=False)


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=RuleKind.choices)
    points = forms.IntegerField(label=gettext_lazy("Points"), min_value=1, max_value=100_000)
    daily_cap = forms.IntegerField(label=gettext_lazy("At most per day"), min_value=1,
                                   required=False)
    yearly_cap = forms.IntegerField(label=gettext_lazy("At most per year"), min_value=1,
                                    required=False)
    is_active = forms.BooleanField(label=gettext_lazy("In force"), required=False, initial=True)


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    access = access_for(request)
    return _render(request, template, console_state(request), SECTION,
                   can_rewards=access.has_anywhere(Perm.REWARDS_MANAGE),
                   can_merchants=access.has_anywhere(Perm.MERCHANT_REVIEW), **context)


def _apply_field_errors(form: forms.Form, exc: InvalidInput) -> None:
    names = {"merchant_id": "merchant", "region_id": "region"}
    for field, problems in exc.fields.items():
        name = names.get(field, field)
        for problem in problems if isinstance(problems, list) else [problems]:
            form.add_error(name if name in form.fields else None, str(problem))
    if not exc.fields:
        form.add_error(None, str(exc.message))


@scoped(Perm.REWARDS_MANAGE)
def console_catalogue(request: HttpRequest) -> HttpResponse:
    """The rewards in my scope, with stock; add a reward."""
    access = access_for(request)
    form = RewardForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            catalogue.create_reward(
                actor=access, region_id=data["region"].pk, name=data["name"], kind=data["kind"],
                description=data["description"], points_cost=data["points_cost"],
                stock=data["stock"], per_person_limit=data["per_person_limit"],
                merchant_id=data["merchant"].pk if data["merchant"] else None, request=request)
        except InvalidInput as exc:
            _apply_field_errors(form, exc)
        else:
            messages.success(request, _("Reward added."))
            return HttpResponseRedirect(reverse("rewards:console_catalogue"))
    rewards = list(catalogue.list_rewards_for(access)[:500])
    return _page(request, "rewards/console/catalogue.html", rewards=rewards, form=form)


@scoped(Perm.REWARDS_MANAGE)
@require_POST
def console_reward_stock(request: HttpRequest, reward_id: int) -> HttpResponse:
    form = StockForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("Stock must be a whole number, zero or more."))
    catalogue.update_reward(actor=access_for(request), reward_id=reward_id,
                            changes=dict(form.cleaned_data), request=request)
    messages.success(request, _("Reward updated."))
    return HttpResponseRedirect(reverse("rewards:console_catalogue"))


@scoped(Perm.REWARDS_MANAGE)
def console_rules(request: HttpRequest) -> HttpResponse:
    """The earning rules of the cities in my scope; set one."""
    access = access_for(request)
    cities = list(access.regions(Perm.REWARDS_MANAGE).filter(level=Level.CITY).order_by("code"))
    form = RuleForm(request.POST or None)
    city = None
    if request.method == "POST":
        city = next((c for c in cities if str(c.pk) == request.POST.get("region")), None)
        if city is None:
            form.add_error(None, _("Choose a city."))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                points.set_point_rule(actor=access, region_id=city.pk, kind=data["kind"],
                                      points=data["points"], daily_cap=data["daily_cap"],
                                      yearly_cap=data["yearly_cap"],
                                      is_active=data["is_active"], request=request)
            except InvalidInput as exc:
                _apply_field_errors(form, exc)
            else:
                messages.success(request, _("Rule saved."))
                return HttpResponseRedirect(reverse("rewards:console_rules"))
    rules = (PointRule.objects.filter(region__in=cities).select_related("region")
             .order_by("region__code", "kind"))
    return _page(request, "rewards/console/rules.html", cities=cities, rules=rules, form=form)


urlpatterns: list[URLPattern] = [
    path("", rewards_page, name="catalogue"),
    path("<int:reward_id>/redeem/", redeem, name="redeem"),
    path("orders/", my_orders, name="orders"),
    path("orders/<int:order_id>/cancel/", cancel, name="order_cancel"),
    path("counter/orders/", counter, name="counter_orders"),
    path("console/catalogue/", console_catalogue, name="console_catalogue"),
    path("console/catalogue/<int:reward_id>/stock/", console_reward_stock,
         name="console_reward_stock"),
    path("console/point-rules/", console_rules, name="console_rules"),
]
