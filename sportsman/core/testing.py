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
