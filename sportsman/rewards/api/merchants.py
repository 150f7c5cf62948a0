"""Merchants API: residents apply and see their applications; staff review those of their
region."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.facilities.models import Facility
from sportsman.regions.access import Perm, access_for, for_self, scoped
from sportsman.rewards import merchants
from sportsman.rewards.models import Merchant

router = Router(tags=["merchants"])


class VenueOut(Schema):
    id: int
    name: str


class MerchantOut(Schema):
    id: int
    name: str
    region_id: int
    region_name: str
    address: str
    contact_phone: str
    licence_no: str
    facilities: list[VenueOut] = Field(..., description="the venues it operates")
    status: str
    review_note: str
    reviewed_at: dt.datetime | None
    created_at: dt.datetime


class ApplyIn(In):
    name: str = Field(..., min_length=1, max_length=100)
    region_id: int = Field(..., ge=1, lt=2**63)
    address: str = Field(..., min_length=1, max_length=200)
    contact_phone: str = Field("", max_length=20)
    licence_no: str = Field("", max_length=32)
    sports: list[int] = Field(default_factory=list, max_length=20)
    facilities: list[int] = Field(default_factory=list, max_length=100,
                                  description="ids of the venues it operates, inside the region")


class ReviewIn(In):
    approve: bool
    note: str = Field("", max_length=200)
    facilities: list[int] | None = Field(
        None, max_length=100, description="when approving: the venues it operates (inside its "
                                          "region); left out = as the applicant chose")


class StatusQuery(Schema):
    status: str | None = Field(None, max_length=10)


_VENUES = Prefetch("facilities", queryset=Facility.objects.only("id", "name").order_by("name"))


def merchant_out(m: Merchant) -> dict[str, Any]:
    return {"id": m.pk, "name": m.name, "region_id": m.region_id, "region_name": m.region.name,
            "address": m.address, "contact_phone": m.contact_phone, "licence_no": m.licence_no,
            "facilities": [{"id": f.pk, "name": f.name} for f in m.facilities.all()],
            "status": m.status, "review_note": m.review_note, "reviewed_at": m.reviewed_at,
            "created_at": m.created_at}


@router.post("/merchants", response={201: MerchantOut})
@for_self
@idempotent
def apply(request: HttpRequest, data: ApplyIn):
    """Register my business as a merchant; staff of its region review it."""
    merchant = merchants.register_merchant(actor=request.user, **data.model_dump())
    return Status(201, merchant_out(merchant))


@router.get("/me/merchants", response=list[MerchantOut])
@for_self
def my_merchants(request: HttpRequest):
    """The merchants I registered, with their review status."""
    return [merchant_out(m) for m in
            merchants.applications_of(request.user).prefetch_related(_VENUES)]


@router.get("/merchants", response=list[MerchantOut])
@scoped(Perm.MERCHANT_REVIEW)
def list_merchants(request: HttpRequest, query: Query[StatusQuery]):
    """Merchants of my region (``?status=pending`` for the review queue)."""
    return [merchant_out(m) for m in merchants.list_merchants_for(
        access_for(request), status=query.status).prefetch_related(_VENUES)[:500]]


@router.post("/merchants/{merchant_id}/review", response=MerchantOut)
@scoped(Perm.MERCHANT_REVIEW)
def review(request: HttpRequest, merchant_id: int, data: ReviewIn):
    """Approve (the owner gets the merchant role on its region) or reject an application."""
    merchant = merchants.review_merchant(actor=access_for(request), merchant_id=merchant_id,
                                         approve=data.approve, note=data.note,
                                         facilities=data.facilities, request=request)
    return merchant_out(merchant)


class VenuesIn(In):
    facilities: list[int] = Field(..., max_length=200)


@router.put("/merchants/{merchant_id}/venues", response=MerchantOut)
@scoped(Perm.MERCHANT_REVIEW)
def set_venues(request: HttpRequest, merchant_id: int, data: VenuesIn):
    """Set the venues an approved merchant operates (each inside its region)."""
    merchant = merchants.set_venues(actor=access_for(request), merchant_id=merchant_id,
                                    facilities=data.facilities, request=request)
    return merchant_out(Merchant.objects.prefetch_related(_VENUES).get(pk=merchant.pk))

