"""Instructors for tests: registered in a region, teaching given sports, with weekly windows."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sportsman.core.models import Sport
from sportsman.instructors.models import AvailabilityWindow, Instructor

_seq = itertools.count(1)


def sport(slug: str = "badminton", name: str = "羽毛球") -> Sport:
    found, _created = Sport.objects.get_or_create(
        slug=slug, defaults={"name_zh": name, "name_en": slug, "family": "ball"})
    return found


def make_instructor(tree: Any, region: Any = None, *, user: Any = None, name: str = "王指导员",
                    level: str = "third", sports: tuple[str, ...] = ("badminton",),
                    windows: tuple[tuple[int, int], ...] = ((8, 20),), max_group_size: int = 6,
                    lat: float | None = 30.7522, lng: float | None = 120.7555,
                    **fields: Any) -> Instructor:
    """An active instructor of ``region`` (default k2) free every day in ``windows`` (local
    hours)."""
    user = user or tree.user(home_community=region or tree.k2, nickname=name)
    found = Instructor.objects.create(
        user=user, name=name, level=level, certificate_number=f"T-{next(_seq):06d}",
        region=region or tree.k2, max_group_size=max_group_size, lat=lat, lng=lng, **fields)
    found.sports.set([sport(s) for s in sports])
    AvailabilityWindow.objects.bulk_create([
        AvailabilityWindow(instructor=found, weekday=d, starts=dt.time(a), ends=dt.time(b))
        for d in range(7) for a, b in windows])
    return found
