"""Outbound channels with no reachable server here (SMS, web push) sit behind one small interface
each; the default backends work locally (an outbox on disk and the log). Production names a real
gateway's backend class in settings (``SMS_BACKEND``, ``WEBPUSH_BACKEND``).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("sportsman.outbox")
_lock = threading.Lock()


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class OutboxSmsBackend:
    """Appends each message as a JSON line to ``var/outbox/sms.jsonl`` and logs it."""

    def __init__(self) -> None:
        self.path = Path(settings.VAR_DIR) / "outbox" / "sms.jsonl"

    def send(self, *, phone: str, text: str) -> None:
        _append_jsonl("sms.jsonl", {"at": timezone.now().isoformat(), "phone": phone,
                                    "text": text})
        logger.info("SMS to %s: %s", phone, text)


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def _read_jsonl(name: str) -> list[dict]:
    path = Path(settings.VAR_DIR) / "outbox" / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _append_jsonl(name: str, row: dict) -> None:
    path = Path(settings.VAR_DIR) / "outbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_sms_outbox(phone: str | None = None) -> list[dict]:
    """The messages the local backend has sent (for tests and the demo)."""
    return [r for r in _read_jsonl("sms.jsonl") if phone is None or r["phone"] == phone]


# --- Web Push ------------------------------------------------------------------------------------


class PushSubscriptionGone(Exception):
    """The push service answered 404/410: the browser unsubscribed; forget the subscription."""


class WebPushBackend(Protocol):
    """Sends one encrypted message to one subscription. A real backend (pywebpush or similar)
    needs the server's VAPID key pair and a push service it can reach; raises
    ``PushSubscriptionGone`` when the subscription is dead and any other exception to retry."""

    def send(self, *, endpoint: str, p256dh: str, auth: str, payload: dict) -> None: ...


class OutboxWebPushBackend:
    """Appends each push as a JSON line to ``var/outbox/webpush.jsonl`` and logs it."""

    def send(self, *, endpoint: str, p256dh: str, auth: str, payload: dict) -> None:
        _append_jsonl("webpush.jsonl", {"at": timezone.now().isoformat(), "endpoint": endpoint,
                                        "payload": payload})
        logger.info("Web push to %s: %s", endpoint, payload.get("title", ""))


def webpush_backend() -> WebPushBackend:
    return import_string(settings.WEBPUSH_BACKEND)()


def read_webpush_outbox(endpoint: str | None = None) -> list[dict]:
    """The pushes the local backend has sent (for tests and the demo)."""
    return [r for r in _read_jsonl("webpush.jsonl") if endpoint is None or r["endpoint"] == endpoint]
