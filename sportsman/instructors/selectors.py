"""Reads of the instructor registry: the public search (the lean path), a public profile, and
the staff's instructors of a scope.

The search is plain SQL on the instructor table: the page's rows as tuples (status, level,
sport, region subtree, rating and a keyset on the id; or a bounding box on (lat, lng) and the
exact distance near a point), then the page's sports in one query and its regions' names in
one: three statements a page, whatever the registry's size.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sportsman.core.db import subtree_sql
from sportsman.core.errors import bad_field
from sportsman.core.models import Sport
from sportsman.instructors.models import (
    BookingState,
    GuidanceBooking,
    Instructor,
    InstructorLevel,
    InstructorStatus,
)
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
DEFAULT_RADIUS_M = 10_000.0
MAX_RADIUS_M = 50_000.0

_TABLE = Instructor._meta.db_table
_SPORTS = Instructor.sports.through._meta.db_table
_REGIONS = Region._meta.db_table


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The sports catalogue, kept a minute per process (it changes almost never).
SPORTS_SECONDS = 60.0
_sports: dict[str, Any] = {"at": -SPORTS_SECONDS, "by_slug": {}, "by_id": {}}


def _catalogue(*, fresh: bool = False) -> dict[str, Any]:
    if fresh or time.monotonic() - _sports["at"] >= SPORTS_SECONDS:
        rows = list(Sport.objects.values_list("pk", "slug", "name_zh", "name_en"))
        _sports.update(at=time.monotonic(), by_slug={s: pk for pk, s, _z, _e in rows},
                       by_id={pk: (s, z, e) for pk, s, z, e in rows})
    return _sports


def forget_sports() -> None:
    _sports["at"] = -SPORTS_SECONDS


def _encode(payload: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(payload, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool)
                and math.isfinite(v) and 0 <= v < 2**63 for v in payload):
            raise ValueError("not a list of ids and distances")
        return payload
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise bad_field("cursor", _("The cursor is not valid.")) from exc


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a)))


_level_labels: dict[str, dict[str, str]] = {}


def level_labels() -> dict[str, str]:
    language = get_language() or ""
    if language not in _level_labels:
        _level_labels[language] = {v: str(label) for v, label in InstructorLevel.choices}
    return _level_labels[language]


@dataclass
class SearchPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


COLUMNS = ("i.id, i.name, i.level, i.region_id, i.photo, i.rating_sum, i.rating_count,"
           " i.sessions, i.service_minutes, i.accepts_bookings, i.max_group_size, i.lat, i.lng")


def search_instructors(*, sport: str | None = None, level: str | None = None,
                       region: Region | None = None, lat: float | None = None,
                       lng: float | None = None, radius_m: float | None = None,
                       min_rating: float | None = None, cursor: str | None = None,
                       limit: int = DEFAULT_LIMIT) -> SearchPage:
    """Active instructors, filtered by sport (slug), level, region subtree and least mean
    rating (of rated instructors). Near a point (``lat``/``lng``, within ``radius_m``, default
    10 km, at most 50 km): nearest first, each with ``distance_m``; otherwise by registration
    (id). Keyset pagination: pass ``next_cursor`` back. Raises InvalidInput naming the field."""
    if (lat is None) != (lng is None):
        raise bad_field("lng" if lng is None else "lat", _("Give both latitude and longitude."))
    if lat is not None and lng is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise bad_field("lat", _("Not a place on Earth."))
    if radius_m is not None and not 0 < radius_m <= MAX_RADIUS_M:
        raise bad_field("radius_m", _("The radius must be between 1 m and 50 km."))
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_field("limit", _("The limit must be between 1 and 100."))
    where = ["i.status = %s"]
    params: list[Any] = [InstructorStatus.ACTIVE.value]
    if sport:
        sport_id = (_catalogue()["by_slug"].get(sport)
                    or _catalogue(fresh=True)["by_slug"].get(sport))
        if sport_id is None:
            raise bad_field("sport", _("Unknown sport."))
        where.append(f"EXISTS (SELECT 1 FROM {_SPORTS} s"  # noqa: S608 (our tables; values are parameters)
                     " WHERE s.instructor_id = i.id AND s.sport_id = %s)")
        params.append(sport_id)
    if level:
        if level not in InstructorLevel.values:
            raise bad_field("level", _("Unknown level."))
        where.append("i.level = %s")
        params.append(level)
    if region is not None:
        sql, args = subtree_sql(region.path, "r")
        where.append(f"i.region_id IN (SELECT r.id FROM {_REGIONS} r WHERE {sql})")  # noqa: S608
        params += args
    if min_rating is not None:
        if not 1 <= min_rating <= 5:
            raise bad_field("min_rating", _("A rating is 1 to 5."))
        where.append("i.rating_count > 0 AND i.rating_sum >= %s * i.rating_count")
        params.append(min_rating)
    if lat is None or lng is None:
        if cursor:
            payload = _decode(cursor)
            if len(payload) != 1:
                raise bad_field("cursor", _("The cursor is not valid."))
            where.append("i.id > %s")
            params.append(int(payload[0]))
        rows = _fetch(f"SELECT {COLUMNS} FROM {_TABLE} i WHERE {' AND '.join(where)}"  # noqa: S608
                      " ORDER BY i.id LIMIT %s", [*params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        return SearchPage(_items(rows, {}), _encode([rows[-1][0]]) if more and rows else None)
    radius = float(radius_m or DEFAULT_RADIUS_M)
    after: tuple[float, int] | None = None
    if cursor:
        payload = _decode(cursor)
        if len(payload) != 2:
            raise bad_field("cursor", _("The cursor is not valid."))
        after = (float(payload[0]), int(payload[1]))
    d_lat = radius / 111_320.0
    d_lng = radius / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    where.append("i.lat >= %s AND i.lat <= %s AND i.lng >= %s AND i.lng <= %s")
    params += [lat - d_lat, lat + d_lat, lng - d_lng, lng + d_lng]
    found = []
    for row in _fetch(f"SELECT {COLUMNS} FROM {_TABLE} i WHERE {' AND '.join(where)}",  # noqa: S608
                      params):
        d = round(_distance_m(lat, lng, row[11], row[12]), 1)
        if d <= radius and (after is None or (d, row[0]) > after):
            found.append((d, row[0], row))
    found.sort(key=lambda f: (f[0], f[1]))
    more = len(found) > limit
    page = found[:limit]
    return SearchPage(_items([f[2] for f in page], {f[1]: f[0] for f in page}),
                      _encode([page[-1][0], page[-1][1]]) if more and page else None)


def _items(rows: list[tuple], distances: dict[int, float]) -> list[dict[str, Any]]:
    """The API's InstructorOut for ``rows`` (two more statements: sports, region names)."""
    if not rows:
        return []
    ids = [r[0] for r in rows]
    marks = ", ".join(["%s"] * len(ids))
    sports: dict[int, list[int]] = {}
    for instructor_id, sport_id in _fetch(
            f"SELECT instructor_id, sport_id FROM {_SPORTS} WHERE instructor_id IN ({marks})",  # noqa: S608
            ids):
        sports.setdefault(instructor_id, []).append(sport_id)
    region_ids = sorted({r[3] for r in rows})
    names = dict(_fetch(f"SELECT id, name FROM {_REGIONS} WHERE id IN "  # noqa: S608
                        f"({', '.join(['%s'] * len(region_ids))})", region_ids))
    catalogue = _catalogue()["by_id"]
    if any(s not in catalogue for ss in sports.values() for s in ss):
        catalogue = _catalogue(fresh=True)["by_id"]
    chinese = (get_language() or "zh").startswith("zh")
    labels = level_labels()
    storage = Instructor._meta.get_field("photo").storage  # type: ignore[attr-defined]
    out = []
    for (pk, name, level, region_id, photo, rating_sum, rating_count, sessions, minutes,
         accepts, group, _lat, _lng) in rows:
        chosen = sorted(catalogue[s] for s in sports.get(pk, ()) if s in catalogue)
        out.append({
            "id": pk, "name": name, "level": level, "level_label": labels.get(level, level),
            "region_id": region_id, "region_name": names.get(region_id, ""),
            "sports": [{"slug": slug, "name": zh if chinese else en} for slug, zh, en in chosen],
            "rating": round(rating_sum / rating_count, 1) if rating_count else None,
            "rating_count": rating_count, "sessions": sessions, "service_minutes": minutes,
            "photo_url": storage.url(photo) if photo else "",
            "accepts_bookings": bool(accepts), "max_group_size": group,
            "distance_m": distances.get(pk)})
    return out


def profile(instructor: Instructor) -> dict[str, Any]:
    """The public profile: the search's fields, the bio, and the last ratings (three more
    statements)."""
    row = _fetch(f"SELECT {COLUMNS} FROM {_TABLE} i WHERE i.id = %s", [instructor.pk])  # noqa: S608
    item = _items(row, {})[0]
    ratings = list(GuidanceBooking.objects.filter(
        session__instructor=instructor, status=BookingState.ATTENDED, rating__isnull=False)
        .order_by("-rated_at").values_list("rating", "rated_at")[:10])
    counts = {n: 0 for n in range(1, 6)}
    for stars, n in (GuidanceBooking.objects.filter(
            session__instructor=instructor, rating__isnull=False)
            .values_list("rating").annotate(n=_count()).values_list("rating", "n")):
        if stars is not None:
            counts[stars] = n
    return {**item, "bio": instructor.bio, "certified_on": instructor.certified_on,
            "certificate_number": instructor.certificate_number,
            "recent_ratings": [{"stars": s, "at": at} for s, at in ratings],
            "rating_histogram": [counts[n] for n in range(1, 6)]}


def _count() -> Any:
    from django.db.models import Count

    return Count("id")


def instructors_for(access: Access, *, region: Region | None = None, status: str | None = None,
                    q: str = "") -> QuerySet[Instructor]:
    """Instructors of ``access``'s INSTRUCTOR_MANAGE subtree (narrowed to ``region``'s)."""
    from sportsman.regions.models import subtree_q

    qs = access.scope(Instructor.objects.select_related("region", "user"),
                      Perm.INSTRUCTOR_MANAGE)
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(name__icontains=q.strip()[:30])
    return qs.prefetch_related("sports").order_by("region__code", "id")
