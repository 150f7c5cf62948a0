"""Checking uploaded files before anything keeps them: what the platform accepts is decided by
the bytes, never by the name or the browser's content type.

- Photos are decoded by Pillow and written anew as JPEG from the pixels alone, so only real
  images pass and EXIF (GPS position, camera) is dropped (``clean_photo``).
- PDFs are recognised by their magic bytes (``%PDF-`` at the start, ``%%EOF`` near the end)
  and kept as they are (``clean_pdf``); they are only ever served as attachments.
- Both are size-capped; callers read at most one byte past the cap (``upload.read(cap + 1)``)
  so an oversized file is refused without being read whole.
- Videos arrive in chunks (instructors' teaching videos, resumable uploads): the first bytes
  decide the type — an ISO-BMFF ``ftyp`` box (MP4) or an EBML header (WebM/Matroska), never the
  name (``sniff_video``) — and the whole file is then opened by PyAV's bundled ffmpeg for its
  duration, size and a poster frame (``probe_video``); one without a decodable video stream is
  refused.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from sportsman.core.errors import InvalidInput

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_SIDE = 2048
PHOTO_MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
PDF_MAGIC = b"%PDF-"
PDF_TAIL = 1024  # %%EOF must appear within the last KiB (trailing whitespace and junk allowed)


def clean_photo(content: bytes, *, field: str = "image") -> bytes:
    """Re-encode an uploaded image as JPEG: only real images pass (Pillow decodes it), at most
    ``PHOTO_MAX_BYTES`` in and ``PHOTO_MAX_SIDE`` pixels a side out; EXIF (GPS position, camera)
    is dropped because the new file is written from pixels only. ``field`` names the form field
    in the refusal (``photo_too_large``, ``photo_invalid``)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(content) > PHOTO_MAX_BYTES:
        raise InvalidInput(_("The photo is larger than 5 MB."), code="photo_too_large",
                           fields={field: [_("The photo is larger than 5 MB.")]})
    try:
        with Image.open(io.BytesIO(content)) as probe:
            if probe.format not in {"JPEG", "PNG", "WEBP", "GIF", "MPO"}:
                raise UnidentifiedImageError(probe.format)
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise UnidentifiedImageError("too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(content)) as opened:
            upright: Image.Image = ImageOps.exif_transpose(opened) or opened
            pixels = upright.convert("RGB")
            pixels.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            out = io.BytesIO()
            pixels.save(out, "JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(_("The file is not a photo we can read."), code="photo_invalid",
                           fields={field: [_("The file is not a photo we can read.")]}) from exc
    return out.getvalue()


def is_pdf(content: bytes) -> bool:
    """Whether the bytes look like a whole PDF: the header first, the end marker at the end."""
    return content.startswith(PDF_MAGIC) and b"%%EOF" in content[-PDF_TAIL:]


def is_image(content: bytes) -> bool:
    """Whether the bytes start like an image format ``clean_photo`` accepts (a cheap sniff to
    route a file; ``clean_photo`` still decodes it)."""
    return content.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")) or (
        content[:4] == b"RIFF" and content[8:12] == b"WEBP")


def clean_pdf(content: bytes, *, max_bytes: int, field: str = "file") -> bytes:
    """The PDF unchanged if it is one (magic bytes) and at most ``max_bytes``; else
    ``file_too_large`` / ``file_type``."""
    if len(content) > max_bytes:
        raise too_large(max_bytes, field)
    if not is_pdf(content):
        raise InvalidInput(_("The file is not a PDF we can read."), code="file_type",
                           fields={field: [_("The file is not a PDF we can read.")]})
    return content


def too_large(max_bytes: int, field: str = "file") -> InvalidInput:
    message: Any = _("The file is larger than %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}
    return InvalidInput(message, code="file_too_large", fields={field: [message]})


# --- videos ----------------------------------------------------------------------------------

VIDEO_SNIFF_BYTES = 64  # enough of the head for either signature
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# ISO-BMFF major brands that are stills or sound, not video: HEIF/AVIF images, M4A/M4B audio.
_NOT_VIDEO_BRANDS = (b"hei", b"hev", b"mif1", b"msf1", b"avif", b"avis", b"M4A ", b"M4B ",
                     b"M4P ", b"jp2 ", b"crx ")


def sniff_video(head: bytes) -> str | None:
    """The content type the first bytes announce (``video/mp4`` or ``video/webm``), or None:
    an ISO-BMFF file opens with a box whose type is ``ftyp``; a Matroska/WebM file with the
    EBML magic. A file too short to tell is None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(_NOT_VIDEO_BRANDS):
            return None
        return "video/mp4"
    if head.startswith(EBML_MAGIC):
        return "video/webm"
    return None


def video_type_refused(field: str = "file") -> InvalidInput:
    message = _("The file is not an MP4 or WebM video.")
    return InvalidInput(message, code="video_type", fields={field: [message]}, status=415)


def video_too_large(max_bytes: int, field: str = "file") -> InvalidInput:
    error = too_large(max_bytes, field)
    error.code, error.status = "video_too_large", 413
    return error


@dataclass(frozen=True)
class VideoProbe:
    duration: float  # seconds
    width: int
    height: int
    poster_jpeg: bytes  # a frame a little way in, as JPEG (at most 1280 px a side)


POSTER_MAX_SIDE = 1280


def probe_video(path: Path, *, field: str = "file") -> VideoProbe:
    """Open the whole file with PyAV (ffmpeg): its duration, frame size and a poster frame (the
    first frame at or after 10 % of the duration, at most 3 s in; the first frame for a very
    short clip). ``video_invalid`` if it has no decodable video stream."""
    import av
    from PIL import Image

    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise ValueError("no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = (float(container.duration) / av.time_base if container.duration
                        else float((stream.duration or 0) * (stream.time_base or 0)))
            frame = None
            wanted = min(duration * 0.1, 3.0)
            if wanted > 0.2 and stream.time_base:
                container.seek(int(wanted / stream.time_base), stream=stream, backward=True)
            for candidate in container.decode(stream):
                frame = candidate
                if candidate.time is None or candidate.time >= wanted - 0.05:
                    break
            if frame is None:
                raise ValueError("no frame")
            image: Image.Image = frame.to_image()
            width, height = frame.width, frame.height
    except (av.FFmpegError, ValueError, OSError, IndexError) as exc:
        message = _("The video cannot be played: it may be damaged.")
        raise InvalidInput(message, code="video_invalid", fields={field: [message]},
                           status=422) from exc
    image.thumbnail((POSTER_MAX_SIDE, POSTER_MAX_SIDE))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return VideoProbe(duration=round(duration, 3), width=width, height=height,
                      poster_jpeg=out.getvalue())
