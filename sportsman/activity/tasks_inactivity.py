"""Periodic jobs of the inactivity warnings (registered with the scheduler at import)."""

from __future__ import annotations

from datetime import time

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def send_inactivity_nudges() -> int:
    """On Mondays, nudge residents whose exercise dropped below their own baseline."""
    from sportsman.activity.inactivity import send_nudges

    return send_nudges()


@task()
def mark_inactivity_returns() -> int:
    """Record which nudged residents exercised again within 14 days."""
    from sportsman.activity.inactivity import mark_returns

    return mark_returns()


register(Job("activity.send_inactivity_nudges",
             "sportsman.activity.tasks_inactivity.send_inactivity_nudges", daily_at=time(9)))
register(Job("activity.mark_inactivity_returns",
             "sportsman.activity.tasks_inactivity.mark_inactivity_returns", daily_at=time(3)))
