"""Periodic jobs of the cockpit (registered with the scheduler at import)."""

from __future__ import annotations

from datetime import time, timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def refresh_recent_figures() -> int:
    """Bring every figure up to date, from the last day computed to today."""
    from sportsman.cockpit.tallies import refresh_recent

    return sum(refresh_recent().values())


@task()
def refresh_month_figures() -> int:
    """Recompute the last 35 days, so late records reach the month's figures."""
    from sportsman.cockpit.tallies import refresh_month

    return sum(refresh_month().values())


register(Job("cockpit.refresh_recent_figures",
             "sportsman.cockpit.tasks.refresh_recent_figures", every=timedelta(minutes=10)))
register(Job("cockpit.refresh_month_figures",
             "sportsman.cockpit.tasks.refresh_month_figures", daily_at=time(2, 30)))

from sportsman.cockpit import tasks_assessment, tasks_reports, tasks_supervision  # noqa: F401, E402
