"""Scope-matrix cases for the voucher API, and the small builders the voucher tests share.

Campaigns belong to a city or a district, so the staff cases use ``DISTRICT_LEVEL``: the target
campaign lives in district d1 (南湖区); its admin is right, the city admin is the parent, the town
admin of t1 (no voucher permission) the child, the admin of d2 the sibling. Counter cases use
``MERCHANT_LEVEL``: the target merchant lies in community k2 and the right actor is its owner
(merchant role on k2); another merchant of k2 plays the child, one of d2 the sibling, and the
city admin (no merchant role) the parent — only the owner is allowed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.scope import Case, ids, xlsx_text

DISTRICT_LEVEL = {"right": "district_admin", "parent": "city_admin", "child": "town_admin",
                  "sibling": "sibling_district_admin", "resident": "resident",
                  "anonymous": None}
MERCHANT_LEVEL = {"right": "merchant_owner", "parent": "city_admin",
                  "child": "other_merchant_owner", "sibling": "far_merchant_owner",
                  "resident": "resident", "anonymous": None}


# --- builders ----------------------------------------------------------------------------------


def make_campaign(region: Any, **over: Any) -> Any:
    """An active first-come campaign open now: ¥50 face, budget for 10, no rules."""
    from django.utils import timezone

    from sportsman.rewards.models import VoucherCampaign

    now = timezone.now()
    merchants = over.pop("merchants", None)
    sports = over.pop("sports", None)
    values: dict[str, Any] = {
        "name": "测试消费券", "budget_cents": 50_000, "face_value_cents": 5_000,
        "min_spend_cents": 10_000, "claim_opens_at": now - dt.timedelta(hours=1),
        "claim_closes_at": now + dt.timedelta(days=1), "status": "active", "valid_days": 7,
        **over}
    campaign = VoucherCampaign.objects.create(region=region, **values)
    if merchants:
        campaign.merchants.set(merchants)
    if sports:
        campaign.sports.set(sports)
    return campaign


def make_merchant(tree: Any, region: Any, *, owner: Any = None, name: str = "测试商户",
                  status: str = "approved") -> Any:
    """A merchant and its owner holding the merchant role on its region (as approval grants)."""
    from sportsman.regions.models import RoleAssignment
    from sportsman.rewards.models import Merchant

    owner = owner or tree.user()
    merchant = Merchant.objects.create(name=name, region=region, owner=owner,
                                       address="测试路 1 号", status=status)
    RoleAssignment.objects.get_or_create(user=owner, role="merchant", region=region)
    return merchant


def make_voucher(campaign: Any, user: Any, **over: Any) -> Any:
    from django.utils import timezone

    from sportsman.rewards.models import Voucher

    now = timezone.now()
    values = {"face_value_cents": campaign.face_value_cents, "issued_at": now,
              "expires_at": now + dt.timedelta(days=7), **over}
    return Voucher.objects.create(campaign=campaign, user=user, **values)


# --- cases -------------------------------------------------------------------------------------


def _d1_campaign(tree: Any) -> dict[str, Any]:
    return {"campaign": make_campaign(tree.d1, name="矩阵消费券", status="draft")}


def _counter(tree: Any) -> dict[str, Any]:
    merchant = make_merchant(tree, tree.k2, name="矩阵商户")
    tree.merchant_owner = merchant.owner
    tree.other_merchant_owner = make_merchant(tree, tree.k2, name="隔壁商户").owner
    tree.far_merchant_owner = make_merchant(tree, tree.k4, name="秀洲商户").owner
    campaign = make_campaign(tree.d1, merchants=[merchant])
    holder = tree.user(home_community=tree.k2)
    voucher = make_voucher(campaign, holder)
    return {"merchant": merchant, "campaign": campaign, "voucher": voucher}


def _redeemed(tree: Any) -> dict[str, Any]:
    from django.utils import timezone

    state = _counter(tree)
    voucher = state["voucher"]
    type(voucher).objects.filter(pk=voucher.pk).update(
        status="redeemed", redeemed_at=timezone.now(), merchant=state["merchant"],
        spend_cents=12_345)
    return state


def _campaign(state: dict[str, Any]) -> Any:
    return type(state["campaign"]).objects.get(pk=state["campaign"].pk)


def _create_body(tree: Any) -> dict[str, Any]:
    from django.utils import timezone

    now = timezone.now()
    return {"region_id": tree.d1.pk, "name": "矩阵新券", "budget": "1000", "face_value": "50",
            "claim_opens_at": now.isoformat(),
            "claim_closes_at": (now + dt.timedelta(days=3)).isoformat()}


def _created(tree: Any, state: dict[str, Any]) -> bool:
    from sportsman.rewards.models import VoucherCampaign

    return VoucherCampaign.objects.filter(name="矩阵新券").exists()


CASES: list[Case] = [
    Case("vouchers.create a campaign in d1", op="POST /voucher-campaigns",
         call=lambda c, t, s: c.json("post", "/api/v1/voucher-campaigns", _create_body(t)),
         changed=_created, cast=DISTRICT_LEVEL),
    Case("vouchers.list staff campaigns (sees a d1 draft)", op="GET /staff/voucher-campaigns",
         setup=_d1_campaign,
         call=lambda c, t, s: c.get("/api/v1/staff/voucher-campaigns"),
         sees=lambda r, t, s: r.status_code == 200 and s["campaign"].pk in ids(r),
         cast=DISTRICT_LEVEL),
    Case("vouchers.edit a d1 campaign", op="PATCH /voucher-campaigns/{campaign_id}",
         setup=_d1_campaign,
         call=lambda c, t, s: c.json("patch", f"/api/v1/voucher-campaigns/{s['campaign'].pk}",
                                     {"name": "改名了"}),
         changed=lambda t, s: _campaign(s).name == "改名了", cast=DISTRICT_LEVEL),
    Case("vouchers.activate a d1 campaign", op="POST /voucher-campaigns/{campaign_id}/activate",
         setup=_d1_campaign,
         call=lambda c, t, s: c.post(f"/api/v1/voucher-campaigns/{s['campaign'].pk}/activate"),
         changed=lambda t, s: _campaign(s).status == "active", cast=DISTRICT_LEVEL),
    Case("vouchers.close a d1 campaign", op="POST /voucher-campaigns/{campaign_id}/close",
         setup=_d1_campaign,
         call=lambda c, t, s: c.post(f"/api/v1/voucher-campaigns/{s['campaign'].pk}/close"),
         changed=lambda t, s: _campaign(s).status == "closed", cast=DISTRICT_LEVEL),
    Case("vouchers.reconciliation of a d1 campaign",
         op="GET /voucher-campaigns/{campaign_id}/reconciliation.xlsx",
         setup=_redeemed,
         call=lambda c, t, s: c.get(
             f"/api/v1/voucher-campaigns/{s['campaign'].pk}/reconciliation.xlsx"),
         sees=lambda r, t, s: r.status_code == 200 and "矩阵商户".encode() in xlsx_text(r),
         cast=DISTRICT_LEVEL),
    Case("vouchers.redeem at a k2 merchant", op="POST /merchant/redemptions",
         setup=_counter,
         call=lambda c, t, s: c.json("post", "/api/v1/merchant/redemptions",
                                     {"code": s["voucher"].code, "amount": "150.00"}),
         changed=lambda t, s: type(s["voucher"]).objects.get(pk=s["voucher"].pk).status
         == "redeemed",
         allowed={"right"}, cast=MERCHANT_LEVEL),
    Case("vouchers.a k2 merchant's reconciliation", op="GET /merchant/reconciliation.xlsx",
         setup=_redeemed,
         call=lambda c, t, s: c.get("/api/v1/merchant/reconciliation.xlsx"),
         sees=lambda r, t, s: r.status_code == 200 and "矩阵商户".encode() in xlsx_text(r),
         allowed={"right"}, cast=MERCHANT_LEVEL),
]
