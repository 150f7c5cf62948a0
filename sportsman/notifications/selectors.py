"""Reads of a user's own inbox. Every query is filtered by the user first: another user's item
is indistinguishable from a missing one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from sportsman.core.errors import InvalidInput, NotFound
from sportsman.notifications.models import Delivery, Notification

MAX_PAGE = 100


@dataclass(frozen=True)
class InboxPage:
    items: list[Notification]
    next_cursor: int | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def _inbox(user: Any):
    return Notification.objects.filter(user_id=user.pk, in_inbox=True)


def _cursor(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        cursor = int(value)
    except (TypeError, ValueError):
        cursor = 0
    if not 0 < cursor < 2**63:
        raise InvalidInput(code="invalid_cursor", fields={"cursor": [_("Not a valid cursor.")]})
    return cursor


def list_inbox(user: Any, cursor: int | str | None = None, limit: int = 20, *,
               unread_only: bool = False) -> InboxPage:
    """The user's inbox, newest first, ``limit`` items (at most 100) before the item ``cursor``
    (keyset pagination by id: stable while new items arrive). ``next_cursor`` continues it."""
    limit = max(1, min(int(limit), MAX_PAGE))
    qs = _inbox(user)
    after = _cursor(cursor)
    if after is not None:
        qs = qs.filter(id__lt=after)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    rows = list(qs.order_by("-id")[: limit + 1])
    if len(rows) > limit:
        return InboxPage(items=rows[:limit], next_cursor=rows[limit - 1].pk)
    return InboxPage(items=rows, next_cursor=None)


def unread_count(user: Any) -> int:
    """Unread items in the user's inbox (the badge). Uses the partial index on unread rows."""
    return _inbox(user).filter(read_at__isnull=True).count()


def get_notification(user: Any, notification_id: int) -> Notification:
    """One item of the user's own inbox, else NotFound."""
    if not 0 < notification_id < 2**63:
        raise NotFound()
    found = _inbox(user).filter(pk=notification_id).first()
    if found is None:
        raise NotFound()
    return found


def deliveries_of(notification: Notification) -> list[Delivery]:
    """The external deliveries of a notification (for support and tests)."""
    return list(Delivery.objects.filter(notification=notification).order_by("channel"))


def export_for(user: Any) -> dict[str, Any]:
    """The user's notification data for a personal data download."""
    from sportsman.notifications.services import get_notification_settings, get_quiet_hours

    qh = get_quiet_hours(user)
    return {
        "notifications": [
            {"id": n.pk, "category": n.category, "title": n.title, "body": n.body,
             "link": n.link, "created_at": n.created_at.isoformat(),
             "read_at": n.read_at.isoformat() if n.read_at else None}
            for n in _inbox(user).order_by("id")
        ],
        "preferences": list(user.notification_preferences.values("category", "channel",
                                                                 "enabled")),
        "quiet_hours": {"enabled": qh.enabled, "start": qh.start.strftime("%H:%M"),
                        "end": qh.end.strftime("%H:%M")},
        "email": get_notification_settings(user).email,
        "push_subscriptions": list(user.push_subscriptions.values_list("endpoint", flat=True)),
    }
