"""Booking rules: which limits apply to a facility, and the staff services that set them.

The effective value of each rule is found field by field: the facility's own ``BookingPolicy``,
then its community's, then the nearest ancestor region's (town, district, city), then
``DEFAULT_POLICY``. A blank (NULL) field inherits, so a district can set the window and a venue
only its cancellation time. All candidate rows are read in one query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import InvalidInput
from sportsman.facilities.models import BookingPolicy, Facility
from sportsman.regions.access import Perm, access_for_user
from sportsman.regions.models import Region


@dataclass(frozen=True)
class Policy:
    window_days: int
    window_opens_at: dt.time
    max_active: int
    max_per_day: int
    cancel_minutes: int
    checkin_grace_minutes: int
    noshow_limit: int
    noshow_period_days: int
    suspension_days: int
    lottery_draw_hours: int


DEFAULT_POLICY = Policy(window_days=7, window_opens_at=dt.time(8), max_active=3, max_per_day=2,
                        cancel_minutes=120, checkin_grace_minutes=15, noshow_limit=3,
                        noshow_period_days=30, suspension_days=14, lottery_draw_hours=24)

FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Policy))

# Accepted ranges of the integer rules (inclusive); staff input outside them is refused.
RANGES: dict[str, tuple[int, int]] = {
    "window_days": (0, 60),
    "max_active": (1, 50),
    "max_per_day": (1, 20),
    "cancel_minutes": (0, 7 * 24 * 60),
    "checkin_grace_minutes": (0, 240),
    "noshow_limit": (1, 100),
    "noshow_period_days": (1, 365),
    "suspension_days": (1, 365),
    "lottery_draw_hours": (1, 24 * 14),
}


def _merge(rows: list[BookingPolicy]) -> Policy:
    """``rows`` nearest first: the first non-blank value of each field wins."""
    values: dict[str, Any] = {}
    for name in FIELDS:
        for row in rows:
            value = getattr(row, name)
            if value is not None:
                values[name] = value
                break
    return replace(DEFAULT_POLICY, **values)


def policy_for(facility: Facility) -> Policy:
    """The rules in force at ``facility`` (one query for the policy rows; one more if the
    facility's region is not loaded yet — callers in loops use ``select_related("region")``)."""
    region = facility.region
    chain = [region.pk, *reversed(region.ancestor_ids)]  # nearest region first
    rows = list(BookingPolicy.objects.filter(Q(facility_id=facility.pk) | Q(region_id__in=chain)))
    rank = {rid: i for i, rid in enumerate(chain)}
    rows.sort(key=lambda r: -1 if r.facility_id is not None else rank.get(r.region_id or 0, 0))
    return _merge(rows)


def rules_of(row: BookingPolicy | None) -> dict[str, Any]:
    """The values a policy row sets itself (None where it inherits)."""
    return {name: getattr(row, name) if row is not None else None for name in FIELDS}


def _validate(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("Unknown rule.")] for name in sorted(unknown)})
    errors: dict[str, list[Any]] = {}
    for name, (low, high) in RANGES.items():
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = [_("Enter a whole number from %(low)d to %(high)d.")
                            % {"low": low, "high": high}]
    opens = values.get("window_opens_at")
    if opens is not None and not isinstance(opens, dt.time):
        errors["window_opens_at"] = [_("Enter a time of day, e.g. 08:00.")]
    if errors:
        raise InvalidInput(_("Some booking rules are not valid."), fields=errors)
    return {name: values.get(name) for name in FIELDS}


def _save(row: BookingPolicy, values: dict[str, Any]) -> BookingPolicy:
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row


def set_region_policy(*, actor: Any, region: Region, values: dict[str, Any],
                      request: Any = None) -> BookingPolicy:
    """Replace the booking rules ``region`` sets for its subtree: every rule in ``values``
    (a missing or None rule inherits from the parent region / the default). Requires
    ``Perm.BOOKING_RULES`` on ``region``. Audited as ``booking_policy.region``."""
    access_for_user(actor).require(Perm.BOOKING_RULES, region)
    clean = _validate(values)
    with transaction.atomic():
        row = BookingPolicy.objects.select_for_update().filter(region=region).first()
        before = rules_of(row)
        row = _save(row or BookingPolicy(region=region), clean)
        audit.record(actor=actor, action="booking_policy.region", obj=row, region=region,
                     request=request, data={"before": _json(before), "after": _json(clean)})
    return row


def set_facility_policy(*, actor: Any, facility: Facility, values: dict[str, Any],
                        request: Any = None) -> BookingPolicy:
    """Replace the venue's own booking rules (None inherits from its region). Requires
    ``Perm.FACILITY_MANAGE`` on the facility's region. Audited as ``booking_policy.facility``."""
    access_for_user(actor).require(Perm.FACILITY_MANAGE, facility.region)
    clean = _validate(values)
    with transaction.atomic():
        row = BookingPolicy.objects.select_for_update().filter(facility=facility).first()
        before = rules_of(row)
        row = _save(row or BookingPolicy(facility=facility), clean)
        audit.record(actor=actor, action="booking_policy.facility", obj=row,
                     region=facility.region, request=request,
                     data={"facility": facility.pk, "before": _json(before),
                           "after": _json(clean)})
    return row


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strftime("%H:%M") if isinstance(v, dt.time) else v for k, v in values.items()}


def policy_for_region(region: Region) -> Policy:
    """The rules a facility in ``region`` with no rules of its own would follow."""
    chain = [region.pk, *reversed(region.ancestor_ids)]
    rank = {rid: i for i, rid in enumerate(chain)}
    rows = sorted(BookingPolicy.objects.filter(region_id__in=chain),
                  key=lambda r: rank.get(r.region_id or 0, 0))
    return _merge(rows)
