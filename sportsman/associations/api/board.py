"""Information board API (信息发布): staff publish notices to the associations of their subtree
and follow who acknowledged (``BOARD_PUBLISH``); association managers read and acknowledge them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.associations import board
from sportsman.associations.evaluation import FILE_MAX_BYTES, Upload
from sportsman.associations.models import Notice, NoticeRecipient
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import Ok
from sportsman.regions.access import Perm, access_for, for_self, scoped

router = Router(tags=["association notices"])


class NoticeOut(Schema):
    id: int
    region_id: int
    region_name: str
    kind: str
    title: str
    body: str
    target_kinds: list[str]
    attachment_url: str
    attachment_name: str
    status: str
    published_at: dt.datetime
    recipients: int
    acknowledged: int
    reminders: int


class RecipientOut(Schema):
    id: int
    association_id: int
    association_name: str
    region_name: str
    acknowledged_at: dt.datetime | None
    reminded_at: dt.datetime | None


class AckStatusOut(Schema):
    recipients: int
    acknowledged: int
    pending: int
    items: list[RecipientOut]


class InboxOut(Schema):
    id: int
    notice_id: int
    association_id: int
    association_name: str
    kind: str
    title: str
    body: str
    attachment_url: str
    published_at: dt.datetime
    acknowledged_at: dt.datetime | None


class AckOut(InboxOut):
    acknowledged_now: bool


class RemindOut(Schema):
    reminded: int


class RecipientQuery(Schema):
    acknowledged: bool | None = None


def notice_out(n: Notice) -> dict[str, Any]:
    return {"id": n.pk, "region_id": n.region_id, "region_name": n.region.name, "kind": n.kind,
            "title": n.title, "body": n.body, "target_kinds": list(n.target_kinds),
            "attachment_url": n.attachment.url if n.attachment else "",
            "attachment_name": n.attachment_name, "status": n.status,
            "published_at": n.published_at, "recipients": n.recipients,
            "acknowledged": n.acknowledged, "reminders": n.reminders}


def recipient_out(r: NoticeRecipient) -> dict[str, Any]:
    return {"id": r.pk, "association_id": r.association_id,
            "association_name": r.association.name, "region_name": r.association.region.name,
            "acknowledged_at": r.acknowledged_at, "reminded_at": r.reminded_at}


def inbox_out(r: NoticeRecipient) -> dict[str, Any]:
    n = r.notice
    return {"id": r.pk, "notice_id": n.pk, "association_id": r.association_id,
            "association_name": r.association.name, "kind": n.kind, "title": n.title,
            "body": n.body, "attachment_url": n.attachment.url if n.attachment else "",
            "published_at": n.published_at, "acknowledged_at": r.acknowledged_at}


@router.get("/console/notices", response=list[NoticeOut])
@scoped(Perm.BOARD_PUBLISH)
def notices(request: HttpRequest):
    """Notices of the regions in my scope, newest first, with their acknowledgement counts."""
    return [notice_out(n) for n in board.notices_in_scope(access_for(request))
            .order_by("-published_at", "-id")[:200]]


@router.post("/console/notices", response={201: NoticeOut})
@scoped(Perm.BOARD_PUBLISH)
@idempotent
def publish(request: HttpRequest, region_id: Form[int], kind: Form[str], title: Form[str],
            body: Form[str], target_kinds: Form[list[str]] = None,  # type: ignore[assignment]
            attachment: File[UploadedFile] = None):  # type: ignore[assignment]
    """Publish a notice (``kind``: venue_rental, purchasing, training, policy) to the active
    associations of ``region_id``'s subtree, optionally of ``target_kinds`` only; an
    attachment is a PDF or a photo. Refusals: ``invalid_kind``, ``invalid_target``,
    ``file_type``, ``file_too_large``, ``photo_invalid``."""
    upload = (Upload(attachment.name or "", attachment.read(FILE_MAX_BYTES + 1))
              if attachment is not None else None)
    made = board.publish_notice(actor=access_for(request), region_id=region_id, kind=kind,
                                title=title, body=body, target_kinds=target_kinds or [],
                                attachment=upload, request=request)
    return Status(201, notice_out(made))


@router.get("/console/notices/{notice_id}/recipients", response=AckStatusOut)
@scoped(Perm.BOARD_PUBLISH)
def recipients(request: HttpRequest, notice_id: int, query: Query[RecipientQuery]):
    """Who has acknowledged and who has not (``acknowledged`` filters), with the counts."""
    found = board.get_notice(access_for(request), notice_id)
    rows = board.recipients(found, acknowledged=query.acknowledged)[:2000]
    return {"recipients": found.recipients, "acknowledged": found.acknowledged,
            "pending": found.recipients - found.acknowledged,
            "items": [recipient_out(r) for r in rows]}


@router.post("/console/notices/{notice_id}/remind", response=RemindOut)
@scoped(Perm.BOARD_PUBLISH)
@idempotent
def remind(request: HttpRequest, notice_id: int):
    """Remind the associations that have not acknowledged (at most once an hour:
    ``notice_reminded_recently``)."""
    return {"reminded": board.remind(actor=access_for(request), notice_id=notice_id,
                                     request=request)}


@router.post("/console/notices/{notice_id}/withdraw", response=Ok)
@scoped(Perm.BOARD_PUBLISH)
def withdraw(request: HttpRequest, notice_id: int) -> Ok:
    board.withdraw_notice(actor=access_for(request), notice_id=notice_id, request=request)
    return Ok()


@router.get("/association-notices", response=list[InboxOut])
@for_self
def inbox(request: HttpRequest, pending: bool = False):
    """Notices to the associations I manage (``pending``: not yet acknowledged)."""
    qs = board.inbox_for(request.user)
    if pending:
        qs = qs.filter(acknowledged_at=None)
    return [inbox_out(r) for r in qs[:200]]


@router.post("/association-notices/{recipient_id}/acknowledge", response=AckOut)
@for_self
@idempotent
def acknowledge(request: HttpRequest, recipient_id: int):
    """Acknowledge a notice for my association, once: a repeat answers the same row with
    ``acknowledged_now`` false."""
    row, won = board.acknowledge(actor=request.user, recipient_id=recipient_id, request=request)
    return {**inbox_out(row), "acknowledged_now": won}
