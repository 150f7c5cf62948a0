"""The fitness pages: the console's records with the upload and its error report, stations,
another region's staff seeing nothing; the resident's tests with the trend chart's data."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sportsman.fitness import imports
from sportsman.fitness.models import FitnessTest, TestStation
from sportsman.fitness.tests.fixtures import make_station, row, station_file, test_day
from sportsman.regions.access import Access

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_upload_shows_the_report_then_the_records(tree):
    station = make_station(tree.t1)
    c = _client(tree.town_admin)
    page = c.get("/console/fitness/")
    assert page.status_code == 200 and b'id="fitness-demo-notice"' in page.content
    done = c.post("/console/fitness/upload", {
        "station_id": station.pk, "edition": "2003",
        "file": SimpleUploadedFile("s.xlsx", station_file([row(serial=1), row(serial=2)]))})
    assert done.status_code == 200 and b'data-created="2"' in done.content
    listed = c.get("/console/fitness/").content
    assert len(re.findall(rb'data-test="\d+"', listed)) == 2


def test_a_bad_upload_lists_its_problems_and_loads_nothing(tree):
    station = make_station(tree.t1)
    c = _client(tree.town_admin)
    done = c.post("/console/fitness/upload", {
        "station_id": station.pk, "edition": "2003",
        "file": SimpleUploadedFile("s.xlsx", station_file([row(serial=1),
                                                           row(serial=2, 纵跳=500)]))})
    assert b'data-row="3" data-code="out_of_range"' in done.content
    assert not FitnessTest.objects.exists()


def test_another_regions_staff_see_no_station_or_record(tree):
    station = make_station(tree.t1)
    imports.import_tests(access=Access(tree.town_admin), station_id=station.pk, edition="2003",
                         content=station_file([row(serial=1)]))
    c = _client(tree.sibling_town_admin)
    page = c.get("/console/fitness/").content
    assert b'data-test="' not in page and station.name.encode() not in page
    stations = c.get("/console/fitness/stations").content
    assert f'data-station="{station.pk}"'.encode() not in stations
    done = c.post("/console/fitness/upload", {
        "station_id": station.pk, "edition": "2003",
        "file": SimpleUploadedFile("s.xlsx", station_file([row(serial=2)]))})
    assert b'data-code="station_not_found"' in done.content
    assert FitnessTest.objects.count() == 1
    assert _client(tree.resident).get("/console/fitness/").status_code in (302, 403)


def test_create_a_station_from_the_console(tree):
    c = _client(tree.town_admin)
    c.post("/console/fitness/stations", {"name": "新南监测点", "code": "K2-1",
                                         "region_id": tree.k2.pk})
    assert TestStation.objects.filter(code="K2-1", region=tree.k2).exists()
    again = c.post("/console/fitness/stations", {"name": "x", "code": "K2-1",
                                                 "region_id": tree.k2.pk})
    assert b'data-code="station_exists"' in again.content


def test_my_tests_with_the_trend_data(tree):
    import datetime as dt

    station = make_station(tree.t1)
    phone = tree.resident.phone
    for days in (0, 365):
        imports.import_tests(access=Access(tree.town_admin), station_id=station.pk,
                             edition="2003", content=station_file([
                                 row(serial=1, phone=phone,
                                     day=test_day() - dt.timedelta(days=days))]))
    page = _client(tree.resident).get("/fitness/my/")
    assert page.status_code == 200
    island = re.search(rb'<script id="fitness-trend-data" type="application/json">(.*?)</script>',
                       page.content, re.S)
    assert island is not None
    data = json.loads(island.group(1))
    assert len(data["labels"]) == 2 and len(data["total"]) == 2
    assert {i["item"] for i in data["items"]} >= {"grip", "reaction"}
    assert b'id="fitness-latest"' in page.content
    empty = _client(tree.user()).get("/fitness/my/")
    assert b'id="fitness-empty"' in empty.content
