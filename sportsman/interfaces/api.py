"""Webhook subscriptions API (WEBHOOK_MANAGE): subscriptions of the actor's subtree, their
secrets (shown once, at creation and rotation), the delivery log with each attempt, replays.

Receivers verify what they get with any Standard Webhooks library (docs/interfaces.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.interfaces import webhooks
from sportsman.interfaces.catalogue import TYPES
from sportsman.interfaces.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from sportsman.regions.access import Perm, access_for, scoped

router = Router(tags=["webhooks"])

STATUSES = "^(" + "|".join(SubscriptionStatus.values) + ")$"
DELIVERY_STATUSES = "^(" + "|".join(DeliveryStatus.values) + ")$"


class EventTypeOut(Schema):
    name: str
    label: str


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    region_id: int
    region_code: str
    region: str
    status: str
    disabled_reason: str
    consecutive_failures: int
    created_at: dt.datetime


class SubscriptionWithSecretOut(SubscriptionOut):
    secret: str


class SubscriptionPageOut(Schema):
    items: list[SubscriptionOut]


class SubscriptionIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    name: str = Field(..., max_length=200)
    url: str = Field(..., max_length=2000)
    event_types: list[str] = Field(..., max_length=50)


class SubscriptionEditIn(In):
    name: str | None = Field(None, max_length=200)
    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, max_length=50)
    enabled: bool | None = None


class SubscriptionsQuery(Schema):
    status: str | None = Field(None, pattern=STATUSES)


class AttemptOut(Schema):
    at: dt.datetime
    status_code: int | None
    error: str
    duration_ms: int
    response_snippet: str
    is_replay: bool


class DeliveryOut(Schema):
    id: int
    msg_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    is_replay: bool


class DeliveryDetailOut(DeliveryOut):
    body: str
    attempt_log: list[AttemptOut]


class DeliveryPageOut(Schema):
    items: list[DeliveryOut]
    next_before: int | None


class DeliveriesQuery(Schema):
    status: str | None = Field(None, pattern=DELIVERY_STATUSES)
    event_type: str | None = Field(None, max_length=40)
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(50, ge=1, le=100)


class ReplayedOut(Schema):
    replayed: int


def subscription_out(s: WebhookSubscription) -> dict[str, Any]:
    return {"id": s.pk, "name": s.name, "url": s.url, "event_types": list(s.event_types),
            "region_id": s.region_id, "region_code": s.region.code, "region": s.region.name,
            "status": s.status, "disabled_reason": s.disabled_reason,
            "consecutive_failures": s.consecutive_failures, "created_at": s.created_at}


def delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {"id": d.pk, "msg_id": d.msg_id, "event_type": d.event_type, "status": d.status,
            "attempts": d.attempts, "last_status_code": d.last_status_code,
            "next_attempt_at": d.not_before if d.status == DeliveryStatus.PENDING else None,
            "created_at": d.created_at, "finished_at": d.finished_at, "is_replay": d.is_replay}


def attempt_out(a: WebhookAttempt) -> dict[str, Any]:
    return {"at": a.at, "status_code": a.status_code, "error": a.error,
            "duration_ms": a.duration_ms, "response_snippet": a.response_snippet,
            "is_replay": a.is_replay}


@router.get("/console/webhooks/event-types", response=list[EventTypeOut])
@scoped(Perm.WEBHOOK_MANAGE)
def event_types(request: HttpRequest):
    return [{"name": t.name, "label": str(t.label)} for t in TYPES]


@router.get("/console/webhooks", response=SubscriptionPageOut)
@scoped(Perm.WEBHOOK_MANAGE)
def subscription_list(request: HttpRequest, query: Query[SubscriptionsQuery]):
    rows = webhooks.subscriptions_for(access_for(request), status=query.status)[:500]
    return {"items": [subscription_out(s) for s in rows]}


@router.post("/console/webhooks", response={201: SubscriptionWithSecretOut})
@scoped(Perm.WEBHOOK_MANAGE)
@idempotent
def subscription_create(request: HttpRequest, data: SubscriptionIn):
    sub, secret = webhooks.create_subscription(
        access=access_for(request), region_id=data.region_id, name=data.name, url=data.url,
        event_types=data.event_types, request=request)
    return Status(201, {**subscription_out(sub), "secret": secret})


@router.get("/console/webhooks/{subscription_id}", response=SubscriptionOut)
@scoped(Perm.WEBHOOK_MANAGE)
def subscription_detail(request: HttpRequest, subscription_id: int):
    return subscription_out(webhooks.in_scope(access_for(request), subscription_id))


@router.patch("/console/webhooks/{subscription_id}", response=SubscriptionOut)
@scoped(Perm.WEBHOOK_MANAGE)
def subscription_edit(request: HttpRequest, subscription_id: int, data: SubscriptionEditIn):
    access = access_for(request)
    sub = webhooks.update_subscription(access=access, subscription_id=subscription_id,
                                       name=data.name, url=data.url,
                                       event_types=data.event_types, request=request)
    if data.enabled is not None:
        sub = webhooks.set_enabled(access=access, subscription_id=sub.pk,
                                   enabled=data.enabled, request=request)
    return subscription_out(sub)


@router.post("/console/webhooks/{subscription_id}/rotate-secret",
             response=SubscriptionWithSecretOut)
@scoped(Perm.WEBHOOK_MANAGE)
def subscription_rotate(request: HttpRequest, subscription_id: int):
    sub, secret = webhooks.rotate_secret(access=access_for(request),
                                         subscription_id=subscription_id, request=request)
    return {**subscription_out(sub), "secret": secret}


@router.get("/console/webhooks/{subscription_id}/deliveries", response=DeliveryPageOut)
@scoped(Perm.WEBHOOK_MANAGE)
def delivery_list(request: HttpRequest, subscription_id: int, query: Query[DeliveriesQuery]):
    rows = webhooks.deliveries_for(access_for(request), subscription_id, status=query.status,
                                   event_type=query.event_type, before=query.before,
                                   limit=query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return {"items": [delivery_out(d) for d in rows],
            "next_before": rows[-1].pk if more else None}


@router.get("/console/webhooks/{subscription_id}/deliveries/{delivery_id}",
            response=DeliveryDetailOut)
@scoped(Perm.WEBHOOK_MANAGE)
def delivery_detail(request: HttpRequest, subscription_id: int, delivery_id: int):
    d = webhooks.delivery_in_scope(access_for(request), subscription_id, delivery_id)
    return {**delivery_out(d), "body": d.body,
            "attempt_log": [attempt_out(a) for a in d.attempt_log.order_by("-at", "-id")[:50]]}


@router.post("/console/webhooks/{subscription_id}/deliveries/{delivery_id}/replay",
             response=DeliveryOut)
@scoped(Perm.WEBHOOK_MANAGE)
def delivery_replay(request: HttpRequest, subscription_id: int, delivery_id: int):
    return delivery_out(webhooks.replay_delivery(
        access=access_for(request), subscription_id=subscription_id, delivery_id=delivery_id,
        request=request))


@router.post("/console/webhooks/{subscription_id}/replay-failed", response=ReplayedOut)
@scoped(Perm.WEBHOOK_MANAGE)
def replay_failed(request: HttpRequest, subscription_id: int):
    return {"replayed": webhooks.replay_failed(access=access_for(request),
                                               subscription_id=subscription_id,
                                               request=request)}
