"""Guidance records (指导记录) for export and print: the recorded sessions of one instructor (their
own) or of the instructors of a staff scope, as an xlsx workbook (``core.xlsx``) and as a
printable A4 PDF laid out by WeasyPrint in the site's CJK font. Callers narrowed the sessions to
what the actor may see and audit staff exports themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from sportsman.core import xlsx
from sportsman.instructors.models import GuidanceSession, Instructor, SessionStatus
from sportsman.instructors.registry import zone
from sportsman.regions.access import Access, Perm

MAX_ROWS = 20_000

STYLE = """
@page { size: A4; margin: 14mm; @bottom-right { content: counter(page) " / " counter(pages); } }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 9.5pt; }
h1 { font-size: 16pt; margin: 0 0 2mm; } p.meta { margin: 0 0 4mm; color: #444; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 0.3mm solid #999; padding: 1.2mm 1.6mm; vertical-align: top; text-align: left; }
th { background: #e8f2ec; } td.n { text-align: right; white-space: nowrap; }
"""


def recorded(qs: QuerySet[GuidanceSession], *, year: int | None = None
             ) -> QuerySet[GuidanceSession]:
    qs = (qs.filter(status=SessionStatus.RECORDED)
          .select_related("instructor__region", "sport", "facility", "record")
          .order_by("starts_at", "id"))
    if year is not None:
        tz = zone()
        qs = qs.filter(starts_at__gte=dt.datetime(year, 1, 1, tzinfo=tz),
                       starts_at__lt=dt.datetime(year + 1, 1, 1, tzinfo=tz))
    return qs


def of_instructor(instructor: Instructor, *, year: int | None = None
                  ) -> QuerySet[GuidanceSession]:
    return recorded(GuidanceSession.objects.filter(instructor=instructor), year=year)


def of_scope(access: Access, *, year: int | None = None) -> QuerySet[GuidanceSession]:
    return recorded(access.scope(GuidanceSession.objects.all(), Perm.INSTRUCTOR_MANAGE,
                                 field="instructor__region"), year=year)


def rows(sessions: Iterable[GuidanceSession]) -> list[list[Any]]:
    """Date, time, instructor, place, sport, content, attendees, minutes, notes."""
    tz = zone()
    out = []
    for s in list(sessions)[:MAX_ROWS]:
        start = s.starts_at.astimezone(tz)
        record = s.record
        out.append([start.date(), f"{start:%H:%M}–{s.ends_at.astimezone(tz):%H:%M}",
                    s.instructor.name, s.place or (s.facility.name if s.facility else ""),
                    s.sport.name_zh if s.sport else "", record.content, record.attendees,
                    record.minutes, record.notes])
    return out


def headers() -> list[str]:
    return [_("Date"), _("Time"), _("Instructor"), _("Place"), _("Sport"), _("What was taught"),
            _("Attendees"), _("Minutes"), _("Notes")]


def workbook(sessions: Iterable[GuidanceSession]) -> bytes:
    return xlsx.workbook([(_("Guidance records"), headers(), rows(sessions))])


def _no_fetching(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    raise ValueError(f"the guidance records load no resources: {url[:80]}")


def pdf(sessions: Iterable[GuidanceSession], *, title: str, uncompressed: bool = True) -> bytes:
    """The printable guidance records: a title, the totals, a table of sessions. Uncompressed
    by default: a records table is small, and its text stays extractable for archives."""
    from weasyprint import HTML

    table = rows(sessions)
    html = render_to_string("instructors/records_pdf.html", {
        "style": STYLE, "title": title, "rows": table, "count": len(table),
        "attendees": sum(r[6] for r in table), "minutes": sum(r[7] for r in table)})
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf(uncompressed_pdf=uncompressed)
