"""Reads of events: the public list (filters, keyset pages, one lean statement), a person's
registrations, an event's registrations for staff, and the QR code of a registration.

The list is the hottest public read: plain SQL on the event table walked in (start, id) order on
the ``event_start_id`` index (so a page stops after ``limit + 1`` rows, whatever the table's
size, instead of sorting every visible event), the region's name and the sport's slug joined by
primary key, rows as tuples turned into the listed fields: one statement a page (two with a
``region`` filter: its path is read first). Built with the ORM the same page cost ~1 ms of query
compilation and ~1 ms of value conversion per request — more than the SQL itself."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core.db import aware, db_time, subtree_sql
from sportsman.core.errors import InvalidInput
from sportsman.core.models import Sport
from sportsman.events.models import LIVE, VISIBLE, Event, EventStatus, Registration
from sportsman.events.services import QR_PREFIX
from sportsman.regions.models import Region

MAX_PAGE = 100
# An item of the list, in the order of the API's EventItemOut.
ITEM_FIELDS = ("id", "title", "level", "region_id", "region_name", "sport", "mode", "status",
               "entry", "organiser_kind", "organiser_name", "starts_at", "ends_at",
               "registration_opens_at", "registration_closes_at", "place", "facility_id",
               "capacity", "registered", "places_left", "parent_id")

_EVENT_TABLE = Event._meta.db_table
_REGION_TABLE = Region._meta.db_table
_SPORT_TABLE = Sport._meta.db_table
_SELECT = (
    "SELECT e.id, e.title, e.level, e.region_id, r.name, s.slug, e.mode, e.status, e.entry,"  # noqa: S608 (our tables; values are parameters)
    " e.organiser_kind, e.organiser_name, e.starts_at, e.ends_at, e.registration_opens_at,"
    " e.registration_closes_at, e.place, e.facility_id, e.capacity, e.registered, e.parent_id"
    f" FROM {_EVENT_TABLE} e{{hint}} INNER JOIN {_REGION_TABLE} r ON r.id = e.region_id"
    f" LEFT OUTER JOIN {_SPORT_TABLE} s ON s.id = e.sport_id")


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
                statuses: Sequence[str] | None = VISIBLE,
                within: Sequence[str] | None = None) -> Page:
    """Events by start then id. ``statuses``: those shown (default: what residents see; None:
    every status, for staff); ``within``: region paths the caller may see (staff scope; None:
    everywhere, empty: nothing). ``region_id``: events of that region's subtree; ``upcoming``:
    not yet ended (false: ended). Keyset pages: pass ``next_cursor`` back. One statement per page
    (two with ``region_id``); items are plain dicts of ``ITEM_FIELDS``."""
    now = now or timezone.now()
    limit = max(1, min(int(limit), MAX_PAGE))
    where: list[str] = []
    params: list[Any] = []
    if statuses is not None:
        # On SQLite the unary + keeps the planner off the (status, start) index: without
        # statistics (no ANALYZE) it would read every visible event through it and sort them,
        # where walking the (start, id) index stops after the page.
        column = "+e.status" if connection.vendor == "sqlite" else "e.status"
        where.append(f"{column} IN ({', '.join(['%s'] * len(statuses))})")
        params += statuses
    if within is not None:
        if not within:
            return Page(items=[], next_cursor=None)
        parts = [subtree_sql(path) for path in within]
        where.append("(" + " OR ".join(sql for sql, _p in parts) + ")")
        params += [p for _sql, ps in parts for p in ps]
    if level:
        where.append("e.level = %s")
        params.append(level)
    if mode:
        where.append("e.mode = %s")
        params.append(mode)
    if status:
        where.append("e.status = %s")
        params.append(status)
    if sport:
        where.append("s.slug = %s")
        params.append(sport)
    if region_id is not None:
        path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first()
        if path is None:
            return Page(items=[], next_cursor=None)
        sql, ps = subtree_sql(path)
        where.append(sql)
        params += ps
    if upcoming is True:
        # The coming events are few next to the history: the walk starts at the earliest start
        # among them, read on the covering end index, not at the first event ever held. Left
        # alone both planners turn MIN into a walk of the start index filtered by the end —
        # through the history again: SQLite is told the index, PostgreSQL gets a fence.
        coming = (f"{_EVENT_TABLE} u INDEXED BY event_end_start WHERE u.ends_at > %s"
                  if connection.vendor == "sqlite" else
                  f"(SELECT starts_at FROM {_EVENT_TABLE} WHERE ends_at > %s OFFSET 0) u")  # noqa: S608
        where.append("e.ends_at > %s AND e.starts_at >= "  # noqa: S608 (our table; values are parameters)
                     f"(SELECT MIN(u.starts_at) FROM {coming})")
        params += [db_time(now), db_time(now)]
    elif upcoming is False:
        where.append("e.ends_at <= %s")
        params.append(db_time(now))
    if cursor:
        at, pk = _decode(cursor)
        # (start, id) after the cursor, spelt so the start bounds the index range
        where.append("e.starts_at >= %s AND (e.starts_at > %s OR e.id > %s)")
        params += [db_time(at), db_time(at), pk]
    # The plan, told to SQLite (with or without ANALYZE its planner may start from the regions
    # and sort every matching event): walk the start index and stop after the page; a region's
    # subtree is left to the planner (its events through the region index, then sorted).
    hint = (" INDEXED BY event_start_id"
            if connection.vendor == "sqlite" and region_id is None and within is None else "")
    sql = _SELECT.format(hint=hint) + (" WHERE " + " AND ".join(where) if where else "") \
        + " ORDER BY e.starts_at, e.id LIMIT %s"
    with connection.cursor() as db:
        db.execute(sql, [*params, limit + 1])
        rows = db.fetchall()
    items = []
    for (pk, title, lvl, region, region_name, slug, md, st, entry, organiser_kind,
         organiser_name, starts, ends, opens, closes, place, facility, capacity, registered,
         parent) in rows[:limit]:
        items.append({
            "id": pk, "title": title, "level": lvl, "region_id": region,
            "region_name": region_name, "sport": slug, "mode": md, "status": st,
            "entry": entry, "organiser_kind": organiser_kind, "organiser_name": organiser_name,
            "starts_at": aware(starts), "ends_at": aware(ends),
            "registration_opens_at": aware(opens), "registration_closes_at": aware(closes),
            "place": place, "facility_id": facility, "capacity": capacity,
            "registered": registered, "places_left": max(capacity - registered, 0),
            "parent_id": parent})
    if len(rows) > limit:
        return Page(items=items, next_cursor=_cursor(items[-1]))
    return Page(items=items, next_cursor=None)


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
