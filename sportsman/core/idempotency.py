"""``Idempotency-Key`` for API writes that a phone or a device may retry.

Put ``@idempotent`` under the operation's access mark::

    @router.post("/bookings", response={201: BookingOut})
    @for_self
    @idempotent
    def book(request, data: BookIn): ...

A request without the header runs as usual. With it, the key is stored per owner
(``user:<id>``, else ``ip:<address>``) together with a hash of the request (method, path, query,
body) and, in the SAME transaction as the operation, the answer (status and JSON body):

- a retry with the same key and the same request gets the stored answer (same status, same
  body) and the operation does not run again;
- the same key with a different request is refused: 422 ``idempotency_key_reused``;
- a concurrent duplicate waits for the first one's transaction (the unique (owner, key) insert
  blocks) and then gets the stored answer; if it cannot get the lock in time (SQLite's busy
  timeout) it gets 409 ``idempotency_in_progress`` and may retry;
- an operation that fails (a DomainError, any exception) rolls back with its key: a retry runs
  it anew, which is safe because the failure changed nothing.

The operation therefore runs inside one transaction: its services' ``atomic`` blocks become
savepoints and their ``on_commit`` side effects fire once the answer is stored. Return dicts,
lists or schemas (what Ninja serialises), not model instances: the answer is stored as JSON.
Stored answers are replayed for ``tasks.IDEMPOTENCY_KEY_TTL`` (pruned daily by the scheduler).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext_lazy as _
from ninja.responses import NinjaJSONEncoder, Status

from sportsman.core.client import client_ip
from sportsman.core.errors import Conflict, DomainError, InvalidInput
from sportsman.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces

F = TypeVar("F", bound=Callable[..., Any])


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used for a different request.")


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    default_message = _("A request with this Idempotency-Key is still being processed. "
                        "Try again in a moment.")


def owner_for(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or ''}"[:64]


def request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode())
        digest.update(b"\0")
    try:
        digest.update(request.body)
    except RawPostDataException:  # multipart, already parsed: hash the fields and files
        for name, value in sorted(request.POST.lists()):
            digest.update(f"{name}={value}\0".encode())
        for name, uploads in sorted(request.FILES.lists()):
            for upload in uploads:
                digest.update(f"{name}:{upload.name}:{upload.size}\0".encode())
    return digest.hexdigest()


def _answer(result: Any) -> tuple[int, Any]:
    """(status, JSON value) of what the operation returned."""
    if isinstance(result, Status):
        status, value = result.status_code, result.value
    elif (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int)):
        status, value = result
    elif isinstance(result, HttpResponse):
        content = result.content.decode() if result.content else "null"
        return result.status_code, json.loads(content)
    else:
        status, value = 200, result
    return status, json.loads(json.dumps(value, cls=NinjaJSONEncoder))


def _replay(stored: IdempotencyKey, digest: str) -> Any:
    if stored.request_hash != digest:
        raise IdempotencyKeyReused()
    if stored.status_code is None:  # not written by this module; never committed half-done
        raise IdempotencyInProgress()
    # Through Ninja again: the same response schema shapes it exactly as the first time.
    if stored.status_code == 200:
        return stored.response
    return Status(stored.status_code, stored.response)


def _claim(owner: str, key: str, digest: str) -> int | None:
    """Insert the key unless it exists (one statement, no savepoint): its id, or None when a
    request with this key was stored first."""
    from django.db import connection
    from django.utils import timezone

    qn = connection.ops.quote_name
    table = qn(IdempotencyKey._meta.db_table)
    columns = ", ".join(qn(c) for c in ("owner", "key", "request_hash", "created_at"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s) "  # noqa: S608 (names)
            f"ON CONFLICT ({qn('owner')}, {qn('key')}) DO NOTHING RETURNING {qn('id')}",
            [owner, key, digest, connection.ops.adapt_datetimefield_value(timezone.now())])
        row = cursor.fetchone()
    return row[0] if row else None


def idempotent(view: F) -> F:
    """Make a write operation safe to retry with an ``Idempotency-Key`` header."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(request, *args, **kwargs)
        if not _KEY_RE.match(key):
            raise InvalidInput(_("The Idempotency-Key header must be 1–128 printable characters."),
                               code="invalid_idempotency_key")
        owner, digest = owner_for(request), request_hash(request)
        try:
            with transaction.atomic():
                # On PostgreSQL the insert waits while a concurrent duplicate holds the key and
                # then inserts nothing once it commits; on SQLite the write lock serialises us.
                claim_id = _claim(owner, key, digest)
                if claim_id is None:
                    return _replay(IdempotencyKey.objects.get(owner=owner, key=key), digest)
                result = view(request, *args, **kwargs)
                status, value = _answer(result)
                IdempotencyKey.objects.filter(pk=claim_id).update(status_code=status,
                                                                  response=value)
                return result
        except OperationalError as exc:
            if "locked" in str(exc).lower():  # SQLite's busy timeout ran out
                raise IdempotencyInProgress() from exc
            raise

    return wrapper  # type: ignore[return-value]
