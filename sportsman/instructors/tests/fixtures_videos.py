"""Builders for the teaching-video tests: instructors in the scope tree, small real videos, a
tus conversation through the test client, and videos made without the upload."""

from __future__ import annotations

import base64
import functools
import itertools

from sportsman.instructors.models import Instructor, TeachingVideo

_seq = itertools.count(1)


@functools.cache
def clip(fmt: str = "mp4", seconds: float = 2.0) -> bytes:
    from sportsman.instructors.video_samples import sample_video

    return sample_video(fmt=fmt, seconds=seconds, size=(160, 120))


def instructor(tree, region=None, **extra) -> Instructor:
    region = region or tree.k2
    user = tree.user("instructor", region, nickname="指导员")
    return Instructor.objects.create(user=user, name=extra.pop("name", "王指导员"),
                                     certificate_number=f"T-{next(_seq):06d}", region=region,
                                     **extra)


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


def create(client, length: int, **meta: str):
    meta.setdefault("title", "太极拳入门")
    return client.post("/api/v1/videos/uploads", HTTP_UPLOAD_LENGTH=str(length),
                       HTTP_UPLOAD_METADATA=metadata(**meta), **TUS)


def key_of(response) -> str:
    return response["Location"].rsplit("/", 1)[1]


def patch(client, key: str, offset: int, body: bytes):
    return client.generic("PATCH", f"/api/v1/videos/uploads/{key}", body,
                          content_type="application/offset+octet-stream",
                          HTTP_UPLOAD_OFFSET=str(offset), **TUS)


def head(client, key: str):
    return client.head(f"/api/v1/videos/uploads/{key}", **TUS)


def upload(client, content: bytes, *, chunk: int = 4096, **meta: str) -> int:
    """Upload ``content`` in chunks; the new video's id."""
    made = create(client, len(content), **meta)
    assert made.status_code == 201, made.content
    key, offset, answer = key_of(made), 0, None
    while offset < len(content):
        answer = patch(client, key, offset, content[offset:offset + chunk])
        assert answer.status_code == 204, answer.content
        offset = int(answer["Upload-Offset"])
    assert answer is not None
    return int(answer["Video-Id"])


def video(tree, owner: Instructor | None = None, *, content: bytes | None = None,
          status: str = "published", **extra) -> TeachingVideo:
    """A finished video without going through the upload (its file in the media storage)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    owner = owner or instructor(tree)
    content = content if content is not None else clip()
    name = default_storage.save(f"instructors/videos/t{next(_seq)}.mp4", ContentFile(content))
    return TeachingVideo.objects.create(
        instructor=owner, region=owner.region, title=extra.pop("title", "八段锦"),
        file=name, content_type="video/mp4", size=len(content), duration=2.0, width=160,
        height=120, status=status, **extra)
