"""Checking uploaded files before anything keeps them: what the platform accepts is decided by
the bytes, never by the name or the browser's content type.

- Photos are decoded by Pillow and written anew as JPEG from the pixels alone, so only real
  images pass and EXIF (GPS position, camera) is dropped (``clean_photo``).
- PDFs are recognised by their magic bytes (``%PDF-`` at the start, ``%%EOF`` near the end)
  and kept as they are (``clean_pdf``); they are only ever served as attachments.
- Both are size-capped; callers read at most one byte past the cap (``upload.read(cap + 1)``)
  so an oversized file is refused without being read whole.
"""

from __future__ import annotations

import io
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
