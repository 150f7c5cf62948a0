"""Who a campaign reaches: an audience spec (stored as JSON on the campaign) turned into one
queryset of users, the same for the preview count and for sending.

The spec::

    {"age_min": 60, "age_max": 80, "sex": "F", "sports": [3, 5],
     "sources": {"group": 12, "activity": "inactive"}}

Every key is optional; none named means everyone. Residents are counted by their home
community, which must lie in the campaign region's subtree AND in the sender's own
``CAMPAIGN_SEND`` scope: both filters are in the query whatever the spec says.

``sources`` are filters other apps contribute without notifications knowing their tables (a
group's members, an event's registrants, an activity level): an app registers one in its own
``audience`` module with :func:`source`; the function gets the spec's value and returns a ``Q``
on the user model (usually ``Q(pk__in=<a user-id subquery>)``), or ``None`` when the value
names nothing, which refuses the spec.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

from sportsman.core.errors import InvalidInput
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region, subtree_q

MAX_AGE = 120
MAX_SPORTS = 50
SPEC_KEYS = frozenset({"age_min", "age_max", "sex", "sports", "sources"})


class InvalidAudience(InvalidInput):
    code = "invalid_audience"
    default_message = _("This audience cannot be used.")


@dataclass(frozen=True)
class Source:
    key: str
    label: Any
    # Fixed values a staff member picks from (an activity level); empty: the value is an id.
    choices: tuple[tuple[str, Any], ...]
    q: Callable[[Any], Q | None]


_SOURCES: dict[str, Source] = {}
_discovered = False


def source(key: str, *, label: Any,
           choices: tuple[tuple[str, Any], ...] = ()) -> Callable[[Callable], Callable]:
    """Register an audience filter ``key`` (keep it stable: stored specs name it)."""

    def register(fn: Callable[[Any], Q | None]) -> Callable[[Any], Q | None]:
        known = _SOURCES.get(key)
        if known is not None and known.q is not fn and known.q.__qualname__ != fn.__qualname__:
            raise ValueError(f"audience source {key!r} is already registered")
        _SOURCES[key] = Source(key, label, tuple(choices), fn)
        return fn

    return register


def autodiscover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("audience")
        _discovered = True


def sources() -> list[Source]:
    autodiscover()
    return sorted(_SOURCES.values(), key=lambda s: s.key)


def _bad(field: str, message: Any) -> InvalidAudience:
    return InvalidAudience(message, fields={f"audience.{field}": [message]})


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(field, _("A whole number from %(low)s to %(high)s.") % {"low": low,
                                                                             "high": high})
    return value


def clean_spec(raw: Any) -> dict[str, Any]:
    """The spec checked and normalised (the form stored), else ``invalid_audience`` naming the
    field. Sources are checked by running them, so a group id that names no group is refused
    here, not when sending."""
    from sportsman.core.models import Sport

    if raw in (None, ""):
        raw = {}
    if not isinstance(raw, dict):
        raise _bad("spec", _("The audience must be an object."))
    unknown = set(raw) - SPEC_KEYS
    if unknown:
        raise _bad(sorted(unknown)[0], _("Unknown audience filter."))
    out: dict[str, Any] = {}
    for key in ("age_min", "age_max"):
        if raw.get(key) is not None:
            out[key] = _int(raw[key], key, 0, MAX_AGE)
    if "age_min" in out and "age_max" in out and out["age_min"] > out["age_max"]:
        raise _bad("age_max", _("The youngest age must not exceed the oldest."))
    if raw.get("sex"):
        if raw["sex"] not in ("F", "M"):
            raise _bad("sex", _("Unknown sex."))
        out["sex"] = raw["sex"]
    if raw.get("sports"):
        sports = raw["sports"]
        if not isinstance(sports, list) or len(sports) > MAX_SPORTS:
            raise _bad("sports", _("A list of at most 50 sports."))
        ids = sorted({_int(s, "sports", 1, 2**63 - 1) for s in sports})
        if Sport.objects.filter(pk__in=ids).count() != len(ids):
            raise _bad("sports", _("Unknown sport."))
        out["sports"] = ids
    if raw.get("sources"):
        if not isinstance(raw["sources"], dict):
            raise _bad("sources", _("The audience must be an object."))
        known = {s.key: s for s in sources()}
        cleaned: dict[str, Any] = {}
        for key, value in sorted(raw["sources"].items()):
            src = known.get(key)
            if src is None:
                raise _bad(f"sources.{key}", _("Unknown audience filter."))
            if src.choices:
                if value not in {v for v, _label in src.choices}:
                    raise _bad(f"sources.{key}", _("Not one of the choices."))
            else:
                value = _int(value, f"sources.{key}", 1, 2**63 - 1)
            if src.q(value) is None:
                raise _bad(f"sources.{key}", _("This names nothing that exists."))
            cleaned[key] = value
        if cleaned:
            out["sources"] = cleaned
    return out


def _birth_years(age_min: int | None, age_max: int | None, today: dt.date) -> Q:
    # Age as the surveys count it: this year minus the birth year.
    q = Q(birth_year__isnull=False)
    if age_min is not None:
        q &= Q(birth_year__lte=today.year - age_min)
    if age_max is not None:
        q &= Q(birth_year__gte=today.year - age_max)
    return q


def audience_users(*, access: Access, region: Region, spec: dict[str, Any],
                   today: dt.date | None = None) -> QuerySet[Any]:
    """Active residents whose home community lies in ``region``'s subtree and in ``access``'s
    CAMPAIGN_SEND scope, matching ``spec`` (already cleaned). The one query behind the preview
    count, the sample and the sending job. An actor without the permission gets nobody."""
    user_model = get_user_model()
    today = today or timezone.localdate()
    qs = (user_model.objects.filter(is_active=True)
          .filter(subtree_q(region.path, "home_community"))
          .filter(access.region_q(Perm.CAMPAIGN_SEND, "home_community")))
    if spec.get("age_min") is not None or spec.get("age_max") is not None:
        qs = qs.filter(_birth_years(spec.get("age_min"), spec.get("age_max"), today))
    if spec.get("sex"):
        qs = qs.filter(sex=spec["sex"])
    if spec.get("sports"):
        through = user_model.interests.through
        qs = qs.filter(pk__in=through.objects.filter(sport_id__in=spec["sports"])
                       .values("user_id"))
    known = {s.key: s for s in sources()} if spec.get("sources") else {}
    for key, value in spec.get("sources", {}).items():
        src = known.get(key)
        q = src.q(value) if src is not None else None
        if q is None:  # a source gone or an object deleted since: reach nobody rather than all
            return qs.none()
        qs = qs.filter(q)
    return qs


__all__ = ["InvalidAudience", "Source", "audience_users", "autodiscover", "clean_spec",
           "source", "sources"]
