"""Certificates (证书) as PDF: a participant's name, the event, the date and — with a result —
the rank and score, laid out on A4 landscape by WeasyPrint in the site's CJK font (Noto Sans
CJK). Self-contained: WeasyPrint fetches nothing."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from sportsman.core.errors import Conflict
from sportsman.events.models import Registration, RegStatus
from sportsman.events.services import local

STYLE = """
@page { size: A4 landscape; margin: 18mm; }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; color: #1b3a2f; }
.frame { border: 3mm double #2d7a4f; height: 160mm; padding: 14mm; text-align: center; }
h1 { font-size: 34pt; letter-spacing: 8pt; margin: 6mm 0 10mm; }
.name { font-size: 26pt; font-weight: bold; margin: 8mm 0; }
.event { font-size: 18pt; } .result { font-size: 16pt; margin-top: 8mm; }
.footer { margin-top: 16mm; font-size: 12pt; }
"""


class NoCertificate(Conflict):
    code = "no_certificate"

    def __init__(self) -> None:
        from django.utils.translation import gettext_lazy as _

        super().__init__(_("A certificate is given once you took part (checked in or ranked)."))


def can_have(reg: Registration) -> bool:
    return reg.status == RegStatus.CHECKED_IN or reg.rank is not None


def _no_fetching(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    raise ValueError(f"the certificate loads no resources: {url[:80]}")


def html(reg: Registration) -> str:
    event = reg.event
    name = reg.team_name or reg.user.nickname or reg.user.masked_phone
    return render_to_string("events/certificate.html", {
        "style": STYLE, "name": name, "event": event, "reg": reg,
        "day": local(event.starts_at).strftime("%Y-%m-%d")})


def pdf(reg: Registration, *, uncompressed: bool = False) -> bytes:
    """The certificate of ``reg`` (``no_certificate`` before they took part); ``uncompressed``
    for tests that read the embedded fonts."""
    from weasyprint import HTML

    if not can_have(reg):
        raise NoCertificate()
    return HTML(string=html(reg), url_fetcher=_no_fetching).write_pdf(
        uncompressed_pdf=uncompressed)
