"""Helpers for tests of concurrency: the project's promise that scarce things are safe under
concurrent requests is shown by racing real threads, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connections


def race(fn: Callable[[int], Any], n: int, *, timeout: float = 60) -> list[Any]:
    """Run ``fn(i)`` for i in 0..n-1 in ``n`` threads released together by a barrier.

    Returns each call's result, or the exception it raised, in index order (so a test asserts on
    failures instead of losing them in a thread). Every thread closes its own connections.
    Use it from ``django_db(transaction=True)`` tests: the threads see only committed data.
    """
    barrier = threading.Barrier(n)
    outcomes: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcomes[i] = fn(i)
        except BaseException as exc:  # returned to the test, never swallowed
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    if any(t.is_alive() for t in threads):
        raise TimeoutError(f"a racing thread did not finish within {timeout} s")
    close_old_connections()
    return outcomes


def failures(outcomes: list[Any]) -> list[BaseException]:
    return [o for o in outcomes if isinstance(o, BaseException)]


def clear_audit_log_for_flush() -> None:
    """Empty the audit log so a transactional test's closing flush can run.

    The log is append-only (migration core/0002): on SQLite a trigger refuses DELETE, and the
    flush that ends a ``transaction=True`` test deletes every table; PostgreSQL's flush
    TRUNCATEs, which row triggers do not see. So on SQLite the trigger is lifted for this one
    DELETE and put back exactly as the migration made it. Tests only: production never deletes
    audit entries."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS core_auditentry_no_delete")
        cursor.execute("DELETE FROM core_auditentry")
        cursor.execute("CREATE TRIGGER core_auditentry_no_delete BEFORE DELETE ON core_auditentry "
                       "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;")
