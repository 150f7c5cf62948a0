"""End to end, served as ``make run`` serves (granian, the ASGI entry and its WSGI bridge):
the demo's teaching videos play in Chromium and seek by range requests; tuspy uploads through
the bridge with a connection cut mid-chunk and resumes; the instructor uploads from the page."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import time
import urllib.request
from urllib.parse import urlparse

import pytest

from tests.e2e.server import DEMO_PASSWORD
from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

INSTRUCTOR = "13800000011"


def _token(server) -> str:
    request = urllib.request.Request(
        f"{server.url}/api/v1/auth/login", method="POST",
        data=json.dumps({"phone": INSTRUCTOR, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())["token"]


def _get(server, path: str, token: str | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(f"{server.url}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as answer:
        return answer.status, dict(answer.headers), answer.read()


def _until(page, expression: str, seconds: float = 15.0) -> None:
    """Poll ``expression`` (the page's CSP forbids the eval that wait_for_function uses)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def test_a_demo_video_plays_and_seeks_by_range_requests(page, server):
    ranged: list[tuple[int, str]] = []
    page.on("response", lambda r: ranged.append((r.status, r.request.headers.get("range", "")))
            if r.url.endswith("/file") else None)
    page.goto("/instructors/videos/")
    cards = page.locator("#videos [data-video]")
    assert cards.count() >= 4
    with page.expect_navigation():
        cards.first.locator("a").first.click()
    player = page.locator("#player")
    assert player.get_attribute("poster")
    _until(page, "document.querySelector('#player').readyState >= 1")
    duration = page.evaluate("document.querySelector('#player').duration")
    assert duration >= 10
    target = round(duration * 0.6, 1)
    # When the viewer jumps to 60 % and plays
    page.evaluate("""async (t) => {
        const v = document.querySelector('#player');
        v.muted = true;
        await new Promise(ok => { v.addEventListener('seeked', ok, {once: true});
                                  v.currentTime = t; });
        await v.play();
    }""", target)
    # Then it plays on from there
    _until(page, f"document.querySelector('#player').currentTime > {target + 0.3}")
    assert page.evaluate("document.querySelector('#player').paused") is False
    assert page.evaluate("document.querySelector('#player').currentTime") < target + 8
    assert any(status == 206 and header.startswith("bytes=") for status, header in ranged), ranged


def test_tuspy_through_the_bridge_with_a_cut_chunk_resumes_byte_identical(server):
    from tusclient.client import TusClient

    from sportsman.instructors.video_samples import sample_video

    token = _token(server)
    tus = TusClient(f"{server.url}/api/v1/videos/uploads",
                    headers={"Authorization": f"Bearer {token}"})
    content = sample_video(fmt="mp4", seconds=6, size=(320, 240))
    url = tus.uploader(file_stream=io.BytesIO(content), chunk_size=len(content),
                       metadata={"filename": "cut.mp4", "title": "断点续传测试",
                                 "sport": "taichi", "level": "beginner"}).create_url()
    target = urlparse(url)
    raw = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    raw.putrequest("PATCH", target.path)
    for name, value in {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0",
                        "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(len(content))}.items():
        raw.putheader(name, value)
    raw.endheaders()
    raw.send(content[:20_000])
    time.sleep(0.5)
    raw.sock.close()

    offset = 0
    for _ in range(50):  # the bridge ends the body, the view records what arrived
        probe = tus.uploader(file_stream=io.BytesIO(content), url=url, chunk_size=16_384)
        offset = probe.offset
        if offset:
            break
        time.sleep(0.1)
    assert offset == 20_000
    probe.upload()
    request = urllib.request.Request(url, method="HEAD", headers={
        "Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"})
    with urllib.request.urlopen(request) as answer:
        video_id = answer.headers["Video-Id"]
    _status, _headers, body = _get(server, f"/instructors/videos/{video_id}/file")
    assert hashlib.sha256(body).digest() == hashlib.sha256(content).digest()
    _status, _headers, detail = _get(server, f"/api/v1/videos/{video_id}")
    assert json.loads(detail)["sport"] == "taichi"


def test_the_instructor_uploads_from_the_page(page, server):
    from sportsman.instructors.video_samples import sample_video

    log_in(page, INSTRUCTOR, next_path="/instructors/videos/mine/")
    before = page.locator("#my-videos [data-video]").count()
    form = page.locator("#video-upload")
    form.locator("[name=file]").set_input_files(
        {"name": "网页上传.webm", "mimeType": "video/webm",
         "buffer": sample_video(fmt="webm", seconds=2, size=(160, 120))})
    form.locator("[name=title]").fill("网页上传的教学视频")
    form.locator("[name=level]").select_option("advanced")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    rows = page.locator("#my-videos [data-video]")
    assert rows.count() == before + 1
    assert rows.first.get_attribute("data-status") == "published"
