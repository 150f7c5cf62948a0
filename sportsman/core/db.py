"""Database helpers shared by the apps."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import connection, models
from django.db.models import F

from sportsman.regions.models import path_upper_bound

LOCK_MODES = frozenset({"EXCLUSIVE", "SHARE ROW EXCLUSIVE"})


def lock_table(model: type[models.Model], mode: str = "SHARE ROW EXCLUSIVE") -> None:
    """On PostgreSQL, lock ``model``'s table in ``mode`` until the transaction ends (call it
    inside one). SQLite needs nothing: its write transactions already run one at a time."""
    if mode not in LOCK_MODES:
        raise ValueError(f"unknown lock mode {mode!r}")
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN {mode} MODE")


def transition[M: models.Model](obj: M, to: str, *, table: Mapping[str, frozenset[str]],
                                stamps: Mapping[str, str], error: type[Exception],
                                at: Any = None) -> M:
    """Move ``obj`` (a model with ``status`` and ``updated_at``) to status ``to`` if ``table``
    allows it from its current status, by ONE conditional UPDATE on that status: a concurrent
    change makes it fail with ``error`` instead of applying twice. ``stamps`` names the time
    field set on reaching a status (``{"cancelled": "cancelled_at"}``)."""
    from django.utils import timezone

    current = obj.status  # type: ignore[attr-defined]
    if to not in table.get(current, frozenset()):
        raise error()
    at = at or timezone.now()
    changes: dict[str, Any] = {"status": to, "updated_at": at}
    if to in stamps:
        changes[stamps[to]] = at
    if not type(obj)._default_manager.filter(pk=obj.pk, status=current).update(**changes):
        raise error()
    for name, value in changes.items():
        setattr(obj, name, value)
    return obj


# --- plain SQL on both databases ------------------------------------------------------------------

def lease_due[M: models.Model](due: models.QuerySet[M], *, now: dt.datetime,
                                lease: dt.timedelta, size: int, **still: Any) -> uuid.UUID | None:
    """Lease up to ``size`` rows of ``due`` (oldest ``not_before`` first) to this worker: one
    conditional UPDATE stamps them with a new ``claim`` token, moves ``not_before`` past the
    lease and counts the attempt. The UPDATE is the lock: a row another worker leased first no
    longer matches ``not_before <= now`` (and ``still``, e.g. its status), so it is skipped; a
    worker that dies leaves its rows due again when the lease runs out. Returns the token (read
    the leased rows back by ``claim=token``), or None when nothing was due."""
    pick = list(due.order_by("not_before", "id").values_list("id", flat=True)[:size])
    if not pick:
        return None
    token = uuid.uuid4()
    due.model._default_manager.filter(id__in=pick, not_before__lte=now, **still).update(
        claim=token, not_before=now + lease, attempts=F("attempts") + 1)
    return token


def db_time(value: dt.datetime) -> Any:
    """A time as the database compares it (SQLite: the naive UTC text Django stores)."""
    return connection.ops.adapt_datetimefield_value(value)


def aware(value: Any) -> dt.datetime:
    """A time read by plain SQL as the ORM gives it: aware, in UTC (SQLite hands back the text
    Django stored, PostgreSQL an aware datetime)."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def subtree_sql(path: str, alias: str = "r") -> tuple[str, list[Any]]:
    """regions.subtree_q for a joined region ``alias``: a byte range on SQLite, ``LIKE
    'prefix%'`` on PostgreSQL (paths hold only digits and "/", nothing to escape)."""
    if connection.vendor == "sqlite":
        return f"({alias}.path >= %s AND {alias}.path < %s)", [path, path_upper_bound(path)]
    return f"{alias}.path LIKE %s", [f"{path}%"]
