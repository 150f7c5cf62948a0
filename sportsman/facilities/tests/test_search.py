"""Search: radius exactness around the bounding box, open now (rules, exceptions, public
holidays), filters, pagination and a query count that does not grow with the page."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sportsman.core.errors import InvalidInput
from sportsman.core.models import Sport
from sportsman.facilities import geo
from sportsman.facilities.hours import LOCAL_TZ
from sportsman.facilities.models import (
    Facility,
    FacilityPhoto,
    HolidayHours,
    OpeningException,
    PublicHoliday,
)
from sportsman.facilities.selectors import search_facilities
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

LAT, LNG = 30.7522, 120.7555
# A Wednesday that is no holiday, 10:00 local time.
WED_10 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=LOCAL_TZ)


def _north(metres: float) -> float:
    """The latitude ``metres`` due north of the centre (great circle)."""
    return LAT + math.degrees(metres / geo.EARTH_RADIUS_M)


def _names(page) -> list[str]:
    return [h["name"] for h in page.items]


def test_a_facility_just_inside_the_radius_is_found_and_one_just_outside_is_not(tree):
    make_facility(tree.k1, name="inside", lat=_north(999.0), lng=LNG)
    make_facility(tree.k1, name="outside", lat=_north(1001.0), lng=LNG)
    page = search_facilities(lat=LAT, lng=LNG, radius_m=1000, now=WED_10)
    assert _names(page) == ["inside"]
    assert page.items[0]["distance_m"] == pytest.approx(999.0, abs=0.5)


def test_a_box_corner_inside_the_bounding_box_but_outside_the_circle_is_not_found(tree):
    # The bounding box's corner lies ~1414 m away: in the box, not in the circle.
    _min_lat, max_lat, _min_lng, max_lng = geo.bounding_box(LAT, LNG, 1000)
    make_facility(tree.k1, name="corner", lat=max_lat - 1e-6, lng=max_lng - 1e-6)
    make_facility(tree.k1, name="east edge", lat=LAT, lng=max_lng - 1e-5)
    assert _names(search_facilities(lat=LAT, lng=LNG, radius_m=1000, now=WED_10)) == [
        "east edge"]


def test_results_with_a_point_are_nearest_first_and_without_one_by_name(tree):
    make_facility(tree.k1, name="B far", lat=_north(3000), lng=LNG)
    make_facility(tree.k1, name="A mid", lat=_north(2000), lng=LNG)
    make_facility(tree.k1, name="C near", lat=_north(100), lng=LNG)
    near = search_facilities(lat=LAT, lng=LNG, radius_m=5000, now=WED_10)
    assert _names(near) == ["C near", "A mid", "B far"]
    assert [round(h["distance_m"] or 0, -2) for h in near.items] == [100, 2000, 3000]
    by_name = search_facilities(now=WED_10)
    assert _names(by_name) == ["A mid", "B far", "C near"]
    assert all(h["distance_m"] is None for h in by_name.items)


def test_near_community_uses_the_centroid_of_its_facilities(tree):
    make_facility(tree.k2, name="k2 a", lat=_north(0), lng=LNG)
    make_facility(tree.k2, name="k2 b", lat=_north(2000), lng=LNG)
    make_facility(tree.k4, name="far away", lat=31.5, lng=121.5)
    page = search_facilities(near_community=tree.k2, radius_m=5000, now=WED_10)
    assert page.point == pytest.approx((_north(1000), LNG))
    assert sorted(_names(page)) == ["k2 a", "k2 b"]


def test_open_now_follows_rules_exceptions_and_public_holidays(tree):
    plain = make_facility(tree.k1, name="plain")  # 06–22 daily
    closed_today = make_facility(tree.k1, name="exception closed")
    OpeningException.objects.create(facility=closed_today, start_date=WED_10.date(),
                                    end_date=WED_10.date(), is_closed=True)
    school = make_facility(tree.k1, name="school", opens=dt.time(17, 30), closes=dt.time(21))
    OpeningException.objects.create(facility=school, start_date=WED_10.date(),
                                    end_date=WED_10.date() + dt.timedelta(days=30),
                                    opens=dt.time(8), closes=dt.time(12), reason="暑假")
    make_facility(tree.k1, name="maintenance", status="maintenance")
    assert sorted(_names(search_facilities(open_now=True, now=WED_10))) == [
        "plain", "school"]
    # a public holiday: "closed on holidays" closes, "Sunday hours" follows Sunday's rules
    PublicHoliday.objects.create(date=WED_10.date(), name="测试节")
    Facility.objects.filter(pk=plain.pk).update(holiday_hours=HolidayHours.CLOSED)
    sunday_only = make_facility(tree.k1, name="sunday hours", opens=dt.time(20),
                                closes=dt.time(21))
    sunday_only.opening_rules.filter(weekday=6).update(opens=dt.time(9), closes=dt.time(11))
    normal = make_facility(tree.k1, name="normal hours", opens=dt.time(9), closes=dt.time(11),
                           holiday_hours=HolidayHours.NORMAL)
    normal.opening_rules.filter(weekday=6).update(opens=dt.time(20), closes=dt.time(21))
    assert sorted(_names(search_facilities(open_now=True, now=WED_10))) == [
        "normal hours", "school", "sunday hours"]
    hits = {h["name"]: h["open_now"] for h in search_facilities(now=WED_10).items}
    assert hits["plain"] is False and hits["sunday hours"] is True


def test_filters_combine(tree):
    basketball = Sport.objects.get(slug="basketball")
    a = make_facility(tree.k1, name="篮球免费", category="multi_court")
    a.sports.add(basketball)
    b = make_facility(tree.k1, name="篮球收费", category="multi_court", price_cents=1000)
    b.sports.add(basketball)
    Facility.objects.filter(pk=b.pk).update(is_free=False)
    make_facility(tree.k1, name="健身路径", category="fitness_path")
    now = timezone.now()
    Facility.objects.filter(pk=a.pk).update(capacity=10, occupancy=8, occupancy_at=now)
    Facility.objects.filter(pk=b.pk).update(capacity=10, occupancy=2, occupancy_at=now)
    assert sorted(_names(search_facilities(sport="basketball", now=WED_10))) == [
        "篮球免费", "篮球收费"]
    assert _names(search_facilities(sport="basketball", free=True, now=WED_10)) == ["篮球免费"]
    assert _names(search_facilities(category="fitness_path", now=WED_10)) == ["健身路径"]
    assert _names(search_facilities(crowd="busy", now=WED_10)) == ["篮球免费"]
    assert _names(search_facilities(crowd="quiet", now=WED_10)) == ["篮球收费"]
    assert _names(search_facilities(crowd="unknown", now=WED_10)) == ["健身路径"]
    assert _names(search_facilities(q="收费", now=WED_10)) == ["篮球收费"]


@pytest.mark.parametrize(("occupancy", "level"), [(0, "quiet"), (2, "quiet"), (3, "moderate"),
                                                  (6, "moderate"), (7, "busy"), (12, "busy")])
def test_crowd_filter_agrees_with_crowd_level_at_the_thresholds(tree, occupancy, level):
    f = make_facility(tree.k1, name="f")
    Facility.objects.filter(pk=f.pk).update(capacity=10, occupancy=occupancy,
                                            occupancy_at=timezone.now())
    hit = search_facilities(crowd=level, now=WED_10).items
    assert [h["crowd"] for h in hit] == [level]


@pytest.mark.parametrize("kwargs", [
    {"lat": LAT}, {"lng": LNG}, {"lat": 91, "lng": 0}, {"lat": 0, "lng": 181},
    {"lat": LAT, "lng": LNG, "radius_m": 50_001}, {"lat": LAT, "lng": LNG, "radius_m": 0},
    {"sport": "curling"}, {"category": "stadium"}, {"crowd": "packed"}, {"limit": 0},
    {"limit": 101}, {"cursor": "%%%"}, {"cursor": "WzFd"},
])
def test_bad_parameters_are_refused_with_the_field_named(tree, kwargs):
    with pytest.raises(InvalidInput) as exc:
        search_facilities(now=WED_10, **kwargs)
    assert set(exc.value.fields) & {*kwargs, "lat", "lng"}


def test_ring_search_finds_the_nearest_page_in_a_dense_area_and_far_ones_when_sparse(tree):
    for i in range(30):
        make_facility(tree.k1, name=f"near{i:02d}", lat=_north(10 * i), lng=LNG)
    make_facility(tree.k1, name="far", lat=_north(40_000), lng=LNG)
    page = search_facilities(lat=LAT, lng=LNG, radius_m=50_000, limit=25, now=WED_10)
    assert _names(page) == [f"near{i:02d}" for i in range(25)]
    rest = search_facilities(lat=LAT, lng=LNG, radius_m=50_000, limit=25,
                             cursor=page.next_cursor, now=WED_10)
    assert _names(rest) == [f"near{i:02d}" for i in range(25, 30)] + ["far"]
    assert rest.next_cursor is None


def test_pagination_by_name_and_by_distance_visits_every_result_once(tree):
    for i in range(7):
        make_facility(tree.k1, name=f"场地{i % 3}", lat=_north(100 * (7 - i)), lng=LNG)
    for kwargs in ({}, {"lat": LAT, "lng": LNG, "radius_m": 5000}):
        seen, cursor = [], None
        while True:
            page = search_facilities(limit=3, cursor=cursor, now=WED_10, **kwargs)
            seen += [h["id"] for h in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == 7 and len(set(seen)) == 7


def _count_queries(**kwargs) -> int:
    with CaptureQueriesContext(connection) as ctx:
        page = search_facilities(now=WED_10, **kwargs)
    assert all(h["hours"] for h in page.items)  # hours, sports and photos come with the page
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_number_of_results(tree):
    basketball = Sport.objects.get(slug="basketball")
    for i in range(2):
        f = make_facility(tree.k1, name=f"a{i}", lat=_north(10 * i), lng=LNG)
        f.sports.add(basketball)
    small = _count_queries(lat=LAT, lng=LNG, radius_m=5000, sport="basketball", open_now=True)
    small_by_name = _count_queries(open_now=True)
    for i in range(2, 25):
        f = make_facility(tree.k1, name=f"a{i}", lat=_north(10 * i), lng=LNG)
        f.sports.add(basketball)
        FacilityPhoto.objects.create(facility=f, image=f"x/{i}.jpg")
    big = _count_queries(lat=LAT, lng=LNG, radius_m=5000, sport="basketball", open_now=True)
    # near a point the search widens in rings only while a page is not full: more results
    # never mean more queries
    assert big <= small
    assert _count_queries(open_now=True) == small_by_name


def test_facility_detail_reads_the_week_with_exceptions_and_holidays(tree):
    from sportsman.facilities.selectors import facility_detail

    f = make_facility(tree.k1, name="detail", opens=dt.time(17, 30), closes=dt.time(21),
                      capacity=10)
    f.opening_rules.filter(weekday=6).update(opens=dt.time(8), closes=dt.time(12))
    OpeningException.objects.create(facility=f, start_date=WED_10.date(),
                                    end_date=WED_10.date(), opens=dt.time(9),
                                    closes=dt.time(11), reason="运动会")
    PublicHoliday.objects.create(date=WED_10.date() + dt.timedelta(days=1), name="节")
    Facility.objects.filter(pk=f.pk).update(occupancy=8, occupancy_at=timezone.now())
    d = facility_detail(f.pk, now=WED_10)
    assert [day.day.weekday() for day in d.week] == list(range(7))
    assert d.today == [(dt.time(9), dt.time(11))] and d.open_now
    thursday = d.week[3]
    assert thursday.is_holiday and thursday.intervals == [(dt.time(8), dt.time(12))]
    assert d.week[1].intervals == [(dt.time(17, 30), dt.time(21))]
    assert d.week[2].is_today and d.week[2].is_exception
    assert (d.occupancy, d.crowd) == (8, "busy") and len(d.busy_curve) == 24
