"""The upload against the tus protocol as a real client speaks it: tuspy (the Python reference
client, from PyPI) pointed at a live server, in chunks, interrupted and resumed."""

from __future__ import annotations

import hashlib
import http.client
import io
import time
from urllib.parse import urlparse

import pytest
from django.core.files.storage import default_storage

from sportsman.instructors.models import TeachingVideo, VideoUpload
from sportsman.instructors.tests.fixtures_videos import clip, instructor

pytestmark = pytest.mark.django_db(transaction=True)


def _client(live_server, user):
    from tusclient.client import TusClient

    from sportsman.accounts.auth import issue_token

    return TusClient(f"{live_server.url}/api/v1/videos/uploads",
                     headers={"Authorization": f"Bearer {issue_token(user)}"})


def _stored(video_id: int) -> bytes:
    video = TeachingVideo.objects.get(pk=video_id)
    with default_storage.open(video.file.name or "", "rb") as f:
        return f.read()


def _video_of(url: str) -> int:
    video_id = VideoUpload.objects.get(key=url.rsplit("/", 1)[1]).video_id
    assert video_id is not None
    return video_id


def test_tuspy_uploads_in_chunks_stops_and_resumes_byte_identical(tree, live_server):
    from sportsman.core.models import Sport

    # a live server's test is transactional: an earlier one's flush emptied the seeded sports
    Sport.objects.get_or_create(slug="taichi", defaults={"name_zh": "太极拳", "name_en": "Tai chi",
                                                         "family": "traditional"})
    user = instructor(tree).user
    tus = _client(live_server, user)
    content = clip("mp4", 4.0)
    meta = {"filename": "lesson.mp4", "title": "太极拳 起势", "sport": "taichi",
            "level": "beginner"}
    first = tus.uploader(file_stream=io.BytesIO(content), chunk_size=4096, metadata=meta)
    first.upload_chunk()
    first.upload_chunk()
    assert first.offset == 8192  # the phone goes to sleep here

    resumed = tus.uploader(file_stream=io.BytesIO(content), url=first.url, chunk_size=4096)
    assert resumed.offset == 8192  # asked the server (HEAD) where to go on
    resumed.upload()
    video_id = _video_of(first.url)
    assert hashlib.sha256(_stored(video_id)).digest() == hashlib.sha256(content).digest()
    assert TeachingVideo.objects.get(pk=video_id).title == "太极拳 起势"


def test_a_connection_dropped_mid_chunk_keeps_what_arrived_and_tuspy_resumes_there(
        tree, live_server):
    user = instructor(tree).user
    tus = _client(live_server, user)
    content = clip("mp4", 4.0)
    start = tus.uploader(file_stream=io.BytesIO(content), chunk_size=len(content),
                         metadata={"filename": "a.mp4", "title": "中断续传"})
    url = start.create_url()  # created; nothing sent yet

    # one big PATCH for the whole file, cut off after 6,000 bytes
    target = urlparse(url)
    raw = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    raw.putrequest("PATCH", target.path)
    for name, value in {**tus.headers, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(len(content))}.items():
        raw.putheader(name, value)
    raw.endheaders()
    raw.send(content[:6000])
    time.sleep(0.3)
    raw.sock.close()

    key = url.rsplit("/", 1)[1]
    for _ in range(50):  # the server notices the end of the body, then records the offset
        if VideoUpload.objects.get(pk=key).offset:
            break
        time.sleep(0.1)
    assert VideoUpload.objects.get(pk=key).offset == 6000

    resumed = tus.uploader(file_stream=io.BytesIO(content), url=url, chunk_size=3000)
    assert resumed.offset == 6000
    resumed.upload()
    assert hashlib.sha256(_stored(_video_of(url))).digest() == hashlib.sha256(content).digest()


def test_tuspy_sees_a_refusal_of_a_file_that_is_not_a_video(tree, live_server):
    from tusclient.exceptions import TusCommunicationError

    tus = _client(live_server, instructor(tree).user)
    fake = b"\x89PNG\r\n\x1a\n" + b"\0" * 5000
    uploader = tus.uploader(file_stream=io.BytesIO(fake), chunk_size=1024,
                            metadata={"filename": "lesson.mp4", "title": "假视频"})
    with pytest.raises(TusCommunicationError) as refused:
        uploader.upload()
    assert refused.value.status_code == 415
    assert not VideoUpload.objects.exists() and not TeachingVideo.objects.exists()


def test_through_the_asgi_bridge_a_cut_chunk_keeps_what_arrived(tree):
    from django.core.wsgi import get_wsgi_application

    from config import asgi
    from sportsman.accounts.auth import issue_token
    from sportsman.instructors import videos
    from tests.test_asgi_bridge import _run_async, _scope

    user = instructor(tree).user
    content = clip("mp4", 4.0)
    upload = videos.start_upload(actor=user, length=len(content), metadata={"title": "桥"})
    bridge = asgi.WsgiBridge(get_wsgi_application(), threads=1)
    messages = [{"type": "http.request", "body": content[:5000], "more_body": True},
                {"type": "http.request", "body": content[5000:7000], "more_body": True}]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    headers = [(b"authorization", f"Bearer {issue_token(user)}".encode()),
               (b"tus-resumable", b"1.0.0"), (b"upload-offset", b"0"),
               (b"content-type", b"application/offset+octet-stream"),
               (b"content-length", str(len(content)).encode()), (b"host", b"127.0.0.1")]
    try:
        _run_async(bridge(_scope({"method": "PATCH", "headers": headers,
                                  "path": f"/api/v1/videos/uploads/{upload.key}"}),
                          receive, send))
    finally:
        bridge.shutdown()
    assert sent and sent[0]["status"] == 204, sent
    assert VideoUpload.objects.get(pk=upload.key).offset == 7000
