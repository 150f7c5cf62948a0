"""Every state change of notifications: sending (``notify``), delivering, and the user's own
inbox and settings.

``notify()`` is the one way any feature tells users something. It writes the inbox rows and the
external ``Delivery`` rows in one transaction and, after commit, nudges the delivery task. The
``Delivery`` table is the truth about what is still to send; tasks only wake the sender, and the
periodic ``deliver_due`` sweep picks up anything a lost task or a crashed worker left behind.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from itertools import batched
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core.db import lease_due
from sportsman.core.errors import InvalidInput, NotFound
from sportsman.notifications.categories import (
    CATEGORY_SPECS,
    EXTERNAL_CHANNELS,
    Category,
    CategorySpec,
    Channel,
    spec_for,
)
from sportsman.notifications.channels import DeliveryFailed, Undeliverable, channel_for
from sportsman.notifications.models import (
    Delivery,
    Notification,
    NotificationSettings,
    Preference,
    PushSubscription,
    QuietHours,
)
from sportsman.notifications.quiet import quiet_until

logger = logging.getLogger(__name__)

CHUNK = 1000  # recipients per bulk insert
CLAIM_SIZE = 200  # deliveries one sender claims at a time
LEASE = timedelta(minutes=10)  # a claimed delivery is not claimed again before this has passed
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ID = 2**63 - 1
MAX_DEFERRED_TASKS = 48  # distinct wake-up times queued per notify(); the sweep covers the rest


class UnknownCategory(InvalidInput):
    code = "unknown_category"
    default_message = _("This notification category does not exist.")


class UnknownChannel(InvalidInput):
    code = "unknown_channel"
    default_message = _("This delivery channel does not exist.")


class PreferenceLocked(InvalidInput):
    code = "preference_locked"
    default_message = _("Security notifications cannot be switched off.")


class EmptyQuietHours(InvalidInput):
    code = "quiet_hours_empty"
    default_message = _("Quiet hours must start and end at different times.")


class InvalidLink(InvalidInput):
    code = "invalid_link"
    default_message = _("A notification link must be a path on this site, starting with /.")


# --- notify ------------------------------------------------------------------------------------


def _recipient_ids(users: Iterable[Any] | QuerySet) -> Iterator[int]:
    """Active users' ids, each once, streamed so 10,000 recipients never sit in memory twice."""
    if isinstance(users, QuerySet):
        yield from (users.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
                    .iterator(chunk_size=CHUNK))
        return
    seen: set[int] = set()
    for user in users:
        if user.is_active and user.pk not in seen:
            seen.add(user.pk)
            yield user.pk


def _validate_notification(category: str, title: str, link: str, data: dict | None,
                           dedupe_key: str | None) -> None:
    if category not in CATEGORY_SPECS:
        raise UnknownCategory(fields={"category": [_("Unknown category.")]})
    if not title.strip() or len(title) > 200:
        raise InvalidInput(fields={"title": [_("A title of 1 to 200 characters is required.")]})
    if link and (not link.startswith("/") or link.startswith("//") or len(link) > 500):
        # Same-site paths only: a notification must never carry a user off-site (phishing).
        raise InvalidLink(fields={"link": [InvalidLink.default_message]})
    if dedupe_key is not None and not 0 < len(dedupe_key) <= 128:
        raise InvalidInput(fields={"dedupe_key": [_("At most 128 characters.")]})
    try:
        json.dumps(data or {})
    except (TypeError, ValueError):
        raise InvalidInput(fields={"data": [_("Must be JSON.")]}) from None


def _enabled_channels(user_ids: list[int], category: str,
                      spec: CategorySpec) -> dict[int, set[str]]:
    """Per user, the channels on for ``category``: the user's choice, else the default; an
    urgent category's default channels are on whatever was stored."""
    chosen: dict[tuple[int, str], bool] = {
        (uid, ch): enabled
        for uid, ch, enabled in Preference.objects.filter(
            user_id__in=user_ids, category=category).values_list("user_id", "channel", "enabled")
    }
    return {
        uid: {ch.value for ch in Channel
              if spec.is_locked(ch) or chosen.get((uid, ch.value), spec.default_for(ch))}
        for uid in user_ids
    }


def enabled_channels(user_ids: list[int], category: str) -> dict[int, set[str]]:
    """Per user, the channels on for ``category`` (their choice, else the default). A user with
    none has opted out of the category."""
    return _enabled_channels(user_ids, category, spec_for(category))


def _reachable(user_ids: set[int], channel: str) -> set[int]:
    """Users an external channel can reach at all (an address, a subscription)."""
    if not user_ids:
        return set()
    if channel == Channel.EMAIL:
        return set(NotificationSettings.objects.filter(user_id__in=user_ids).exclude(email="")
                   .values_list("user_id", flat=True))
    if channel == Channel.WEBPUSH:
        return set(PushSubscription.objects.filter(user_id__in=user_ids)
                   .values_list("user_id", flat=True).distinct())
    return user_ids  # SMS: every account has a phone number


def _quiet_until_by_user(user_ids: Iterable[int], now: datetime) -> dict[int, datetime]:
    out: dict[int, datetime] = {}
    for uid, start, end in QuietHours.objects.filter(
            user_id__in=list(user_ids), enabled=True).values_list("user_id", "start", "end"):
        until = quiet_until(start, end, now)
        if until is not None:
            out[uid] = until
    return out


def notify(*, users: Iterable[Any] | QuerySet, category: str, title: str, body: str = "",
           link: str = "", data: dict | None = None, dedupe_key: str | None = None) -> int:
    """Tell ``users`` something: one inbox row each, plus a Delivery per external channel the
    user has on for ``category`` (and can be reached on). Returns the number of inbox rows
    created. Called by features on behalf of the system: no actor, no permission check (the
    caller decided who may be told). Inactive users are left out.

    Retry-safe: with a ``dedupe_key``, a user who already has a notification with that key gets
    nothing new (the unique (user, dedupe_key) constraint, inserted with ignore_conflicts).
    Non-urgent external deliveries that fall in the user's quiet hours wait until they end.
    Side effect: after commit, the delivery task is enqueued (now, and at each deferred time
    where the task backend supports ``run_after``)."""
    _validate_notification(category, title, link, data, dedupe_key)
    spec = spec_for(category)
    batch = uuid.uuid4()
    now = timezone.now()
    created = 0
    due_now = False
    deferred: set[datetime] = set()
    with transaction.atomic():
        for chunk_ids in batched(_recipient_ids(users), CHUNK):
            chunk = list(chunk_ids)
            enabled = _enabled_channels(chunk, category, spec)
            Notification.objects.bulk_create(
                [Notification(user_id=uid, category=category, title=title, body=body, link=link,
                              data=data or {}, created_at=now, dedupe_key=dedupe_key,
                              batch=batch, in_inbox=Channel.IN_APP in enabled[uid])
                 for uid in chunk if enabled[uid]],
                batch_size=CHUNK, ignore_conflicts=True,
            )
            # Rows a retry skipped as duplicates keep their first batch, so only new ones match.
            new_rows = list(Notification.objects.filter(batch=batch, user_id__in=chunk)
                            .values_list("id", "user_id"))
            created += len(new_rows)
            reach = {ch: _reachable({uid for _n, uid in new_rows if ch in enabled[uid]}, ch)
                     for ch in EXTERNAL_CHANNELS}
            quiet = {} if spec.urgent else _quiet_until_by_user(
                set().union(*reach.values()), now)
            deliveries = []
            for nid, uid in new_rows:
                for ch in EXTERNAL_CHANNELS:
                    if uid in reach[ch]:
                        not_before = quiet.get(uid, now)
                        if not_before > now:
                            deferred.add(not_before)
                        else:
                            due_now = True
                        deliveries.append(Delivery(notification_id=nid, channel=ch,
                                                   not_before=not_before, created_at=now))
            Delivery.objects.bulk_create(deliveries, batch_size=CHUNK)
        if due_now or deferred:
            transaction.on_commit(partial(_enqueue_batch, str(batch), due_now, sorted(deferred)),
                                  robust=True)
    return created


def _enqueue_batch(batch: str, due_now: bool, deferred: list[datetime]) -> None:
    from sportsman.notifications.tasks import deliver_batch

    if due_now:
        deliver_batch.enqueue(batch)
    if deferred and deliver_batch.get_backend().supports_defer:
        for when in deferred[:MAX_DEFERRED_TASKS]:
            deliver_batch.using(run_after=when).enqueue(batch)


# --- delivering --------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0
    deferred: int = 0
    wake_at: dict[datetime, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "skipped": self.skipped,
                "retrying": self.retrying, "deferred": self.deferred}


def backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def _claim(*, now: datetime, batch: str | None, ids: list[int] | None,
           size: int) -> tuple[uuid.UUID | None, list[Delivery]]:
    """Take up to ``size`` due deliveries for this worker (``core.db.lease_due``)."""
    due = Delivery.objects.filter(status=Delivery.Status.QUEUED, not_before__lte=now)
    if batch is not None:
        due = due.filter(notification__batch=batch)
    if ids is not None:
        due = due.filter(id__in=ids)
    token = lease_due(due, now=now, lease=LEASE, size=size, status=Delivery.Status.QUEUED)
    if token is None:
        return None, []
    rows = list(Delivery.objects.filter(claim=token, status=Delivery.Status.QUEUED)
                .select_related("notification__user").order_by("id"))
    return token, rows


def _finish(delivery: Delivery, token: uuid.UUID, **values: Any) -> None:
    Delivery.objects.filter(pk=delivery.pk, claim=token).update(claim=None, **values)


def _deliver_one(d: Delivery, token: uuid.UUID, at: datetime, quiet: dict[int, datetime],
                 report: DeliveryReport) -> None:
    n = d.notification
    if not n.user.is_active:
        _finish(d, token, status=Delivery.Status.SKIPPED, last_error="user inactive")
        report.skipped += 1
        return
    until = quiet.get(n.user_id)
    if until is not None:
        # Quiet hours began (or were set) after notify(): wait, without spending an attempt.
        _finish(d, token, not_before=until, attempts=F("attempts") - 1)
        report.deferred += 1
        report.wake_at.setdefault(until, []).append(d.pk)
        return
    try:
        channel_for(d.channel).send(d)
    except Undeliverable as exc:
        _finish(d, token, status=Delivery.Status.SKIPPED, last_error=str(exc)[:2000])
        report.skipped += 1
        return
    except Exception as exc:
        if isinstance(exc, DeliveryFailed):
            error = str(exc)[:2000]
        else:  # a bug in a channel or backend: keep the row for a retry, and log loudly
            logger.exception("delivery %s on %s raised", d.pk, d.channel)
            error = f"{type(exc).__name__}: {exc}"[:2000]
        if d.attempts >= MAX_ATTEMPTS:
            _finish(d, token, status=Delivery.Status.FAILED, last_error=error)
            report.failed += 1
        else:
            retry_at = at + backoff(d.attempts)
            _finish(d, token, not_before=retry_at, last_error=error)
            report.retrying += 1
            report.wake_at.setdefault(retry_at, []).append(d.pk)
        return
    _finish(d, token, status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")
    report.sent += 1


def deliver_due(*, batch: str | None = None, ids: list[int] | None = None,
                now: datetime | None = None, limit: int = 10_000) -> DeliveryReport:
    """Send queued deliveries whose time has come (optionally only one ``notify()`` batch or
    some ids), at most ``limit``. Idempotent: a sent, failed or skipped delivery is never sent
    again, and concurrent senders never take the same row. A failure is retried with backoff
    up to ``MAX_ATTEMPTS`` attempts, then marked failed. Called by the tasks; ``now`` is for
    tests and the sweep. Side effect: enqueues a wake-up for retries and quiet-hour deferrals
    where the task backend supports ``run_after``."""
    report = DeliveryReport()
    done = 0
    while done < limit:
        at = now or timezone.now()
        token, rows = _claim(now=at, batch=batch, ids=ids, size=min(CLAIM_SIZE, limit - done))
        if token is None or not rows:
            break
        done += len(rows)
        urgent_free = {d.notification.user_id for d in rows
                       if not spec_for(d.notification.category).urgent}
        quiet = _quiet_until_by_user(urgent_free, at) if urgent_free else {}
        for d in rows:
            _deliver_one(d, token, at, quiet, report)
    if report.wake_at:
        _schedule_wakeups(report.wake_at)
    return report


def _schedule_wakeups(wake_at: dict[datetime, list[int]]) -> None:
    from sportsman.notifications.tasks import deliver

    if not deliver.get_backend().supports_defer:
        return  # the periodic sweep (deliver_due_task) picks them up
    for when in sorted(wake_at)[:MAX_DEFERRED_TASKS]:
        transaction.on_commit(partial(_enqueue_ids, when, wake_at[when]), robust=True)


def _enqueue_ids(when: datetime, ids: list[int]) -> None:
    from sportsman.notifications.tasks import deliver

    deliver.using(run_after=when).enqueue(ids)


# --- the user's own inbox ----------------------------------------------------------------------


def mark_read(user: Any, ids: Iterable[int]) -> int:
    """Mark the user's own notifications ``ids`` read; returns how many were unread. Every id
    must be one of the user's inbox items, else NotFound and nothing changes (another user's
    id looks exactly like a missing one)."""
    wanted = set(ids)
    if any(not 0 < i <= MAX_ID for i in wanted):  # beyond BIGINT: no such row, and no DB error
        raise NotFound()
    mine = Notification.objects.filter(user_id=user.pk, in_inbox=True, id__in=wanted)
    with transaction.atomic():
        if mine.count() != len(wanted):
            raise NotFound()
        return mine.filter(read_at__isnull=True).update(read_at=timezone.now())


def mark_all_read(user: Any) -> int:
    """Mark every unread item of the user's inbox read; returns how many changed."""
    return Notification.objects.filter(user_id=user.pk, in_inbox=True,
                                       read_at__isnull=True).update(read_at=timezone.now())


# --- the user's settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryPreferences:
    category: str
    label: str
    urgent: bool
    channels: dict[str, bool]
    locked: list[str]


def get_preferences(user: Any) -> list[CategoryPreferences]:
    """Every category with each channel's effective on/off for ``user`` (choice or default)."""
    chosen = {(c, ch): on for c, ch, on in Preference.objects.filter(user_id=user.pk)
              .values_list("category", "channel", "enabled")}
    out = []
    for category in Category:
        spec = spec_for(category)
        out.append(CategoryPreferences(
            category=category.value,
            label=str(category.label),
            urgent=spec.urgent,
            channels={ch.value: spec.is_locked(ch) or chosen.get((category.value, ch.value),
                                                                  spec.default_for(ch))
                      for ch in Channel},
            locked=[ch.value for ch in Channel if spec.is_locked(ch)],
        ))
    return out


def set_preferences(*, user: Any,
                    changes: Iterable[tuple[str, str, bool]]) -> list[CategoryPreferences]:
    """Store the user's own choices ``(category, channel, enabled)``. All are checked before any
    is written: an unknown category or channel, or switching off a locked (urgent) channel,
    refuses the whole request. A later entry for the same pair wins."""
    wanted: dict[tuple[str, str], bool] = {}
    for category, channel, enabled in changes:
        if category not in CATEGORY_SPECS:
            raise UnknownCategory(fields={"category": [_("Unknown category.")]})
        if channel not in Channel.values:
            raise UnknownChannel(fields={"channel": [_("Unknown channel.")]})
        if not enabled and spec_for(category).is_locked(channel):
            raise PreferenceLocked(fields={f"{category}.{channel}": [
                PreferenceLocked.default_message]})
        wanted[(category, channel)] = bool(enabled)
    with transaction.atomic():
        Preference.objects.bulk_create(
            [Preference(user_id=user.pk, category=c, channel=ch, enabled=on)
             for (c, ch), on in wanted.items()],
            update_conflicts=True, unique_fields=["user", "category", "channel"],
            update_fields=["enabled"],
        )
    return get_preferences(user)


def get_quiet_hours(user: Any) -> QuietHours:
    """The user's quiet hours; an unsaved, disabled 22:00–07:00 when never set."""
    found = QuietHours.objects.filter(user_id=user.pk).first()
    return found or QuietHours(user_id=user.pk, enabled=False, start=time(22, 0), end=time(7, 0))


def set_quiet_hours(*, user: Any, enabled: bool, start: time, end: time) -> QuietHours:
    """Set the user's own quiet hours (local Asia/Shanghai times; start after end spans
    midnight). Refuses an empty period. Deliveries already deferred keep their time."""
    if start == end:
        raise EmptyQuietHours(fields={"end": [EmptyQuietHours.default_message]})
    with transaction.atomic():
        qh, _created = QuietHours.objects.update_or_create(
            user_id=user.pk, defaults={"enabled": enabled, "start": start, "end": end})
    return qh


def get_notification_settings(user: Any) -> NotificationSettings:
    found = NotificationSettings.objects.filter(user_id=user.pk).first()
    return found or NotificationSettings(user_id=user.pk, email="")


def set_email(*, user: Any, email: str) -> NotificationSettings:
    """Set (or, with "", clear) the address the email channel writes to. Not verified yet:
    see docs/notifications.md."""
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(code="invalid_email",
                               fields={"email": [_("Enter a valid email address.")]}) from None
    with transaction.atomic():
        ns, _created = NotificationSettings.objects.update_or_create(
            user_id=user.pk, defaults={"email": email})
    return ns


def subscribe_push(*, user: Any, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Register this browser for web push. The endpoint identifies the browser profile: if
    another account subscribed it before, it now belongs to ``user`` (whoever is logged in
    there now)."""
    if not endpoint.startswith("https://") or len(endpoint) > 1000:
        raise InvalidInput(code="invalid_endpoint",
                           fields={"endpoint": [_("A push endpoint is an https URL.")]})
    with transaction.atomic():
        sub, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint, defaults={"user_id": user.pk, "p256dh": p256dh, "auth": auth})
    return sub


def unsubscribe_push(*, user: Any, endpoint: str) -> int:
    """Forget the user's own subscription ``endpoint``; returns how many were removed (0 or 1,
    so a browser may repeat it)."""
    deleted, _by_model = PushSubscription.objects.filter(user_id=user.pk,
                                                         endpoint=endpoint).delete()
    return deleted


__all__ = ["DeliveryReport", "deliver_due", "get_notification_settings", "get_preferences",
           "get_quiet_hours", "mark_all_read", "mark_read", "notify", "set_email",
           "set_preferences", "set_quiet_hours", "subscribe_push", "unsubscribe_push"]
