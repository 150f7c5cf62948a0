"""Webhook sending in the background worker: woken after a delivery is queued (on commit) and
at each retry's time where the backend defers tasks; the minute sweep picks up anything else
(a lost wake-up, a worker that died holding a lease)."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def send_webhooks(ids: list[int] | None = None) -> dict:
    from sportsman.interfaces.webhooks import send_due

    return send_due(ids=ids).as_dict()


@task()
def sweep_webhooks() -> dict:
    from sportsman.interfaces.webhooks import send_due

    return send_due(limit=1000).as_dict()


register(Job("interfaces.sweep_webhooks", "sportsman.interfaces.tasks.sweep_webhooks",
             every=timedelta(minutes=1)))


# --- OpenActive feeds (docs/openactive.md) ----------------------------------------------------


@task()
def sync_openactive() -> dict:
    from sportsman.interfaces.feeds import sync

    return sync().as_dict()


register(Job("interfaces.sync_openactive", "sportsman.interfaces.tasks.sync_openactive",
             every=timedelta(minutes=5)))
@task()
def run_exchange(job_id: int) -> dict:
    """Run one queued bulk import (docs/exchange.md); a job already taken is left alone."""
    from sportsman.interfaces.exchange import run_import

    job = run_import(job_id)
    return {"job": job_id, "status": job.status if job else "skipped"}


@task()
def sweep_exchange() -> dict:
    """Enqueue imports whose task was lost and re-run those whose worker died."""
    from sportsman.interfaces.exchange import requeue_stale

    ids = sorted(set(requeue_stale()))
    for job_id in ids:
        run_exchange.enqueue(job_id)
    return {"enqueued": ids}


register(Job("interfaces.sweep_exchange", "sportsman.interfaces.tasks.sweep_exchange",
             every=timedelta(minutes=1)))
