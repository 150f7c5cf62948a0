"""The public facility pages: the finder (list + map) and the facility page render for anyone,
in Chinese by default, with filters, near-me and near-home, and the booking buttons."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sportsman.facilities.hours import local
from sportsman.facilities.models import Facility, FacilityStatus
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db


def _map_data(html: str, element_id: str) -> dict:
    start = html.index(f'id="{element_id}"')
    body = html[html.index(">", start) + 1: html.index("</script>", start)]
    return json.loads(body)


def test_finder_lists_places_in_chinese_for_a_visitor(tree):
    make_facility(tree.k1, name="花园球场")
    response = Client().get(reverse("facilities:find"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "花园球场" in html
    assert 'lang="zh-Hans"' in html
    assert "vendor/leaflet/leaflet.js" in html


def test_finder_near_me_sorts_by_distance_and_shows_it(tree):
    make_facility(tree.k1, name="远场", lat=30.7800, lng=120.7555)
    make_facility(tree.k1, name="近场", lat=30.7525, lng=120.7555)
    html = Client().get(reverse("facilities:find"), {
        "near": "me", "lat": "30.7522", "lng": "120.7555", "distance": "5000"}).content.decode()
    assert html.index("近场") < html.index("远场")
    data = _map_data(html, "find-map-data")
    assert [m["name"] for m in data["markers"]] == ["近场", "远场"]
    assert data["center"] == [30.7522, 120.7555]
    assert data["tiles"] == ""


def test_finder_near_my_home_community_uses_its_facilities(tree):
    make_facility(tree.k1, name="家门口", lat=30.7522, lng=120.7555)
    make_facility(tree.k4, name="很远的", lat=30.90, lng=120.60)
    client = Client()
    client.force_login(tree.resident, backend="sportsman.accounts.auth.PhoneBackend")
    html = client.get(reverse("facilities:find"), {"near": "home"}).content.decode()
    assert "家门口" in html and "很远的" not in html


def test_finder_filters_free_and_open_now(tree):
    make_facility(tree.k1, name="收费场", price_cents=2000)
    make_facility(tree.k1, name="免费场")
    Facility.objects.filter(name="收费场").update(is_free=False)
    html = Client().get(reverse("facilities:find"), {"free": "on"}).content.decode()
    assert "免费场" in html and "收费场" not in html


def test_finder_shows_a_bad_filter_as_a_message_not_an_error_page(tree):
    response = Client().get(reverse("facilities:find"), {"near": "me", "lat": "91", "lng": "1"})
    assert response.status_code == 200
    assert 'class="form-errors"' in response.content.decode()


def test_facility_page_shows_hours_people_now_and_directions(tree):
    f = make_facility(tree.k1, name="花园球场", capacity=10, units=0)
    Facility.objects.filter(pk=f.pk).update(occupancy=4, occupancy_at=timezone.now())
    response = Client().get(reverse("facilities:facility", args=[f.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "花园球场" in html
    assert "4" in html and "uri.amap.com/marker" in html
    assert "<svg" in html and 'class="busy-chart"' in html
    assert "06:00–22:00" in html
    assert "星期一" in html  # dates in Chinese by default


def test_facility_page_offers_book_buttons_for_open_slots(tree):
    f = make_facility(tree.k1, name="订场", opens=dt.time(0), closes=dt.time(23, 59))
    tomorrow = local(timezone.now()).date() + dt.timedelta(days=1)
    html = Client().get(reverse("facilities:facility", args=[f.pk]),
                        {"day": tomorrow.isoformat()}).content.decode()
    assert reverse("facilities:book") in html
    assert 'name="slot_id"' in html


def test_facility_page_of_a_closed_facility_says_closed(tree):
    f = make_facility(tree.k1, name="维修中", units=0, status=FacilityStatus.MAINTENANCE)
    html = Client().get(reverse("facilities:facility", args=[f.pk])).content.decode()
    assert "维修中" in html


def test_unknown_facility_page_is_404(tree):
    assert Client().get(reverse("facilities:facility", args=[999999])).status_code == 404


def test_the_resident_tab_bar_links_the_finder(tree):
    html = Client().get(reverse("home")).content.decode()
    assert f'href="{reverse("facilities:find")}"' in html
    html = Client().get(reverse("facilities:find")).content.decode()
    assert f'href="{reverse("facilities:find")}" aria-current="page"' in html
