"""Delivery channels behind one interface: ``send(delivery) -> None``.

A channel raises ``DeliveryFailed`` when the attempt may succeed later (the sender retries it
with backoff) and ``Undeliverable`` when it never will (no address any more: the delivery is
marked skipped). Each channel reaches the outside world through a backend named in settings
(``SMS_BACKEND``, ``MAILERS``, ``WEBPUSH_BACKEND``), so the local defaults and a real gateway are
interchangeable.
"""

from __future__ import annotations

import smtplib
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from sportsman.notifications import backends
from sportsman.notifications.categories import Channel as ChannelName
from sportsman.notifications.categories import spec_for

if TYPE_CHECKING:
    from sportsman.notifications.models import Delivery, Notification


PUSH_BODY_CHARS = 500


class DeliveryFailed(Exception):
    """This attempt failed; a later one may succeed."""


class Undeliverable(Exception):
    """This delivery can never succeed (no address, no subscription): do not retry."""


class Channel(Protocol):
    def send(self, delivery: Delivery) -> None: ...


def _text(notification: Notification) -> str:
    parts = [notification.title, notification.body]
    if notification.link:
        parts.append(notification.link)
    return "\n".join(p for p in parts if p)


class InAppChannel:
    """The inbox row is the in-app delivery: it exists as soon as ``notify()`` commits."""

    def send(self, delivery: Delivery) -> None:
        return None


class SmsChannel:
    def send(self, delivery: Delivery) -> None:
        n = delivery.notification
        try:
            backends.sms_backend().send(phone=n.user.phone, text=_text(n))
        except Exception as exc:  # a gateway error of any kind: retry later
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


class EmailChannel:
    """Plain-text mail through Django's default mailer (``MAILERS["default"]``)."""

    def send(self, delivery: Delivery) -> None:
        from sportsman.notifications.models import NotificationSettings

        n = delivery.notification
        address = (NotificationSettings.objects.filter(user_id=n.user_id)
                   .values_list("email", flat=True).first())
        if not address:
            raise Undeliverable("no email address")
        # A header may not hold a line break (a title with one would fail on every retry).
        message = EmailMessage(subject=" ".join(n.title.split()), body=_text(n),
                               from_email=settings.DEFAULT_FROM_EMAIL, to=[address])
        try:
            message.send(using="default")
        except smtplib.SMTPRecipientsRefused as exc:
            raise Undeliverable(f"recipient refused: {exc.recipients}") from exc
        except Exception as exc:  # connection refused, timeout, 4xx: retry later
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


class WebPushChannel:
    """One push to each of the user's browsers. A subscription the push service reports gone
    is deleted; the delivery succeeds if any browser took it. Urgent categories go with
    ``Urgency: high``; the topic is the notification's id, so a retry replaces an undelivered
    earlier attempt at the push service instead of showing twice."""

    def send(self, delivery: Delivery) -> None:
        from sportsman.notifications.models import PushSubscription

        n = delivery.notification
        subscriptions = list(PushSubscription.objects.filter(user_id=n.user_id).order_by("id"))
        if not subscriptions:
            raise Undeliverable("no push subscription")
        backend = backends.webpush_backend()
        # Push services cap a message near 4 KB after encryption: keep the payload small.
        try:
            payload = backends.fit_payload({
                "id": n.pk, "category": n.category, "title": n.title,
                "body": n.body[:PUSH_BODY_CHARS], "url": n.link or reverse("notifications:inbox"),
            })
        except backends.PushPayloadTooLarge as exc:
            raise Undeliverable(f"push payload too large: {exc}") from exc
        urgency = "high" if spec_for(n.category).urgent else "normal"
        delivered, errors, refused = 0, [], []
        for sub in subscriptions:
            try:
                backend.send(endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth,
                             payload=payload, urgency=urgency, topic=f"n{n.pk}")
                delivered += 1
            except backends.PushSubscriptionGone:
                sub.delete()
            except backends.PushPayloadTooLarge as exc:
                refused.append(str(exc))
            except Exception as exc:  # push service unreachable or refusing: retry later
                errors.append(f"{type(exc).__name__}: {exc}")
        if delivered:
            return
        if errors:
            raise DeliveryFailed("; ".join(errors))
        if refused:
            raise Undeliverable("push payload refused: " + "; ".join(refused))
        raise Undeliverable("every push subscription is gone")


CHANNELS: dict[str, Channel] = {
    ChannelName.IN_APP: InAppChannel(),
    ChannelName.SMS: SmsChannel(),
    ChannelName.EMAIL: EmailChannel(),
    ChannelName.WEBPUSH: WebPushChannel(),
}


def channel_for(name: str) -> Channel:
    return CHANNELS[name]
