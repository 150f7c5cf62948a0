"""Events for tests: ``make_event(region, **fields)`` builds a published event whose
registration is open now (times relative to the test's clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sportsman.events.models import Event, EventStatus


def make_event(region: Any, *, status: str = EventStatus.PUBLISHED, starts_in_days: float = 3,
               hours: float = 3, **fields: Any) -> Event:
    now = timezone.now().replace(microsecond=0)
    starts = now + dt.timedelta(days=starts_in_days)
    values: dict[str, Any] = {
        "title": "嘉兴市全民健身跑", "region": region, "level": region.level,
        "organiser_name": region.name, "starts_at": starts,
        "ends_at": starts + dt.timedelta(hours=hours),
        "registration_opens_at": now - dt.timedelta(days=10),
        "registration_closes_at": min(starts, now + dt.timedelta(days=max(starts_in_days, 0.01))),
        "capacity": 10, "status": status,
        "published_at": now if status == EventStatus.PUBLISHED else None}
    values.update(fields)
    return Event.objects.create(**values)
