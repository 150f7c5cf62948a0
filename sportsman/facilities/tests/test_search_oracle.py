"""The lean search (plain SQL, rows as tuples) against a brute-force reading of the same data in
Python — every facility measured with ``geo.distance_m``, "open now" from ``hours.is_open_at``,
the crowd from ``occupancy.crowd_level``, each filter spelt out — on random cities: the same
results in the same order across every page, with the same fields. Then the API's items held to
its schema, and the statements a page costs."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.core.models import Sport
from sportsman.facilities import geo, hours
from sportsman.facilities.api.facilities import FacilityPageOut
from sportsman.facilities.hours import LOCAL_TZ
from sportsman.facilities.models import (
    Category,
    Facility,
    FacilityStatus,
    HolidayHours,
    OpeningException,
    OpeningRule,
    PublicHoliday,
)
from sportsman.facilities.occupancy import crowd_level
from sportsman.facilities.selectors import CROWD_LEVELS, UNKNOWN, search_facilities
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

LAT, LNG = 30.7522, 120.7555
HOLIDAY = dt.date(2026, 10, 1)
# Moments to ask at: a weekday morning, a holiday, the edges of the usual hours, late at night,
# a Sunday and the days the random exceptions fall on.
MOMENTS = [
    dt.datetime(2026, 11, 25, 10, 0, tzinfo=LOCAL_TZ),
    dt.datetime(2026, 10, 1, 9, 30, tzinfo=LOCAL_TZ),
    dt.datetime(2026, 11, 25, 6, 0, tzinfo=LOCAL_TZ),
    dt.datetime(2026, 11, 25, 22, 0, tzinfo=LOCAL_TZ),
    dt.datetime(2026, 11, 28, 23, 30, tzinfo=LOCAL_TZ),
    dt.datetime(2026, 11, 29, 8, 0, tzinfo=LOCAL_TZ),
    dt.datetime(2026, 12, 2, 14, 0, tzinfo=LOCAL_TZ),
]
WORDS = ["alpha", "bravo", "delta", "echo", "golf"]
SPORTS = ["basketball", "badminton", "football", "table-tennis"]


def _half_hour(rng: random.Random, low: int, high: int) -> dt.time:
    step = rng.randrange(low * 2, high * 2)
    return dt.time(step // 2, 30 * (step % 2))


def _city(rng: random.Random, tree: Any, n: int) -> None:
    """``n`` facilities within ~6 km of the centre with random kinds, prices, statuses, crowds,
    sports, weekly hours (some to midnight, some days closed), holiday rules and exceptions."""
    sports = list(Sport.objects.filter(slug__in=SPORTS))
    PublicHoliday.objects.get_or_create(date=HOLIDAY, defaults={"name": "国庆节"})
    for i in range(n):
        bearing, metres = rng.uniform(0, 2 * math.pi), rng.uniform(0, 6000) ** 1.0
        d_lat = math.degrees(metres * math.cos(bearing) / geo.EARTH_RADIUS_M)
        d_lng = math.degrees(metres * math.sin(bearing) / geo.EARTH_RADIUS_M
                             / math.cos(math.radians(LAT)))
        capacity = rng.choice([0, 10, 20, 40])
        reported = rng.random() < 0.7
        f = make_facility(
            tree.k1 if i % 2 else tree.k2, name=f"{rng.choice(WORDS)}{rng.randrange(10)}",
            lat=LAT + d_lat, lng=LNG + d_lng, units=0,
            category=rng.choice([Category.MULTI_COURT, Category.SCHOOL_GROUND,
                                 Category.STATION]),
            price_cents=rng.choice([0, 0, 500]), capacity=capacity,
            occupancy=rng.randrange(0, capacity + 5) if reported else 0,
            occupancy_at=MOMENTS[0] if reported else None,
            status=rng.choice([FacilityStatus.OPEN] * 5 + [FacilityStatus.MAINTENANCE]),
            holiday_hours=rng.choice(list(HolidayHours.values)))
        f.opening_rules.all().delete()
        rules = []
        for weekday in range(7):
            for _ in range(rng.choice([0, 1, 1, 2])):
                opens = _half_hour(rng, 5, 20)
                closes = (dt.time(23, 59, 59) if rng.random() < 0.2
                          else _half_hour(rng, opens.hour + 1, 24))
                rules.append(OpeningRule(facility=f, weekday=weekday, opens=opens,
                                         closes=closes))
        OpeningRule.objects.bulk_create(rules)
        if rng.random() < 0.3:
            start = dt.date(2026, 11, rng.randrange(24, 30))
            closed = rng.random() < 0.5
            OpeningException.objects.create(
                facility=f, start_date=start, end_date=start + dt.timedelta(rng.randrange(5)),
                is_closed=closed, opens=None if closed else _half_hour(rng, 6, 12),
                closes=None if closed else _half_hour(rng, 13, 23))
        f.sports.set(rng.sample(sports, rng.randrange(len(sports) + 1)))


def _oracle(*, now: dt.datetime, point: tuple[float, float] | None, radius_m: float,
            sport: str | None, category: str | None, free: bool | None, crowd: str | None,
            q: str | None, open_now: bool) -> list[tuple[int, float | None, bool, str]]:
    """(id, distance, open now, crowd) of every match in order, from the models one by one."""
    found = []
    for f in Facility.objects.prefetch_related("sports"):
        if (category and f.category != category) or (free is not None and f.is_free != free):
            continue
        if sport and sport not in {s.slug for s in f.sports.all()}:
            continue
        if (crowd and crowd_level(f) != crowd) or (q and q.lower() not in f.name.lower()):
            continue
        is_open = hours.is_open_at(f, now)
        if open_now and not is_open:
            continue
        distance = None
        if point is not None:
            distance = geo.distance_m(point[0], point[1], f.lat, f.lng)
            if distance > radius_m:
                continue
        found.append((f, distance, is_open))
    if point is None:
        found.sort(key=lambda r: (r[0].name, r[0].pk))
    else:
        found.sort(key=lambda r: (round(r[1] or 0.0, 1), r[0].pk))
    return [(f.pk, d, is_open, crowd_level(f)) for f, d, is_open in found]


def _all_pages(**query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = search_facilities(cursor=cursor, **query)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items
        assert page.items, "a page with a cursor after it holds results"


@pytest.mark.parametrize("seed", range(4))
def test_the_lean_search_finds_what_a_brute_force_reading_finds(tree, seed):
    rng = random.Random(seed)
    _city(rng, tree, 70)
    for _ in range(14):
        query: dict[str, Any] = {
            "now": rng.choice(MOMENTS),
            "sport": rng.choice([None, None, *SPORTS]),
            "category": rng.choice([None, None, Category.MULTI_COURT, Category.STATION]),
            "free": rng.choice([None, None, True, False]),
            "crowd": rng.choice([None, None, None, *CROWD_LEVELS, UNKNOWN]),
            "q": rng.choice([None, None, None, "AL", "o", "delta3"]),
            "open_now": rng.random() < 0.5,
        }
        point = rng.choice([None, (LAT, LNG), (LAT + 0.02, LNG - 0.01)])
        radius = rng.choice([500.0, 2000.0, 5000.0])
        limit = rng.randrange(1, 8)
        if point is None:
            got = _all_pages(limit=limit, **query)
        else:
            got = _all_pages(lat=point[0], lng=point[1], radius_m=radius, limit=limit,
                             **query)
        expected = _oracle(point=point, radius_m=radius, **query)
        assert [h["id"] for h in got] == [pk for pk, *_ in expected], query
        for item, (_pk, distance, is_open, crowd) in zip(got, expected, strict=True):
            assert (item["open_now"], item["crowd"]) == (is_open, crowd), query
            if distance is None:
                assert item["distance_m"] is None
            else:
                assert item["distance_m"] == pytest.approx(distance, abs=0.05)
        # the shown fields are those of the rows, whichever path read them
        for item in got[:5]:
            f = Facility.objects.get(pk=item["id"])
            assert [s["slug"] for s in item["sports"]] == sorted(
                f.sports.values_list("slug", flat=True))
            assert [(r["weekday"], r["opens"], r["closes"]) for r in item["hours"]] == [
                (r.weekday, hours.hhmm(r.opens), hours.hhmm(r.closes))
                for r in f.opening_rules.order_by("weekday", "opens")]
            assert (item["is_free"], item["status"], item["capacity"], item["region_id"]) == (
                f.is_free, f.status, f.capacity, f.region_id)


def test_the_api_items_are_what_the_schema_describes(tree, api_client):
    f = make_facility(tree.k1, name="花园球场", occupancy=3, occupancy_at=MOMENTS[0])
    f.sports.add(Sport.objects.get(slug="basketball"))
    f.photos.create(image="facilities/x.jpg", caption="正门")
    make_facility(tree.k2, name="学校操场", lat=LAT + 0.001)
    for query in ({"lat": LAT, "lng": LNG, "radius_m": 2000}, {}):
        body = api_client.get("/api/v1/facilities", query).json()
        # the schema takes the body as it is, and gives back exactly the body
        assert FacilityPageOut.model_validate(body).model_dump(mode="json") == body
        assert len(body["items"]) == 2
    english = api_client.get("/api/v1/facilities", {"q": "花园"},
                             headers={"accept-language": "en"}).json()
    assert english["items"][0]["sports"] == [{"slug": "basketball", "name": "Basketball"}]


def test_a_page_near_a_point_costs_a_fixed_handful_of_statements(tree):
    basketball = Sport.objects.get(slug="basketball")
    for i in range(30):
        f = make_facility(tree.k1, name=f"court{i}", lat=LAT + i * 1e-4, lng=LNG)
        f.sports.add(basketball)
        f.photos.create(image=f"facilities/{i}.jpg")
    search_facilities(lat=LAT, lng=LNG, sport="basketball", now=MOMENTS[0])  # warm the sports
    with CaptureQueriesContext(connection) as ctx:
        page = search_facilities(lat=LAT, lng=LNG, sport="basketball", open_now=True,
                                 limit=20, now=MOMENTS[0])
    assert len(page.items) == 20 and all(h["photos"] and h["hours"] for h in page.items)
    # one measure of the first ring, then the page's rows, sports, photos and hours
    assert len(ctx.captured_queries) == 5, [q["sql"][:80] for q in ctx.captured_queries]
