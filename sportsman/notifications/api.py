"""Notifications API: my inbox, my delivery preferences, my quiet hours, my browsers.

Every operation is ``@for_self``: it reads and writes only the caller's own data, and another
user's notification answers 404 exactly like a missing one.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from sportsman.core.schemas import In
from sportsman.notifications import backends, selectors, services
from sportsman.notifications.quiet import LOCAL_TZ
from sportsman.regions.access import for_self

router = Router(tags=["notifications"])

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


# --- schemas -----------------------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    category: str
    category_label: str
    title: str
    body: str
    link: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    is_read: bool


class InboxOut(Schema):
    items: list[NotificationOut]
    next_cursor: int | None


class InboxQuery(Schema):
    cursor: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=selectors.MAX_PAGE)
    unread: bool = False


class CountOut(Schema):
    count: int


class UpdatedOut(Schema):
    updated: int
    unread_count: int


class ReadIn(In):
    ids: list[int] = Field(..., min_length=1, max_length=100)


class CategoryPreferencesOut(Schema):
    category: str
    label: str
    urgent: bool
    channels: dict[str, bool]
    locked: list[str]


class PreferencesOut(Schema):
    categories: list[CategoryPreferencesOut]


class PreferenceIn(In):
    category: str = Field(..., max_length=32)
    channel: str = Field(..., max_length=16)
    enabled: bool


class PreferencesIn(In):
    preferences: list[PreferenceIn] = Field(..., min_length=1, max_length=200)


class QuietHoursOut(Schema):
    enabled: bool
    start: str
    end: str
    timezone: str


class QuietHoursIn(In):
    enabled: bool
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(_("Use the 24-hour HH:MM format, e.g. 22:00."))
        return value


class SettingsOut(Schema):
    email: str


class SettingsIn(In):
    email: str = Field(..., max_length=254)


class PushKeysIn(In):
    p256dh: str = Field(..., min_length=1, max_length=200)
    auth: str = Field(..., min_length=1, max_length=100)


class PushSubscriptionIn(In):
    """The browser's ``PushSubscription.toJSON()``."""

    endpoint: str = Field(..., min_length=1, max_length=1000)
    expirationTime: int | None = None  # the browser's own field name
    keys: PushKeysIn


class PushSubscriptionOut(Schema):
    endpoint: str
    created_at: datetime


class PushEndpointIn(In):
    endpoint: str = Field(..., min_length=1, max_length=1000)


class RemovedOut(Schema):
    removed: int


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _quiet_out(qh: Any) -> dict[str, Any]:
    return {"enabled": qh.enabled, "start": _hhmm(qh.start), "end": _hhmm(qh.end),
            "timezone": str(LOCAL_TZ)}


def _preferences_out(rows: list[services.CategoryPreferences]) -> dict[str, Any]:
    return {"categories": [
        {"category": r.category, "label": r.label, "urgent": r.urgent, "channels": r.channels,
         "locked": r.locked} for r in rows
    ]}


# --- inbox -------------------------------------------------------------------------------------


@router.get("", response=InboxOut)
@for_self
def inbox(request: HttpRequest, params: Query[InboxQuery]):
    """My notifications, newest first. Pass ``next_cursor`` back as ``cursor`` for older ones."""
    page = selectors.list_inbox(request.user, params.cursor, params.limit,
                                unread_only=params.unread)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/unread-count", response=CountOut)
@for_self
def unread_count(request: HttpRequest):
    return {"count": selectors.unread_count(request.user)}


@router.post("/read", response=UpdatedOut)
@for_self
def read_many(request: HttpRequest, data: ReadIn):
    """Mark some of my notifications read (all must be mine, else 404 and none is marked)."""
    updated = services.mark_read(request.user, data.ids)
    return {"updated": updated, "unread_count": selectors.unread_count(request.user)}


@router.post("/read-all", response=UpdatedOut)
@for_self
def read_all(request: HttpRequest):
    updated = services.mark_all_read(request.user)
    return {"updated": updated, "unread_count": 0}


@router.post("/{int:notification_id}/read", response=NotificationOut)
@for_self
def read_one(request: HttpRequest, notification_id: int):
    services.mark_read(request.user, [notification_id])
    return selectors.get_notification(request.user, notification_id)


# --- preferences -------------------------------------------------------------------------------


@router.get("/preferences", response=PreferencesOut)
@for_self
def preferences(request: HttpRequest):
    """Each category with each channel on or off for me; ``locked`` channels cannot be turned
    off (security notifications)."""
    return _preferences_out(services.get_preferences(request.user))


@router.put("/preferences", response=PreferencesOut)
@for_self
def set_preferences(request: HttpRequest, data: PreferencesIn):
    rows = services.set_preferences(
        user=request.user,
        changes=[(p.category, p.channel, p.enabled) for p in data.preferences])
    return _preferences_out(rows)


@router.get("/quiet-hours", response=QuietHoursOut)
@for_self
def quiet_hours(request: HttpRequest):
    return _quiet_out(services.get_quiet_hours(request.user))


@router.put("/quiet-hours", response=QuietHoursOut)
@for_self
def set_quiet_hours(request: HttpRequest, data: QuietHoursIn):
    """Local times (Asia/Shanghai), HH:MM; a start after the end spans midnight."""
    qh = services.set_quiet_hours(user=request.user, enabled=data.enabled,
                                  start=_parse_hhmm(data.start), end=_parse_hhmm(data.end))
    return _quiet_out(qh)


@router.get("/settings", response=SettingsOut)
@for_self
def notification_settings(request: HttpRequest):
    return {"email": services.get_notification_settings(request.user).email}


@router.put("/settings", response=SettingsOut)
@for_self
def set_notification_settings(request: HttpRequest, data: SettingsIn):
    """The address the email channel writes to ("" clears it)."""
    return {"email": services.set_email(user=request.user, email=data.email).email}


# --- web push ----------------------------------------------------------------------------------


class PushKeyOut(Schema):
    public_key: str


@router.get("/push-key", response=PushKeyOut)
@for_self
def push_key(request: HttpRequest):
    """The server's VAPID public key: ``applicationServerKey`` for ``pushManager.subscribe()``
    (base64url, uncompressed P-256 point)."""
    return {"public_key": backends.vapid_public_key()}


@router.post("/push-subscriptions", response={201: PushSubscriptionOut})
@for_self
def subscribe_push(request: HttpRequest, data: PushSubscriptionIn):
    """Register this browser (the body is ``PushSubscription.toJSON()``). Repeating it is
    harmless."""
    sub = services.subscribe_push(user=request.user, endpoint=data.endpoint,
                                  p256dh=data.keys.p256dh, auth=data.keys.auth)
    return Status(201, sub)


@router.delete("/push-subscriptions", response=RemovedOut)
@for_self
def unsubscribe_push(request: HttpRequest, data: PushEndpointIn):
    """Forget one of my browsers; 0 removed when it was not subscribed (repeating is harmless)."""
    return {"removed": services.unsubscribe_push(user=request.user, endpoint=data.endpoint)}
