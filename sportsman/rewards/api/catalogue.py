"""Catalogue API: the rewards of a region (public), redeeming and my orders (residents), the
merchant counter's fulfilment, and staff keeping the catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.errors import InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import Region
from sportsman.rewards import catalogue
from sportsman.rewards.models import Reward, RewardKind, RewardOrder

router = Router(tags=["catalogue"])


class RewardOut(Schema):
    id: int
    region_id: int
    merchant_id: int | None
    merchant_name: str | None
    name: str
    kind: str
    description: str
    points_cost: int
    stock: int
    per_person_limit: int | None
    is_active: bool


class OrderOut(Schema):
    id: int
    reward_id: int
    reward_name: str
    points: int
    code: str
    status: str
    created_at: dt.datetime
    fulfilled_at: dt.datetime | None


class OrderPageOut(Schema):
    items: list[OrderOut]
    next_cursor: int | None


class CatalogueQuery(Schema):
    region: int | None = Field(None, ge=1, lt=2**63)


class PageQuery(Schema):
    cursor: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=100)


class FulfilIn(In):
    code: str = Field(..., min_length=1, max_length=40)


class RewardIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    name: str = Field(..., min_length=1, max_length=100)
    kind: RewardKind
    description: str = Field("", max_length=2000)
    points_cost: int = Field(..., ge=1, le=10_000_000)
    stock: int = Field(0, ge=0, le=10_000_000)
    per_person_limit: int | None = Field(None, ge=1, le=1000)
    merchant_id: int | None = Field(None, ge=1, lt=2**63)
    is_active: bool = True


class RewardPatchIn(In):
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: RewardKind | None = None
    description: str | None = Field(None, max_length=2000)
    points_cost: int | None = Field(None, ge=1, le=10_000_000)
    stock: int | None = Field(None, ge=0, le=10_000_000)
    per_person_limit: int | None = Field(None, ge=1, le=1000)
    merchant_id: int | None = Field(None, ge=1, lt=2**63)
    is_active: bool | None = None


def reward_out(r: Reward) -> dict[str, Any]:
    return {"id": r.pk, "region_id": r.region_id, "merchant_id": r.merchant_id,
            "merchant_name": r.merchant.name if r.merchant is not None else None, "name": r.name,
            "kind": r.kind, "description": r.description, "points_cost": r.points_cost,
            "stock": r.stock, "per_person_limit": r.per_person_limit, "is_active": r.is_active}


def order_out(o: RewardOrder) -> dict[str, Any]:
    return {"id": o.pk, "reward_id": o.reward_id, "reward_name": o.reward.name,
            "points": o.points, "code": o.code, "status": o.status, "created_at": o.created_at,
            "fulfilled_at": o.fulfilled_at}


@router.get("/rewards", auth=None, response=list[RewardOut])
@public
def rewards(request: HttpRequest, query: Query[CatalogueQuery]):
    """The rewards offered in ``region`` (a community: its own and those of the regions above
    it); without ``region``, the home community of a resident logged in to the site."""
    region_id = query.region
    if region_id is None and request.user.is_authenticated:
        region_id = request.user.home_community_id
    if region_id is None:
        raise InvalidInput(_("Choose a region."), fields={"region": [_("Choose a region.")]})
    region = Region.objects.filter(pk=region_id).first()
    return [reward_out(r) for r in catalogue.catalogue_for(region)]


@router.post("/rewards/{reward_id}/redeem", response={201: OrderOut})
@for_self
@idempotent
def redeem(request: HttpRequest, reward_id: int):
    """Redeem a reward for my points: the order with its one-time ``code`` (show it as a QR
    code). Refusals: ``out_of_stock``, ``over_person_limit``, ``insufficient_points``."""
    order = catalogue.redeem(actor=request.user, reward_id=reward_id)
    return Status(201, order_out(order))


@router.get("/me/orders", response=OrderPageOut)
@for_self
def my_orders(request: HttpRequest, page: Query[PageQuery]):
    """My reward orders, newest first; pass ``next_cursor`` back as ``cursor``."""
    qs = catalogue.my_orders(request.user)
    if page.cursor is not None:
        qs = qs.filter(id__lt=page.cursor)
    rows = list(qs[: page.limit + 1])
    next_cursor = rows[page.limit - 1].pk if len(rows) > page.limit else None
    return {"items": [order_out(o) for o in rows[: page.limit]], "next_cursor": next_cursor}


@router.post("/me/orders/{order_id}/cancel", response=OrderOut)
@for_self
@idempotent
def cancel(request: HttpRequest, order_id: int):
    """Cancel my order not yet collected: points back, item back in stock."""
    return order_out(catalogue.cancel_order(actor=request.user, order_id=order_id))


@router.post("/merchant/orders/fulfil", response=OrderOut)
@scoped(Perm.MERCHANT_OPERATE)
def fulfil(request: HttpRequest, data: FulfilIn):
    """At my counter: hand over the reward of the order with ``code`` (scanned or typed)."""
    order = catalogue.fulfil_order(actor=access_for(request), code=data.code, request=request)
    return order_out(order)


@router.post("/rewards", response={201: RewardOut})
@scoped(Perm.REWARDS_MANAGE)
def create_reward(request: HttpRequest, data: RewardIn):
    """Add a reward to the catalogue of a region in my scope (audited)."""
    reward = catalogue.create_reward(actor=access_for(request), request=request,
                                     **data.model_dump())
    return Status(201, reward_out(reward))


@router.patch("/rewards/{reward_id}", response=RewardOut)
@scoped(Perm.REWARDS_MANAGE)
def update_reward(request: HttpRequest, reward_id: int, data: RewardPatchIn):
    """Change a reward in my scope (only the fields sent; ``stock`` sets what is left)."""
    reward = catalogue.update_reward(actor=access_for(request), reward_id=reward_id,
                                     changes=data.model_dump(exclude_unset=True),
                                     request=request)
    return reward_out(reward)
