"""Periodic jobs of points and the catalogue."""

from __future__ import annotations

import datetime as dt

from django.tasks import task
from django.utils import timezone

from sportsman.core.scheduler import LOCAL_TZ, Job, register


@task()
def award_activity_points() -> int:
    """Award yesterday's (local day) verified minutes their points; safe to rerun."""
    from sportsman.rewards.points import award_activity_day

    yesterday = timezone.localtime(timezone.now(), LOCAL_TZ).date() - dt.timedelta(days=1)
    return award_activity_day(day=yesterday)


# After the activity rollups of the night are in.
register(Job("rewards.award_activity_points", "sportsman.rewards.tasks_points.award_activity_points",
             daily_at=dt.time(3, 30)))
