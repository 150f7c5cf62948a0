"""Rate limits counted from the rows a user's actions leave behind (codes sent, log-in attempts,
posts, chat messages): no separate counter to drift, and every process sees the same count.

``wait_seconds(rows, "created_at", Limit(5, timedelta(minutes=1)), now)`` is the number of
seconds until one more fits (``None``: it fits now). ``refuse_over(...)`` raises ``Throttled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models

from sportsman.core.errors import Throttled


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta


def wait_seconds(qs: models.QuerySet, time_field: str, limit: Limit, now: datetime) -> int | None:
    """Seconds to wait when the rows of ``qs`` inside the window leave no room for one more
    under ``limit``; ``None`` when there is room."""
    times = list(qs.filter(**{f"{time_field}__gt": now - limit.window})
                 .order_by(f"-{time_field}").values_list(time_field, flat=True)[:limit.count])
    if len(times) < limit.count:
        return None
    # one more fits once the oldest of the newest ``count`` rows has left the window
    freeing = times[-1]
    return max(1, int((freeing + limit.window - now).total_seconds()) + 1)


def refuse_over(qs: models.QuerySet, time_field: str, limits: tuple[Limit, ...], now: datetime,
                message: Any = None) -> None:
    """``Throttled`` (429, with ``Retry-After``) when any of ``limits`` is reached."""
    waits = [w for lim in limits if (w := wait_seconds(qs, time_field, lim, now)) is not None]
    if waits:
        raise Throttled(message, retry_after=max(waits))
