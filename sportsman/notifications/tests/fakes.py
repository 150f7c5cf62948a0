"""Backends that fail on purpose, named by import path in settings during a test."""

from __future__ import annotations

from typing import ClassVar

from sportsman.notifications.backends import OutboxSmsBackend, PushSubscriptionGone


class FlakySmsBackend(OutboxSmsBackend):
    """Fails the first ``failures`` sends (a class-level budget shared by every instance,
    because the channel builds a new backend per send), then writes to the outbox."""

    failures: ClassVar[int] = 0
    calls: ClassVar[int] = 0

    def send(self, *, phone: str, text: str) -> None:
        type(self).calls += 1
        if type(self).failures > 0:
            type(self).failures -= 1
            raise ConnectionError("gateway timed out")
        super().send(phone=phone, text=text)


class GonePushBackend:
    def send(self, *, endpoint: str, p256dh: str, auth: str, payload: dict,
             ttl: int | None = None, urgency: str = "normal", topic: str = "") -> None:
        raise PushSubscriptionGone(endpoint)
