"""Reads of the facility registry: "where can I exercise now" search, the facility page, and the
staff lists (already narrowed to the actor's FACILITY_MANAGE scope).

Search near a point narrows by a bounding box on the (lat, lng) index, measures the exact
great-circle distance of the rows left in Python (only ids and coordinates are fetched), sorts
and pages them, then loads the one page with its sports, photos and weekly rules prefetched: a
constant number of queries whatever the page size, cheap at 100,000 facilities.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Prefetch, Q, QuerySet, Sum
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sportsman.core.errors import NotFound, bad_field
from sportsman.core.models import Sport
from sportsman.facilities import geo, hours, search_misses
from sportsman.facilities.models import (
    LIVE_BOOKING,
    Booking,
    Category,
    Facility,
    FacilityPhoto,
    FacilityStatus,
    OpeningException,
    OpeningRule,
    PublicHoliday,
    Unit,
    Visit,
)
from sportsman.facilities.occupancy import busy_curve, crowd_level, crowd_of
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region, subtree_q

MAX_RADIUS_M = 50_000
DEFAULT_RADIUS_M = 5_000
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
FIRST_RING_M = 500.0
RING_GROWTH = 4.0

QUIET, MODERATE, BUSY, UNKNOWN = "quiet", "moderate", "busy", "unknown"
CROWD_LEVELS = (QUIET, MODERATE, BUSY)


# The crowd filter: ``occupancy.crowd_of`` as SQL on the facility row ``f``, the same
# thresholds in the same integer arithmetic (people × 10 against capacity × 3 and × 7), unknown
# without a capacity or a reported occupancy. Occupancy never goes below zero
# (occupancy.adjust_occupancy), so no clamp is needed here.
_KNOWN = "f.capacity > 0 AND f.occupancy_at IS NOT NULL"
CROWD_SQL = {
    QUIET: f"({_KNOWN} AND f.occupancy * 10 < f.capacity * 3)",
    MODERATE: f"({_KNOWN} AND f.occupancy * 10 >= f.capacity * 3"
              " AND f.occupancy * 10 < f.capacity * 7)",
    BUSY: f"({_KNOWN} AND f.occupancy * 10 >= f.capacity * 7)",
    UNKNOWN: "(f.capacity <= 0 OR f.occupancy_at IS NULL)",
}


# --- search -----------------------------------------------------------------------------------

@dataclass
class SearchPage:
    items: list[dict[str, Any]]  # the API's FacilityOut, one plain dict a result
    next_cursor: str | None
    point: tuple[float, float] | None = None
    radius_m: float | None = None


def _encode(payload: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, list):
            raise ValueError("not a list")
        return payload
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise bad_field("cursor", _("The cursor is not valid.")) from exc


def community_centroid(community: Region) -> tuple[float, float] | None:
    """The mean position of a community's facilities (else of its parent's subtree's)."""
    row = Facility.objects.filter(region=community).aggregate(lat=Avg("lat"), lng=Avg("lng"))
    if row["lat"] is None and community.parent_id is not None:
        parent = Region.objects.filter(pk=community.parent_id).first()
        if parent is not None:
            row = Facility.objects.filter(subtree_q(parent.path, "region")).aggregate(
                lat=Avg("lat"), lng=Avg("lng"))
    if row["lat"] is None:
        return None
    return float(row["lat"]), float(row["lng"])


def nearest_community(lat: float, lng: float) -> Region | None:
    """The community a point lies in, taken as the region of the nearest facility (looked for in
    the rings of ``search_misses.NEAREST_RINGS_M``, the next only when the last held none)."""
    shrink = math.cos(math.radians(lat)) ** 2
    for radius in search_misses.NEAREST_RINGS_M:
        min_lat, max_lat, min_lng, max_lng = geo.bounding_box(lat, lng, radius)
        rows = list(Facility.objects.filter(lat__gte=min_lat, lat__lte=max_lat, lng__gte=min_lng,
                                            lng__lte=max_lng)
                    .values_list("region_id", "lat", "lng")[:2000])
        if rows:
            region_id = min(rows, key=lambda r: (r[1] - lat) ** 2 + (r[2] - lng) ** 2 * shrink)[0]
            return Region.objects.filter(pk=region_id).first()
    return None


# The catalogue of sports changes almost never and is the same for everyone: each process keeps
# it (slug → id for the filter, id → names for the results) and reloads it after a minute, when
# a sport is saved or deleted in this process, or when it meets a slug or an id it lacks.
SPORTS_SECONDS = 60.0
_sports: dict[str, Any] = {"at": -SPORTS_SECONDS, "by_slug": {}, "by_id": {}}


def _sport_catalogue(*, fresh: bool = False) -> dict[str, Any]:
    if fresh or time.monotonic() - _sports["at"] >= SPORTS_SECONDS:
        rows = list(Sport.objects.values_list("pk", "slug", "name_zh", "name_en"))
        _sports.update(at=time.monotonic(), by_slug={slug: pk for pk, slug, _z, _e in rows},
                       by_id={pk: (slug, zh, en) for pk, slug, zh, en in rows})
    return _sports


@receiver([post_save, post_delete], sender=Sport)
def forget_sports(**kwargs: Any) -> None:
    """Drop this process's catalogue of sports (a sport changed; tests between cases)."""
    _sports["at"] = -SPORTS_SECONDS


def search_facilities(*, lat: float | None = None, lng: float | None = None,
                      radius_m: float | None = None, sport: str | None = None,
                      category: str | None = None, open_now: bool = False,
                      free: bool | None = None, crowd: str | None = None, q: str | None = None,
                      near_community: Region | None = None, limit: int = DEFAULT_LIMIT,
                      cursor: str | None = None, now: dt.datetime | None = None,
                      count_miss: bool = False, searcher: str | None = None) -> SearchPage:
    """Public search. With a point (``lat``/``lng``, or the centroid of ``near_community``'s
    facilities) results lie within ``radius_m`` (default 5 km, at most 50 km), nearest first,
    each with ``distance_m``; without one they are sorted by name. Filters combine with AND.
    Raises InvalidInput (field named) on a bad value. With ``count_miss`` (a resident's search,
    from the API or the page), a first page near a point for a sport that finds nothing counts
    one miss (``search_misses``): one more statement (rarely two or three), only then — and with
    ``searcher`` (``search_misses.searcher(request)``) only that searcher's first of the day for
    the sport.

    The lean path: plain SQL on the facility table and its covering index, rows as tuples, the
    page's sports, photos and hours in one query each, "open now" answered by the page's own
    statement from the stored intervals (``hours.open_at_sql``): five statements for a page
    near a point in a dense area, whatever its size."""
    if (lat is None) != (lng is None):
        raise bad_field("lng" if lng is None else "lat", _("Give both latitude and longitude."))
    if lat is not None and not -90 <= lat <= 90:
        raise bad_field("lat", _("Latitude must be between -90 and 90."))
    if lng is not None and not -180 <= lng <= 180:
        raise bad_field("lng", _("Longitude must be between -180 and 180."))
    if radius_m is not None and not 0 < radius_m <= MAX_RADIUS_M:
        raise bad_field("radius_m", _("The radius must be between 1 m and 50 km."))
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_field("limit", _("The limit must be between 1 and 100."))
    now = now or timezone.now()

    where: list[str] = []
    params: list[Any] = []
    sport_id: int | None = None
    if category:
        if category not in Category.values:
            raise bad_field("category", _("Unknown category."))
        where.append("f.category = %s")
        params.append(category)
    if sport:
        sport_id = (_sport_catalogue()["by_slug"].get(sport)
                    or _sport_catalogue(fresh=True)["by_slug"].get(sport))
        if sport_id is None:
            raise bad_field("sport", _("Unknown sport."))
        where.append(f"EXISTS (SELECT 1 FROM {_SPORTS_TABLE} s"  # noqa: S608 (our tables; values are parameters)
                     " WHERE s.facility_id = f.id AND s.sport_id = %s)")
        params.append(sport_id)
    if free is not None:
        where.append("f.is_free = %s")
        params.append(free)
    if crowd:
        if crowd not in CROWD_SQL:
            raise bad_field("crowd", _("Unknown crowd level."))
        where.append(CROWD_SQL[crowd])
    if q:
        # the ORM's icontains, spelt out: the same cast, operator and escaping on each database
        where.append(connection.ops.lookup_cast("icontains", "CharField") % "f.name" + " "
                     + connection.operators["icontains"] % "%s")  # type: ignore[attr-defined]
        params.append(f"%{connection.ops.prep_for_like_query(q.strip()[:100])}%")
    if open_now:
        open_sql, open_params = hours.open_at_sql(now, "f")
        where.append(open_sql)
        params += open_params

    point: tuple[float, float] | None = None
    if lat is not None and lng is not None:
        point = (lat, lng)
    elif near_community is not None:
        point = community_centroid(near_community)

    if point is None:
        if cursor:
            payload = _decode(cursor)
            if len(payload) != 2 or not isinstance(payload[0], str) \
                    or not isinstance(payload[1], int):
                raise bad_field("cursor", _("The cursor is not valid."))
            where.append("(f.name > %s OR (f.name = %s AND f.id > %s))")
            params += [payload[0], payload[0], payload[1]]
        condition = " WHERE " + " AND ".join(where) if where else ""
        rows = _fetch(f"SELECT f.id, f.name FROM {_FACILITY_TABLE} f{condition}"  # noqa: S608 (our tables; values are parameters)
                      " ORDER BY f.name, f.id LIMIT %s", [*params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _encode([rows[-1][1], rows[-1][0]]) if more else None
        return SearchPage(page_items([pk for pk, _name in rows], now=now), next_cursor)

    radius = float(radius_m or DEFAULT_RADIUS_M)
    after: tuple[float, int] | None = None
    if cursor:
        payload = _decode(cursor)
        if len(payload) != 2 or not all(isinstance(v, int | float) for v in payload):
            raise bad_field("cursor", _("The cursor is not valid."))
        after = (float(payload[0]), int(payload[1]))
    # Rings: measure within a small radius first and widen only while it holds less than a
    # page. In a dense city the first ring is enough, so a 50 km search does not measure the
    # whole city; with sparse results it ends at ``radius`` after at most a few rings.
    ring = min(radius, FIRST_RING_M + (after[0] * 1.5 if after else 0.0))
    while True:
        measured = _measure(where, params, point, ring, after)
        # Done when a page and one more lie safely inside the ring (rounded distances of
        # facilities outside it cannot sort before them), or the ring is the whole radius.
        if ring >= radius or (len(measured) > limit and measured[limit][0] < ring - 0.1):
            break
        # the next ring from the density seen so far (the count grows with the area), at most
        # RING_GROWTH times wider: a page and a half, not the whole district
        found = len(measured)
        grow = RING_GROWTH if not found else min(
            RING_GROWTH, max(1.2, math.sqrt(1.5 * (limit + 1) / found)))
        ring = min(radius, ring * grow)
    more = len(measured) > limit
    page = measured[:limit]
    next_cursor = _encode([page[-1][0], page[-1][1]]) if more and page else None
    if count_miss and not page and sport_id is not None and after is None \
            and not (q or open_now or crowd or free is not None) \
            and (searcher is None
                 or search_misses.first_today(searcher, sport_id, hours.local(now).date())):
        search_misses.count_miss(sport_id=sport_id, day=hours.local(now).date(), point=point,
                                 community=near_community if lat is None else None)
    return SearchPage(page_items([pk for _d, pk in page], {pk: d for d, pk in page}, now=now),
                      next_cursor, point=point, radius_m=radius)


_FACILITY_TABLE = Facility._meta.db_table
_SPORTS_TABLE = Facility.sports.through._meta.db_table


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _measure(where: list[str], params: list[Any], point: tuple[float, float], radius: float,
             after: tuple[float, int] | None) -> list[tuple[float, int]]:
    """(distance rounded to 0.1 m, id) of the facilities within ``radius`` of ``point`` sorted,
    those after the cursor only: the bounding box on the covering (lat, lng, …) index narrows,
    the exact great-circle distance decides."""
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(point[0], point[1], radius)
    rows = _fetch(f"SELECT f.id, f.lat, f.lng FROM {_FACILITY_TABLE} f WHERE f.lat >= %s"  # noqa: S608 (our tables; values are parameters)
                  " AND f.lat <= %s AND f.lng >= %s AND f.lng <= %s"
                  + "".join(f" AND {w}" for w in where),
                  [min_lat, max_lat, min_lng, max_lng, *params])
    measured = []
    lat0, lng0 = point
    distance = geo.distance_m
    for pk, f_lat, f_lng in rows:
        d = distance(lat0, lng0, f_lat, f_lng)
        if d <= radius:
            key = (round(d, 1), pk)
            if after is None or key > after:
                measured.append(key)
    measured.sort()
    return measured


@functools.lru_cache(maxsize=65536)
def _gcj02(lat: float, lng: float) -> tuple[float, float]:
    """The point as Chinese maps draw it, rounded as the API gives it: the same for the same
    coordinates, so a process keeps the last places it shifted."""
    glat, glng = geo.to_gcj02(lat, lng)
    return round(glat, 6), round(glng, 6)


_category_labels: dict[str, dict[str, str]] = {}


def _labels() -> dict[str, str]:
    """Category code → its label in the active language (computed once per language)."""
    language = get_language() or ""
    if language not in _category_labels:
        _category_labels[language] = {value: str(label) for value, label in Category.choices}
    return _category_labels[language]


def page_items(ids: Sequence[int], distances: dict[int, float] | None = None, *,
               now: dt.datetime) -> list[dict[str, Any]]:
    """The facilities ``ids`` in that order as the API shows them (FacilityOut: sports, photos,
    weekly hours, crowd, open now, distance when known), in four statements whatever their
    number: the rows with "open now", then their sports, photos and hours."""
    if not ids:
        return []
    marks = ", ".join(["%s"] * len(ids))
    open_sql, open_params = hours.open_at_sql(now, "f")
    rows = _fetch(
        "SELECT f.id, f.name, f.category, f.owner_kind, f.region_id, f.address, f.lat, f.lng,"  # noqa: S608 (our tables; values are parameters)
        " f.capacity, f.status, f.is_free, f.is_bookable, f.occupancy,"
        " CASE WHEN f.occupancy_at IS NULL THEN 0 ELSE 1 END,"
        f" CASE WHEN {open_sql} THEN 1 ELSE 0 END"
        f" FROM {_FACILITY_TABLE} f WHERE f.id IN ({marks})", [*open_params, *ids])
    sports: dict[int, list[int]] = {}
    for facility_id, sport_id in _fetch(
            f"SELECT facility_id, sport_id FROM {_SPORTS_TABLE} WHERE facility_id IN ({marks})",  # noqa: S608 (our tables; values are parameters)
            ids):
        sports.setdefault(facility_id, []).append(sport_id)
    photos: dict[int, list[dict[str, Any]]] = {}
    storage = FacilityPhoto._meta.get_field("image").storage  # type: ignore[attr-defined]
    for facility_id, pk, image, caption in _fetch(
            f"SELECT facility_id, id, image, caption FROM {FacilityPhoto._meta.db_table}"  # noqa: S608 (our tables; values are parameters)
            f" WHERE facility_id IN ({marks}) ORDER BY position, id", ids):
        photos.setdefault(facility_id, []).append(
            {"id": pk, "url": storage.url(image), "caption": caption})
    week: dict[int, list[dict[str, Any]]] = {}
    # the times as the stored text ("06:30:00"), not parsed into time objects only to be
    # written out again
    for facility_id, weekday, opens, closes in _fetch(
            "SELECT facility_id, weekday, CAST(opens AS TEXT), CAST(closes AS TEXT)"  # noqa: S608 (our tables; values are parameters)
            f" FROM {OpeningRule._meta.db_table} WHERE facility_id IN ({marks})"
            " ORDER BY weekday, opens", ids):
        week.setdefault(facility_id, []).append(
            {"weekday": weekday, "opens": hours.hhmm(opens), "closes": hours.hhmm(closes)})
    catalogue = _sport_catalogue()["by_id"]
    if any(s not in catalogue for ids_ in sports.values() for s in ids_):
        catalogue = _sport_catalogue(fresh=True)["by_id"]
    chinese = (get_language() or "zh").startswith("zh")
    labels = _labels()
    distances = distances or {}
    by_id = {}
    for (pk, name, category, owner_kind, region_id, address, f_lat, f_lng, capacity, status,
         is_free, is_bookable, occupancy, reported, is_open) in rows:
        glat, glng = _gcj02(f_lat, f_lng)
        names = sorted(catalogue[s] for s in sports.get(pk, ()) if s in catalogue)
        by_id[pk] = {
            "id": pk, "name": name, "category": category,
            "category_label": labels.get(category, category), "owner_kind": owner_kind,
            "region_id": region_id, "address": address, "lat": f_lat, "lng": f_lng,
            "gcj02": {"lat": glat, "lng": glng},
            "sports": [{"slug": slug, "name": zh if chinese else en} for slug, zh, en in names],
            "capacity": capacity, "status": status, "is_free": bool(is_free),
            "is_bookable": bool(is_bookable), "occupancy": max(occupancy, 0),
            "crowd": crowd_of(capacity, occupancy, bool(reported)), "open_now": bool(is_open),
            "distance_m": distances.get(pk), "photos": photos.get(pk, []),
            "hours": week.get(pk, []),
        }
    return [by_id[pk] for pk in ids if pk in by_id]


# --- the facility page ------------------------------------------------------------------------

@dataclass
class DayHours:
    day: dt.date
    intervals: list[hours.Interval]
    is_today: bool
    is_exception: bool
    is_holiday: bool


@dataclass
class Detail:
    facility: Facility
    week: list[DayHours]
    today: list[hours.Interval]
    open_now: bool
    photos: list[FacilityPhoto]
    units: list[Unit]
    sports: list[Sport]
    occupancy: int
    crowd: str
    busy_curve: list[int] = field(default_factory=list)  # people per local hour 0–23


def week_hours(facility: Facility, start: dt.date, days: int = 7, *,
               today: dt.date | None = None) -> list[DayHours]:
    """Opening intervals for ``days`` days from ``start`` with three queries in all."""
    end = start + dt.timedelta(days=days - 1)
    rules = list(facility.opening_rules.all())
    exceptions = list(facility.opening_exceptions.filter(start_date__lte=end,
                                                         end_date__gte=start))
    holidays = set(PublicHoliday.objects.filter(date__gte=start, date__lte=end)
                   .values_list("date", flat=True))
    today = today or hours.local(timezone.now()).date()
    out = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        covering = [e for e in exceptions if e.start_date <= day <= e.end_date]
        out.append(DayHours(day, hours.intervals_on(facility, day, rules=rules,
                                                     exceptions=covering,
                                                     is_holiday=day in holidays),
                            day == today, bool(covering), day in holidays))
    return out


def facility_detail(facility_id: int, *, now: dt.datetime | None = None) -> Detail:
    """Everything the public facility page shows. Unknown id: NotFound."""
    now = now or timezone.now()
    facility = (Facility.objects.select_related("region")
                .prefetch_related(Prefetch("sports", queryset=Sport.objects.order_by("slug")))
                .filter(pk=facility_id).first())
    if facility is None:
        raise NotFound(_("No such facility."))
    today = hours.local(now).date()
    monday = today - dt.timedelta(days=today.weekday())
    week = week_hours(facility, monday, today=today)
    today_hours = next(d.intervals for d in week if d.day == today)
    t = hours.local(now).time()
    open_now = any(o <= t < c for o, c in today_hours)
    units = list(facility.units.filter(is_active=True).select_related("sport"))
    return Detail(facility=facility, week=week, today=today_hours, open_now=open_now,
                  photos=list(facility.photos.all()), units=units,
                  sports=list(facility.sports.all()), occupancy=max(facility.occupancy, 0),
                  crowd=crowd_level(facility), busy_curve=busy_curve(facility, today))


# --- staff lists (scoped) ---------------------------------------------------------------------

def list_venues_for(access: Access, *, region: Region | None = None,
                    q: str | None = None) -> QuerySet[Facility]:
    """Facilities in the actor's FACILITY_MANAGE scope, optionally under ``region`` (which must
    itself be in scope: otherwise NotFound), with today's booking count annotated."""
    from sportsman.facilities.registry import facilities_in_scope

    qs = facilities_in_scope(access)
    if region is not None:
        if not access.can(Perm.FACILITY_MANAGE, region):
            raise NotFound(_("No such region in your scope."))
        qs = qs.filter(subtree_q(region.path, "region"))
    if q:
        qs = qs.filter(name__icontains=q.strip()[:100])
    today = hours.local(timezone.now()).date()
    start = hours.aware(today, dt.time(0))
    end = start + dt.timedelta(days=1)
    return (qs.select_related("region")
            .annotate(bookings_today=Count("bookings", filter=Q(
                bookings__start__gte=start, bookings__start__lt=end,
                bookings__status__in=[*LIVE_BOOKING, "completed"]), distinct=True))
            .order_by("name", "id"))


def bookings_of_day_for(access: Access, facility: Facility, day: dt.date) -> QuerySet[Booking]:
    """A facility's bookings starting on local ``day``, in the actor's scope."""
    start = hours.aware(day, dt.time(0))
    end = start + dt.timedelta(days=1)
    qs = access.scope(Booking.objects.all(), Perm.FACILITY_MANAGE, field="facility__region")
    return (qs.filter(facility=facility, start__gte=start, start__lt=end)
            .select_related("user", "slot__unit").order_by("start", "id"))


def visits_of_day_for(access: Access, facility: Facility, day: dt.date) -> QuerySet[Visit]:
    start = hours.aware(day, dt.time(0))
    end = start + dt.timedelta(days=1)
    qs = access.scope(Visit.objects.all(), Perm.FACILITY_MANAGE, field="facility__region")
    return (qs.filter(facility=facility, started_at__gte=start, started_at__lt=end)
            .select_related("user").order_by("-started_at", "-id"))


def exceptions_of(facility: Facility) -> QuerySet[OpeningException]:
    return facility.opening_exceptions.order_by("start_date")


def completed_visits(*, since_id: int = 0, batch: int = 5000) -> Any:
    """Every completed visit with an id above ``since_id``, in id order, as plain dicts shaped
    like the ``facilities.visit_completed`` payload (UTC ISO times): what the exercise record
    backfills from without reaching into this app's tables. Read in keyset batches of
    ``batch``."""
    last = since_id
    while True:
        rows = list(Visit.objects.filter(pk__gt=last, ended_at__isnull=False).order_by("pk")
                    .values_list("pk", "user_id", "facility_id", "facility__region_id",
                                 "sport_id", "source", "started_at", "ended_at")[:batch])
        for pk, user_id, facility_id, region_id, sport_id, source, started, ended in rows:
            assert ended is not None  # filtered above
            yield {"visit_id": pk, "user_id": user_id, "facility_id": facility_id,
                   "region_id": region_id, "sport_id": sport_id, "source": source,
                   "started_at": started.astimezone(dt.UTC).isoformat(),
                   "ended_at": ended.astimezone(dt.UTC).isoformat(),
                   "duration_minutes": int((ended - started).total_seconds() // 60)}
        if len(rows) < batch:
            return
        last = rows[-1][0]


# --- live occupancy for the cockpit's map ---------------------------------------------------------

OCCUPANCY_MAP_LIMIT = 500


@dataclass(frozen=True)
class OccupancyPoint:
    id: int
    name: str
    lat: float
    lng: float
    people: int  # people there now (counter readings and open visits)
    capacity: int
    crowd: str  # occupancy.crowd_level
    at: dt.datetime | None  # the last change of ``people``; None: never reported
    is_open: bool  # the facility's status is open (not closed, not under maintenance)


@dataclass(frozen=True)
class LiveOccupancy:
    points: list[OccupancyPoint]  # busiest first, at most the limit asked for
    facilities: int  # every facility in the subtree
    people: int  # people in all of them now


def occupancy_points(region: Region, limit: int = OCCUPANCY_MAP_LIMIT) -> LiveOccupancy:
    """The facilities of ``region``'s subtree with the people there now, busiest first (two
    queries whatever the size). No access check: the caller has checked that the actor may see
    ``region`` (the cockpit asks ``COCKPIT_VIEW``)."""
    inside = Facility.objects.filter(subtree_q(region.path, "region"))
    totals = inside.aggregate(n=Count("id"), people=Sum("occupancy"))
    rows = (inside.only("id", "name", "lat", "lng", "occupancy", "occupancy_at", "capacity",
                        "status")
            .order_by("-occupancy", "name", "id")[:max(0, limit)])
    points = [OccupancyPoint(f.pk, f.name, f.lat, f.lng, max(f.occupancy, 0), f.capacity,
                             crowd_level(f), f.occupancy_at, f.status == FacilityStatus.OPEN)
              for f in rows]
    return LiveOccupancy(points, int(totals["n"] or 0), int(totals["people"] or 0))
