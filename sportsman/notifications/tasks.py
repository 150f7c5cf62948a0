"""Delivery tasks. They carry ids and batch keys only (never model instances) and may run any
number of times: the sender claims rows from the Delivery table, so a repeat finds nothing due.

``deliver_due_task`` is the sweep: run it every minute from the scheduler. It sends what was
deferred (quiet hours, retry backoff) on task backends without ``run_after`` and anything a lost
task or a crashed worker left queued.
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register
from sportsman.notifications import services


@task()
def deliver_batch(batch: str) -> dict[str, int]:
    """Send what is due of one ``notify()`` call."""
    return services.deliver_due(batch=batch).as_dict()


@task()
def deliver(delivery_ids: list[int]) -> dict[str, int]:
    """Send these deliveries if they are due (a retry's or a quiet period's wake-up)."""
    return services.deliver_due(ids=list(delivery_ids)).as_dict()


@task()
def deliver_due_task() -> dict[str, int]:
    """The sweep: send every due delivery, at most 10,000 per run."""
    return services.deliver_due().as_dict()


register(Job("notifications.deliver_due", "sportsman.notifications.tasks.deliver_due_task",
             every=timedelta(minutes=1)))


@task()
def run_campaign_task(campaign_id: int) -> dict[str, object]:
    """Send what is left of one campaign (any number of runs, see campaigns.run_campaign)."""
    from sportsman.notifications import campaigns

    return campaigns.run_campaign(campaign_id).as_dict()


@task()
def campaigns_due_task() -> dict[str, int]:
    """The campaign sweep: start scheduled campaigns whose time came and resume any a lost
    job left sending."""
    from sportsman.notifications import campaigns

    ran = 0
    for campaign_id in campaigns.start_due():
        campaigns.run_campaign(campaign_id)
        ran += 1
    return {"campaigns": ran}


register(Job("notifications.campaigns_due", "sportsman.notifications.tasks.campaigns_due_task",
             every=timedelta(minutes=1)))
