"""Voucher pages: the campaigns a resident can claim from (with why not), claiming and lottery
entry, my vouchers with their QR codes; the merchant counter (scan or type a code, enter the
amount, redeem) with its reconciliation; the staff console (campaigns, the create / edit form,
activate, close, reconciliation download).

Refusals of a resident's or a merchant's action come back as the service's message on the same
page; staff form errors stay on the form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core import xlsx
from sportsman.core.errors import DomainError, InvalidInput
from sportsman.facilities.models import Facility
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import Region
from sportsman.regions.views import _render, console_state
from sportsman.rewards import reconciliation, vouchers
from sportsman.rewards.models import CampaignStatus, ClaimMode, Merchant, Voucher

SECTION = "vouchers"


def _xlsx(name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=xlsx.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- residents ---------------------------------------------------------------------------------


@public
def campaigns(request: HttpRequest) -> HttpResponse:
    """Active campaigns open to me (all of them for a visitor), each with what I can do."""
    user = request.user
    home = getattr(user, "home_community", None) if user.is_authenticated else None
    qs = vouchers.public_campaigns(region_id=home.pk if home else None).prefetch_related(
        Prefetch("facilities", queryset=Facility.objects.only("id", "name")))
    now = timezone.now()
    rows = [{"campaign": c, "left": vouchers.remaining_cents(c) // c.face_value_cents,
             "face": vouchers.yuan(c.face_value_cents), "min_spend": vouchers.yuan(c.min_spend_cents),
             "status": vouchers.claim_status(c, user, now) if user.is_authenticated else None}
            for c in qs[:50]]
    return render(request, "rewards/vouchers/campaigns.html",
                  {"rows": rows, "lottery": ClaimMode.LOTTERY, "has_home": home is not None})


def _act(request: HttpRequest, fn: Any, campaign_id: int, done: str) -> HttpResponse:
    try:
        fn(actor=request.user, campaign_id=campaign_id)
    except DomainError as exc:  # shown on the list, whatever the status (not a 403 page)
        if exc.code == "not_authenticated":
            raise
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("rewards:voucher_campaigns"))
    messages.success(request, done)
    return HttpResponseRedirect(reverse("rewards:my_vouchers"))


@for_self
@require_POST
def claim(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _act(request, vouchers.claim, campaign_id,
                _("Voucher claimed. Show its code at a participating merchant."))


@for_self
@require_POST
def enter(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _act(request, vouchers.enter_draw, campaign_id,
                _("You have entered the draw. Winners are told after the draw."))


@for_self
def my_vouchers(request: HttpRequest) -> HttpResponse:
    """My vouchers: usable ones first with their QR code and code, then used and expired."""
    now = timezone.now()
    mine = list(vouchers.my_vouchers(request.user)[:100])
    for v in mine:
        _money(v)
    usable = [v for v in mine if v.status == "issued" and v.expires_at > now]
    rest = [v for v in mine if v not in usable]
    return render(request, "rewards/vouchers/mine.html", {
        "usable": [{"voucher": v, "qr": vouchers.voucher_qr_svg(v.code, scale=6)}
                   for v in usable],
        "rest": rest})


def _money(v: Voucher) -> Voucher:
    """Yuan texts for a voucher's page (templates do no arithmetic)."""
    v.face = vouchers.yuan(v.face_value_cents)  # type: ignore[attr-defined]
    v.min_spend = vouchers.yuan(v.campaign.min_spend_cents)  # type: ignore[attr-defined]
    v.spend = vouchers.yuan(v.spend_cents or 0)  # type: ignore[attr-defined]
    return v


# --- the merchant counter ----------------------------------------------------------------------


class RedeemForm(forms.Form):
    merchant = forms.TypedChoiceField(label=gettext_lazy("Merchant"), coerce=int)
    code = forms.CharField(label=gettext_lazy("Voucher code"), max_length=40,
                           widget=forms.TextInput(attrs={"autocomplete": "off",
                                                         "autocapitalize": "characters"}))
    amount = forms.CharField(label=gettext_lazy("Amount spent (yuan)"), max_length=16,
                             widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                           "autocomplete": "off"}),
                             help_text=gettext_lazy("For example 128.50"))

    def __init__(self, *args: Any, merchants: list[Merchant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["merchant"]
        field.choices = [(m.pk, m.name) for m in merchants]  # type: ignore[attr-defined]
        if len(merchants) == 1:
            field.initial = merchants[0].pk
            field.widget = forms.HiddenInput()


@scoped(Perm.MERCHANT_OPERATE)
def counter(request: HttpRequest) -> HttpResponse:
    """Scan or type a voucher's code, enter the purchase amount, redeem."""
    from sportsman.rewards.merchants import operable_merchants

    access = access_for(request)
    mine = operable_merchants(access)
    done = None
    status = 200
    if request.method == "POST":
        form = RedeemForm(request.POST, merchants=mine)
        if form.is_valid():
            try:
                amount = vouchers.parse_yuan(form.cleaned_data["amount"], "amount")
                done = vouchers.redeem(actor=access, code=form.cleaned_data["code"],
                                       amount_cents=amount,
                                       merchant_id=form.cleaned_data["merchant"],
                                       request=request)
            except DomainError as exc:
                form.add_error(None, str(exc.message))
                status = exc.status
            else:
                form = RedeemForm(merchants=mine)
        else:
            status = 400
    else:
        form = RedeemForm(merchants=mine)
    recent = [_money(v) for v in
              Voucher.objects.filter(merchant_id__in=[m.pk for m in mine], status="redeemed")
              .select_related("campaign", "merchant").order_by("-redeemed_at")[:20]]
    context: dict[str, Any] = {"form": form, "merchants": mine, "done": done, "recent": recent}
    if done is not None and done.spend_cents is not None:
        context.update(done_spend=vouchers.yuan(done.spend_cents),
                       done_face=vouchers.yuan(done.face_value_cents),
                       to_pay_yuan=vouchers.yuan(max(0, done.spend_cents
                                                     - done.face_value_cents)))
    return render(request, "rewards/vouchers/counter.html", context, status=status)


@scoped(Perm.MERCHANT_OPERATE)
def counter_reconciliation(request: HttpRequest) -> HttpResponse:
    name, content = reconciliation.merchant_reconciliation(access=access_for(request),
                                                           request=request)
    return _xlsx(name, content)


# --- the staff console -------------------------------------------------------------------------


class CampaignForm(forms.Form):
    region = forms.TypedChoiceField(label=gettext_lazy("Region"), coerce=int)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    mode = forms.ChoiceField(label=gettext_lazy("How vouchers are handed out"),
                             choices=ClaimMode.choices)
    face_value = forms.CharField(label=gettext_lazy("Face value (yuan)"), max_length=16)
    min_spend = forms.CharField(label=gettext_lazy("Minimum spend (yuan)"), max_length=16,
                                initial="0")
    budget = forms.CharField(label=gettext_lazy("Budget (yuan)"), max_length=16)
    claim_opens_at = forms.DateTimeField(label=gettext_lazy("Claiming opens"),
                                         widget=forms.DateTimeInput(attrs={
                                             "type": "datetime-local"}))
    claim_closes_at = forms.DateTimeField(label=gettext_lazy("Claiming closes"),
                                          widget=forms.DateTimeInput(attrs={
                                              "type": "datetime-local"}))
    draw_at = forms.DateTimeField(label=gettext_lazy("Draw time (lottery only)"), required=False,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    valid_days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1,
                                    max_value=366, initial=7)
    per_campaign_limit = forms.IntegerField(label=gettext_lazy("At most per person"),
                                            min_value=1, max_value=1000, initial=1)
    per_week_limit = forms.IntegerField(label=gettext_lazy("At most per person per week"),
                                        min_value=1, max_value=1000, required=False)
    per_day_limit = forms.IntegerField(label=gettext_lazy("At most per person per day"),
                                       min_value=1, max_value=1000, required=False)
    min_minutes = forms.IntegerField(
        label=gettext_lazy("Verified exercise minutes needed last month"), min_value=0,
        max_value=100_000, required=False)
    age_min = forms.IntegerField(label=gettext_lazy("Lowest age"), min_value=0, max_value=150,
                                 required=False)
    age_max = forms.IntegerField(label=gettext_lazy("Highest age"), min_value=0, max_value=150,
                                 required=False)
    merchants = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Merchants"), coerce=int, required=False,
        help_text=gettext_lazy("None chosen: any approved merchant in the region."))
    facilities = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Venues"), coerce=int, required=False,
        help_text=gettext_lazy("None chosen: any venue. Otherwise only merchants operating one of "
                               "these venues accept the vouchers; listed are the venues run by "
                               "approved merchants."))

    MONEY = {"face_value": "face_value_cents", "min_spend": "min_spend_cents",
             "budget": "budget_cents"}

    def __init__(self, *args: Any, regions: list[Region], merchants: list[Merchant],
                 venues: list[Facility], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.pk, r.name) for r in regions]  # type: ignore[attr-defined]
        self.fields["merchants"].choices = [  # type: ignore[attr-defined]
            (m.pk, f"{m.name}（{m.region.name}）") for m in merchants]
        self.fields["facilities"].choices = [  # type: ignore[attr-defined]
            (f.pk, f"{f.name}（{f.region.name}）") for f in venues]

    def scope(self) -> vouchers.Scope:
        return vouchers.Scope(merchants=self.cleaned_data["merchants"],
                              facilities=self.cleaned_data["facilities"])

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for field, key in self.MONEY.items():
            try:
                out[key] = vouchers.parse_yuan(data[field], field)
            except InvalidInput as exc:
                self.add_error(field, str(exc.message))
        for key in ("name", "mode", "claim_opens_at", "claim_closes_at", "draw_at",
                    "valid_days", "per_campaign_limit", "per_week_limit", "per_day_limit"):
            out[key] = data.get(key)
        rules = {"min_verified_minutes_last_month": data.get("min_minutes"),
                 "age_min": data.get("age_min"), "age_max": data.get("age_max")}
        out["eligibility"] = {k: v for k, v in rules.items() if v is not None}
        return out

    def add_service_errors(self, exc: DomainError) -> None:
        reverse_money = {v: k for k, v in self.MONEY.items()}
        names = {"eligibility": "min_minutes", "region_id": "region"}
        placed = False
        for name, problems in exc.fields.items():
            field = reverse_money.get(name) or names.get(name, name)
            if field in self.fields:
                for problem in problems if isinstance(problems, list) else [problems]:
                    self.add_error(field, str(problem))
                placed = True
        if not placed:
            self.add_error(None, str(exc.message))


def _campaign_form(request: HttpRequest, data: Any = None, *, chosen_venues: Any = (),
                   **kwargs: Any) -> CampaignForm:
    from sportsman.rewards.models import MerchantStatus

    access = access_for(request)
    regions = list(access.regions(Perm.VOUCHER_MANAGE).filter(level__in=vouchers.CAMPAIGN_LEVELS)
                   .order_by("path")[:200])
    merchants = list(access.scope(Merchant.objects.select_related("region"),
                                  Perm.VOUCHER_MANAGE, field="region")
                     .filter(status=MerchantStatus.APPROVED).order_by("name")[:500])
    # Venues worth naming are those an approved merchant runs (no one else could redeem), plus
    # any the campaign already names.
    venues = list(Facility.objects.filter(Q(merchants__in=merchants) | Q(pk__in=chosen_venues))
                  .select_related("region").distinct().order_by("name", "id")[:1000])
    return CampaignForm(data, regions=regions, merchants=merchants, venues=venues, **kwargs)


@scoped(Perm.VOUCHER_MANAGE)
def console_campaigns(request: HttpRequest) -> HttpResponse:
    """Every campaign in my VOUCHER_MANAGE scope (drafts too), newest window first."""
    state = console_state(request)
    qs = vouchers.list_campaigns_for(state.access).prefetch_related(
        Prefetch("facilities", queryset=Facility.objects.only("id", "name")))
    found = list(qs[:200])
    for c in found:
        c.face = vouchers.yuan(c.face_value_cents)  # type: ignore[attr-defined]
        c.issued = vouchers.yuan(c.issued_cents)  # type: ignore[attr-defined]
        c.budget = vouchers.yuan(c.budget_cents)  # type: ignore[attr-defined]
    return _render(request, "rewards/vouchers/console_list.html", state, SECTION,
                   campaigns=found)


@scoped(Perm.VOUCHER_MANAGE)
def console_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = _campaign_form(request, request.POST)
        if form.is_valid():
            values = form.values()
            if form.is_valid():
                try:
                    made = vouchers.create_campaign(
                        actor=access_for(request), region_id=form.cleaned_data["region"],
                        values=values, scope=form.scope(), request=request)
                except DomainError as exc:
                    form.add_service_errors(exc)
                else:
                    messages.success(request, _("Campaign saved as a draft. Activate it to "
                                                "publish it."))
                    return HttpResponseRedirect(reverse("rewards:console_voucher", args=[made.pk]))
    else:
        now = timezone.localtime().replace(second=0, microsecond=0)
        form = _campaign_form(request, initial={
            "region": console_state(request).region.pk, "claim_opens_at": now,
            "claim_closes_at": now + dt.timedelta(days=30)})
    return _render(request, "rewards/vouchers/console_form.html", console_state(request),
                   SECTION, form=form, campaign=None)


def _initial(c: Any) -> dict[str, Any]:
    rules = c.eligibility or {}
    return {"region": c.region_id, "name": c.name, "mode": c.mode,
            "face_value": vouchers.yuan(c.face_value_cents),
            "min_spend": vouchers.yuan(c.min_spend_cents), "budget": vouchers.yuan(c.budget_cents),
            "claim_opens_at": timezone.localtime(c.claim_opens_at),
            "claim_closes_at": timezone.localtime(c.claim_closes_at),
            "draw_at": timezone.localtime(c.draw_at) if c.draw_at else None,
            "valid_days": c.valid_days, "per_campaign_limit": c.per_campaign_limit,
            "per_week_limit": c.per_week_limit, "per_day_limit": c.per_day_limit,
            "min_minutes": rules.get("min_verified_minutes_last_month"),
            "age_min": rules.get("age_min"), "age_max": rules.get("age_max"),
            "merchants": list(c.merchants.values_list("pk", flat=True)),
            "facilities": list(c.facilities.values_list("pk", flat=True))}


def _if_changed(ids: list[int] | None, before: list[int]) -> list[int] | None:
    return ids if ids is not None and sorted(ids) != sorted(before) else None


@scoped(Perm.VOUCHER_MANAGE)
def console_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """One campaign: its figures, the edit form, activate / close, the reconciliation."""
    access = access_for(request)
    campaign = vouchers.get_staff_campaign(access, campaign_id)
    initial = _initial(campaign)
    if request.method == "POST":
        form = _campaign_form(request, request.POST, chosen_venues=initial["facilities"])
        form.fields["region"].required = False
        if form.is_valid():
            values = form.values()
            if form.is_valid():
                # Send only what changed, so an active campaign's fixed terms are not "changed"
                # to their own values.
                changed = {k: v for k, v in values.items()
                           if k not in ("eligibility",) and v != getattr(campaign, k)}
                if values["eligibility"] != (campaign.eligibility or {}):
                    changed["eligibility"] = values["eligibility"]
                given = form.scope()
                scope = vouchers.Scope(
                    merchants=_if_changed(given.merchants, initial["merchants"]),
                    facilities=_if_changed(given.facilities, initial["facilities"]))
                try:
                    vouchers.update_campaign(actor=access, campaign_id=campaign.pk,
                                             values=changed, scope=scope, request=request)
                except DomainError as exc:
                    form.add_service_errors(exc)
                else:
                    messages.success(request, _("Campaign saved."))
                    return HttpResponseRedirect(reverse("rewards:console_voucher",
                                                        args=[campaign.pk]))
    else:
        form = _campaign_form(request, initial=initial, chosen_venues=initial["facilities"])
    form.fields["region"].disabled = True
    counts = {row["status"]: row["n"] for row in
              campaign.vouchers.values("status").annotate(n=Count("id")).order_by()}
    return _render(request, "rewards/vouchers/console_form.html", console_state(request),
                   SECTION, form=form, campaign=campaign, counts=counts,
                   remaining=vouchers.yuan(vouchers.remaining_cents(campaign)),
                   issued=vouchers.yuan(campaign.issued_cents),
                   budget=vouchers.yuan(campaign.budget_cents),
                   entries=campaign.entries.count() if campaign.mode == ClaimMode.LOTTERY
                   else None, statuses=CampaignStatus)


@scoped(Perm.VOUCHER_MANAGE)
@require_POST
def console_transition(request: HttpRequest, campaign_id: int, to: str) -> HttpResponse:
    if to == "activate":
        vouchers.activate_campaign(actor=access_for(request), campaign_id=campaign_id,
                                   request=request)
        messages.success(request, _("The campaign is active: residents can see it."))
    else:
        vouchers.close_campaign(actor=access_for(request), campaign_id=campaign_id,
                                request=request)
        messages.success(request, _("The campaign is closed."))
    return HttpResponseRedirect(reverse("rewards:console_voucher", args=[campaign_id]))


@scoped(Perm.VOUCHER_MANAGE)
def console_reconciliation(request: HttpRequest, campaign_id: int) -> HttpResponse:
    name, content = reconciliation.campaign_reconciliation(
        access=access_for(request), campaign_id=campaign_id, request=request)
    return _xlsx(name, content)


urlpatterns = [
    path("vouchers/", campaigns, name="voucher_campaigns"),
    path("vouchers/mine/", my_vouchers, name="my_vouchers"),
    path("vouchers/<int:campaign_id>/claim/", claim, name="claim_voucher"),
    path("vouchers/<int:campaign_id>/enter/", enter, name="enter_voucher_draw"),
    path("counter/vouchers/", counter, name="voucher_counter"),
    path("counter/vouchers/reconciliation.xlsx", counter_reconciliation,
         name="voucher_counter_reconciliation"),
    path("console/vouchers/", console_campaigns, name="console_vouchers"),
    path("console/vouchers/new/", console_new, name="console_voucher_new"),
    path("console/vouchers/<int:campaign_id>/", console_campaign, name="console_voucher"),
    path("console/vouchers/<int:campaign_id>/activate/", console_transition,
         {"to": "activate"}, name="console_voucher_activate"),
    path("console/vouchers/<int:campaign_id>/close/", console_transition, {"to": "close"},
         name="console_voucher_close"),
    path("console/vouchers/<int:campaign_id>/reconciliation.xlsx", console_reconciliation,
         name="console_voucher_reconciliation"),
]
