"""The staff registry API: create, edit, hours, exceptions, units, import with a row report,
export, utilisation — through the services, in the one error shape."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from sportsman.facilities.models import Facility
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db


def test_create_then_patch_then_hours(tree, api_client):
    client = api_client.as_user(tree.town_admin)
    response = client.json("post", "/api/v1/facilities", {
        "name": "新南球场", "owner_kind": "community", "category": "multi_court",
        "region": tree.k2.pk, "address": "新南路1号", "lat": 30.75, "lng": 120.75,
        "sports": ["basketball"]})
    assert response.status_code == 201, response.content
    fid = response.json()["id"]
    response = client.json("patch", f"/api/v1/facilities/{fid}", {"capacity": 20})
    assert response.status_code == 200 and response.json()["capacity"] == 20
    response = client.json("put", f"/api/v1/facilities/{fid}/hours", {"rules": [
        {"weekday": 0, "opens": "06:00", "closes": "07:30"},
        {"weekday": 0, "opens": "17:30", "closes": "21:00"}]})
    assert response.json() == [{"weekday": 0, "opens": "06:00", "closes": "07:30"},
                               {"weekday": 0, "opens": "17:30", "closes": "21:00"}]


def test_bad_input_is_400_with_fields_and_writes_nothing(tree, api_client):
    client = api_client.as_user(tree.town_admin)
    response = client.json("post", "/api/v1/facilities", {
        "name": "x", "owner_kind": "community", "category": "stadium", "region": tree.k2.pk,
        "address": "a", "lat": 95, "lng": 120.75})
    assert response.status_code == 400
    assert {"category", "lat"} <= set(response.json()["fields"])
    assert not Facility.objects.exists()
    f = make_facility(tree.k2)
    response = client.json("put", f"/api/v1/facilities/{f.pk}/hours", {"rules": [
        {"weekday": 0, "opens": "10:00", "closes": "09:00"}]})
    assert response.status_code == 400 and "rules.0" in response.json()["fields"]
    response = client.json("patch", f"/api/v1/facilities/{f.pk}", {"colour": "red"})
    assert response.status_code == 400


def test_units_and_exceptions(tree, api_client):
    client = api_client.as_user(tree.town_admin)
    f = make_facility(tree.k2, units=0)
    response = client.json("post", f"/api/v1/facilities/{f.pk}/units",
                           {"name": "1号场", "slot_minutes": 500})
    assert response.status_code == 400 and "slot_minutes" in response.json()["fields"]
    unit = client.json("post", f"/api/v1/facilities/{f.pk}/units",
                       {"name": "1号场", "price_cents": 1500}).json()
    assert client.get(f"/api/v1/facilities/{f.pk}").json()["is_free"] is False
    client.json("patch", f"/api/v1/units/{unit['id']}", {"is_active": False})
    assert client.get(f"/api/v1/facilities/{f.pk}").json()["is_bookable"] is False
    exc = client.json("post", f"/api/v1/facilities/{f.pk}/exceptions", {
        "start_date": "2026-10-01", "end_date": "2026-10-03", "is_closed": True})
    assert exc.status_code == 201
    gone = client.delete(f"/api/v1/facilities/{f.pk}/exceptions/{exc.json()['id']}")
    assert gone.status_code == 204 and not f.opening_exceptions.exists()


def test_import_reports_rows_then_loads(tree, api_client):
    client = api_client.as_user(tree.town_admin)
    bad = ("名称,类别,所属社区代码,地址,纬度,经度,外部编号\n"
           f"a,multi_court,{tree.k2.code},路,91,120,E1\n"
           f"b,nope,{tree.k2.code},路,30,120,E2\n").encode()
    body = client.post("/api/v1/facilities/import",
                       {"file": _file(bad), "dry_run": "true"}).json()
    assert body["ok"] is False
    assert {(p["row"], p["column"]) for p in body["problems"]} == {(2, "纬度"), (3, "类别")}
    good = bad.replace(b",91,", b",30,").replace(b"nope", b"multi_court")
    body = client.post("/api/v1/facilities/import", {"file": _file(good), "dry_run": "true"}).json()
    assert body["ok"] and body["created"] == 2 and not Facility.objects.exists()
    body = client.post("/api/v1/facilities/import", {"file": _file(good)}).json()
    assert body["created"] == 2 and Facility.objects.count() == 2
    body = client.post("/api/v1/facilities/import", {"file": _file(good)}).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 2)


def _file(content: bytes):
    f = io.BytesIO(content)
    f.name = "f.csv"
    return f


def test_utilisation_api_and_bad_range(tree, api_client):
    client = api_client.as_user(tree.town_admin)
    f = make_facility(tree.k2, opens=dt.time(8), closes=dt.time(12))
    body = client.get(f"/api/v1/facilities/{f.pk}/utilisation?from=2026-11-23&to=2026-11-24"
                      ).json()
    assert body["open_hours"] == 8.0 and len(body["heat"]) == 7
    assert client.get(f"/api/v1/facilities/{f.pk}/utilisation?from=2026-11-24&to=2026-11-23"
                      ).status_code == 400


def test_venues_lists_my_facilities_with_a_region_filter(tree, api_client):
    make_facility(tree.k1, name="花园")
    make_facility(tree.k2, name="新南")
    client = api_client.as_user(tree.town_admin)
    names = [v["name"] for v in client.get("/api/v1/venues").json()["items"]]
    assert sorted(names) == sorted(["新南", "花园"])
    names = [v["name"] for v in client.get(f"/api/v1/venues?region={tree.k2.pk}").json()["items"]]
    assert names == ["新南"]
    assert client.get(f"/api/v1/venues?region={tree.k3.pk}").status_code == 404
