"""Periodic jobs: one schedule in code, each due run enqueued exactly once.

A :class:`Job` runs every ``every`` (slots aligned to the Unix epoch: a 1-minute job is due at
every whole minute) or daily at ``daily_at`` in Asia/Shanghai. Each tick computes, per job, the
latest slot that is due and, in ONE transaction, inserts ``ScheduledRun(job, due_at)`` and
enqueues the job's task. ``(job, due_at)`` is unique, so a second scheduler's insert fails (it
waits for the first one's commit, then hits the constraint) and it skips. The django_tasks_db
queue lives in the same database, so the run row and the queued task commit together: each slot
is enqueued exactly once however many schedulers run, and never lost to a crash between the two.

Only the latest slot is enqueued: a scheduler that was down for an hour runs a minute job once,
not sixty times. Apps add jobs with :func:`register` at import time of their ``tasks`` module
(the scheduler imports every app's ``tasks``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules, import_string

from sportsman.core.models import ScheduledRun

logger = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    """``task``: import path of a ``django.tasks`` task taking no arguments."""

    name: str
    task: str
    every: timedelta | None = None
    daily_at: time | None = None

    def __post_init__(self) -> None:
        if (self.every is None) == (self.daily_at is None):
            raise ValueError(f"job {self.name!r}: give exactly one of every= or daily_at=")
        if self.every is not None and self.every < timedelta(seconds=1):
            raise ValueError(f"job {self.name!r}: the interval must be at least a second")
        if len(self.name) > 128:
            raise ValueError(f"job {self.name!r}: the name is longer than 128 characters")

    @property
    def period(self) -> timedelta:
        return self.every if self.every is not None else timedelta(days=1)

    def slot(self, now: datetime) -> datetime:
        """The latest due time at or before ``now`` (aware, UTC)."""
        if self.every is not None:
            return _EPOCH + ((now - _EPOCH) // self.every) * self.every
        assert self.daily_at is not None
        local = now.astimezone(LOCAL_TZ)
        due = datetime.combine(local.date(), self.daily_at, tzinfo=LOCAL_TZ)
        if due > local:
            due -= timedelta(days=1)
        return due.astimezone(UTC)


SCHEDULE: list[Job] = [
    Job("core.sweep_events", "sportsman.core.tasks.sweep_events", every=timedelta(minutes=1)),
    Job("core.prune_idempotency_keys", "sportsman.core.tasks.prune_idempotency_keys",
        daily_at=time(3, 10)),
    Job("core.prune_task_results", "sportsman.core.tasks.prune_task_results",
        daily_at=time(3, 20)),
    Job("core.prune_scheduled_runs", "sportsman.core.tasks.prune_scheduled_runs",
        daily_at=time(3, 30)),
]


def register(job: Job) -> Job:
    """Add a job to the schedule (idempotent for an identical job; a clash of names fails)."""
    for existing in SCHEDULE:
        if existing.name == job.name:
            if existing != job:
                raise ValueError(f"a different job named {job.name!r} is already scheduled")
            return existing
    SCHEDULE.append(job)
    return job


def longest_period() -> timedelta:
    return max((job.period for job in SCHEDULE), default=timedelta(days=1))


_discovered = False


def autodiscover() -> None:
    """Import every app's ``tasks`` module, where apps register their jobs."""
    global _discovered
    if not _discovered:
        autodiscover_modules("tasks")
        _discovered = True


def problems() -> list[str]:
    """What is wrong with the schedule (a task path that does not import or is not a task)."""
    found = []
    for job in SCHEDULE:
        try:
            task = import_string(job.task)
        except ImportError as exc:
            found.append(f"{job.name}: {job.task} does not import ({exc})")
            continue
        if not isinstance(task, Task):
            found.append(f"{job.name}: {job.task} is not a django.tasks task")
    return found


def enqueue_once(job: Job, due_at: datetime) -> ScheduledRun | None:
    """Insert the run row and enqueue the task in one transaction; None if already done.

    Safe under any number of concurrent callers for the same ``(job, due_at)``."""
    task = import_string(job.task)
    if not isinstance(task, Task):
        raise TypeError(f"job {job.name!r}: {job.task} is not a django.tasks task")
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(job=job.name, due_at=due_at)
            if _queue_shares_the_database(task):
                result = task.enqueue()
                run.task_id = str(result.id)
                run.save(update_fields=["task_id"])
            else:
                # A queue outside the database cannot join this transaction: enqueue after
                # commit (at most once; a crash in between loses this slot's run).
                transaction.on_commit(task.enqueue)
    except IntegrityError:
        return None  # another scheduler enqueued this slot
    logger.info("scheduled %s for %s", job.name, due_at.isoformat())
    return run


def _queue_shares_the_database(task: Task) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def tick(now: datetime | None = None) -> list[ScheduledRun]:
    """Enqueue every job whose latest slot has no run yet; returns the runs this call created."""
    autodiscover()
    now = now or timezone.now()
    created = []
    for job in list(SCHEDULE):
        due_at = job.slot(now)
        # Cheap read first: most ticks find the slot done and take no write lock (SQLite).
        if ScheduledRun.objects.filter(job=job.name, due_at=due_at).exists():
            continue
        run = enqueue_once(job, due_at)
        if run is not None:
            created.append(run)
    return created
