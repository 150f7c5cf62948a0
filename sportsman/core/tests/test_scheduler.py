"""The scheduler: every due slot of every job is enqueued exactly once, however many schedulers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sportsman.core import scheduler
from sportsman.core.models import IdempotencyKey, ScheduledRun
from sportsman.core.scheduler import Job
from sportsman.core.tasks import prune_idempotency_keys, prune_task_results
from sportsman.core.testing import race

MANAGE = Path(settings.BASE_DIR) / "manage.py"
AT = "2026-03-04T05:06:30+00:00"


def at(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def subprocess_env() -> dict[str, str]:
    """The environment for a child process that must use this test's database."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{Path(db['NAME']).resolve()}"
    else:
        auth = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}"
                                              if db["PASSWORD"] else "")
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
        url = f"postgres://{auth}@{host}:{port}/{quote(db['NAME'], safe='')}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["DATABASE_URL"] = url
    env["SECRET_KEY"] = settings.SECRET_KEY
    env["FIELD_ENCRYPTION_KEY"] = settings.FIELD_ENCRYPTION_KEY
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def test_interval_slots_are_aligned_to_whole_intervals():
    job = Job("t", "x.y", every=timedelta(minutes=15))
    assert job.slot(at("2026-03-04T05:06:30+00:00")) == at("2026-03-04T05:00:00+00:00")
    assert job.slot(at("2026-03-04T05:15:00+00:00")) == at("2026-03-04T05:15:00+00:00")
    assert job.slot(at("2026-03-04T05:14:59.999+00:00")) == at("2026-03-04T05:00:00+00:00")


def test_daily_slots_are_at_the_shanghai_time_of_day():
    job = Job("t", "x.y", daily_at=clock(3, 10))
    # 02:00 in Shanghai (18:00 UTC the day before): today's 03:10 is not due yet.
    assert job.slot(at("2026-03-04T02:00:00+08:00")) == at("2026-03-03T03:10:00+08:00")
    assert job.slot(at("2026-03-04T03:10:00+08:00")) == at("2026-03-04T03:10:00+08:00")
    assert job.slot(at("2026-03-04T23:59:00+08:00")) == at("2026-03-04T03:10:00+08:00")
    assert job.slot(at("2026-03-04T03:10:00+08:00")).tzinfo == UTC


def test_a_job_needs_exactly_one_kind_of_period():
    with pytest.raises(ValueError, match="exactly one"):
        Job("t", "x.y")
    with pytest.raises(ValueError, match="exactly one"):
        Job("t", "x.y", every=timedelta(minutes=1), daily_at=clock(1, 0))


def test_registering_a_different_job_under_a_taken_name_fails(monkeypatch):
    monkeypatch.setattr(scheduler, "SCHEDULE", list(scheduler.SCHEDULE))
    job = Job("test.job", "sportsman.core.tasks.sweep_events", every=timedelta(hours=1))
    assert scheduler.register(job) is job
    assert scheduler.register(Job(**job.__dict__)) is job  # re-import: no duplicate
    with pytest.raises(ValueError, match="already scheduled"):
        scheduler.register(Job("test.job", "sportsman.core.tasks.sweep_events",
                               every=timedelta(hours=2)))
    assert [j.name for j in scheduler.SCHEDULE].count("test.job") == 1


@pytest.mark.django_db
def test_a_tick_enqueues_each_due_job_once_and_the_next_slot_again():
    scheduler.autodiscover()
    runs = scheduler.tick(at(AT))
    assert {r.job for r in runs} == {j.name for j in scheduler.SCHEDULE}
    assert DBTaskResult.objects.count() == len(scheduler.SCHEDULE)
    for run in runs:
        assert DBTaskResult.objects.filter(pk=run.task_id).exists()

    assert scheduler.tick(at(AT) + timedelta(seconds=20)) == []  # same slots: nothing

    next_minute = at(AT) + timedelta(minutes=1)
    later = scheduler.tick(next_minute)
    moved = {j.name for j in scheduler.SCHEDULE if j.slot(next_minute) != j.slot(at(AT))}
    assert "core.sweep_events" in moved
    assert "core.prune_task_results" not in moved
    assert {r.job for r in later} == moved
    assert DBTaskResult.objects.filter(task_path="sportsman.core.tasks.sweep_events").count() == 2


@pytest.mark.django_db(transaction=True)
def test_threads_racing_on_one_slot_enqueue_it_exactly_once():
    job = Job("core.sweep_events", "sportsman.core.tasks.sweep_events", every=timedelta(minutes=1))
    due = job.slot(at(AT))
    racers = 4
    # no pre-check: every racer goes straight at the insert
    results = race(lambda i: scheduler.enqueue_once(job, due), racers)

    winners = [r for r in results if isinstance(r, ScheduledRun)]
    assert len(results) == racers
    assert len(winners) == 1, results
    assert results.count(None) == racers - 1
    run = ScheduledRun.objects.get()
    assert (run.job, run.due_at) == (job.name, due)
    task = DBTaskResult.objects.get()
    assert str(task.pk) == run.task_id
    assert task.task_path == job.task


@pytest.mark.django_db(transaction=True)
def test_scheduler_processes_racing_on_the_same_tick_enqueue_each_slot_exactly_once():
    scheduler.autodiscover()
    env = subprocess_env()
    cmd = [sys.executable, str(MANAGE), "scheduler", "--once", "--at", AT]
    procs = [subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs

    jobs = {j.name: j for j in scheduler.SCHEDULE}
    runs = list(ScheduledRun.objects.all())
    assert sorted(r.job for r in runs) == sorted(jobs)  # one run per job, none twice
    for run in runs:
        assert run.due_at == jobs[run.job].slot(at(AT))
    tasks = list(DBTaskResult.objects.all())
    assert sorted(t.task_path for t in tasks) == sorted(j.task for j in jobs.values())
    assert {str(t.pk) for t in tasks} == {r.task_id for r in runs}
    # Every enqueue was reported by exactly one of the processes.
    reported = "".join(out for out, _ in outputs)
    assert reported.count("enqueued ") == len(jobs)


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_loop_ticks_and_stops_cleanly_on_sigterm():
    proc = subprocess.Popen([sys.executable, str(MANAGE), "scheduler", "--interval", "0.2"],
                            env=subprocess_env(), cwd=settings.BASE_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ScheduledRun.objects.filter(job="core.sweep_events").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scheduler never ticked"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "scheduler stopped" in err


def test_a_broken_schedule_stops_the_scheduler_at_start(monkeypatch):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    scheduler.autodiscover()
    monkeypatch.setattr(scheduler, "SCHEDULE", [
        *scheduler.SCHEDULE,
        Job("test.missing", "sportsman.core.tasks.no_such_task", every=timedelta(hours=1)),
        Job("test.not_a_task", "sportsman.core.scheduler.tick", every=timedelta(hours=1))])
    with pytest.raises(CommandError) as excinfo:
        call_command("scheduler", "--once")
    assert "test.missing" in str(excinfo.value)
    assert "test.not_a_task" in str(excinfo.value)
    assert scheduler.problems() != []


def test_the_shipped_schedule_is_sound():
    scheduler.autodiscover()
    assert scheduler.problems() == []


def test_at_needs_once():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--once"):
        call_command("scheduler", "--at", AT)


@pytest.mark.django_db
def test_pruning_idempotency_keys_removes_only_expired_ones():
    old = IdempotencyKey.objects.create(owner="user:1", key="a", request_hash="h")
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    fresh = IdempotencyKey.objects.create(owner="user:1", key="b", request_hash="h")
    assert prune_idempotency_keys.call() == 1
    assert list(IdempotencyKey.objects.all()) == [fresh]


@pytest.mark.django_db
def test_pruning_task_results_removes_only_old_finished_ones():
    from django.tasks.base import TaskResultStatus

    results = [prune_idempotency_keys.enqueue().id for _ in range(3)]
    long_ago = timezone.now() - timedelta(days=30)
    DBTaskResult.objects.filter(pk=results[0]).update(status=TaskResultStatus.SUCCESSFUL,
                                                     finished_at=long_ago)
    DBTaskResult.objects.filter(pk=results[1]).update(status=TaskResultStatus.FAILED,
                                                     finished_at=timezone.now())
    assert prune_task_results.call() == 1
    assert set(DBTaskResult.objects.values_list("pk", flat=True).order_by()) == {
        DBTaskResult.objects.get(pk=results[1]).pk, DBTaskResult.objects.get(pk=results[2]).pk}
