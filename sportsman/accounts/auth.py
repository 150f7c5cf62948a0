"""Authentication: a phone + password backend for sessions, bearer tokens for apps."""

from __future__ import annotations

import functools
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


@functools.cache
def _token_sql(vendor: str) -> str:
    """The token look-up: the token by its unique hash, its active user and the user's role
    grants (left-joined, in Access's order), in one statement. Written once per database vendor
    from the models' tables and columns; no ORM compilation on the request path."""
    from django.db import connection

    from sportsman.accounts.models import ApiToken, User
    from sportsman.regions.models import Region, RoleAssignment

    qn = connection.ops.quote_name
    user_columns = ", ".join(f"u.{qn(f.column or f.name)}" for f in User._meta.concrete_fields)
    return (
        f"SELECT {user_columns}, ra.{qn('role')} AS grant_role, "  # noqa: S608 (model names only)
        f"ra.{qn('region_id')} AS grant_region_id, r.{qn('path')} AS grant_path, "
        f"r.{qn('name')} AS grant_name, r.{qn('code')} AS grant_code, "
        f"r.{qn('level')} AS grant_level "
        f"FROM {qn(ApiToken._meta.db_table)} t "
        f"JOIN {qn(User._meta.db_table)} u ON u.{qn('id')} = t.{qn('user_id')} "
        f"LEFT JOIN {qn(RoleAssignment._meta.db_table)} ra ON ra.{qn('user_id')} = u.{qn('id')} "
        f"LEFT JOIN {qn(Region._meta.db_table)} r ON r.{qn('id')} = ra.{qn('region_id')} "
        f"WHERE t.{qn('key_hash')} = %s AND t.{qn('revoked_at')} IS NULL "
        f"AND u.{qn('is_active')} = %s "
        f"ORDER BY r.{qn('path')}, ra.{qn('role')}")


@functools.cache
def _user_columns(alias: str) -> tuple[list[str], list[tuple[Any, list[Any]]]]:
    """The user's attribute names in ``_token_sql``'s order, and per column the converters the
    ORM would apply (the database's and the field's: SQLite times and booleans, the encrypted
    phone), so the look-up builds the user as a queryset would without compiling one."""
    from django.db import connections

    from sportsman.accounts.models import User

    connection = connections[alias]
    names, converters = [], []
    for field in User._meta.concrete_fields:
        col = field.get_col(User._meta.db_table)
        names.append(field.attname)
        converters.append((col, [*connection.ops.get_db_converters(col),
                                 *field.get_db_converters(connection)]))
    return names, converters


def user_for_token(raw: str) -> Any | None:
    """The active user of a live token, with their role grants read in the same query (Access
    uses them). No cache: a revoked token or a deactivated user is refused on the next request."""
    from django.db import connection

    from sportsman.accounts.models import User
    from sportsman.regions.access import GRANTS_ATTR, Grant

    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [_token_hash(raw), True])
        rows = cursor.fetchall()
    if not rows:
        return None
    names, converters = _user_columns(connection.alias)
    values = []
    for value, (col, functions) in zip(rows[0], converters, strict=False):
        for convert in functions:
            value = convert(value, col, connection)
        values.append(value)
    user = User.from_db(connection.alias, names, values)
    n = len(names)
    setattr(user, GRANTS_ATTR, [Grant(*r[n:n + 6]) for r in rows if r[n] is not None])
    return user


def revoke_token(raw: str) -> bool:
    from django.utils import timezone

    from sportsman.accounts.models import ApiToken

    return bool(ApiToken.objects.filter(key_hash=_token_hash(raw), revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))


def optional_user(request: Any) -> Any:
    """For public API operations (``auth=None``) that show more to a member: the user of the
    session or of a bearer token if there is one (set on the request), else the anonymous user."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        found = user_for_token(header[7:].strip())
        if found is not None:
            request.user = found
            return found
    return user
