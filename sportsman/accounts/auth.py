"""Authentication: a phone + password backend for sessions, bearer tokens for apps."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from sportsman.core import crypto


class PhoneBackend(ModelBackend):
    def authenticate(  # type: ignore[override]  # phone, not username
        self, request: Any, phone: str | None = None, password: str | None = None, **kwargs: Any
    ):
        if phone is None or password is None:
            return None
        from sportsman.accounts.models import User

        try:
            user = User.objects.get(phone_hash=crypto.keyed_hash(phone))
        except User.DoesNotExist:
            User().set_password(password)  # same cost either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def _token_hash(raw: str) -> str:
    import hashlib

    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: Any, *, user_agent: str = "") -> str:
    """A new bearer token for ``user``; the raw value is returned once and never stored."""
    import secrets

    from sportsman.accounts.models import ApiToken

    raw = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_token_hash(raw), user_agent=user_agent[:256])
    return raw


def user_for_token(raw: str) -> Any | None:
    from sportsman.accounts.models import ApiToken

    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=_token_hash(raw), revoked_at__isnull=True).first())
    if token is None or not token.user.is_active:
        return None
    return token.user


def revoke_token(raw: str) -> bool:
    from django.utils import timezone

    from sportsman.accounts.models import ApiToken

    return bool(ApiToken.objects.filter(key_hash=_token_hash(raw), revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))
