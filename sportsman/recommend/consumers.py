"""A resident's behaviour changed (a visit completed, an event attended): recompute their
recommendations with the trained item factors, so the next page reflects it without waiting
for the nightly retrain. Queued after the delivery commits; cheap (no training)."""

from __future__ import annotations

from django.db import transaction

from sportsman.core.events import consumer
from sportsman.core.models import DomainEvent


def _recompute_later(event: DomainEvent) -> None:
    user_id = (event.payload or {}).get("user_id")
    if not isinstance(user_id, int):
        return

    def enqueue() -> None:
        from sportsman.recommend.tasks import recompute_resident

        recompute_resident.enqueue(user_id)

    transaction.on_commit(enqueue)


@consumer("facilities.visit_completed", name="recommend.after_visit")
def after_visit(event: DomainEvent) -> None:
    _recompute_later(event)


@consumer("events.attended", name="recommend.after_event")
def after_event(event: DomainEvent) -> None:
    _recompute_later(event)
