"""Teaching-video figures (instructors): how fast a video goes up through the resumable upload.

``python -m bench.videos PART [ARGS]`` prints one JSON line; run by ``python -m bench``
(``--only videos``) against a migrated scratch database named by DATABASE_URL:

- ``load FILE``: a community, an instructor with an API token, written to FILE.

``measure_all`` makes a real MP4 of about ``PAYLOAD_MB`` MB (motion-JPEG frames of noise, so
it does not compress: what a phone's camera file weighs), serves the platform (granian, the
ASGI entry, as ``make run`` does) and measures in the same run:

- the upload: ``POST /api/v1/videos/uploads`` then ``PATCH`` chunks of ``CHUNK_MB`` MB on one
  kept-alive connection, as a tus client does, through the type sniff, the streamed body, the
  offset bookkeeping, and on the last chunk the probe (duration), the poster frame, the move
  into the media storage and the row — MB/s from the first request to the last answer;
- the bare write: the same bytes written to a file in the same chunks and flushed to disk
  (``fsync``) once, as the upload does at its end — MB/s;
- ``ratio_to_disk_write`` = upload / bare write (best of ``RUNS`` each).
"""

from __future__ import annotations

import http.client
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import run_part

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("video upload through tus, MB/s / writing the same bytes to disk",
     ("videos", "upload", "ratio_to_disk_write"), "min", 0.5),
]

PAYLOAD_MB = 64
CHUNK_MB = 4
RUNS = 5


def payload(target_mb: int = PAYLOAD_MB) -> bytes:
    """A real MP4 (motion JPEG of noise, 1280 × 720) of about ``target_mb`` MB."""
    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("mjpeg", rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuvj420p"
        stream.options = {"qmin": "1", "qmax": "1"}
        noise = [Image.frombytes("RGB", (1280, 720), os.urandom(1280 * 720 * 3))
                 for _ in range(8)]
        size, i = 0, 0
        while size < target_mb * 1024 * 1024:
            for packet in stream.encode(av.VideoFrame.from_image(noise[i % len(noise)])):
                size += packet.size
                container.mux(packet)
            i += 1
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def load(out_file: Path) -> dict:
    from bench.facilities import _bench_community
    from sportsman.accounts.auth import issue_token
    from sportsman.accounts.models import User
    from sportsman.instructors.models import Instructor

    community = _bench_community()
    user = User.objects.create(phone_hash="bench-instructor", phone_encrypted="",
                               nickname="压测指导员")
    Instructor.objects.create(user=user, name="压测指导员", certificate_number="BENCH-1",
                              region=community)
    out_file.write_text(json.dumps({"token": issue_token(user)}))
    return {"instructor": user.pk}


def _metadata(**values: str) -> str:
    import base64

    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def upload_once(base: str, token: str, content: bytes, chunk: int) -> dict:
    """One upload through the tus endpoint on one connection; seconds and the video id."""
    from urllib.parse import urlparse

    target = urlparse(base)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    started = time.perf_counter()
    conn.request("POST", "/api/v1/videos/uploads", headers={
        **auth, "Upload-Length": str(len(content)),
        "Upload-Metadata": _metadata(filename="bench.mp4", title="压测视频", level="beginner")})
    made = conn.getresponse()
    made.read()
    assert made.status == 201, made.status
    path = urlparse(made.headers["Location"]).path
    offset, video_id = 0, None
    view = memoryview(content)
    while offset < len(content):
        body = view[offset:offset + chunk]
        conn.request("PATCH", path, body=body, headers={
            **auth, "Upload-Offset": str(offset), "Content-Length": str(len(body)),
            "Content-Type": "application/offset+octet-stream"})
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 204, (answer.status, answer.headers)
        offset = int(answer.headers["Upload-Offset"])
        video_id = answer.headers.get("Video-Id")
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "video_id": video_id}


def disk_write_once(folder: Path, content: bytes, chunk: int) -> float:
    target = folder / "bare-video-write.bin"
    view = memoryview(content)
    started = time.perf_counter()
    with open(target, "wb") as handle:
        for offset in range(0, len(content), chunk):
            handle.write(view[offset:offset + chunk])
        handle.flush()
        os.fsync(handle.fileno())
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


def _script(args: list[str], env: dict[str, str]) -> dict:
    import subprocess

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "bench.videos", *args], cwd=root, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print,
                seconds: int | None = None, connections: int = 32) -> dict:
    """For ``python -m bench``: a SQLite scratch copy of the migrated ``template``, served by
    granian as ``make run`` does."""
    import shutil

    from bench.__main__ import _free_port, serving

    var_dir = Path(var_dir)
    database = var_dir / "videos.sqlite3"
    shutil.copyfile(template, database)
    env = env_for(database)
    people = var_dir / "videos-people.json"
    setup = _script(["load", str(people)], env)
    token = json.loads(people.read_text())["token"]
    log(f"videos: making a {PAYLOAD_MB} MB MP4")
    content = payload()
    size_mb = len(content) / (1024 * 1024)
    chunk = CHUNK_MB * 1024 * 1024
    uploads, writes = [], []
    serve_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings",
                 "VIDEO_MAX_BYTES": str(len(content) * 2)}
    with serving(serve_env, "asgi", _free_port()) as base:
        log(f"videos: {RUNS} uploads of {size_mb:.0f} MB in {CHUNK_MB} MB chunks, and as many "
            "bare disk writes")
        upload_once(base, token, content, chunk)  # warm-up: imports, first PyAV open
        for _ in range(RUNS):
            uploads.append(upload_once(base, token, content, chunk)["seconds"])
            writes.append(disk_write_once(var_dir, content, chunk))
    upload_mb_s = size_mb / min(uploads)
    write_mb_s = size_mb / min(writes)
    return {"upload": {
        "setup": setup, "payload_mb": round(size_mb, 1), "chunk_mb": CHUNK_MB,
        "upload_seconds": [round(s, 3) for s in uploads],
        "disk_write_seconds": [round(s, 3) for s in writes],
        "upload_mb_per_s": round(upload_mb_s, 1), "disk_write_mb_per_s": round(write_mb_s, 1),
        "ratio_to_disk_write": round(upload_mb_s / write_mb_s, 3),
        "note": ("best of 5 each; the upload includes creation, every chunk's HTTP round trip, "
                 "and at the end the probe, the poster frame and the move into the media "
                 "storage; both flush the file to disk once (fsync)")}}


def main(argv: list[str]) -> int:
    return run_part(argv, {"load": lambda a: load(Path(a[0]))})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
