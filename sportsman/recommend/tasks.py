"""The recommender's jobs: retrain and recompute everyone nightly (and on demand), recompute
one resident (queued by the consumers after a behaviour change). Tasks take ids only."""

from __future__ import annotations

from datetime import time

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def recompute_recommendations() -> dict:
    from sportsman.recommend.services import recompute_all

    return recompute_all()


@task()
def recompute_resident(user_id: int) -> int:
    from sportsman.recommend.services import recompute_user

    return recompute_user(user_id)


register(Job("recommend.recompute", "sportsman.recommend.tasks.recompute_recommendations",
             daily_at=time(4, 0)))
