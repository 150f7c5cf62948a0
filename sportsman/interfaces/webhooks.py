"""Webhooks: other systems subscribe to a region's events and receive them signed, in the
background (docs/interfaces.md).

- Staff holding ``WEBHOOK_MANAGE`` over a region register a subscription there (its subtree
  only): a URL, the event types (``interfaces.catalogue``) and a secret shown once.
- ``fan_out`` is the domain-event consumer: in the consumer's transaction it writes one
  :class:`WebhookDelivery` per matching subscription (unique per (subscription, event)), so a lost
  worker never loses an event and a replayed event never makes a second delivery.
- ``send_due`` is the sender (tasks, the minute sweep): it leases due deliveries with a
  conditional UPDATE (two senders never take the same row), POSTs them signed per Standard
  Webhooks, logs every attempt, retries with exponential backoff, and disables a subscription
  after too many consecutive failures, telling its owner.

Nothing here runs on a request path but the staff operations themselves.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit, crypto
from sportsman.core.db import lease_due
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.core.models import DomainEvent
from sportsman.core.schemas import iso
from sportsman.interfaces.catalogue import BY_DOMAIN_EVENT, BY_NAME
from sportsman.interfaces.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)
SECRET_BYTES = 24
# After a rotation the previous secret signs too (a second v1 signature) for this long, so a
# receiver can switch without dropping a message.
PREVIOUS_SECRET_GRACE = dt.timedelta(hours=24)
SNIPPET = 500
MAX_TYPES = len(BY_NAME)
USER_AGENT = "Sportsman-Webhooks/1"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def timeout_seconds() -> float:
    return float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10))


def max_attempts() -> int:
    return int(_setting("WEBHOOK_MAX_ATTEMPTS", 8))


def disable_after() -> int:
    return int(_setting("WEBHOOK_DISABLE_AFTER", 20))


def backoff(attempt: int) -> dt.timedelta:
    """The wait after the ``attempt``-th failed attempt: base × 4^(attempt−1), at most six hours
    (base 5 s: 5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h)."""
    base = float(_setting("WEBHOOK_RETRY_BASE_SECONDS", 5))
    return dt.timedelta(seconds=min(base * 4 ** max(attempt - 1, 0), 6 * 3600))


def lease() -> dt.timedelta:
    # A sender holding a row longer than this is presumed dead: the row is due again.
    return dt.timedelta(seconds=timeout_seconds() * 2 + 30)


# --- errors ---------------------------------------------------------------------------------------


class SubscriptionNotFound(NotFound):
    code = "subscription_not_found"
    default_message = _("No such webhook subscription here.")


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"
    default_message = _("No such webhook delivery here.")


class SubscriptionDisabled(Conflict):
    code = "subscription_disabled"
    default_message = _("This subscription is disabled; enable it first.")


class NothingToReplay(Conflict):
    code = "nothing_to_replay"
    default_message = _("This delivery is still being sent.")


def _field_error(name: str, code: str, message: Any) -> InvalidInput:
    return InvalidInput(message, code=code, fields={name: [str(message)]})


# --- signing (Standard Webhooks) ------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the secret's decoded key."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(sub: WebhookSubscription, msg_id: str, timestamp: int, body: str,
                     now: dt.datetime) -> str:
    """The current secret's signature, and the previous one's during its grace period (the
    spec's space-separated list)."""
    out = [sign(crypto.decrypt(sub.secret_encrypted), msg_id, timestamp, body)]
    if sub.previous_secret_encrypted and sub.previous_secret_expires_at \
            and sub.previous_secret_expires_at > now:
        out.append(sign(crypto.decrypt(sub.previous_secret_encrypted), msg_id, timestamp, body))
    return " ".join(out)


# --- checking inputs ------------------------------------------------------------------------------


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global


def private_allowed() -> bool:
    return bool(_setting("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False))


def clean_url(url: Any) -> str:
    """An http(s) URL with a host, at most 500 characters; a literal private, loopback or
    link-local address only where ``WEBHOOK_ALLOW_PRIVATE_NETWORKS`` is on (names are checked
    again when sending, after they resolve)."""
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise _field_error("url", "invalid_url", _("Give the receiver's URL."))
    if len(text) > 500:
        raise _field_error("url", "invalid_url", _("The URL is too long (at most 500)."))
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _field_error("url", "invalid_url", _("This is not a valid URL.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.password or parts.fragment or any(c.isspace() for c in text):
        raise _field_error("url", "invalid_url",
                           _("Give an http:// or https:// URL with a host and no credentials."))
    if port == 0:
        raise _field_error("url", "invalid_url", _("This is not a valid URL."))
    try:
        literal = _is_private(parts.hostname)
    except ValueError:
        literal = parts.hostname in ("localhost",) or parts.hostname.endswith(".localhost")
    if literal and not private_allowed():
        raise _field_error("url", "url_not_allowed",
                           _("Webhooks may not be sent to private or local addresses."))
    return text


def clean_types(event_types: Any) -> list[str]:
    if not isinstance(event_types, list | tuple) or not event_types:
        raise _field_error("event_types", "no_event_types", _("Choose at least one event type."))
    out: list[str] = []
    for name in event_types:
        if not isinstance(name, str) or name not in BY_NAME:
            raise _field_error("event_types", "unknown_event_type",
                               gettext("Unknown event type: %(name)s") % {"name": str(name)[:40]})
        if name not in out:
            out.append(name)
    return sorted(out)


def clean_name(name: Any) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > 80:
        raise _field_error("name", "invalid_name", _("Give a name of 1 to 80 characters."))
    return text


# --- reading --------------------------------------------------------------------------------------


def subscriptions_for(access: Access, *, region: Region | None = None,
                      status: str | None = None) -> QuerySet[WebhookSubscription]:
    """The subscriptions in the actor's scope (optionally one region's subtree), newest first."""
    from sportsman.regions.models import subtree_q

    qs = access.scope(WebhookSubscription.objects.select_related("region", "owner"),
                      Perm.WEBHOOK_MANAGE)
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    if status in SubscriptionStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def in_scope(access: Access, subscription_id: int, *, lock: bool = False) -> WebhookSubscription:
    """One subscription the actor may manage, else ``subscription_not_found`` (another
    region's looks missing)."""
    if not 0 < subscription_id < 2**63:
        raise SubscriptionNotFound()
    qs = access.scope(WebhookSubscription.objects.select_related("region"), Perm.WEBHOOK_MANAGE)
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.filter(pk=subscription_id).first()
    if found is None:
        raise SubscriptionNotFound()
    return found


def deliveries_for(access: Access, subscription_id: int, *, status: str | None = None,
                   event_type: str | None = None, before: int | None = None,
                   limit: int = 50) -> list[WebhookDelivery]:
    """A subscription's deliveries, newest first, keyset-paged by id (``before``)."""
    sub = in_scope(access, subscription_id)
    qs = WebhookDelivery.objects.filter(subscription_id=sub.pk).defer("body")
    if status in DeliveryStatus.values:
        qs = qs.filter(status=status)
    if event_type:
        qs = qs.filter(event_type=event_type)
    if before:
        qs = qs.filter(pk__lt=before)
    return list(qs.order_by("-id")[:limit])


def delivery_in_scope(access: Access, subscription_id: int,
                      delivery_id: int) -> WebhookDelivery:
    sub = in_scope(access, subscription_id)
    found = (WebhookDelivery.objects.filter(pk=delivery_id, subscription_id=sub.pk).first()
             if 0 < delivery_id < 2**63 else None)
    if found is None:
        raise DeliveryNotFound()
    return found


# --- staff operations -----------------------------------------------------------------------------


def create_subscription(*, access: Access, region_id: int, name: str, url: str,
                        event_types: list[str], request: Any = None
                        ) -> tuple[WebhookSubscription, str]:
    """Register a subscription on a region the actor holds ``WEBHOOK_MANAGE`` over (another
    region looks missing: ``region_not_found``). Answers it and its secret, which is shown this
    once (kept encrypted; rotate it if lost). Refuses ``invalid_name``, ``invalid_url``,
    ``url_not_allowed``, ``no_event_types``, ``unknown_event_type``. Audited."""
    access.require_anywhere(Perm.WEBHOOK_MANAGE)
    region = (access.regions(Perm.WEBHOOK_MANAGE).filter(pk=region_id).first()
              if 0 < region_id < 2**63 else None)
    if region is None:
        raise NotFound(_("No such region in your scope."), code="region_not_found",
                       fields={"region_id": [str(_("No such region in your scope."))]})
    clean = {"name": clean_name(name), "url": clean_url(url),
             "event_types": clean_types(event_types)}
    secret = new_secret()
    with transaction.atomic():
        sub = WebhookSubscription.objects.create(
            region=region, owner=access.user, secret_encrypted=crypto.encrypt(secret), **clean)
        audit.record(actor=access.user, action="interfaces.webhook.create", obj=sub,
                     region=region, request=request, data=clean)
    return sub, secret


def update_subscription(*, access: Access, subscription_id: int, name: str | None = None,
                        url: str | None = None, event_types: list[str] | None = None,
                        request: Any = None) -> WebhookSubscription:
    """Change a subscription's name, URL or event types (each checked as at creation; what is
    already queued keeps its body and goes to the new URL). Audited."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = clean_name(name)
    if url is not None:
        changes["url"] = clean_url(url)
    if event_types is not None:
        changes["event_types"] = clean_types(event_types)
    with transaction.atomic():
        sub = in_scope(access, subscription_id, lock=True)
        for key, value in changes.items():
            setattr(sub, key, value)
        if changes:
            sub.save(update_fields=[*changes, "updated_at"])
            audit.record(actor=access.user, action="interfaces.webhook.update", obj=sub,
                         region=sub.region, request=request, data=changes)
    return sub


def rotate_secret(*, access: Access, subscription_id: int, request: Any = None
                  ) -> tuple[WebhookSubscription, str]:
    """A new secret, shown once; the old one keeps signing alongside for 24 hours. Audited."""
    secret = new_secret()
    with transaction.atomic():
        sub = in_scope(access, subscription_id, lock=True)
        sub.previous_secret_encrypted = sub.secret_encrypted
        sub.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_GRACE
        sub.secret_encrypted = crypto.encrypt(secret)
        sub.save(update_fields=["secret_encrypted", "previous_secret_encrypted",
                                "previous_secret_expires_at", "updated_at"])
        audit.record(actor=access.user, action="interfaces.webhook.rotate_secret", obj=sub,
                     region=sub.region, request=request)
    return sub, secret


def set_enabled(*, access: Access, subscription_id: int, enabled: bool,
                request: Any = None) -> WebhookSubscription:
    """Disable a subscription (nothing more is sent; new events are no longer queued for it) or
    enable it again (the failure count starts afresh; what was still pending is sent).
    Idempotent. Audited."""
    with transaction.atomic():
        sub = in_scope(access, subscription_id, lock=True)
        target = SubscriptionStatus.ACTIVE if enabled else SubscriptionStatus.DISABLED
        if sub.status != target:
            sub.status = target
            sub.disabled_reason = "" if enabled else "staff"
            sub.consecutive_failures = 0 if enabled else sub.consecutive_failures
            sub.save(update_fields=["status", "disabled_reason", "consecutive_failures",
                                    "updated_at"])
            audit.record(actor=access.user,
                         action=f"interfaces.webhook.{'enable' if enabled else 'disable'}",
                         obj=sub, region=sub.region, request=request)
            if enabled:
                _wake_on_commit()
    return sub


def replay_delivery(*, access: Access, subscription_id: int, delivery_id: int,
                    request: Any = None) -> WebhookDelivery:
    """Send one delivery again, whatever became of it, under the same ``webhook-id`` (the body
    too is the same; only the timestamp and signature are new). Refuses while it is being
    sent (``nothing_to_replay``) and on a disabled subscription (``subscription_disabled``).
    Audited."""
    with transaction.atomic():
        sub = in_scope(access, subscription_id, lock=True)
        if sub.status != SubscriptionStatus.ACTIVE:
            raise SubscriptionDisabled()
        d = delivery_in_scope(access, sub.pk, delivery_id)
        now = timezone.now()
        moved = (WebhookDelivery.objects
                 .filter(pk=d.pk, claim=None)
                 .update(status=DeliveryStatus.PENDING, not_before=now, is_replay=True,
                         finished_at=None, attempts=0))
        if not moved:
            raise NothingToReplay()
        audit.record(actor=access.user, action="interfaces.webhook.replay", obj=d,
                     region=sub.region, request=request, data={"msg_id": d.msg_id})
        _wake_on_commit([d.pk])
    d.refresh_from_db()
    return d


def replay_failed(*, access: Access, subscription_id: int, request: Any = None) -> int:
    """Send every failed delivery of a subscription again (same ids). Answers how many."""
    with transaction.atomic():
        sub = in_scope(access, subscription_id, lock=True)
        if sub.status != SubscriptionStatus.ACTIVE:
            raise SubscriptionDisabled()
        count = (WebhookDelivery.objects
                 .filter(subscription_id=sub.pk, status=DeliveryStatus.FAILED, claim=None)
                 .update(status=DeliveryStatus.PENDING, not_before=timezone.now(),
                         is_replay=True, finished_at=None, attempts=0))
        audit.record(actor=access.user, action="interfaces.webhook.replay_failed", obj=sub,
                     region=sub.region, request=request, data={"count": count})
        if count:
            _wake_on_commit()
    return count


# --- from domain events to deliveries (the consumer) ----------------------------------------------


def envelope(event_type: str, at: dt.datetime, data: dict[str, Any]) -> str:
    """The body every receiver gets: ``{"type", "timestamp", "data"}``, keys sorted, compact."""
    return json.dumps({"type": event_type, "timestamp": iso(at), "data": data},
                      cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def fan_out(event: DomainEvent) -> int:
    """The consumer of every catalogued domain event: one delivery per active subscription of
    the event's type on the event's region or an ancestor (a subscriber never hears of another
    subtree). Runs in the consumer's transaction (its delivery rows commit with the
    EventDelivery row, or neither does); the send task is queued on commit. Answers how many."""
    kind = BY_DOMAIN_EVENT.get(event.name)
    if kind is None:
        return 0
    candidates = list(WebhookSubscription.objects
                      .filter(status=SubscriptionStatus.ACTIVE).only("id", "event_types",
                                                                      "region_id"))
    wanted = [s for s in candidates if kind.name in s.event_types]
    if not wanted:
        return 0  # the common case: one cheap query, no reads of the event's object
    built = kind.build(event.payload)
    if built is None:
        return 0
    region, data = built
    lineage = {*region.ancestor_ids, region.pk}
    matching = [s for s in wanted if s.region_id in lineage]
    if not matching:
        return 0
    body = envelope(kind.name, event.created_at, data)
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(subscription_id=s.pk, event_id=event.pk, msg_id=f"msg_{uuid.uuid4().hex}",
                         event_type=kind.name, body=body, not_before=now) for s in matching],
        ignore_conflicts=True)
    _wake_on_commit()
    return len(matching)


def _wake_on_commit(ids: list[int] | None = None) -> None:
    def wake() -> None:
        from sportsman.interfaces.tasks import send_webhooks

        send_webhooks.enqueue(ids)

    transaction.on_commit(wake)


# --- sending --------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int | None = None
    error: str = ""
    snippet: str = ""
    duration_ms: int = 0


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """One POST on a fresh connection, ``timeout`` seconds per socket operation; never raises.
    Reads at most the first 500 bytes of the answer. With private networks not allowed, refuses
    a host that resolves to a private address (``refused_address``)."""
    parts = urlsplit(url)
    started = time.perf_counter()
    host, port = parts.hostname or "", parts.port
    answer = Answer()
    conn: http.client.HTTPConnection | None = None
    try:
        if not private_allowed() and _resolves_private(host, port or 80):
            answer.error = "refused_address"
            return answer
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(host, port, timeout=timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        answer.status = response.status
        answer.snippet = response.read(SNIPPET).decode("utf-8", "replace")
    except TimeoutError:
        answer.error = "timeout"
    except (OSError, http.client.HTTPException, UnicodeError):
        answer.error = "network"
    finally:
        if conn is not None:
            conn.close()
        answer.duration_ms = int((time.perf_counter() - started) * 1000)
    return answer


def _resolves_private(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        return False  # the connection fails next, as a network error (retried)
    return any(_is_private(str(info[4][0]).split("%")[0]) for info in infos)


def retryable(answer: Answer) -> bool:
    """Network errors, timeouts, 5xx, 408 and 429 are tried again; other 4xx give up (the
    receiver refused the message itself); a refused address too."""
    if answer.error:
        return answer.error != "refused_address"
    assert answer.status is not None
    return answer.status >= 500 or answer.status in (408, 429)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    disabled: list[int] = field(default_factory=list)
    wake_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed,
                "disabled": self.disabled}


CLAIM_SIZE = 20


def send_due(*, ids: list[int] | None = None, limit: int = 200,
             now: dt.datetime | None = None) -> SendReport:
    """Send up to ``limit`` due deliveries of active subscriptions (``ids``: only those). Safe
    in any number of workers at once: each row is leased by one conditional UPDATE. A retry is
    woken by a deferred task where the backend supports it, else by the minute sweep."""
    report = SendReport()
    done = 0
    while done < limit:
        at = now or timezone.now()
        token, rows = _claim(at, ids, min(CLAIM_SIZE, limit - done))
        if token is None or not rows:
            break
        for d in rows:
            if d.subscription_id in report.disabled:
                # disabled by this batch's own failures: give the row back untried
                WebhookDelivery.objects.filter(pk=d.pk, claim=token).update(
                    claim=None, not_before=at, attempts=F("attempts") - 1)
                continue
            _attempt(d, token, report)
        done += len(rows)
    if report.wake_at is not None:
        from sportsman.interfaces.tasks import send_webhooks

        if send_webhooks.get_backend().supports_defer:
            send_webhooks.using(run_after=report.wake_at).enqueue(None)
    return report


def _claim(now: dt.datetime, ids: list[int] | None,
           size: int) -> tuple[uuid.UUID | None, list[WebhookDelivery]]:
    """Take up to ``size`` due deliveries of active subscriptions (``core.db.lease_due``)."""
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, not_before__lte=now,
                                         subscription__status=SubscriptionStatus.ACTIVE)
    if ids is not None:
        due = due.filter(id__in=ids)
    token = lease_due(due, now=now, lease=lease(), size=size, status=DeliveryStatus.PENDING)
    if token is None:
        return None, []
    rows = list(WebhookDelivery.objects.filter(claim=token, status=DeliveryStatus.PENDING)
                .select_related("subscription").order_by("id"))
    return token, rows


def headers_for(d: WebhookDelivery, sub: WebhookSubscription, timestamp: int,
                now: dt.datetime) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT,
            "webhook-id": d.msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(sub, d.msg_id, timestamp, d.body, now)}


def _attempt(d: WebhookDelivery, token: uuid.UUID, report: SendReport) -> None:
    sub = d.subscription
    now = timezone.now()
    timestamp = int(now.timestamp())
    answer = post(sub.url, d.body.encode(), headers_for(d, sub, timestamp, now),
                  timeout=timeout_seconds())
    ok = answer.status is not None and 200 <= answer.status < 300
    again = not ok and retryable(answer) and d.attempts < max_attempts()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery_id=d.pk, at=now, status_code=answer.status, error=answer.error,
            duration_ms=answer.duration_ms, response_snippet=answer.snippet[:SNIPPET],
            is_replay=d.is_replay)
        values: dict[str, Any] = {"claim": None, "last_status_code": answer.status}
        if ok:
            values.update(status=DeliveryStatus.SUCCEEDED, finished_at=timezone.now())
        elif again:
            values.update(not_before=timezone.now() + backoff(d.attempts))
        else:
            values.update(status=DeliveryStatus.FAILED, finished_at=timezone.now())
        # A sender whose lease ran out (it was presumed dead) finds the row taken: it logs its
        # attempt and changes nothing.
        WebhookDelivery.objects.filter(pk=d.pk, claim=token).update(**values)
        if ok:
            report.sent += 1
            if sub.consecutive_failures:
                WebhookSubscription.objects.filter(pk=sub.pk).update(consecutive_failures=0)
            return
        if again:
            report.retrying += 1
            wake = values["not_before"]
            report.wake_at = wake if report.wake_at is None else min(report.wake_at, wake)
        else:
            report.failed += 1
        _count_failure(sub.pk, report)


def _count_failure(subscription_id: int, report: SendReport) -> None:
    WebhookSubscription.objects.filter(pk=subscription_id).update(
        consecutive_failures=F("consecutive_failures") + 1)
    if not WebhookSubscription.objects.filter(
            pk=subscription_id, status=SubscriptionStatus.ACTIVE,
            consecutive_failures__gte=disable_after()).update(
            status=SubscriptionStatus.DISABLED, disabled_reason="failures",
            updated_at=timezone.now()):
        return
    report.disabled.append(subscription_id)
    sub = WebhookSubscription.objects.get(pk=subscription_id)
    if sub.owner_id is not None:
        _tell_owner(sub)


def _tell_owner(sub: WebhookSubscription) -> None:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from sportsman.notifications.categories import Category
    from sportsman.notifications.services import notify

    if sub.owner_id is None:
        return
    notify(users=get_user_model().objects.filter(pk=sub.owner_id), category=Category.SYSTEM,
           title=gettext("Webhook disabled after repeated failures: %(name)s")
           % {"name": sub.name},
           body=gettext("%(count)d deliveries in a row failed. Fix the receiver, then enable "
                        "the subscription and replay the failed deliveries.")
           % {"count": sub.consecutive_failures},
           link=reverse("interfaces:webhook", args=[sub.pk]),
           data={"subscription_id": sub.pk},
           dedupe_key=f"interfaces.webhook:{sub.pk}:disabled:{sub.updated_at:%Y%m%d%H%M%S}")
