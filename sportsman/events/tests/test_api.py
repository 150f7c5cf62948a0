"""The events API over HTTP: the public list (filters, pages, a constant number of queries), the
error shape of refusals (409 event_full, not_eligible, already_registered, unknown fields),
idempotent registration, and the cover upload's checks."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.events.models import Event, Registration
from sportsman.events.tests.factories import make_event

pytestmark = pytest.mark.django_db


def test_the_list_filters_pages_and_reads_one_query_a_page(tree, api_client):
    for i in range(5):
        make_event(tree.k1, title=f"社区赛{i}", starts_in_days=1 + i)
    make_event(tree.d2, title="秀洲区赛", level="district")
    make_event(tree.k1, title="草稿", status="draft")
    make_event(tree.city, title="线上挑战", mode="online", challenge_metric="minutes")

    with CaptureQueriesContext(connection) as queries:
        first = api_client.get("/api/v1/events", {"limit": 3}).json()
    assert len(queries) == 1
    second = api_client.get("/api/v1/events", {"limit": 10, "cursor": first["next_cursor"]}).json()
    titles = [e["title"] for e in first["items"] + second["items"]]
    assert len(titles) == 7 and "草稿" not in titles and len(set(titles)) == 7
    in_t1 = api_client.get("/api/v1/events", {"region": tree.t1.pk}).json()["items"]
    assert {e["title"] for e in in_t1} == {f"社区赛{i}" for i in range(5)}
    online = api_client.get("/api/v1/events", {"mode": "online"}).json()["items"]
    assert [e["title"] for e in online] == ["线上挑战"]
    district = api_client.get("/api/v1/events", {"level": "district"}).json()["items"]
    assert [e["title"] for e in district] == ["秀洲区赛"]
    past = api_client.get("/api/v1/events", {"upcoming": "false"}).json()["items"]
    assert past == []


def test_a_full_event_without_waitlist_answers_409_event_full(tree, api_client):
    event = make_event(tree.k1, capacity=1, has_waitlist=False)
    api_client.as_user(tree.user()).json("post", f"/api/v1/events/{event.pk}/registrations", {})

    answer = api_client.as_user(tree.resident).json(
        "post", f"/api/v1/events/{event.pk}/registrations", {})

    assert answer.status_code == 409 and answer.json()["code"] == "event_full"
    assert Event.objects.get(pk=event.pk).registered == 1


def test_refusals_carry_their_codes_and_write_nothing(tree, api_client):
    event = make_event(tree.k1, age_min=200 - 190)  # age 10+
    young = tree.user(birth_year=2024)
    client = api_client.as_user(tree.resident)
    path = f"/api/v1/events/{event.pk}/registrations"

    assert api_client.as_user(young).json("post", path, {}).json()["code"] == "not_eligible"
    assert client.json("post", path, {"colour": "red"}).json()["code"] == "unknown_field"
    assert client.json("post", path, {}).status_code == 403  # no birth year: age unknown
    tree.resident.birth_year = 1980
    tree.resident.save()
    assert client.json("post", path, {}).status_code == 201
    twice = client.json("post", path, {})
    assert (twice.status_code, twice.json()["code"]) == (409, "already_registered")
    assert Registration.objects.count() == 1
    assert api_client.json("post", path, {}).status_code == 401


def test_a_retried_registration_with_its_key_is_answered_once(tree, api_client):
    event = make_event(tree.k1)
    client = api_client.as_user(tree.resident)
    path = f"/api/v1/events/{event.pk}/registrations"

    first = client.json("post", path, {}, HTTP_IDEMPOTENCY_KEY="reg-1")
    again = client.json("post", path, {}, HTTP_IDEMPOTENCY_KEY="reg-1")

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Event.objects.get(pk=event.pk).registered == 1


def test_my_registrations_and_cancelling_through_the_api(tree, api_client):
    event = make_event(tree.k1)
    client = api_client.as_user(tree.resident)
    reg = client.json("post", f"/api/v1/events/{event.pk}/registrations", {}).json()

    assert [r["id"] for r in client.get("/api/v1/me/registrations").json()] == [reg["id"]]
    qr = client.get(reg["qr_url"])
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    cancelled = client.post(f"/api/v1/me/registrations/{reg['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    other = api_client.as_user(tree.user()).get(f"/api/v1/me/registrations/{reg['id']}")
    assert other.status_code == 404


def _png(size: int = 16) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), "red").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("content", "status", "code"), [
    (b"%PDF-1.4 not a photo", 400, "photo_invalid"),
    (b"\x89PNG" + b"0" * (PHOTO_MAX_BYTES + 10), 400, "file_too_large"),
])
def test_bad_covers_are_refused_and_nothing_is_stored(tree, api_client, content, status, code):
    event = make_event(tree.t1, status="draft")

    answer = api_client.as_user(tree.town_admin).post(
        f"/api/v1/staff/events/{event.pk}/cover",
        {"file": SimpleUploadedFile("cover.png", content, "image/png")})

    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert not Event.objects.get(pk=event.pk).cover


def test_a_good_cover_is_stored_re_encoded(tree, api_client):
    event = make_event(tree.t1, status="draft")

    answer = api_client.as_user(tree.town_admin).post(
        f"/api/v1/staff/events/{event.pk}/cover",
        {"file": SimpleUploadedFile("cover.png", _png(), "image/png")})

    assert answer.status_code == 200
    stored = Event.objects.get(pk=event.pk).cover
    assert stored.name.endswith(".jpg") and stored.read(3) == b"\xff\xd8\xff"


def test_staff_create_refuses_unknown_fields_and_naive_times(tree, api_client):
    client = api_client.as_user(tree.town_admin)
    body = {"region_id": tree.t1.pk, "title": "新赛", "starts_at": "2027-05-01T09:00:00",
            "ends_at": "2027-05-01T12:00:00+08:00",
            "registration_opens_at": "2027-01-01T00:00:00+08:00",
            "registration_closes_at": "2027-04-30T00:00:00+08:00", "capacity": 20}

    assert client.json("post", "/api/v1/staff/events", {**body, "x": 1}).json()["code"] \
        == "unknown_field"
    naive = client.json("post", "/api/v1/staff/events", body)
    assert naive.status_code == 400 and "starts_at" in naive.json()["fields"]
    assert not Event.objects.exists()
