"""The fitness API: stations, the import's error report, keyset pages of records (a fixed
number of queries), an audited record, and a resident's own records."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.core.models import AuditEntry
from sportsman.fitness import imports
from sportsman.fitness.models import FitnessTest
from sportsman.fitness.tests.fixtures import make_station, row, station_file
from sportsman.regions.access import Access

pytestmark = pytest.mark.django_db


def _load(tree, station, n: int, **kw):
    return imports.import_tests(access=Access(tree.town_admin), station_id=station.pk,
                                edition="2003",
                                content=station_file([row(serial=i, **kw) for i in range(n)]))


def test_create_station_refuses_a_number_twice(tree, api_client):
    client = api_client.as_user(tree.town_admin)
    body = {"region_id": tree.k1.pk, "name": "花园监测点", "code": "JX-9"}
    assert client.json("post", "/api/v1/console/fitness/stations", body).status_code == 201
    again = client.json("post", "/api/v1/console/fitness/stations", body)
    assert again.status_code == 409 and again.json()["code"] == "station_exists"
    outside = client.json("post", "/api/v1/console/fitness/stations",
                          {**body, "code": "JX-10", "region_id": tree.t2.pk})
    assert outside.status_code == 404 and outside.json()["code"] == "region_not_found"


def test_import_answers_every_problem_and_loads_nothing(tree, api_client):
    station = make_station(tree.t1)
    content = station_file([row(serial=1), row(serial=2, 握力="x")])
    response = api_client.as_user(tree.town_admin).post("/api/v1/console/fitness/import", {
        "station_id": station.pk, "file": SimpleUploadedFile("a.xlsx", content)})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert [(p["row"], p["column"], p["code"]) for p in body["problems"]] == [
        (3, "握力", "bad_number")]
    assert not FitnessTest.objects.exists()


def test_import_twice_is_one_record_per_person(tree, api_client):
    station = make_station(tree.t1)
    content = station_file([row(serial=1), row(serial=2)])
    client = api_client.as_user(tree.town_admin)
    for expected in ({"created": 2, "unchanged": 0}, {"created": 0, "unchanged": 2}):
        body = client.post("/api/v1/console/fitness/import", {
            "station_id": station.pk, "file": SimpleUploadedFile("a.xlsx", content)}).json()
        assert body["ok"] and {k: body[k] for k in expected} == expected
    assert FitnessTest.objects.count() == 2


def test_records_page_by_keyset_in_a_fixed_number_of_queries(tree, api_client):
    station = make_station(tree.t1)
    _load(tree, station, 7)
    client = api_client.as_user(tree.town_admin)
    seen: list[int] = []
    cursor = ""
    counts = []
    while True:
        with CaptureQueriesContext(connection) as queries:
            body = client.get("/api/v1/console/fitness/tests",
                              {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        counts.append(len(queries))
        seen += [t["id"] for t in body["items"]]
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    assert sorted(seen) == sorted(FitnessTest.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 7
    assert len(set(counts)) == 1, counts
    assert all(t["name"].endswith("*") for t in body["items"])


def test_a_record_is_read_with_masked_phone_and_the_view_is_audited(tree, api_client):
    station = make_station(tree.t1)
    report = _load(tree, station, 1, phone="13912345678")
    test_id = report.test_ids[0]
    body = api_client.as_user(tree.town_admin).get(
        f"/api/v1/console/fitness/tests/{test_id}").json()
    assert body["phone"] == "139****5678"
    assert {i["item"] for i in body["items"]} >= {"grip", "height_weight", "reaction"}
    assert AuditEntry.objects.filter(action="view.fitness_test", object_id=str(test_id)).exists()


def test_a_resident_reads_only_their_own_records(tree, api_client):
    station = make_station(tree.t1)
    _load(tree, station, 1, phone=tree.resident.phone)
    imports.import_tests(access=Access(tree.town_admin), station_id=station.pk, edition="2003",
                         content=station_file([row(serial=30)]))
    mine = api_client.as_user(tree.resident).get("/api/v1/fitness/my-tests").json()
    assert len(mine) == 1 and mine[0]["items"]
    other = api_client.as_user(tree.town_admin).get("/api/v1/fitness/my-tests").json()
    assert other == []
    assert api_client.get("/api/v1/fitness/my-tests").status_code == 401
