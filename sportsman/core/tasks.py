"""Core background tasks: event dispatch and the housekeeping jobs of the schedule.

Tasks take ids and plain values only; each re-reads what it needs from the database.
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

# How long a stored idempotent answer is replayed; a client retrying later runs the write anew.
IDEMPOTENCY_KEY_TTL = timedelta(hours=48)
# Finished task results (successful or failed) are kept this long for inspection.
TASK_RESULT_TTL = timedelta(days=7)
# Scheduled-run rows older than this can no longer be the latest slot of any job.
SCHEDULED_RUN_TTL = timedelta(days=30)


@task()
def dispatch_event(event_id: int) -> dict:
    """Run the consumers of one just-published event (queued by ``events.publish`` on commit)."""
    from sportsman.core.events import dispatch

    return dispatch(event_ids=[event_id]).as_dict()


@task()
def sweep_events() -> dict:
    """Re-dispatch whatever is still pending: a crashed worker's or a failed consumer's pairs."""
    from sportsman.core.events import dispatch

    return dispatch(limit=1000).as_dict()


@task()
def prune_idempotency_keys() -> int:
    from sportsman.core.models import IdempotencyKey

    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_KEY_TTL).delete()
    return deleted


@task()
def prune_task_results() -> int:
    from django_tasks_db.models import DBTaskResult

    deleted, _ = DBTaskResult.objects.finished().filter(
        finished_at__lt=timezone.now() - TASK_RESULT_TTL).delete()
    return deleted


@task()
def prune_scheduled_runs() -> int:
    from sportsman.core.models import ScheduledRun
    from sportsman.core.scheduler import longest_period

    keep = max(SCHEDULED_RUN_TTL, 2 * longest_period())
    deleted, _ = ScheduledRun.objects.filter(due_at__lt=timezone.now() - keep).delete()
    return deleted
