"""Builders for report tests: photos (with a GPS position or a decompression bomb), a facility
and a report."""

from __future__ import annotations

import io
from typing import Any

from sportsman.governance import reports
from sportsman.governance.models import Report

# 花园社区's facility in the tests' tree (facilities.tests.factories' default position)
LAT, LNG = 30.7522, 120.7555


def jpeg(*, gps: tuple[float, float] | None = None, size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image, TiffImagePlugin

    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    if gps is not None:
        def dms(value: float) -> tuple:
            value = abs(value)
            d = int(value)
            m = int((value - d) * 60)
            s = round(((value - d) * 60 - m) * 60, 4)
            return tuple(TiffImagePlugin.IFDRational(x) for x in (d, m, s))

        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2] = ("N" if gps[0] >= 0 else "S"), dms(gps[0])
        ifd[3], ifd[4] = ("E" if gps[1] >= 0 else "W"), dms(gps[1])
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def bomb() -> bytes:
    """A tiny PNG that claims 100,000 × 100,000 pixels."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG", optimize=True)
    raw = bytearray(out.getvalue())
    # rewrite the IHDR width and height (bytes 16–24) to 100,000 each; the CRC no longer matches,
    # which Pillow only checks when decoding the pixels
    raw[16:24] = (100_000).to_bytes(4, "big") * 2
    return bytes(raw)


def facility(tree: Any, **extra: Any) -> Any:
    from sportsman.facilities.tests.factories import make_facility

    return make_facility(tree.k1, lat=LAT, lng=LNG, **extra)


def make_report(tree: Any, *, reporter: Any = None, category: str = "lighting",
                at_facility: Any = None, lat: float = LAT, lng: float = LNG,
                **extra: Any) -> Report:
    reporter = reporter or tree.user(home_community=tree.k1, nickname="报事居民")
    if at_facility is None and not extra.pop("no_facility_needed", False):
        facility(tree, name="定位用健身点", units=0)  # something to place the pin in 花园社区
    return reports.submit(actor=reporter, category=category, description="球场的灯坏了三盏",
                          photos=[jpeg()],
                          facility_id=at_facility.pk if at_facility is not None else None,
                          lat=None if at_facility is not None else lat,
                          lng=None if at_facility is not None else lng, **extra)
