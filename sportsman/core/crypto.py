"""Personal numbers at rest: Fernet-encrypted, found by a keyed hash, masked on screen."""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet
from django.conf import settings


@functools.cache
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def _key() -> str:
    return settings.FIELD_ENCRYPTION_KEY


def encrypt(value: str) -> str:
    return _fernet(_key()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(_key()).decrypt(token.encode()).decode()


def keyed_hash(value: str, *, purpose: str = "phone") -> str:
    """A stable look-up key; without the encryption key nobody can hash a guessed number."""
    mac = hmac.new(f"{purpose}:{_key()}".encode(), value.encode(), hashlib.sha256)
    return mac.hexdigest()


def mask_phone(phone: str) -> str:
    """138****0000: what staff see."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"
