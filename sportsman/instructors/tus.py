"""The tus resumable-upload protocol, v1.0.0 (https://tus.io/protocols/resumable-upload), for
teaching videos: core, creation, creation-with-upload, termination and expiration.

    OPTIONS /api/v1/videos/uploads          discovery: Tus-Version, Tus-Extension, Tus-Max-Size
    POST    /api/v1/videos/uploads          Upload-Length, Upload-Metadata → 201, Location
    HEAD    /api/v1/videos/uploads/{key}    → Upload-Offset, Upload-Length
    PATCH   /api/v1/videos/uploads/{key}    Content-Type: application/offset+octet-stream,
                                            Upload-Offset (409 if not where the upload stands)
    DELETE  /api/v1/videos/uploads/{key}    → 204

This module turns requests into calls of ``videos`` (the services own the state) and answers
with the headers the protocol wants; refusals keep the API's one error shape in the body, with
the protocol's status. The body of a PATCH is read from the request stream a block at a time.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date

from sportsman.core.errors import DomainError, InvalidInput
from sportsman.instructors import videos
from sportsman.instructors.models import VideoUpload

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration"
OFFSET_STREAM = "application/offset+octet-stream"
METADATA_KEYS = frozenset({"filename", "title", "sport", "level", "instructor", "filetype"})
UPLOADS_PATH = "/api/v1/videos/uploads"


def _base(status: int, **headers: str) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _refusal(error: DomainError) -> HttpResponse:
    response = JsonResponse(error.as_dict(), status=error.status,
                            json_dumps_params={"ensure_ascii": False})
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    if error.status == 412:
        response["Tus-Version"] = TUS_VERSION
    return response


def _protocol(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every request but OPTIONS names the protocol version it speaks (412 otherwise); a
    domain refusal becomes the error shape with the tus headers."""
    def run(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if request.headers.get("Tus-Resumable") != TUS_VERSION:
                raise InvalidInput(code="tus_version", status=412)
            return view(request, *args, **kwargs)
        except DomainError as error:
            return _refusal(error)
    return run


def _int_header(request: HttpRequest, name: str) -> int:
    raw = request.headers.get(name, "")
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(code=f"tus_{name.lower().replace('-', '_')}",
                           fields={name: ["missing or not a non-negative integer"]})
    return int(raw)


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs (a key alone is an empty
    value); unknown keys are ignored, a value that is not base64 UTF-8 is ``tus_metadata``."""
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _sep, encoded = pair.partition(" ")
        if key not in METADATA_KEYS:
            continue
        try:
            out[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidInput(code="tus_metadata", fields={"Upload-Metadata": [key]}) from exc
    return out


def options(request: HttpRequest) -> HttpResponse:
    return _base(204, Tus_Version=TUS_VERSION, Tus_Extension=TUS_EXTENSIONS,
                 Tus_Max_Size=str(settings.VIDEO_MAX_BYTES))


def _state(upload: VideoUpload, status: int = 204, **headers: str) -> HttpResponse:
    response = _base(status, Upload_Offset=str(upload.offset), **headers)
    if upload.video_id is None:
        response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
    else:
        response["Video-Id"] = str(upload.video_id)
    return response


def _patch_body(request: HttpRequest, upload_key: str, offset: int) -> HttpResponse:
    declared = request.headers.get("Content-Length")
    upload, _video = videos.append_chunk(
        actor=request.user, key=upload_key, offset=offset, read=request.read,
        declared=int(declared) if declared and declared.isdigit() else None)
    return _state(upload)


@_protocol
def create(request: HttpRequest) -> HttpResponse:
    if "Upload-Defer-Length" in request.headers:
        raise InvalidInput(code="tus_defer_length")
    length = _int_header(request, "Upload-Length")
    upload = videos.start_upload(actor=request.user, length=length,
                                 metadata=parse_metadata(request.headers.get(
                                     "Upload-Metadata", "")))
    location = request.build_absolute_uri(f"{UPLOADS_PATH}/{upload.key}")
    if request.content_type == OFFSET_STREAM:  # creation-with-upload: the first chunk rides along
        response = _patch_body(request, upload.key, 0)
        response.status_code = 201
        response["Location"] = location
        return response
    return _state(upload, 201, Location=location)


@_protocol
def head(request: HttpRequest, key: str) -> HttpResponse:
    upload = videos.upload_for(request.user, key)
    return _state(upload, 200, Upload_Length=str(upload.length))


@_protocol
def patch(request: HttpRequest, key: str) -> HttpResponse:
    if request.content_type != OFFSET_STREAM:
        raise InvalidInput(code="tus_content_type", status=415)
    return _patch_body(request, key, _int_header(request, "Upload-Offset"))


@_protocol
def delete(request: HttpRequest, key: str) -> HttpResponse:
    videos.terminate_upload(actor=request.user, key=key)
    return _base(204)
