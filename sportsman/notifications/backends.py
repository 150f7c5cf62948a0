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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": timezone.now().isoformat(), "phone": phone, "text": text},
                          ensure_ascii=False)
        with _lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        logger.info("SMS to %s: %s", phone, text)


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def read_sms_outbox(phone: str | None = None) -> list[dict]:
    """The messages the local backend has sent (for tests and the demo)."""
    path = Path(settings.VAR_DIR) / "outbox" / "sms.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if phone is None or r["phone"] == phone]
