"""The public facility API: search, detail, categories; bad values answer 400 in the one error
shape; the list's query count does not grow with the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.core.models import Sport
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db


def test_search_near_a_point_returns_distance_gcj02_and_hours(tree, api_client):
    f = make_facility(tree.k1, name="花园球场", lat=30.7522, lng=120.7555)
    f.sports.add(Sport.objects.get(slug="basketball"))
    body = api_client.get("/api/v1/facilities", {"lat": 30.7522, "lng": 120.7555,
                                                 "radius_m": 1000}).json()
    item = body["items"][0]
    assert item["id"] == f.pk and item["distance_m"] == 0
    assert item["sports"] == [{"slug": "basketball", "name": "篮球"}]
    assert item["gcj02"]["lat"] != item["lat"]  # shifted inside China
    assert len(item["hours"]) == 7 and item["hours"][0] == {
        "weekday": 0, "opens": "06:00", "closes": "22:00"}
    assert item["crowd"] == "unknown" and item["category_label"]
    assert body["next_cursor"] is None


@pytest.mark.parametrize("query", [
    {"lat": 30.75}, {"lng": 120.75}, {"lat": 95, "lng": 120}, {"lat": "x", "lng": 1},
    {"lat": 30.75, "lng": 120.75, "radius_m": 50_001}, {"crowd": "packed"},
    {"sport": "curling"}, {"category": "stadium"}, {"limit": 0}, {"limit": 500},
    {"cursor": "not-a-cursor"}, {"open_now": "perhaps"},
])
def test_bad_search_values_are_400_in_the_one_error_shape(tree, api_client, query):
    response = api_client.get("/api/v1/facilities", query)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"} and body["fields"]


def test_detail_and_unknown_detail(tree, api_client):
    f = make_facility(tree.k1, name="花园球场")
    body = api_client.get(f"/api/v1/facilities/{f.pk}").json()
    assert body["id"] == f.pk and len(body["week"]) == 7 and body["units"][0]["name"] == "1号场"
    response = api_client.get("/api/v1/facilities/999999")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_categories_are_public(api_client):
    body = api_client.get("/api/v1/categories").json()
    assert {c["code"] for c in body} >= {"school_ground", "multi_court", "station"}
    assert all(c["label"] for c in body)


def _count(api_client, **query) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api_client.get("/api/v1/facilities", query).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_the_number_of_results(tree, api_client):
    basketball = Sport.objects.get(slug="basketball")
    for i in range(2):
        make_facility(tree.k1, name=f"f{i}").sports.add(basketball)
    small = _count(api_client, lat=30.7522, lng=120.7555, sport="basketball", open_now="true")
    for i in range(2, 30):
        make_facility(tree.k1, name=f"f{i}").sports.add(basketball)
    # more results never mean more queries (near a point, a full first ring means fewer)
    assert _count(api_client, lat=30.7522, lng=120.7555, sport="basketball",
                  open_now="true") <= small
    by_name = _count(api_client, sport="basketball")
    for i in range(30, 40):
        make_facility(tree.k1, name=f"f{i}").sports.add(basketball)
    assert _count(api_client, sport="basketball") == by_name
