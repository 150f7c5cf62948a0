"""Open311 GeoReport v2: every endpoint in JSON and XML, its errors in the spec's shape, and a
real Open311 client library (``georeport``, from PyPI) reading services and requests from a
served platform, plus one request posted the way 311 clients post (form-encoded)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sportsman.governance import open311
from sportsman.governance.models import Report
from sportsman.governance.tests.fixtures_reports import LAT, LNG, facility, make_report

pytestmark = pytest.mark.django_db
CITY = "330400000000"  # the tests' tree: 嘉兴市 (there is a second city, so it must be named)


def _xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)  # noqa: S314 (our own answer)


@pytest.fixture
def key(tree) -> str:
    return open311.issue_key(actor=tree.city_admin, name="311 app")[1]


def test_discovery_in_json_and_xml(client):
    data = client.get("/open311/v2/discovery.json").json()
    assert data["endpoints"][0]["specification"] == open311.SPEC
    assert data["endpoints"][0]["url"].endswith("/open311/v2/")
    assert set(data["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
    root = _xml(client.get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]


def test_services_and_a_service_definition(tree, client):
    services = client.get(f"/open311/v2/services.json?jurisdiction_id={CITY}").json()
    codes = [s["service_code"] for s in services]
    assert "lighting" in codes and len(codes) == 8
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in services)
    root = _xml(client.get(f"/open311/v2/services.xml?jurisdiction_id={CITY}"))
    assert [s.findtext("service_code") for s in root.findall("service")] == codes
    assert root.find("service/metadata").text == "false"

    definition = client.get(f"/open311/v2/services/lighting.json?jurisdiction_id={CITY}")
    assert definition.json() == {"service_code": "lighting", "attributes": []}
    assert _xml(client.get(f"/open311/v2/services/lighting.xml?jurisdiction_id={CITY}")) \
        .findtext("service_code") == "lighting"


@pytest.mark.parametrize(("url", "status", "words"), [
    ("/open311/v2/services.{fmt}", 400, "jurisdiction_id"),
    ("/open311/v2/services.{fmt}?jurisdiction_id=110000000000", 404, "jurisdiction_id"),
    (f"/open311/v2/services/weather.{{fmt}}?jurisdiction_id={CITY}", 404, "service_code"),
    (f"/open311/v2/requests/999999.{{fmt}}?jurisdiction_id={CITY}", 404, "service_request_id"),
    (f"/open311/v2/tokens/not-a-token.{{fmt}}?jurisdiction_id={CITY}", 404, "token"),
    (f"/open311/v2/requests.{{fmt}}?jurisdiction_id={CITY}&status=pending", 400, "status"),
    (f"/open311/v2/requests.{{fmt}}?jurisdiction_id={CITY}&start_date=yesterday", 400,
     "start_date"),
    (f"/open311/v2/requests.{{fmt}}?jurisdiction_id={CITY}&start_date=2026-01-01T00:00:00Z"
     "&end_date=2026-06-01T00:00:00Z", 400, "90"),
    (f"/open311/v2/requests.{{fmt}}?jurisdiction_id={CITY}&service_request_id=1,x", 400,
     "service_request_id"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_come_in_the_spec_shape(tree, client, url, status, words, fmt):
    response = client.get(url.format(fmt=fmt))
    assert response.status_code == status
    if fmt == "json":
        [error] = response.json()
        assert error["code"] == status and words in error["description"]
    else:
        root = _xml(response)
        assert root.tag == "errors" and root.findtext("error/code") == str(status)
        assert words in root.findtext("error/description")


def test_requests_are_listed_with_the_specs_filters(tree, client):
    court = facility(tree)
    light = make_report(tree, at_facility=court)
    noise = make_report(tree, category="noise")
    Report.objects.filter(pk=noise.pk).update(status="resolved", public_note="已劝导")

    everything = client.get(f"/open311/v2/requests.json?jurisdiction_id={CITY}").json()
    assert [r["service_request_id"] for r in everything] == [str(noise.pk), str(light.pk)]
    first = everything[1]
    assert first["status"] == "open" and first["service_code"] == "lighting"
    assert first["address_id"] == str(court.pk) and first["lat"] == court.lat
    assert first["agency_responsible"] == "花园社区" and first["media_url"].startswith("http")
    assert "reporter" not in first and first["requested_datetime"].endswith("Z")
    closed = client.get(f"/open311/v2/requests.json?jurisdiction_id={CITY}&status=closed")
    assert [r["status_notes"] for r in closed.json()] == ["已劝导"]
    by_code = client.get(f"/open311/v2/requests.json?jurisdiction_id={CITY}"
                         "&service_code=lighting,noise&status=open").json()
    assert [r["service_request_id"] for r in by_code] == [str(light.pk)]
    by_id = client.get(f"/open311/v2/requests.json?jurisdiction_id={CITY}"
                       f"&service_request_id={noise.pk}&status=open").json()
    assert [r["service_request_id"] for r in by_id] == [str(noise.pk)]  # the id overrides
    long_ago = client.get(f"/open311/v2/requests.json?jurisdiction_id={CITY}"
                          "&start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z")
    assert long_ago.json() == []
    root = _xml(client.get(f"/open311/v2/requests.xml?jurisdiction_id={CITY}"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == \
        [str(noise.pk), str(light.pk)]
    # another city's requests are not in this jurisdiction
    assert client.get("/open311/v2/requests.json?jurisdiction_id=330500000000").json() == []

    one = client.get(f"/open311/v2/requests/{light.pk}.json?jurisdiction_id={CITY}").json()
    assert len(one) == 1 and one[0]["description"] == light.description
    assert _xml(client.get(f"/open311/v2/requests/{light.pk}.xml?jurisdiction_id={CITY}")) \
        .findtext("request/service_code") == "lighting"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_a_request_needs_a_key_and_a_place_and_makes_a_report(tree, client, key, fmt):
    court = facility(tree)
    url = f"/open311/v2/requests.{fmt}"
    base = {"jurisdiction_id": CITY, "service_code": "facility_damage",
            "description": "单杠松动了", "first_name": "李", "email": "li@example.cn"}

    for data, status in (({**base, "address_id": str(court.pk)}, 403),
                         ({**base, "api_key": "wrong", "address_id": str(court.pk)}, 403),
                         ({**base, "api_key": key}, 400),
                         ({**base, "api_key": key, "service_code": "weather", "lat": LAT,
                           "long": LNG}, 404),
                         ({**base, "api_key": key, "lat": "north", "long": LNG}, 400),
                         ({**base, "api_key": key, "lat": 39.9, "long": 116.4}, 400),
                         ({**base, "api_key": key, "address_id": "999999"}, 400),
                         ({**base, "api_key": key, "description": "", "lat": LAT,
                           "long": LNG}, 400)):
        refused = client.post(url, data)
        assert refused.status_code == status, (data, refused.content)
    assert not Report.objects.exists()

    made = client.post(url, {**base, "api_key": key, "address_id": str(court.pk)})
    assert made.status_code == 201
    if fmt == "json":
        [answer] = made.json()
        request_id, token = answer["service_request_id"], answer["token"]
    else:
        root = _xml(made)
        request_id, token = root.findtext("request/service_request_id"), \
            root.findtext("request/token")
    report = Report.objects.get(pk=request_id)
    assert report.facility == court and report.reporter is None
    assert report.open311_client.name == "311 app" and report.contact["first_name"] == "李"
    assert report.handler == "venue_manager"
    tokens = client.get(f"/open311/v2/tokens/{token}.{fmt}?jurisdiction_id={CITY}")
    assert tokens.status_code == 200 and request_id in tokens.content.decode()


def test_only_city_staff_issue_keys(tree, api_client):
    made = api_client.as_user(tree.city_admin).json("post", "/api/v1/console/open311-clients",
                                                     {"name": "12345 热线",
                                                      "city_id": tree.city.pk})
    assert made.status_code == 201 and len(made.json()["api_key"]) >= 24
    assert api_client.as_user(tree.district_admin).json(
        "post", "/api/v1/console/open311-clients",
        {"name": "x", "city_id": tree.city.pk}).status_code == 404
    assert api_client.as_user(tree.resident).get(
        "/api/v1/console/open311-clients").status_code == 403
    listed = api_client.as_user(tree.city_admin).get("/api/v1/console/open311-clients").json()
    assert [c["name"] for c in listed] == ["12345 热线"] and "api_key" not in listed[0]


@pytest.mark.django_db(transaction=True)
def test_a_real_open311_client_reads_services_and_requests(tree, live_server):
    import requests
    from georeport import GeoReport

    facility(tree)
    key = open311.issue_key(actor=tree.city_admin, name="georeport")[1]
    root = f"{live_server.url}/open311/v2"
    # a 311 client posts form-encoded, as the spec says (georeport itself only reads)
    posted = requests.post(f"{root}/requests.json", timeout=10, data={
        "jurisdiction_id": CITY, "api_key": key, "service_code": "lighting",
        "lat": LAT, "long": LNG, "description": "篮球场灯不亮"})
    assert posted.status_code == 201, posted.text
    request_id = posted.json()[0]["service_request_id"]

    for output in ("json", "xml"):
        client = GeoReport(root, jurisdiction=CITY, api_key=key, output_format=output)
        services = client.get_service_list()
        assert "lighting" in [s["service_code"] for s in services]
        assert client.get_service_definition("lighting")["service_code"] == "lighting"
        found = client.get_service_requests(status="open", service_code="lighting")
        found = found if isinstance(found, list) else [found]  # xmltodict: one → a dict
        assert [r["service_request_id"] for r in found] == [request_id]
        one = client.get_service_request(request_id)
        assert one["description"] == "篮球场灯不亮" and one["status"] == "open"
