"""The resumable upload (tus 1.0.0) of teaching videos: discovery, creation, chunks, resume,
refusals that keep nothing, ownership, termination and expiry."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from sportsman.instructors import videos
from sportsman.instructors.models import TeachingVideo, VideoUpload
from sportsman.instructors.tests.fixtures_videos import (
    TUS,
    clip,
    create,
    head,
    instructor,
    key_of,
    patch,
    upload,
)

pytestmark = pytest.mark.django_db


def _media_files() -> list[str]:
    if not default_storage.exists("instructors"):
        return []
    out = []
    for folder in ("instructors/videos", "instructors/posters"):
        if default_storage.exists(folder):
            out += default_storage.listdir(folder)[1]
    return out


def _parts() -> list:
    return list(videos.upload_dir().iterdir())


def test_options_announce_version_extensions_and_max_size(api_client, settings):
    settings.VIDEO_MAX_BYTES = 123456
    response = api_client.options("/api/v1/videos/uploads")
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert {"creation", "termination", "expiration"} <= set(response["Tus-Extension"].split(","))
    assert response["Tus-Max-Size"] == "123456"


def test_upload_in_chunks_is_byte_identical_with_duration_and_poster(tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    content = clip("mp4", 3.0)
    video_id = upload(client, content, chunk=5000, sport="taichi", level="intermediate",
                      filename="lesson.mp4")
    video = TeachingVideo.objects.get(pk=video_id)
    with default_storage.open(video.file.name, "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(content).hexdigest()
    assert (video.content_type, video.size, video.level, video.sport.slug) == (
        "video/mp4", len(content), "intermediate", "taichi")
    assert 2.5 < video.duration < 3.5 and (video.width, video.height) == (160, 120)
    with default_storage.open(video.poster.name, "rb") as poster:
        assert poster.read(3) == b"\xff\xd8\xff"
    assert video.region_id == tree.k2.pk and video.status == "published"
    assert _parts() == []  # the bytes moved into the storage


def test_webm_is_recognised_from_its_bytes(tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    video_id = upload(client, clip("webm", 1.0), chunk=100_000, filename="x.mp4")
    assert TeachingVideo.objects.get(pk=video_id).content_type == "video/webm"


def test_head_tells_the_offset_and_an_interrupted_upload_resumes_byte_identical(
        tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    content = clip("mp4", 3.0)
    key = key_of(create(client, len(content)))
    assert patch(client, key, 0, content[:7000]).status_code == 204

    # the connection drops in the middle of the next chunk: what arrived is kept
    chunk = iter([content[7000:9000], content[9000:9500]])

    def read(_n: int) -> bytes:
        block = next(chunk, None)
        if block is None:
            raise OSError("connection reset")
        return block

    with pytest.raises(OSError):
        videos.append_chunk(actor=client_user(client), key=key, offset=7000, read=read,
                            declared=5000)
    state = head(client, key)
    assert state.status_code == 200
    assert (state["Upload-Offset"], state["Upload-Length"]) == ("9500", str(len(content)))
    assert state["Cache-Control"] == "no-store" and state["Tus-Resumable"] == "1.0.0"
    done = patch(client, key, 9500, content[9500:])
    assert done.status_code == 204
    video = TeachingVideo.objects.get(pk=int(done["Video-Id"]))
    with default_storage.open(video.file.name, "rb") as stored:
        assert hashlib.sha256(stored.read()).digest() == hashlib.sha256(content).digest()


def client_user(client):
    from sportsman.accounts.auth import user_for_token

    return user_for_token(client.defaults["HTTP_AUTHORIZATION"].split()[1])


def test_a_chunk_at_the_wrong_offset_is_409_and_changes_nothing(tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    content = clip()
    key = key_of(create(client, len(content)))
    patch(client, key, 0, content[:1000])
    answer = patch(client, key, 500, content[500:1500])
    assert answer.status_code == 409 and answer.json()["code"] == "upload_offset"
    assert VideoUpload.objects.get(pk=key).offset == 1000


def test_protocol_version_and_content_type_are_required(tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    missing = client.post("/api/v1/videos/uploads", HTTP_UPLOAD_LENGTH="10")
    assert missing.status_code == 412 and missing["Tus-Version"] == "1.0.0"
    key = key_of(create(client, 100))
    wrong = client.generic("PATCH", f"/api/v1/videos/uploads/{key}", b"x" * 10,
                           content_type="application/octet-stream", HTTP_UPLOAD_OFFSET="0",
                           **TUS)
    assert wrong.status_code == 415 and wrong.json()["code"] == "tus_content_type"


@pytest.mark.parametrize("head_bytes", [
    b"\x89PNG\r\n\x1a\n" + b"\0" * 200,  # a PNG named lesson.mp4
    b"%PDF-1.7\n" + b"\0" * 200,
    b"\0\0\0\x18ftypheic" + b"\0" * 200,  # an ISO-BMFF still image, not a video
    b"RIFF\0\0\0\0AVI LIST" + b"\0" * 200,
])
def test_a_file_that_is_not_mp4_or_webm_is_refused_at_its_first_bytes_and_nothing_kept(
        tree, api_client, head_bytes):
    client = api_client.as_user(instructor(tree).user)
    key = key_of(create(client, 10_000_000, filename="lesson.mp4"))
    answer = patch(client, key, 0, head_bytes)
    assert answer.status_code == 415 and answer.json()["code"] == "video_type"
    assert not VideoUpload.objects.exists() and _parts() == [] and _media_files() == []
    assert head(client, key).status_code == 404


def test_an_mp4_header_on_bytes_ffmpeg_cannot_decode_is_refused_and_nothing_kept(
        tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    content = b"\0\0\0\x18ftypisom\0\0\0\0isomiso2" + b"\x42" * 3000
    key = key_of(create(client, len(content)))
    answer = patch(client, key, 0, content)
    assert answer.status_code == 422 and answer.json()["code"] == "video_invalid"
    assert not VideoUpload.objects.exists() and not TeachingVideo.objects.exists()
    assert _parts() == [] and _media_files() == []


def test_an_oversized_upload_is_refused_from_its_length_before_any_byte(tree, api_client,
                                                                         settings):
    settings.VIDEO_MAX_BYTES = 50_000
    client = api_client.as_user(instructor(tree).user)
    answer = create(client, 50_001)
    assert answer.status_code == 413 and answer.json()["code"] == "video_too_large"
    assert not VideoUpload.objects.exists() and _parts() == []
    assert create(client, 50_000).status_code == 201


def test_a_chunk_running_past_the_length_is_refused(tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    key = key_of(create(client, 100))
    answer = patch(client, key, 0, b"\0" * 101)
    assert answer.status_code == 413 and answer.json()["code"] == "upload_too_long"
    assert VideoUpload.objects.get(pk=key).offset == 0


def test_residents_and_anonymous_cannot_upload(tree, api_client):
    resident = create(api_client.as_user(tree.resident), 100)
    assert resident.status_code == 403 and resident.json()["code"] == "not_an_instructor"
    assert create(api_client, 100).status_code == 401
    assert not VideoUpload.objects.exists()


def test_an_upload_belongs_to_its_creator_and_its_key_is_unguessable(tree, api_client):
    mine = api_client.as_user(instructor(tree).user)
    key = key_of(create(mine, 100))
    assert len(key) >= 40
    other = api_client.as_user(instructor(tree, name="李指导员").user)
    assert head(other, key).status_code == 404
    assert patch(other, key, 0, b"\0" * 10).status_code == 404
    assert other.delete(f"/api/v1/videos/uploads/{key}", **TUS).status_code == 404
    assert VideoUpload.objects.filter(pk=key).exists()


def test_staff_upload_for_an_instructor_of_their_subtree_only(tree, api_client):
    k2_instructor = instructor(tree)
    k4_instructor = instructor(tree, region=tree.k4, name="蓬莱指导员")
    town = api_client.as_user(tree.town_admin)
    assert create(town, 100, instructor=str(k2_instructor.pk)).status_code == 201
    refused = create(town, 100, instructor=str(k4_instructor.pk))
    assert refused.status_code == 403 and refused.json()["code"] == "not_an_instructor"
    assert create(town, 100).status_code == 403


def test_termination_drops_the_upload_and_its_bytes(tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    key = key_of(create(client, 10_000))
    patch(client, key, 0, clip()[:1000])
    answer = client.delete(f"/api/v1/videos/uploads/{key}", **TUS)
    assert answer.status_code == 204
    assert not VideoUpload.objects.exists() and _parts() == []


def test_stale_unfinished_uploads_expire_with_their_bytes(tree, api_client, settings):
    settings.VIDEO_UPLOAD_EXPIRY_HOURS = 2
    client = api_client.as_user(instructor(tree).user)
    stale = key_of(create(client, 10_000))
    patch(client, stale, 0, clip()[:1000])
    fresh = key_of(create(client, 10_000))
    VideoUpload.objects.filter(pk=stale).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert head(client, stale).status_code == 404  # already gone for the client
    from sportsman.instructors.video_tasks import expire_video_uploads

    assert expire_video_uploads.call() == 1
    assert list(VideoUpload.objects.values_list("key", flat=True)) == [fresh]
    assert [p.name for p in _parts()] == [f"{fresh}.part"]


def test_creation_with_upload_takes_the_first_chunk_along(tree, api_client):
    client = api_client.as_user(instructor(tree).user)
    content = clip()
    answer = client.generic("POST", "/api/v1/videos/uploads", content[:2000],
                            content_type="application/offset+octet-stream",
                            HTTP_UPLOAD_LENGTH=str(len(content)),
                            HTTP_UPLOAD_METADATA="title 5YWr5q616ZSm", **TUS)
    assert answer.status_code == 201 and answer["Upload-Offset"] == "2000"
    assert VideoUpload.objects.get(pk=key_of(answer)).title == "八段锦"
