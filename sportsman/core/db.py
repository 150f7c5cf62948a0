"""Database helpers shared by the apps."""

from __future__ import annotations

from django.db import connection, models

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
