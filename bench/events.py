"""Event figures (issue 11): registrations under contention and the events list.

Being built: ``measure_all`` is filled in with the events app.
"""

from __future__ import annotations

from typing import Any

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("POST /api/v1/events/{id}/registrations / bare booking, SQLite",
     ("events", "registrations_sqlite", "ratio_to_bare_booking"), "min", 0.5),
    ("POST /api/v1/events/{id}/registrations / bare booking, PostgreSQL",
     ("events", "registrations_postgres", "ratio_to_bare_booking"), "min", 0.5),
    ("GET /api/v1/events at 10,000 events / bare PK read",
     ("events", "list_10000", "ratio_to_pk_read"), "min", 0.5),
]


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print) -> dict:
    raise NotImplementedError("the events figures are being built (issue 11)")
