"""Devices API: devices post their events; staff register devices, rotate their secrets and work
through maintenance tickets."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.errors import InvalidInput
from sportsman.core.schemas import In
from sportsman.facilities import devices, maintenance, registry
from sportsman.facilities.models import Device, DeviceKind, MaintenanceTicket, TicketStatus
from sportsman.regions.access import Perm, access_for, public, scoped

router = Router(tags=["devices"])


class RejectedOut(Schema):
    index: int
    event_id: str | None
    code: str
    message: str


class IngestOut(Schema):
    accepted: int
    duplicates: int
    rejected: list[RejectedOut]


class DeviceOut(Schema):
    id: int
    facility_id: int
    kind: str
    name: str
    serial: str
    heartbeat_seconds: int
    wear_threshold: int | None
    usage_cycles: int
    cycles_at_service: int
    last_seen_at: dt.datetime | None
    is_silent: bool
    is_active: bool
    last_reading: dict[str, Any]


class DeviceSecretOut(DeviceOut):
    secret: str = Field(..., description="Shown only now: store it in the device.")


class DeviceIn(In):
    kind: DeviceKind
    name: str = Field(..., min_length=1, max_length=60)
    serial: str = Field(..., min_length=1, max_length=64)
    heartbeat_seconds: int = Field(300, ge=devices.MIN_HEARTBEAT, le=devices.MAX_HEARTBEAT)
    wear_threshold: int | None = Field(None, ge=1, le=2**31 - 1)


class TicketOut(Schema):
    id: int
    facility_id: int
    device_id: int | None
    kind: str
    title: str
    status: str
    assignee_id: int | None
    note: str
    created_at: dt.datetime
    done_at: dt.datetime | None


class TicketQuery(Schema):
    status: TicketStatus | None = None


class TransitionIn(In):
    to: TicketStatus
    assignee_id: int | None = Field(None, ge=1, lt=2**63)
    note: str = Field("", max_length=2000)


def _device(d: Device) -> dict[str, Any]:
    return {"id": d.pk, "facility_id": d.facility_id, "kind": d.kind, "name": d.name,
            "serial": d.serial, "heartbeat_seconds": d.heartbeat_seconds,
            "wear_threshold": d.wear_threshold, "usage_cycles": d.usage_cycles,
            "cycles_at_service": d.cycles_at_service, "last_seen_at": d.last_seen_at,
            "is_silent": d.is_silent, "is_active": d.is_active, "last_reading": d.last_reading}


def _ticket(t: MaintenanceTicket) -> dict[str, Any]:
    return {"id": t.pk, "facility_id": t.facility_id, "device_id": t.device_id, "kind": t.kind,
            "title": t.title, "status": t.status, "assignee_id": t.assignee_id, "note": t.note,
            "created_at": t.created_at, "done_at": t.done_at}


# --- devices talking to us ---------------------------------------------------------------------


@router.post("/devices/events", auth=None, response=IngestOut)
@public
def post_events(request: HttpRequest):
    """A device sends a batch of events: body ``{"events": [{"id", "type", "at", "data"}, …]}``
    (at most 500), header ``Authorization: Device <serial>:<secret>``.

    Marked ``@public`` because the caller is a device, not a user: no user session or token can
    reach anything here, and the operation authenticates the device itself (the serial's stored
    keyed hash against the secret, compared in constant time) before reading the body. An
    unknown, retired or wrongly keyed device gets 401 ``device_unauthorized`` and nothing is
    written. A body that is not a JSON object with an ``events`` list is 400. Otherwise 200 with
    the per-event report: ``accepted``, ``duplicates`` (already received: a retried batch is
    harmless) and ``rejected`` (index, id, code, message) — good events of a batch are kept
    even when others are rejected."""
    device = devices.device_from_authorization(request.headers.get("Authorization"))
    if device is None:
        raise devices.DeviceUnauthorized()
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(_("The body is not valid JSON."), code="malformed_json") from exc
    if not isinstance(body, dict) or set(body) != {"events"}:
        raise InvalidInput(_('The body must be {"events": [...]}.'), code="malformed_batch")
    return devices.ingest_events(device=device, events=body["events"]).as_dict()


# --- staff -------------------------------------------------------------------------------------


@router.get("/facilities/{facility_id}/devices", response=list[DeviceOut])
@scoped(Perm.FACILITY_MANAGE)
def list_devices(request: HttpRequest, facility_id: int):
    """The devices of a facility I manage (secrets are never shown again)."""
    facility = registry.facility_for(access_for(request), facility_id)
    return [_device(d) for d in Device.objects.filter(facility=facility)
            .order_by("kind", "name", "id")]


@router.post("/facilities/{facility_id}/devices", response={201: DeviceSecretOut})
@scoped(Perm.FACILITY_MANAGE)
def add_device(request: HttpRequest, facility_id: int, data: DeviceIn):
    """Register a device at a facility I manage; the answer carries its secret, once."""
    device, secret = devices.register_device(
        actor=request.user, facility_id=facility_id, kind=data.kind.value, name=data.name,
        serial=data.serial, heartbeat_seconds=data.heartbeat_seconds,
        wear_threshold=data.wear_threshold)
    return Status(201, {**_device(device), "secret": secret})


@router.post("/devices/{device_id}/rotate-secret", response=DeviceSecretOut)
@scoped(Perm.FACILITY_MANAGE)
def rotate_secret(request: HttpRequest, device_id: int):
    """Give a device a new secret (the old one stops working now); the answer carries it once."""
    device, secret = devices.rotate_secret(actor=request.user, device_id=device_id)
    return {**_device(device), "secret": secret}


@router.get("/facilities/{facility_id}/tickets", response=list[TicketOut])
@scoped(Perm.FACILITY_MANAGE)
def list_tickets(request: HttpRequest, facility_id: int, query: Query[TicketQuery]):
    """Maintenance tickets of a facility I manage, newest first (at most 200)."""
    access = access_for(request)
    facility = registry.facility_for(access, facility_id)
    qs = maintenance.tickets_for(access, facility_id=facility.pk,
                                 status=query.status.value if query.status else None)
    return [_ticket(t) for t in qs[:200]]


@router.post("/tickets/{ticket_id}/transition", response=TicketOut)
@scoped(Perm.FACILITY_MANAGE)
def transition_ticket(request: HttpRequest, ticket_id: int, data: TransitionIn):
    """Move a ticket: open → assigned (``assignee_id``) → done; see maintenance.TRANSITIONS."""
    ticket = maintenance.transition_ticket(actor=request.user, ticket_id=ticket_id,
                                           to=data.to.value, assignee_id=data.assignee_id,
                                           note=data.note)
    return _ticket(ticket)
