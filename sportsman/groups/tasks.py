"""Groups' periodic jobs (registered with the scheduler at import): finishing group activities
that ended an hour ago (their attendance goes to the exercise record), and the nightly activity
index behind the star groups. Tasks take no arguments."""

from __future__ import annotations

from datetime import time, timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def finish_group_activities() -> int:
    from sportsman.groups.activities import finish_due

    return finish_due()


@task()
def refresh_group_index() -> int:
    from sportsman.groups.stars import refresh_due

    return refresh_due()


register(Job("groups.finish_activities", "sportsman.groups.tasks.finish_group_activities",
             every=timedelta(minutes=10)))
register(Job("groups.refresh_index", "sportsman.groups.tasks.refresh_group_index",
             daily_at=time(2, 20)))
