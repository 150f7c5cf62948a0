"""Domain events: recorded in the transaction of the change, consumed exactly once per consumer.

``publish(name, payload)`` inserts a :class:`DomainEvent` row inside the caller's transaction and,
on commit, queues a task that dispatches it. Consumers register with
``@consumer("event.name", name="app.consumer_name")`` in their app's ``consumers.py`` (found by
:func:`autodiscover`). :func:`dispatch` runs every pending (event, consumer) pair in its own
transaction: it inserts the :class:`EventDelivery` row (unique per pair) and runs the handler;
both commit together or not at all. So

- a handler that raises, or a worker that dies mid-way, leaves no delivery row and no partial
  effect: the pair stays pending and the next dispatch or the periodic sweep retries it;
- a replay finds the delivery row and skips the pair: nothing is done twice;
- two dispatchers racing on one pair: on PostgreSQL the event row is locked with
  ``SKIP LOCKED`` (the loser moves on to other events); on SQLite write transactions are
  serialised and the loser finds the delivery row. The unique constraint backs both.

Handlers receive the event (read ``event.payload``; never model instances) and must only touch
the database through the ORM on the default connection, so their writes share the transaction.
See docs/jobs-and-events.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from sportsman.core.models import DomainEvent, EventDelivery

logger = logging.getLogger(__name__)

Handler = Callable[[DomainEvent], Any]


@dataclass(frozen=True)
class Consumer:
    event: str
    name: str
    handler: Handler


# event name -> consumers, in registration order
_CONSUMERS: dict[str, list[Consumer]] = {}
_discovered = False


def consumer(event: str, *, name: str) -> Callable[[Handler], Handler]:
    """Register ``handler(event)`` for events called ``event``.

    ``name`` identifies the consumer in delivery records: keep it stable (renaming it makes every
    pending and future event look unhandled by the new name, and it is never re-run for settled
    events)."""

    def register(handler: Handler) -> Handler:
        existing = _CONSUMERS.setdefault(event, [])
        for c in existing:
            if c.name == name and c.handler is not handler:
                raise ValueError(f"consumer {name!r} is already registered for {event!r}")
        if not any(c.name == name for c in existing):
            existing.append(Consumer(event=event, name=name, handler=handler))
        return handler

    return register


def consumers_for(event: str) -> list[Consumer]:
    return list(_CONSUMERS.get(event, ()))


def autodiscover() -> None:
    """Import ``consumers`` modules of every installed app, once per process."""
    global _discovered
    if not _discovered:
        autodiscover_modules("consumers")
        _discovered = True


def publish(name: str, payload: dict[str, Any]) -> DomainEvent:
    """Record the event ``name`` inside the caller's transaction and dispatch it after commit.

    Must run inside ``transaction.atomic`` (the change the event describes and the event commit
    together, or neither does). ``payload`` must be JSON: ids and plain values, never model
    instances. Side effect: a dispatch task queued on commit."""
    if not connection.in_atomic_block:
        raise RuntimeError("publish() must run inside the transaction of the change it describes")
    if not 0 < len(name) <= 64:
        raise ValueError(f"event name {name!r} must be 1–64 characters")
    json.dumps(payload, cls=DjangoJSONEncoder)  # refuse a payload the row cannot hold
    event = DomainEvent.objects.create(name=name, payload=payload)
    event_id = event.pk

    def enqueue() -> None:
        from sportsman.core.tasks import dispatch_event

        dispatch_event.enqueue(event_id)

    transaction.on_commit(enqueue)
    return event


@dataclass
class DispatchReport:
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    settled: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "failed": self.failed, "skipped": self.skipped,
                "settled": self.settled}


def dispatch(*, limit: int = 500, event_ids: list[int] | None = None) -> DispatchReport:
    """Run every pending (event, consumer) pair of up to ``limit`` pending events, oldest first.

    Each pair runs in its own transaction; a handler's exception is logged and leaves the pair
    pending. An event whose consumers have all handled it is marked settled. Safe to run in
    several processes at once and to run again at any time."""
    autodiscover()
    report = DispatchReport()
    pending = DomainEvent.objects.filter(settled_at__isnull=True)
    if event_ids is not None:
        pending = pending.filter(pk__in=event_ids)
    for event_id, event_name in pending.order_by("id").values_list("id", "name")[:limit]:
        complete = True
        for c in consumers_for(event_name):
            outcome = _deliver(event_id, c)
            if outcome == "delivered":
                report.delivered += 1
            elif outcome == "failed":
                report.failed += 1
                report.errors.append(f"{event_name}#{event_id} → {c.name}")
                complete = False
            elif outcome == "locked":
                report.skipped += 1
                complete = False
        if complete and _settle(event_id, event_name):
            report.settled += 1
    return report


def _locked_event(event_id: int) -> DomainEvent | None:
    qs = DomainEvent.objects.filter(pk=event_id)
    if connection.features.has_select_for_update_skip_locked:
        # Another dispatcher holding this event: leave it to them, take the next one.
        qs = qs.select_for_update(skip_locked=True)
    return qs.first()


def _deliver(event_id: int, c: Consumer) -> str:
    """One pair in one transaction: "delivered", "done" (already), "locked" or "failed"."""
    try:
        with transaction.atomic():
            event = _locked_event(event_id)
            if event is None:
                return "locked"
            if EventDelivery.objects.filter(event_id=event_id, consumer=c.name).exists():
                return "done"
            try:
                with transaction.atomic():
                    EventDelivery.objects.create(event=event, consumer=c.name)
            except IntegrityError:
                return "done"  # a concurrent dispatcher delivered it first
            c.handler(event)
    except Exception:
        # The pair's transaction rolled back: no delivery row, no partial effect. The sweep
        # retries it; a handler that keeps failing is logged on every attempt.
        logger.exception("consumer %s failed on event %s#%s", c.name, c.event, event_id)
        return "failed"
    return "delivered"


def _settle(event_id: int, event_name: str) -> bool:
    """Mark the event settled if every registered consumer has a delivery row."""
    names = {c.name for c in consumers_for(event_name)}
    if names:
        delivered = set(EventDelivery.objects.filter(event_id=event_id, consumer__in=names)
                        .values_list("consumer", flat=True))
        if delivered != names:
            return False
    return bool(DomainEvent.objects.filter(pk=event_id, settled_at__isnull=True)
                .update(settled_at=timezone.now()))
