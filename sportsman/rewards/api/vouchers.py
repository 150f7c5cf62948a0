"""Vouchers API: active campaigns (public), my eligibility, claiming and lottery entries, my
vouchers and their QR codes, redemption at a merchant's counter, and the staff campaign
operations with the reconciliation workbooks.

Money: amounts people type (``budget``, ``face_value``, ``min_spend``, the counter's ``amount``)
are yuan as decimal STRINGS with at most two decimals ("150", "128.50"); answers carry fen as
integers (``*_cents``) next to the yuan text. Refusals use the one error shape: 409
``campaign_exhausted`` / ``over_limit``, 403 ``not_eligible`` (reason codes in
``fields.reasons``), 400 ``outside_window``, 404 ``unknown_code``, 409 ``already_redeemed`` …
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from sportsman.core import xlsx
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.rewards import reconciliation, vouchers
from sportsman.rewards.models import Merchant, Voucher, VoucherCampaign

router = Router(tags=["vouchers"])


# --- schemas -----------------------------------------------------------------------------------


class EligibilityRules(In):
    min_verified_minutes_last_month: int | None = Field(None, ge=0, le=100_000)
    age_min: int | None = Field(None, ge=0, le=150)
    age_max: int | None = Field(None, ge=0, le=150)


class CampaignPatch(In):
    """Every field optional: only those given change."""

    name: str | None = Field(None, min_length=1, max_length=100)
    budget: str | None = Field(None, max_length=16, description="yuan, e.g. \"500000\"")
    face_value: str | None = Field(None, max_length=16, description="yuan, e.g. \"50\"")
    min_spend: str | None = Field(None, max_length=16, description="yuan, e.g. \"100\"")
    eligibility: EligibilityRules | None = None
    per_day_limit: int | None = Field(None, ge=1, le=1000)
    per_week_limit: int | None = Field(None, ge=1, le=1000)
    per_campaign_limit: int | None = Field(None, ge=1, le=1000)
    claim_opens_at: dt.datetime | None = None
    claim_closes_at: dt.datetime | None = None
    mode: Literal["first_come", "lottery"] | None = None
    draw_at: dt.datetime | None = None
    valid_days: int | None = Field(None, ge=1, le=366)
    sports: list[int] | None = Field(None, max_length=100, description="sport ids; [] = any")
    merchants: list[int] | None = Field(None, max_length=1000,
                                        description="merchant ids; [] = any in the region")
    facilities: list[int] | None = Field(
        None, max_length=1000, description="venue (facility) ids inside the region: only "
                                           "merchants operating one of them redeem; [] = any")


class CampaignIn(CampaignPatch):
    region_id: int = Field(..., ge=1, lt=2**63, description="a city or a district")
    name: str = Field(..., min_length=1, max_length=100)  # type: ignore[assignment]
    budget: str = Field(..., max_length=16)  # type: ignore[assignment]
    face_value: str = Field(..., max_length=16)  # type: ignore[assignment]
    claim_opens_at: dt.datetime  # type: ignore[assignment]
    claim_closes_at: dt.datetime  # type: ignore[assignment]


class NamedOut(Schema):
    id: int
    name: str


class CampaignOut(Schema):
    id: int
    name: str
    region_id: int
    region_name: str
    status: str
    mode: str
    face_value_cents: int
    face_value: str
    min_spend_cents: int
    budget_cents: int
    issued_cents: int
    remaining_cents: int
    vouchers_left: int = Field(..., description="how many more vouchers the budget holds")
    eligibility: dict[str, Any]
    per_day_limit: int | None
    per_week_limit: int | None
    per_campaign_limit: int
    claim_opens_at: dt.datetime
    claim_closes_at: dt.datetime
    draw_at: dt.datetime | None
    drawn_at: dt.datetime | None
    lottery_seed: str = Field(..., description="published once drawn (\"\" before)")
    valid_days: int
    sports: list[NamedOut]
    merchants: list[NamedOut] = Field(..., description="[] = any approved merchant in the "
                                                       "campaign's region")
    facilities: list[NamedOut] = Field(..., description="the venues it is valid at: [] = any")


class CampaignsQuery(Schema):
    region: int | None = Field(None, ge=1, lt=2**63,
                               description="campaigns for residents of this region")


class ReasonOut(Schema):
    code: str
    message: str


class EligibilityOut(Schema):
    campaign_id: int
    action: str = Field(..., description="claim (first come) or enter (lottery)")
    can_act: bool = Field(..., description="whether claiming (or entering) now would succeed, "
                                           "budget permitting")
    eligible: bool
    window: str = Field(..., description="not_open / open / closed")
    claimed: int
    entered: bool
    minutes_last_month: int | None
    reasons: list[ReasonOut]


class VoucherOut(Schema):
    id: int
    campaign_id: int
    campaign_name: str
    code: str = Field(..., description="the one-time code: show it (or its QR) at the counter")
    face_value_cents: int
    face_value: str
    min_spend_cents: int
    status: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    redeemed_at: dt.datetime | None
    merchant_name: str | None
    spend_cents: int | None
    qr_url: str


class EntryOut(Schema):
    campaign_id: int
    draw_at: dt.datetime | None
    entered_at: dt.datetime


class RedeemIn(In):
    code: str = Field(..., min_length=1, max_length=40, description="typed or scanned "
                                                                    "(SPV:… accepted)")
    amount: str = Field(..., max_length=16, description="the purchase in yuan, e.g. \"128.50\"")
    merchant_id: int | None = Field(None, ge=1, lt=2**63,
                                    description="needed only if you run several merchants")


class RedemptionOut(Schema):
    voucher_id: int
    code: str
    campaign_id: int
    campaign_name: str
    merchant_id: int
    merchant_name: str
    face_value_cents: int
    spend_cents: int
    to_pay_cents: int = Field(..., description="what the customer still pays")
    redeemed_at: dt.datetime


# --- helpers -----------------------------------------------------------------------------------


def _with_scope(qs: Any) -> Any:
    from sportsman.core.models import Sport
    from sportsman.facilities.models import Facility

    return qs.prefetch_related(Prefetch("sports", queryset=Sport.objects.only("id", "name_zh")),
                               Prefetch("merchants", queryset=Merchant.objects.only("id", "name")),
                               Prefetch("facilities",
                                        queryset=Facility.objects.only("id", "name")))


def campaign_out(c: VoucherCampaign) -> dict[str, Any]:
    remaining = vouchers.remaining_cents(c)
    return {
        "id": c.pk, "name": c.name, "region_id": c.region_id, "region_name": c.region.name,
        "status": c.status, "mode": c.mode, "face_value_cents": c.face_value_cents,
        "face_value": vouchers.yuan(c.face_value_cents), "min_spend_cents": c.min_spend_cents,
        "budget_cents": c.budget_cents, "issued_cents": c.issued_cents,
        "remaining_cents": remaining, "vouchers_left": remaining // c.face_value_cents,
        "eligibility": c.eligibility or {}, "per_day_limit": c.per_day_limit,
        "per_week_limit": c.per_week_limit, "per_campaign_limit": c.per_campaign_limit,
        "claim_opens_at": c.claim_opens_at, "claim_closes_at": c.claim_closes_at,
        "draw_at": c.draw_at, "drawn_at": c.drawn_at,
        "lottery_seed": c.lottery_seed if c.drawn_at else "", "valid_days": c.valid_days,
        "sports": [{"id": s.pk, "name": s.name_zh} for s in c.sports.all()],
        "merchants": [{"id": m.pk, "name": m.name} for m in c.merchants.all()],
        "facilities": [{"id": f.pk, "name": f.name} for f in c.facilities.all()],
    }


def voucher_out(v: Voucher) -> dict[str, Any]:
    return {"id": v.pk, "campaign_id": v.campaign_id, "campaign_name": v.campaign.name,
            "code": v.code, "face_value_cents": v.face_value_cents,
            "face_value": vouchers.yuan(v.face_value_cents),
            "min_spend_cents": v.campaign.min_spend_cents, "status": v.status,
            "issued_at": v.issued_at, "expires_at": v.expires_at, "redeemed_at": v.redeemed_at,
            "merchant_name": v.merchant.name if v.merchant is not None else None,
            "spend_cents": v.spend_cents, "qr_url": f"/api/v1/me/vouchers/{v.pk}/qr.svg"}


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """A time without an offset is local (Asia/Shanghai) time."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _values(data: CampaignPatch) -> tuple[dict[str, Any], vouchers.Scope]:
    given = data.model_dump(exclude_unset=True)
    given.pop("region_id", None)
    scope = vouchers.Scope(sports=given.pop("sports", None),
                           merchants=given.pop("merchants", None),
                           facilities=given.pop("facilities", None))
    values: dict[str, Any] = {}
    for name in ("budget", "face_value", "min_spend"):
        if name in given:
            raw = given.pop(name)
            if raw is not None:
                values[f"{name}_cents"] = vouchers.parse_yuan(raw, name)
    for name in ("claim_opens_at", "claim_closes_at", "draw_at"):
        if name in given:
            given[name] = _aware(given[name])
    if "eligibility" in given:
        given["eligibility"] = {k: v for k, v in (given["eligibility"] or {}).items()
                                if v is not None}
    values.update({k: v for k, v in given.items()
                   if v is not None or k in ("per_day_limit", "per_week_limit", "draw_at")})
    return values, scope


def _staff_out(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    access = access_for(request)
    found = _with_scope(vouchers.list_campaigns_for(access)).filter(pk=campaign_id).first()
    if found is None:
        raise vouchers.CampaignNotFound()
    return campaign_out(found)


def _xlsx(name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=xlsx.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- residents ---------------------------------------------------------------------------------


@router.get("/voucher-campaigns", response=list[CampaignOut], auth=None)
@public
def list_campaigns(request: HttpRequest, params: Query[CampaignsQuery]):
    """Active campaigns with their remaining budget, soonest closing first; ``?region=`` keeps
    those open to residents of that region (its own, its ancestors' and its subtree's)."""
    qs = vouchers.public_campaigns(region_id=params.region)
    return [campaign_out(c) for c in _with_scope(qs)[:200]]


@router.get("/voucher-campaigns/{campaign_id}", response=CampaignOut, auth=None)
@public
def campaign_detail(request: HttpRequest, campaign_id: int):
    """An active or closed campaign (a draft is not public)."""
    found = vouchers.get_public_campaign(campaign_id)
    return campaign_out(_with_scope(VoucherCampaign.objects.select_related("region"))
                        .get(pk=found.pk))


@router.get("/voucher-campaigns/{campaign_id}/eligibility", response=EligibilityOut)
@for_self
def my_eligibility(request: HttpRequest, campaign_id: int):
    """Whether I can claim (or enter) now, and every reason why not."""
    campaign = vouchers.get_public_campaign(campaign_id)
    found = vouchers.claim_status(campaign, request.user)
    return {"campaign_id": campaign.pk, **vars(found)}


@router.post("/vouchers/{campaign_id}/claim", response={201: VoucherOut})
@for_self
@idempotent
def claim(request: HttpRequest, campaign_id: int):
    """Claim a voucher of a first-come campaign: 201 with the voucher and its one-time ``code``.
    409 ``campaign_exhausted`` / ``over_limit``, 403 ``not_eligible``, 400 ``outside_window``.
    Send an ``Idempotency-Key`` to retry safely."""
    made = vouchers.claim(actor=request.user, campaign_id=campaign_id)
    return Status(201, voucher_out(vouchers.get_own_voucher(request.user, made.pk)))


@router.post("/voucher-campaigns/{campaign_id}/entries", response={201: EntryOut})
@for_self
@idempotent
def enter(request: HttpRequest, campaign_id: int):
    """Enter a lottery campaign's draw (once). Winners get a voucher at the draw time."""
    entry = vouchers.enter_draw(actor=request.user, campaign_id=campaign_id)
    return Status(201, {"campaign_id": entry.campaign_id, "draw_at": entry.campaign.draw_at,
                        "entered_at": entry.created_at})


@router.get("/me/vouchers", response=list[VoucherOut])
@for_self
def my_vouchers(request: HttpRequest):
    """My vouchers, newest first (at most 200)."""
    return [voucher_out(v) for v in vouchers.my_vouchers(request.user)[:200]]


@router.get("/me/vouchers/{voucher_id}/qr.svg")
@for_self
def my_voucher_qr(request: HttpRequest, voucher_id: int):
    """My voucher's code as an SVG QR code (``SPV:<code>``), for the merchant to scan."""
    found = vouchers.get_own_voucher(request.user, voucher_id)
    response = HttpResponse(vouchers.voucher_qr_svg(found.code), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"
    return response


# --- merchant counter --------------------------------------------------------------------------


@router.post("/merchant/redemptions", response={201: RedemptionOut})
@scoped(Perm.MERCHANT_OPERATE)
@idempotent
def redeem(request: HttpRequest, data: RedeemIn):
    """Redeem a voucher against a purchase of ``amount`` yuan (a decimal string). 404
    ``unknown_code``, 409 ``already_redeemed`` / ``voucher_expired``, 400 ``below_min_spend``,
    403 ``wrong_merchant`` / ``venue_not_covered`` / ``sport_not_covered``, 400
    ``choose_merchant``."""
    amount = vouchers.parse_yuan(data.amount, "amount")
    v = vouchers.redeem(actor=access_for(request), code=data.code, amount_cents=amount,
                        merchant_id=data.merchant_id, request=request)
    assert v.merchant is not None and v.spend_cents is not None and v.redeemed_at is not None
    return Status(201, {"voucher_id": v.pk, "code": v.code, "campaign_id": v.campaign_id,
                        "campaign_name": v.campaign.name, "merchant_id": v.merchant.pk,
                        "merchant_name": v.merchant.name,
                        "face_value_cents": v.face_value_cents, "spend_cents": v.spend_cents,
                        "to_pay_cents": max(0, v.spend_cents - v.face_value_cents),
                        "redeemed_at": v.redeemed_at})


@router.get("/merchant/reconciliation.xlsx")
@scoped(Perm.MERCHANT_OPERATE)
def merchant_reconciliation(request: HttpRequest):
    """My merchants' voucher redemptions per campaign and per day (xlsx)."""
    name, content = reconciliation.merchant_reconciliation(access=access_for(request),
                                                           request=request)
    return _xlsx(name, content)


# --- staff -------------------------------------------------------------------------------------


@router.get("/staff/voucher-campaigns", response=list[CampaignOut])
@scoped(Perm.VOUCHER_MANAGE)
def staff_campaigns(request: HttpRequest):
    """Every campaign in my scope (drafts too), newest window first (at most 500)."""
    qs = _with_scope(vouchers.list_campaigns_for(access_for(request)))
    return [campaign_out(c) for c in qs[:500]]


@router.post("/voucher-campaigns", response={201: CampaignOut})
@scoped(Perm.VOUCHER_MANAGE)
def create_campaign(request: HttpRequest, data: CampaignIn):
    """Create a draft campaign in a city or district (activate it to publish)."""
    values, scope = _values(data)
    made = vouchers.create_campaign(actor=access_for(request), region_id=data.region_id,
                                    values=values, scope=scope, request=request)
    return Status(201, _staff_out(request, made.pk))


@router.patch("/voucher-campaigns/{campaign_id}", response=CampaignOut)
@scoped(Perm.VOUCHER_MANAGE)
def update_campaign(request: HttpRequest, campaign_id: int, data: CampaignPatch):
    """Change a campaign: a draft anything; an active one its name, budget, closing and draw
    time, merchants and venues."""
    values, scope = _values(data)
    vouchers.update_campaign(actor=access_for(request), campaign_id=campaign_id, values=values,
                             scope=scope, request=request)
    return _staff_out(request, campaign_id)


@router.post("/voucher-campaigns/{campaign_id}/activate", response=CampaignOut)
@scoped(Perm.VOUCHER_MANAGE)
def activate_campaign(request: HttpRequest, campaign_id: int):
    """Publish a draft campaign."""
    vouchers.activate_campaign(actor=access_for(request), campaign_id=campaign_id,
                               request=request)
    return _staff_out(request, campaign_id)


@router.post("/voucher-campaigns/{campaign_id}/close", response=CampaignOut)
@scoped(Perm.VOUCHER_MANAGE)
def close_campaign(request: HttpRequest, campaign_id: int):
    """Close a campaign for good (issued vouchers stay usable until they expire)."""
    vouchers.close_campaign(actor=access_for(request), campaign_id=campaign_id, request=request)
    return _staff_out(request, campaign_id)


@router.get("/voucher-campaigns/{campaign_id}/reconciliation.xlsx")
@scoped(Perm.VOUCHER_MANAGE)
def campaign_reconciliation(request: HttpRequest, campaign_id: int):
    """A campaign's redemptions per merchant and per day (xlsx)."""
    name, content = reconciliation.campaign_reconciliation(
        access=access_for(request), campaign_id=campaign_id, request=request)
    return _xlsx(name, content)
