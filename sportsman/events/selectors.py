"""Reads of events: the public list (filters, keyset pages, one lean query), a person's
registrations, an event's registrations for staff, and the QR code of a registration."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core.errors import InvalidInput
from sportsman.events.models import LIVE, Event, EventStatus, Registration
from sportsman.events.services import QR_PREFIX, visible_events
from sportsman.regions.models import Region, subtree_q

MAX_PAGE = 100
LIST_FIELDS = ("id", "title", "level", "region_id", "mode", "status", "entry", "organiser_kind",
               "organiser_name", "starts_at", "ends_at", "registration_opens_at",
               "registration_closes_at", "place", "facility_id", "capacity", "registered",
               "parent_id")


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _cursor(row: dict[str, Any]) -> str:
    return f"{int(row['starts_at'].timestamp() * 1_000_000)}.{row['id']}"


def _decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        micros, pk = cursor.split(".")
        return dt.datetime.fromtimestamp(int(micros) / 1_000_000, tz=dt.UTC), int(pk)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(code="invalid_cursor",
                           fields={"cursor": [_("Not a valid cursor.")]}) from None


def list_events(*, level: str | None = None, region_id: int | None = None,
                sport: str | None = None, upcoming: bool | None = None,
                mode: str | None = None, status: str | None = None, cursor: str | None = None,
                limit: int = 20, now: dt.datetime | None = None,
                base: QuerySet[Event] | None = None) -> Page:
    """Events by start then id, published ones (and cancelled / finished ones) unless ``base``
    says otherwise. ``region_id``: events of that region's subtree; ``upcoming``: not yet
    ended (false: ended). Keyset pages: pass ``next_cursor`` back. One query per page (the
    region's name and the sport's slug joined, only the listed columns read)."""
    now = now or timezone.now()
    limit = max(1, min(int(limit), MAX_PAGE))
    qs = base if base is not None else visible_events()
    if level:
        qs = qs.filter(level=level)
    if mode:
        qs = qs.filter(mode=mode)
    if status:
        qs = qs.filter(status=status)
    if sport:
        qs = qs.filter(sport__slug=sport)
    if region_id is not None:
        path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first()
        if path is None:
            return Page(items=[], next_cursor=None)
        qs = qs.filter(subtree_q(path, "region"))
    if upcoming is True:
        qs = qs.filter(ends_at__gt=now)
    elif upcoming is False:
        qs = qs.filter(ends_at__lte=now)
    if cursor:
        at, pk = _decode(cursor)
        qs = qs.filter(Q(starts_at__gt=at) | Q(starts_at=at, id__gt=pk))
    rows = list(qs.order_by("starts_at", "id")
                .values(*LIST_FIELDS, region_name=F("region__name"), sport_slug=F("sport__slug"))
                [: limit + 1])
    for row in rows:
        row["sport"] = row.pop("sport_slug")
        row["places_left"] = max(row["capacity"] - row["registered"], 0)
    if len(rows) > limit:
        return Page(items=rows[:limit], next_cursor=_cursor(rows[limit - 1]))
    return Page(items=rows, next_cursor=None)


def my_registrations(user: Any, *, when: str = "upcoming",
                     now: dt.datetime | None = None) -> list[Registration]:
    """``user``'s registrations: ``upcoming`` (live, event not ended) soonest first, ``past``
    (the rest) latest first; at most 200."""
    now = now or timezone.now()
    qs = Registration.objects.filter(user_id=user.pk).select_related("event")
    upcoming = Q(status__in=LIVE, event__ends_at__gt=now) & ~Q(
        event__status=EventStatus.CANCELLED)
    if when == "past":
        return list(qs.exclude(upcoming).order_by("-event__starts_at", "-id")[:200])
    return list(qs.filter(upcoming).order_by("event__starts_at", "id")[:200])


def event_registrations(event: Event, *, status: str | None = None) -> QuerySet[Registration]:
    qs = Registration.objects.filter(event_id=event.pk).select_related("user")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def results(event: Event) -> list[Registration]:
    return list(Registration.objects.filter(event_id=event.pk, rank__isnull=False)
                .select_related("user").order_by("rank", "id")[:500])


def qr_svg(code: str, *, scale: int = 8) -> str:
    """The registration code as an SVG QR code of ``SPE:<code>`` (what the staff scanner reads)."""
    import segno

    out = io.BytesIO()
    segno.make(f"{QR_PREFIX}{code}", error="m").save(out, kind="svg", scale=scale, border=2,
                                                     xmldecl=False, svgns=True)
    return out.getvalue().decode()
