"""Quiet hours arithmetic, in the residents' local time (Asia/Shanghai, which has no DST)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def quiet_until(start: time, end: time, now: datetime) -> datetime | None:
    """The end of the quiet period that ``now`` falls in, or None when ``now`` is not quiet.

    The period is [start, end) in local time; ``start`` after ``end`` spans midnight."""
    local = now.astimezone(LOCAL_TZ)
    t = local.time().replace(tzinfo=None)
    today = local.date()
    if start < end:
        if start <= t < end:
            return datetime.combine(today, end, tzinfo=LOCAL_TZ)
        return None
    if t >= start:
        return datetime.combine(today + timedelta(days=1), end, tzinfo=LOCAL_TZ)
    if t < end:
        return datetime.combine(today, end, tzinfo=LOCAL_TZ)
    return None
