"""The API to add to my record: a recording file, a session by hand."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sportsman.activity.models import ActivityRecord

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def _small_gpx() -> bytes:
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix == ".gpx":
            return path.read_bytes()
        if path.name.endswith(".gpx.gz"):
            return gzip.decompress(path.read_bytes())
    raise AssertionError("no GPX fixture")


def test_import_a_recording_then_again_changes_nothing(tree, api_client):
    client = api_client.as_user(tree.resident)
    upload = SimpleUploadedFile("ride.gpx", _small_gpx(), content_type="application/gpx+xml")
    first = client.post("/api/v1/me/activity/import", {"file": upload})
    assert first.status_code == 201, first.content
    made = first.json()["records"]
    assert made and all(not r["is_verified"] and r["source"] == "file" for r in made)
    count = ActivityRecord.objects.count()
    again = client.post("/api/v1/me/activity/import",
                        {"file": SimpleUploadedFile("copy.gpx", _small_gpx())})
    assert again.status_code == 201
    assert [r["id"] for r in again.json()["records"]] == [r["id"] for r in made]
    assert ActivityRecord.objects.count() == count


def test_a_file_that_is_not_a_recording_is_refused_with_nothing_written(tree, api_client):
    client = api_client.as_user(tree.resident)
    response = client.post("/api/v1/me/activity/import",
                           {"file": SimpleUploadedFile("ride.gpx", b"%PDF-1.7 not a track")})
    assert response.status_code == 400
    assert response.json()["code"] in ("recording_type", "recording_corrupt")
    assert not ActivityRecord.objects.exists()
    assert api_client.post("/api/v1/me/activity/import").status_code == 401


def test_manual_entry_is_unverified_capped_and_deletable_by_its_owner(tree, api_client):
    client = api_client.as_user(tree.resident)
    body = {"sport": "walking", "started_at": "2026-11-20T07:00:00+08:00",
            "duration_minutes": 40}
    made = client.json("post", "/api/v1/me/activity/manual", body)
    assert made.status_code == 201, made.content
    assert made.json()["is_verified"] is False and made.json()["sport"] == "walking"
    too_long = client.json("post", "/api/v1/me/activity/manual",
                           {**body, "duration_minutes": 500})
    assert too_long.status_code == 400
    unknown = client.json("post", "/api/v1/me/activity/manual", {**body, "sport": "quidditch"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_sport"
    record_id = made.json()["id"]
    other = api_client.as_user(tree.user())
    assert other.delete(f"/api/v1/me/activity/manual/{record_id}").status_code == 404
    assert client.delete(f"/api/v1/me/activity/manual/{record_id}").status_code == 204
    assert not ActivityRecord.objects.exists()
