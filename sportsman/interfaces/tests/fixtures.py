"""Builders for webhook tests: a subscription made through the service, an event registration
that publishes ``events.registered`` in a region, and running the house's dispatch and the
sender as the worker would."""

from __future__ import annotations

from typing import Any

from sportsman.regions.access import access_for_user


def subscribe(tree: Any, *, url: str = "https://hooks.example.org/in", region: Any = None,
              actor: Any = None, types: list[str] | None = None) -> tuple[Any, str]:
    from sportsman.interfaces import webhooks

    return webhooks.create_subscription(
        access=access_for_user(actor or tree.town_admin), region_id=(region or tree.t1).pk,
        name="政务平台", url=url, event_types=types or ["event.registration_created"])


def register_in(tree: Any, region: Any) -> Any:
    """A resident registers for an event of ``region``: publishes ``events.registered``."""
    from sportsman.events import services
    from sportsman.events.tests.factories import make_event

    event = make_event(region)
    person = tree.user(home_community=tree.k1)
    return services.register(actor=person, event_id=event.pk)


def work() -> dict:
    """What the worker does: dispatch pending domain events, then send what is due."""
    from sportsman.core.events import dispatch
    from sportsman.interfaces.webhooks import send_due

    dispatched = dispatch().as_dict()
    return {"dispatch": dispatched, "send": send_due().as_dict()}
