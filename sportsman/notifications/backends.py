"""Outbound channels (SMS, web push) sit behind one small interface each; the default backends
work locally (an outbox on disk and the log). Production names a real backend class in settings
(``SMS_BACKEND``, ``WEBPUSH_BACKEND``): web push has one here, ``VapidWebPushBackend``.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

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

# RFC 8291: a push service takes at least 4096 bytes of body; aes128gcm adds an 86-byte header
# (salt, record size, the sender's key), a 16-byte tag and a 1-byte padding delimiter.
MAX_PUSH_BODY = 4096
MAX_PUSH_PLAINTEXT = MAX_PUSH_BODY - 86 - 16 - 1
URGENCIES = ("very-low", "low", "normal", "high")


class PushSubscriptionGone(Exception):
    """The push service answered 404/410: the browser unsubscribed; forget the subscription."""


class PushPayloadTooLarge(Exception):
    """The message does not fit in one push (or the push service answered 413): never retry."""


class PushServiceError(Exception):
    """The push service refused for now (429, 5xx) or could not be reached: retry later."""

    def __init__(self, message: str, status: int | None = None,
                 retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class WebPushBackend(Protocol):
    """Sends one message to one subscription. Raises ``PushSubscriptionGone`` when the
    subscription is dead, ``PushPayloadTooLarge`` when the message can never be sent, and any
    other exception to retry. ``ttl`` None means ``WEBPUSH_TTL_SECONDS``; ``topic`` (at most 32
    base64url characters) makes the push service replace an undelivered message with the same
    topic."""

    def send(self, *, endpoint: str, p256dh: str, auth: str, payload: dict,
             ttl: int | None = None, urgency: str = "normal", topic: str = "") -> None: ...


def encode_payload(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def fit_payload(payload: dict, limit: int = MAX_PUSH_PLAINTEXT) -> dict:
    """``payload`` shortened to fit one push: its ``body`` is cut (with an ellipsis) until the
    JSON is at most ``limit`` bytes. Raises ``PushPayloadTooLarge`` if even no body is too much."""
    size = len(encode_payload(payload))
    if size <= limit:
        return payload
    body = str(payload.get("body", ""))
    while body and size > limit:
        # A character is at most 4 bytes in UTF-8 (and a JSON escape at most 6): cut enough.
        body = body[: max(0, len(body) - max(1, (size - limit) // 6))]
        size = len(encode_payload(payload | {"body": body + "…" if body else ""}))
    fitted = payload | {"body": body + "…" if body else ""}
    if len(encode_payload(fitted)) > limit:
        raise PushPayloadTooLarge(f"{size} bytes")
    return fitted


class OutboxWebPushBackend:
    """Appends each push as a JSON line to ``var/outbox/webpush.jsonl`` and logs it."""

    def send(self, *, endpoint: str, p256dh: str, auth: str, payload: dict,
             ttl: int | None = None, urgency: str = "normal", topic: str = "") -> None:
        _append_jsonl("webpush.jsonl", {
            "at": timezone.now().isoformat(), "endpoint": endpoint, "payload": payload,
            "ttl": settings.WEBPUSH_TTL_SECONDS if ttl is None else ttl, "urgency": urgency,
            "topic": topic})
        logger.info("Web push to %s: %s", endpoint, payload.get("title", ""))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.cache
def _vapid(private_key: str) -> Any:
    from py_vapid import Vapid

    return Vapid.from_string(private_key=private_key)


def public_key_of(private_key: str) -> str:
    """A VAPID private key's public key as the browser's ``applicationServerKey`` wants it:
    the uncompressed P-256 point, base64url without padding."""
    from cryptography.hazmat.primitives import serialization

    point = _vapid(private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64url(point)


def vapid_public_key() -> str:
    """The server's VAPID public key (of ``WEBPUSH_VAPID_PRIVATE_KEY``), served to pages."""
    return public_key_of(settings.WEBPUSH_VAPID_PRIVATE_KEY)


class VapidWebPushBackend:
    """Real Web Push (RFC 8030/8291/8292) through ``pywebpush``: the payload encrypted with the
    subscription's keys (aes128gcm), signed with the server's VAPID key
    (``WEBPUSH_VAPID_PRIVATE_KEY``, ``WEBPUSH_VAPID_SUBJECT``), POSTed to the endpoint.

    201 (or any 2xx) is delivered; 404/410 → ``PushSubscriptionGone``; 413 →
    ``PushPayloadTooLarge``; anything else (429, 5xx, 400/403, no connection) →
    ``PushServiceError``, which the sender retries with its backoff."""

    def send(self, *, endpoint: str, p256dh: str, auth: str, payload: dict,
             ttl: int | None = None, urgency: str = "normal", topic: str = "") -> None:
        import requests
        from pywebpush import WebPushException, webpush

        if urgency not in URGENCIES:
            raise ValueError(f"urgency {urgency!r} is not one of {URGENCIES}")
        data = encode_payload(fit_payload(payload))
        headers = {"Urgency": urgency}
        if topic:
            headers["Topic"] = topic
        origin = urlsplit(endpoint)
        claims: dict[str, str | int] = {
            "sub": settings.WEBPUSH_VAPID_SUBJECT,
            "aud": f"{origin.scheme}://{origin.netloc}",
            # RFC 8292: at most 24 hours ahead; 12 h leaves room for a skewed clock.
            "exp": int(time.time()) + 12 * 3600,
        }
        try:
            webpush(
                subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                data=data.decode(),
                vapid_private_key=_vapid(settings.WEBPUSH_VAPID_PRIVATE_KEY),
                vapid_claims=claims,
                content_encoding="aes128gcm",
                ttl=settings.WEBPUSH_TTL_SECONDS if ttl is None else ttl,
                headers=headers,
                timeout=settings.WEBPUSH_TIMEOUT_SECONDS,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                raise PushSubscriptionGone(endpoint) from exc
            if status == 413:
                raise PushPayloadTooLarge(f"push service answered 413 for {len(data)} bytes") from exc
            retry_after = exc.response.headers.get("Retry-After") if exc.response is not None else None
            raise PushServiceError(f"push service answered {status}", status=status,
                                   retry_after=retry_after) from exc
        except requests.RequestException as exc:
            raise PushServiceError(f"{type(exc).__name__}: {exc}") from exc


def webpush_backend() -> WebPushBackend:
    return import_string(settings.WEBPUSH_BACKEND)()


def read_webpush_outbox(endpoint: str | None = None) -> list[dict]:
    """The pushes the local backend has sent (for tests and the demo)."""
    return [r for r in _read_jsonl("webpush.jsonl") if endpoint is None or r["endpoint"] == endpoint]
