"""Builders for bulk-exchange tests: files in CSV (any encoding) and xlsx, an import run the
way the worker runs it, an export read back as a table."""

from __future__ import annotations

import csv
import io
from typing import Any

from sportsman.core import xlsx


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    return xlsx.workbook([("sheet", rows[0], rows[1:])])


def run(actor: Any, kind: str, region: Any, content: bytes) -> Any:
    """Queue an import and run it as the task does; the job afterwards."""
    from sportsman.interfaces import exchange

    job = exchange.start_import(actor=actor, kind=kind, region_id=region.pk, content=content,
                                file_name=f"{kind}.csv")
    exchange.run_import(job.pk)
    job.refresh_from_db()
    return job


def exported(actor: Any, kind: str, region: Any, fmt: str = "csv") -> list[list[str]]:
    """An export read back as text cells (as an import reads it)."""
    from sportsman.interfaces import exchange

    headers, rows, _job = exchange.export(actor=actor, kind=kind, region_id=region.pk, fmt=fmt)
    if fmt == "csv":
        content = b"".join(exchange.csv_chunks(headers, rows))
    else:
        content = exchange.xlsx_content(kind, headers, rows)
    return exchange.read_table(content)


def codes(job: Any) -> set[str]:
    return {e["code"] for e in job.errors}
