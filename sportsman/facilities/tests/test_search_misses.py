"""Searches that found nothing are counted for demand analysis: once per search near a point (or
near home) for a sport with nothing within the distance asked, for the searcher's home or the
nearest community, in one counter row per community, sport and day — with nothing about the
searcher kept, and exactly under concurrent searches."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sportsman.core.models import Sport
from sportsman.core.testing import failures, race
from sportsman.facilities import selectors
from sportsman.facilities.models import SearchMiss
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

# Two places ~2.2 km apart: a basketball court in k1 and a plain fitness path in k3.
K1 = (30.7522, 120.7555)
K3 = (30.7722, 120.7555)


def _misses(region=None, sport="swimming") -> int:
    qs = SearchMiss.objects.filter(sport__slug=sport, day=timezone.localdate())
    if region is not None:
        qs = qs.filter(region=region)
    return sum(qs.values_list("misses", flat=True))


def _sport(slug: str, zh: str, family: str) -> Sport:
    """From the catalogue the migrations load (a transactional test may run after a flush
    emptied it)."""
    return Sport.objects.get_or_create(slug=slug, defaults={
        "name_zh": zh, "name_en": slug.title(), "family": family})[0]


@pytest.fixture
def places(tree):
    _sport("swimming", "游泳", "endurance")
    court = make_facility(tree.k1, name="花园球场", lat=K1[0], lng=K1[1])
    court.sports.add(_sport("basketball", "篮球", "ball"))
    path = make_facility(tree.k3, name="湘城健身路径", lat=K3[0], lng=K3[1], units=0)
    return court, path


def _search(api_client, ip="10.0.0.1", **query):
    response = api_client.get("/api/v1/facilities", query, REMOTE_ADDR=ip)
    assert response.status_code == 200
    return response.json()["items"]


def test_a_search_for_a_sport_that_finds_nothing_counts_one_miss_per_searcher(tree, places,
                                                                                api_client):
    near_k1 = {"lat": K1[0] + 0.001, "lng": K1[1], "radius_m": 1000, "sport": "swimming"}
    assert _search(api_client, **near_k1) == []
    assert _misses(tree.k1) == 1
    assert _search(api_client, ip="10.0.0.2", **near_k1) == []
    assert _misses(tree.k1) == 2
    # One counter row per community, sport and day, never a row per search.
    assert SearchMiss.objects.count() == 1
    # The same searcher again (or a script hammering the endpoint) counts once a day per sport;
    # another sport is another miss; a signed-in resident counts as themselves.
    for _ in range(5):
        assert _search(api_client, **near_k1) == []
    assert _misses(tree.k1) == 2
    assert _search(api_client, **{**near_k1, "sport": "tennis"}) == []
    assert _misses(tree.k1, sport="tennis") == 1
    resident = api_client.as_user(tree.resident)
    assert _search(resident, **near_k1) == [] and _search(resident, ip="10.0.0.9", **near_k1) == []
    assert _misses(tree.k1) == 3


def test_a_search_that_finds_something_counts_nothing(tree, places, api_client):
    assert _search(api_client, lat=K1[0], lng=K1[1], radius_m=1000, sport="basketball")
    assert _search(api_client, lat=K1[0], lng=K1[1], radius_m=1000)  # no sport asked
    assert not SearchMiss.objects.exists()


@pytest.mark.parametrize("extra", [
    {"q": "泳"}, {"open_now": "true"}, {"free": "true"}, {"crowd": "quiet"},
])
def test_a_search_narrowed_by_more_than_the_sport_counts_nothing(tree, places, api_client,
                                                                 extra):
    assert _search(api_client, lat=K1[0], lng=K1[1], radius_m=1000, sport="swimming",
                   **extra) == []
    assert not SearchMiss.objects.exists()


def test_a_search_without_a_point_counts_nothing(tree, places, api_client):
    assert _search(api_client, sport="swimming") == []
    assert not SearchMiss.objects.exists()


def test_the_miss_goes_to_the_community_nearest_the_point(tree, places, api_client):
    # Closer to the k3 path than to the k1 court, and nothing for swimming within 500 m.
    assert _search(api_client, lat=K3[0] - 0.002, lng=K3[1], radius_m=500,
                   sport="swimming") == []
    assert _misses(tree.k3) == 1 and _misses(tree.k1) == 0


def test_far_from_every_facility_the_nearest_within_50_km_counts_it(tree, places,
                                                                    api_client):
    # ~18 km north of the k3 path: nothing at all within 5 km, the path within 50 km.
    assert _search(api_client, lat=K3[0] + 0.16, lng=K3[1], radius_m=1000,
                   sport="swimming") == []
    assert _misses(tree.k3) == 1
    # Beyond 50 km of any facility there is no community to count it for.
    assert _search(api_client, lat=K1[0] + 1.0, lng=K1[1], radius_m=1000,
                   sport="swimming") == []
    assert _misses() == 1


def test_near_home_on_the_page_counts_for_the_home_community(tree, places):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(tree.resident, backend="sportsman.accounts.auth.PhoneBackend")
    response = client.get("/places/", {"near": "home", "sport": "swimming", "distance": 1000})
    assert response.status_code == 200
    assert _misses(tree.resident.home_community) == 1
    # The next page of a search is not a new search.
    selectors.search_facilities(lat=K1[0], lng=K1[1], radius_m=1000, sport="swimming",
                                cursor=selectors._encode([1.0, 1]), count_miss=True)
    assert _misses() == 1


def test_counting_is_opt_in_and_costs_one_statement(tree, places):
    search = {"lat": K1[0], "lng": K1[1], "radius_m": 1000, "sport": "swimming"}
    selectors.search_facilities(**search)  # the catalogue of sports, kept by the process
    with CaptureQueriesContext(connection) as plain:
        selectors.search_facilities(**search)
    assert not SearchMiss.objects.exists()
    with CaptureQueriesContext(connection) as counted:
        selectors.search_facilities(**search, count_miss=True)
    assert len(counted.captured_queries) == len(plain.captured_queries) + 1
    assert _misses(tree.k1) == 1


def test_nothing_about_the_searcher_is_stored(tree, places, api_client):
    _search(api_client.as_user(tree.resident), lat=K1[0], lng=K1[1], radius_m=1000,
            sport="swimming")
    columns = {f.column for f in SearchMiss._meta.concrete_fields}
    assert columns == {"id", "day", "region_id", "sport_id", "misses"}
    row = SearchMiss.objects.get()
    assert (row.region_id, row.day, row.misses) == (tree.k1.pk, timezone.localdate(), 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_searches_count_exactly(tree, places):
    n = 8

    def search(_i: int) -> int:
        page = selectors.search_facilities(lat=K1[0], lng=K1[1], radius_m=1000,
                                           sport="swimming", count_miss=True)
        return len(page.items)

    outcomes = race(search, n)
    assert not failures(outcomes), failures(outcomes)
    assert _misses(tree.k1) == n
    assert SearchMiss.objects.count() == 1
