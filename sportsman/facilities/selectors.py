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
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.core.errors import InvalidInput, NotFound
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
from sportsman.facilities.occupancy import busy_curve, crowd_level
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


def crowd_q(level: str) -> Q:
    """``occupancy.crowd_level`` as a filter on Facility: the same thresholds in the same
    integer arithmetic (people × 10 against capacity × 3 and × 7), unknown without a capacity
    or a reported occupancy."""
    if level == UNKNOWN:
        return Q(capacity__lte=0) | Q(occupancy_at__isnull=True)
    known = Q(capacity__gt=0, occupancy_at__isnull=False)
    if level == QUIET:
        return known & Q(_crowd_occ10__lt=F("capacity") * 3)
    if level == MODERATE:
        return (known & Q(_crowd_occ10__gte=F("capacity") * 3)
                & Q(_crowd_occ10__lt=F("capacity") * 7))
    if level == BUSY:
        return known & Q(_crowd_occ10__gte=F("capacity") * 7)
    raise InvalidInput(_("Unknown crowd level."), fields={"crowd": [_("Unknown crowd level.")]})


def _with_crowd(qs: QuerySet[Facility], level: str) -> QuerySet[Facility]:
    # occupancy never goes below zero (occupancy.adjust_occupancy), so no clamp is needed here
    return qs.alias(_crowd_occ10=F("occupancy") * 10).filter(crowd_q(level))


# --- search -----------------------------------------------------------------------------------

@dataclass
class Hit:
    facility: Facility
    distance_m: float | None
    open_now: bool
    crowd: str


@dataclass
class SearchPage:
    items: list[Hit]
    next_cursor: str | None
    point: tuple[float, float] | None = None
    radius_m: float | None = None


def _bad(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid", fields={field_name: [message]})


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
        raise _bad("cursor", _("The cursor is not valid.")) from exc


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
    the sport."""
    if (lat is None) != (lng is None):
        raise _bad("lng" if lng is None else "lat", _("Give both latitude and longitude."))
    if lat is not None and not -90 <= lat <= 90:
        raise _bad("lat", _("Latitude must be between -90 and 90."))
    if lng is not None and not -180 <= lng <= 180:
        raise _bad("lng", _("Longitude must be between -180 and 180."))
    if radius_m is not None and not 0 < radius_m <= MAX_RADIUS_M:
        raise _bad("radius_m", _("The radius must be between 1 m and 50 km."))
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad("limit", _("The limit must be between 1 and 100."))
    now = now or timezone.now()
    point: tuple[float, float] | None = None
    if lat is not None and lng is not None:
        point = (lat, lng)
    elif near_community is not None:
        point = community_centroid(near_community)

    qs = Facility.objects.all()
    sport_id: int | None = None
    if category:
        if category not in Category.values:
            raise _bad("category", _("Unknown category."))
        qs = qs.filter(category=category)
    if sport:
        found = Sport.objects.filter(slug=sport).values_list("pk", flat=True).first()
        if found is None:
            raise _bad("sport", _("Unknown sport."))
        sport_id = found
        qs = qs.filter(Exists(Facility.sports.through.objects.filter(
            facility_id=OuterRef("pk"), sport_id=found)))
    if free is not None:
        qs = qs.filter(is_free=free)
    if crowd:
        if crowd not in (*CROWD_LEVELS, UNKNOWN):
            raise _bad("crowd", _("Unknown crowd level."))
        qs = _with_crowd(qs, crowd)
    if q:
        qs = qs.filter(name__icontains=q.strip()[:100])
    if open_now:
        qs = qs.filter(hours.open_at_q(now))

    if point is None:
        ordered = qs.order_by("name", "id")
        if cursor:
            payload = _decode(cursor)
            if len(payload) != 2 or not isinstance(payload[0], str) \
                    or not isinstance(payload[1], int):
                raise _bad("cursor", _("The cursor is not valid."))
            ordered = ordered.filter(Q(name__gt=payload[0])
                                     | Q(name=payload[0], id__gt=payload[1]))
        page_ids = list(ordered.values_list("id", "name")[: limit + 1])
        more = len(page_ids) > limit
        page_ids = page_ids[:limit]
        next_cursor = _encode([page_ids[-1][1], page_ids[-1][0]]) if more else None
        distances: dict[int, float | None] = {pk: None for pk, _name in page_ids}
        return SearchPage(_load_hits([pk for pk, _n in page_ids], distances, now), next_cursor)

    radius = float(radius_m or DEFAULT_RADIUS_M)
    after: tuple[float, int] | None = None
    if cursor:
        payload = _decode(cursor)
        if len(payload) != 2 or not all(isinstance(v, int | float) for v in payload):
            raise _bad("cursor", _("The cursor is not valid."))
        after = (float(payload[0]), int(payload[1]))
    # Rings: measure within a small radius first and widen only while it holds less than a
    # page. In a dense city the first ring is enough, so a 50 km search does not measure the
    # whole city; with sparse results it ends at ``radius`` after at most a few rings.
    ring = min(radius, FIRST_RING_M + (after[0] * 1.5 if after else 0.0))
    while True:
        measured = _measure(qs, point, ring, after)
        # Done when a page and one more lie safely inside the ring (rounded distances of
        # facilities outside it cannot sort before them), or the ring is the whole radius.
        if ring >= radius or (len(measured) > limit and measured[limit][0] < ring - 0.1):
            break
        ring = min(radius, ring * RING_GROWTH)
    more = len(measured) > limit
    page = measured[:limit]
    next_cursor = _encode([page[-1][0], page[-1][1]]) if more and page else None
    if count_miss and not page and sport_id is not None and after is None \
            and not (q or open_now or crowd or free is not None) \
            and (searcher is None
                 or search_misses.first_today(searcher, sport_id, hours.local(now).date())):
        search_misses.count_miss(sport_id=sport_id, day=hours.local(now).date(), point=point,
                                 community=near_community if lat is None else None)
    return SearchPage(_load_hits([pk for _d, pk in page], {pk: d for d, pk in page}, now),
                      next_cursor, point=point, radius_m=radius)


def _measure(qs: QuerySet[Facility], point: tuple[float, float], radius: float,
             after: tuple[float, int] | None) -> list[tuple[float, int]]:
    """(distance rounded to 0.1 m, id) of the facilities within ``radius`` of ``point`` sorted,
    those after the cursor only: the bounding box on the (lat, lng) index narrows, the exact
    great-circle distance decides."""
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(point[0], point[1], radius)
    box = qs.filter(lat__gte=min_lat, lat__lte=max_lat, lng__gte=min_lng, lng__lte=max_lng)
    measured = []
    for pk, f_lat, f_lng in box.values_list("id", "lat", "lng").iterator(chunk_size=5000):
        d = geo.distance_m(point[0], point[1], f_lat, f_lng)
        if d <= radius:
            key = (round(d, 1), pk)
            if after is None or key > after:
                measured.append(key)
    measured.sort()
    return measured


def _load_hits(ids: Sequence[int], distances: dict[int, float | None],
               now: dt.datetime) -> list[Hit]:
    """The page's facilities in the given order, with sports, photos and weekly rules
    prefetched and "open now" answered for all of them in one query."""
    if not ids:
        return []
    rows = {f.pk: f for f in Facility.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("sports", queryset=Sport.objects.order_by("slug")),
        Prefetch("photos", queryset=FacilityPhoto.objects.order_by("position", "id")),
        Prefetch("opening_rules", queryset=OpeningRule.objects.order_by("weekday", "opens")))}
    open_ids = set(Facility.objects.filter(pk__in=ids).filter(hours.open_at_q(now))
                   .values_list("pk", flat=True))
    return [Hit(rows[pk], distances.get(pk), pk in open_ids, crowd_level(rows[pk]))
            for pk in ids if pk in rows]


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
