"""Spreadsheets for staff: one workbook of named sheets, a header row each, values stored as
plain data (text is never a formula, times are local), and the download response.

Callers pass rows they already narrowed to the actor's scope and audit the export themselves.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Sheet = tuple[str, list[str], Iterable[list[Any]]]  # (title, headers, rows)


def _cell(sheet: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).replace(tzinfo=None)
    elif value is None:
        value = ""
    elif not isinstance(value, int | float | dt.date):
        value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # names typed by people stay text, never a formula
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def workbook(sheets: Iterable[Sheet]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, headers, rows in sheets:
        # Excel refuses a sheet title over 31 characters or holding any of []:*?/\
        sheet = book.create_sheet("".join(c for c in title if c not in "[]:*?/\\")[:31])
        sheet.append([_cell(sheet, h) for h in headers])
        for row in rows:
            sheet.append([_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(content: bytes, stem: str) -> HttpResponse:
    """An attachment named ``<stem>-<local time>.xlsx`` (``stem``: ASCII, no quotes)."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.xlsx"'
    return response
