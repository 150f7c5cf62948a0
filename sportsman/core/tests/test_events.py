"""Domain events: recorded with the change, consumed once per consumer, nothing lost or doubled."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from sportsman.core import events
from sportsman.core.models import DomainEvent, EventDelivery
from sportsman.core.tasks import dispatch_event
from sportsman.core.testing import failures, race


class WorkerKilled(BaseException):
    """Stands in for a worker dying mid-handler: not an Exception, nothing catches it."""


@pytest.fixture
def registry(monkeypatch):
    """A consumer registry of the test's own (real apps' consumers are imported first)."""
    events.autodiscover()
    monkeypatch.setattr(events, "_CONSUMERS", {})
    return events


def effects(source_id: int) -> int:
    return DomainEvent.objects.filter(name="test.effect", payload__source=source_id).count()


def publish_one(name: str = "test.happened", **payload) -> DomainEvent:
    with transaction.atomic():
        return events.publish(name, payload)


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        events.publish("test.happened", {})
    assert not DomainEvent.objects.exists()


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_event_and_queues_nothing(
        django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(ZeroDivisionError), transaction.atomic()):
        events.publish("test.happened", {"n": 1})
        1 / 0  # noqa: B018 — the change fails after publishing
    assert callbacks == []
    assert not DomainEvent.objects.exists()


@pytest.mark.django_db
def test_publish_queues_a_dispatch_task_on_commit_which_runs_the_consumers(
        registry, django_capture_on_commit_callbacks):
    seen = []

    @registry.consumer("test.happened", name="test.recorder")
    def record(event):
        seen.append(event.payload["n"])

    with django_capture_on_commit_callbacks(execute=True):
        event = publish_one(n=7)
    queued = DBTaskResult.objects.get(task_path="sportsman.core.tasks.dispatch_event")
    assert queued.args_kwargs["args"] == [event.pk]

    dispatch_event.call(event.pk)  # what the worker does with the queued task
    assert seen == [7]
    event.refresh_from_db()
    assert event.settled_at is not None


@pytest.mark.django_db
def test_a_payload_that_is_not_json_or_a_name_too_long_is_refused():
    with pytest.raises(TypeError), transaction.atomic():
        events.publish("test.happened", {"when": object()})
    with pytest.raises(ValueError, match="1–64"), transaction.atomic():
        events.publish("x" * 65, {})
    assert not DomainEvent.objects.exists()


@pytest.mark.django_db
def test_crashed_consumer_leaves_event_pending_without_partial_effect_and_replay_is_exact(
        registry):
    crash = {"raise": WorkerKilled}

    @registry.consumer("test.happened", name="test.steady")
    def steady(event):
        events.publish("test.effect", {"source": event.pk, "by": "steady"})

    @registry.consumer("test.happened", name="test.fragile")
    def fragile(event):
        events.publish("test.effect", {"source": event.pk, "by": "fragile"})  # half the work
        if crash["raise"]:
            raise crash["raise"]("worker died mid-way")

    event = publish_one()

    # Given a worker that dies inside the fragile consumer (after the steady one ran)
    with pytest.raises(WorkerKilled):
        events.dispatch()
    # then the steady consumer's work is committed, the fragile one's partial effect is not,
    # and the event is still pending.
    assert set(EventDelivery.objects.values_list("consumer", flat=True)) == {"test.steady"}
    assert list(DomainEvent.objects.filter(name="test.effect")
                .values_list("payload__by", flat=True)) == ["steady"]
    event.refresh_from_db()
    assert event.settled_at is None

    # A consumer that raises an ordinary error is logged and left pending too.
    crash["raise"] = RuntimeError
    report = events.dispatch()
    assert (report.delivered, report.failed) == (0, 1)
    assert effects(event.pk) == 1

    # When the fault is gone, a re-dispatch handles the pair once…
    crash["raise"] = None
    report = events.dispatch()
    assert (report.delivered, report.failed, report.settled) == (1, 0, 1)
    assert effects(event.pk) == 2
    assert EventDelivery.objects.filter(event=event).count() == 2
    event.refresh_from_db()
    assert event.settled_at is not None

    # …and replaying, even of an event forced back to pending, duplicates nothing.
    DomainEvent.objects.filter(pk=event.pk).update(settled_at=None)
    for _ in range(2):
        report = events.dispatch()
        assert report.delivered == 0
    assert effects(event.pk) == 2
    assert EventDelivery.objects.filter(event=event).count() == 2


@pytest.mark.django_db
def test_an_event_nobody_consumes_settles(registry):
    event = publish_one("test.unheard")
    assert events.dispatch().settled == 1
    event.refresh_from_db()
    assert event.settled_at is not None


@pytest.mark.django_db
def test_dispatch_limit_takes_the_oldest_pending_events_first(registry):
    handled = []

    @registry.consumer("test.happened", name="test.recorder")
    def record(event):
        handled.append(event.pk)

    first, second, third = (publish_one(n=i) for i in range(3))
    events.dispatch(limit=2)
    assert handled == [first.pk, second.pk]
    events.dispatch(limit=2)
    assert handled == [first.pk, second.pk, third.pk]


@pytest.mark.django_db
def test_a_consumer_name_cannot_be_taken_twice(registry):
    @registry.consumer("test.happened", name="test.one")
    def one(event):
        pass

    with pytest.raises(ValueError, match="already registered"):
        @registry.consumer("test.happened", name="test.one")
        def other(event):
            pass


@pytest.mark.django_db
def test_dispatch_events_command_delivers_and_reports(registry):
    handled = []

    @registry.consumer("test.happened", name="test.recorder")
    def record(event):
        handled.append(event.pk)

    event = publish_one()
    from io import StringIO

    out = StringIO()
    call_command("dispatch_events", "--all", stdout=out)
    assert handled == [event.pk]
    assert "delivered=1" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_handle_each_pair_exactly_once(registry):
    @registry.consumer("test.happened", name="test.a")
    def a(event):
        events.publish("test.effect", {"source": event.pk, "by": "a"})

    @registry.consumer("test.happened", name="test.b")
    def b(event):
        events.publish("test.effect", {"source": event.pk, "by": "b"})

    published = [publish_one(n=i) for i in range(12)]
    assert failures(race(lambda i: events.dispatch(), 3)) == []
    events.dispatch()  # the sweep: picks up anything a locked-out worker skipped
    for event in published:
        assert effects(event.pk) == 2
        assert EventDelivery.objects.filter(event=event).count() == 2
    assert not DomainEvent.objects.filter(name="test.happened", settled_at__isnull=True).exists()
