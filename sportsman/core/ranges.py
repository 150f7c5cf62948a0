"""Serving a stored file with HTTP range requests (RFC 9110 §14): what a ``<video>`` needs to
seek. One range per request (``bytes=a-b``, ``bytes=a-``, the suffix ``bytes=-n``); a request
for several ranges, or a Range header we do not understand, gets the whole file (200), as the
RFC allows; a range that starts past the end is 416 with ``Content-Range: bytes */size``.
An open-ended range (``bytes=a-``, what a ``<video>`` asks for) may be answered with at most
``open_max`` bytes from ``a``: the player asks again for the rest as it plays, so no request
keeps a web thread for the length of a whole film on a slow phone.

The body is read from the storage a block at a time as the client takes it (a streaming
response), never the file whole into memory. An ``If-Range`` that does not match the file's
ETag turns the answer into the whole file, so a client never stitches two versions together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import Storage, default_storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import http_date

BLOCK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int, open_max: int | None = None
                ) -> tuple[int, int] | bool | None:
    """The inclusive (first, last) byte the header asks for (an open-ended one cut to
    ``open_max`` bytes); None to serve the whole file (no header, several ranges, syntax we
    ignore); False when it cannot be satisfied."""
    match = _RANGE.match(header.strip().replace(" ", "")) if header else None
    if match is None:
        return None
    first_raw, last_raw = match.groups()
    if not first_raw and not last_raw:
        return None
    if not first_raw:  # suffix: the last n bytes
        suffix = int(last_raw)
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    first = int(first_raw)
    last = int(last_raw) if last_raw else size - 1
    if not last_raw and open_max:
        last = min(last, first + open_max - 1)
    if last_raw and last < first:
        return None  # invalid syntax: ignore the header
    if first >= size:
        return False
    return first, min(last, size - 1)


def _blocks(storage: Storage, name: str, first: int, length: int) -> Iterator[bytes]:
    with storage.open(name, "rb") as handle:
        handle.seek(first)
        left = length
        while left > 0:
            block = handle.read(min(BLOCK, left))
            if not block:
                return
            left -= len(block)
            yield block


def serve_ranged(request: HttpRequest, name: str, *, content_type: str,
                 storage: Storage | None = None, cache_control: str = "private, max-age=300",
                 etag: str | None = None, modified: Any = None, open_max: int | None = None
                 ) -> HttpResponseBase:
    storage = storage or default_storage
    size = storage.size(name)
    wanted = parse_range(request.headers.get("Range", ""), size, open_max)
    if_range = request.headers.get("If-Range")
    if wanted not in (None, False) and if_range is not None and etag and if_range != etag:
        wanted = None
    headers = {"Accept-Ranges": "bytes", "Cache-Control": cache_control,
               "X-Content-Type-Options": "nosniff"}
    if etag:
        headers["ETag"] = etag
    if modified is not None:
        headers["Last-Modified"] = http_date(modified.timestamp())
    if wanted is False:
        response = HttpResponse(status=416, content_type=content_type)
        response["Content-Range"] = f"bytes */{size}"
        for key, value in headers.items():
            response[key] = value
        return response
    if wanted is None:
        first, last, status = 0, size - 1, 200
    else:
        assert isinstance(wanted, tuple)
        (first, last), status = wanted, 206
    length = max(0, last - first + 1)
    streamed = StreamingHttpResponse(
        _blocks(storage, name, first, length) if request.method != "HEAD" else iter(()),
        status=status, content_type=content_type)
    streamed["Content-Length"] = str(length)
    if status == 206:
        streamed["Content-Range"] = f"bytes {first}-{last}/{size}"
    for key, value in headers.items():
        streamed[key] = value
    return streamed
