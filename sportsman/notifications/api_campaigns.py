"""Campaigns API (CAMPAIGN_SEND): compose, preview the audience, send or schedule, cancel,
list with figures. Create and send take an ``Idempotency-Key``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.notifications import campaigns
from sportsman.notifications.models import Campaign, CampaignStatus
from sportsman.regions.access import Perm, access_for, scoped

router = Router(tags=["campaigns"])

STATUSES = "^(" + "|".join(CampaignStatus.values) + ")$"


class FiguresOut(Schema):
    audience: int
    sent: int
    capped: int
    opted_out: int
    read: int
    clicked: int


class CampaignOut(Schema):
    id: int
    region_id: int
    region: str
    title: str
    body: str
    link: str
    category: str
    audience: dict[str, Any]
    status: str
    send_at: dt.datetime | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    figures: FiguresOut


class CampaignPageOut(Schema):
    items: list[CampaignOut]
    next_before: int | None


class CampaignIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=2000)
    link: str = Field("", max_length=500)
    category: str = Field("campaign", max_length=32)
    audience: dict[str, Any] = Field(default_factory=dict)


class PreviewIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    audience: dict[str, Any] = Field(default_factory=dict)


class SampleOut(Schema):
    id: int
    nickname: str
    community: str | None


class PreviewOut(Schema):
    count: int
    sample: list[SampleOut]


class SendIn(In):
    send_at: dt.datetime | None = None


class CampaignsQuery(Schema):
    status: str | None = Field(None, pattern=STATUSES)
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(50, ge=1, le=100)


def campaign_out(c: Campaign, f: campaigns.Figures) -> dict[str, Any]:
    return {"id": c.pk, "region_id": c.region_id, "region": c.region.name, "title": c.title,
            "body": c.body, "link": c.link, "category": c.category, "audience": c.audience,
            "status": c.status, "send_at": c.send_at, "created_at": c.created_at,
            "sent_at": c.sent_at, "figures": f.__dict__}


def _one(c: Campaign) -> dict[str, Any]:
    return campaign_out(c, campaigns.figures_of([c])[c.pk])


@router.get("/console/campaigns", response=CampaignPageOut)
@scoped(Perm.CAMPAIGN_SEND)
def campaign_list(request: HttpRequest, query: Query[CampaignsQuery]):
    rows = campaigns.list_campaigns_for(access_for(request), status=query.status,
                                        before=query.before, limit=query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    figures = campaigns.figures_of(rows)
    return {"items": [campaign_out(c, figures[c.pk]) for c in rows],
            "next_before": rows[-1].pk if more else None}


@router.post("/console/campaigns/preview", response=PreviewOut)
@scoped(Perm.CAMPAIGN_SEND)
def campaign_preview(request: HttpRequest, data: PreviewIn):
    p = campaigns.preview(access=access_for(request), region_id=data.region_id,
                          spec=data.audience, request=request)
    return {"count": p.count, "sample": p.sample}


@router.post("/console/campaigns", response={201: CampaignOut})
@scoped(Perm.CAMPAIGN_SEND)
@idempotent
def campaign_create(request: HttpRequest, data: CampaignIn):
    c = campaigns.create_campaign(access=access_for(request), region_id=data.region_id,
                                  title=data.title, body=data.body, link=data.link,
                                  category=data.category, spec=data.audience, request=request)
    return Status(201, _one(c))


@router.get("/console/campaigns/{campaign_id}", response=CampaignOut)
@scoped(Perm.CAMPAIGN_SEND)
def campaign_detail(request: HttpRequest, campaign_id: int):
    return _one(campaigns.campaign_in_scope(access_for(request), campaign_id))


@router.post("/console/campaigns/{campaign_id}/send", response=CampaignOut)
@scoped(Perm.CAMPAIGN_SEND)
@idempotent
def campaign_send(request: HttpRequest, campaign_id: int, data: SendIn):
    return _one(campaigns.send_campaign(access=access_for(request), campaign_id=campaign_id,
                                        send_at=data.send_at, request=request))


@router.post("/console/campaigns/{campaign_id}/cancel", response=CampaignOut)
@scoped(Perm.CAMPAIGN_SEND)
def campaign_cancel(request: HttpRequest, campaign_id: int):
    return _one(campaigns.cancel_campaign(access=access_for(request), campaign_id=campaign_id,
                                          request=request))
