"""Searches that found nothing: a sign of demand the cockpit reads (``facilities.demand``).

When a public search near a point (or near the resident's home) for one sport finds no facility
within the distance asked, one miss is counted for that sport, the local day and a community:
the searcher's home community when the search was "near my home", else the community of the
facility nearest the point. The counter (``SearchMiss``) is raised by a single UPSERT — never a
row per search — so concurrent searches count exactly and the table grows with communities ×
sports × days. Nothing about the searcher (who, the exact point) is stored.

Only plain "is there anywhere near for this sport" searches count: a search that also asks for a
name, free places only, a crowd level or places open right now may find nothing for reasons that
say nothing about demand for the sport. A second page (cursor) is not a new search.

The search is public, so one searcher counts at most once per sport and day
(:func:`first_today`, a cache entry under a keyed hash of who searched — the signed-in resident,
else the client address — that expires after two days): repeating a search, or a script hammering
the endpoint, does not inflate demand.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.core.cache import cache
from django.db import connection

from sportsman.core import crypto
from sportsman.core.client import client_ip
from sportsman.facilities import geo
from sportsman.facilities.models import Facility, SearchMiss
from sportsman.regions.models import Region

# The nearest community is the region of the nearest facility of any kind, looked for in boxes
# this wide around the point, the next only when the last held no facility at all: in a town the
# first box holds a few hundred rows (measured: ~0.3 ms at 100,000 facilities on SQLite).
NEAREST_RINGS_M = (1_000.0, 8_000.0, 50_000.0)


ONCE_SECONDS = 2 * 24 * 3600


def searcher(request: Any) -> str | None:
    """Who searched, for :func:`first_today`: the signed-in user, else the client address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    ip = client_ip(request)
    return f"ip:{ip}" if ip else None


def first_today(who: str, sport_id: int, day: dt.date) -> bool:
    """Whether this is ``who``'s first miss for the sport on ``day`` (and remember that it was).
    Only a keyed hash of who it was is kept, for two days."""
    key = "searchmiss:" + crypto.keyed_hash(f"{who}|{sport_id}|{day.isoformat()}",
                                            purpose="search")[:32]
    return bool(cache.add(key, 1, ONCE_SECONDS))


def _upsert() -> str:
    qn = connection.ops.quote_name
    table = qn(SearchMiss._meta.db_table)
    return (f"ON CONFLICT ({qn('day')}, {qn('region_id')}, {qn('sport_id')}) "
            f"DO UPDATE SET {qn('misses')} = {table}.{qn('misses')} + 1")


def count_miss(*, sport_id: int, day: dt.date, community: Region | None = None,
               point: tuple[float, float] | None = None) -> bool:
    """Count one search miss for ``sport_id`` on local ``day``: for ``community`` if given, else
    for the community of the facility nearest ``point``. One statement (another only when no
    facility at all lies within 1 km of the point, a third beyond 8 km). Returns False when
    there is nowhere to count it (no community, no facility within 50 km)."""
    qn = connection.ops.quote_name
    table = qn(SearchMiss._meta.db_table)
    columns = ", ".join(qn(c) for c in ("day", "region_id", "sport_id", "misses"))
    day_value = connection.ops.adapt_datefield_value(day)
    with connection.cursor() as cursor:
        if community is not None:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, 1) "  # noqa: S608 (names from the model)
                           f"{_upsert()}", [day_value, community.pk, sport_id])
            return True
        if point is None:
            return False
        lat, lng = point
        # Squared distance on the local plane (longitude shrunk by cos(latitude)): the same
        # order as the great-circle distance at a town's scale, and cheap to sort by.
        shrink = math.cos(math.radians(lat)) ** 2
        facilities = qn(Facility._meta.db_table)
        for radius in NEAREST_RINGS_M:
            min_lat, max_lat, min_lng, max_lng = geo.bounding_box(lat, lng, radius)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 (names from the model)
                f"SELECT %s, f.{qn('region_id')}, %s, 1 FROM {facilities} f "
                f"WHERE f.{qn('lat')} >= %s AND f.{qn('lat')} <= %s "
                f"AND f.{qn('lng')} >= %s AND f.{qn('lng')} <= %s "
                f"ORDER BY (f.{qn('lat')} - %s) * (f.{qn('lat')} - %s) "
                f"+ (f.{qn('lng')} - %s) * (f.{qn('lng')} - %s) * %s, f.{qn('id')} LIMIT 1 "
                f"{_upsert()}",
                [day_value, sport_id, min_lat, max_lat, min_lng, max_lng, lat, lat, lng, lng,
                 shrink])
            if cursor.rowcount:
                return True
    return False
