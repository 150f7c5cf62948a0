"""Activity tasks and periodic jobs (registered with the scheduler at import): the ranking
boards every 30 minutes; the inactivity warnings in ``tasks_inactivity``."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.activity import tasks_inactivity  # noqa: F401
from sportsman.core.scheduler import Job, register


@task()
def rebuild_ranking_boards() -> None:
    """Rebuild the Redis ranking boards of the current periods (when Redis is configured)."""
    from sportsman.activity.rankings import rebuild_current_boards

    rebuild_current_boards()


register(Job("activity.rebuild_ranking_boards",
             "sportsman.activity.tasks.rebuild_ranking_boards", every=timedelta(minutes=30)))
