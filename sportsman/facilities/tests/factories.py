"""Builders for facility tests: a facility with hours and units in one call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sportsman.facilities.models import Category, Facility, OpeningRule, OwnerKind, Unit


def make_facility(region: Any, *, name: str = "花园社区多功能运动场", lat: float = 30.7522,
                  lng: float = 120.7555, category: str = Category.MULTI_COURT,
                  owner_kind: str = OwnerKind.COMMUNITY, opens: dt.time = dt.time(6),
                  closes: dt.time = dt.time(22), units: int = 1, unit_capacity: int = 1,
                  slot_minutes: int = 60, price_cents: int = 0, **fields: Any) -> Facility:
    """A facility in ``region`` open every day from ``opens`` to ``closes`` with ``units``
    bookable units ("1号场", "2号场" …) of ``unit_capacity`` places per slot."""
    facility = Facility.objects.create(
        name=name, owner_kind=owner_kind, category=category, region=region,
        address=fields.pop("address", f"{region.name}{name}"), lat=lat, lng=lng,
        capacity=fields.pop("capacity", 40), is_bookable=units > 0, is_free=price_cents == 0,
        **fields)
    OpeningRule.objects.bulk_create(
        [OpeningRule(facility=facility, weekday=d, opens=opens, closes=closes) for d in range(7)])
    Unit.objects.bulk_create(
        [Unit(facility=facility, name=f"{i + 1}号场", capacity=unit_capacity,
              slot_minutes=slot_minutes, price_cents=price_cents, position=i)
         for i in range(units)])
    return facility
