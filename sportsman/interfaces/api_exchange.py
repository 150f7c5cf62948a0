"""Bulk exchange API (EXCHANGE_MANAGE; docs/exchange.md): the file formats, imports as jobs
with their progress and every bad row, error reports, and streamed exports of the caller's
region subtree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from sportsman.core import xlsx
from sportsman.interfaces import exchange
from sportsman.interfaces.exchange_formats import KINDS
from sportsman.interfaces.models import ExchangeJob
from sportsman.regions.access import Perm, access_for, scoped

router = Router(tags=["exchange"])



class ColumnOut(Schema):
    key: str
    header: str
    header_en: str
    required: bool
    natural_key: bool


class KindOut(Schema):
    key: str
    label: str
    importable: bool
    columns: list[ColumnOut]


class ProblemOut(Schema):
    row: int
    column: str
    code: str
    message: str


class JobOut(Schema):
    id: int
    kind: str
    direction: str
    status: str
    region_id: int
    region_code: str
    file_name: str
    file_format: str
    rows_total: int
    rows_done: int
    percent: int
    summary: dict[str, int]
    error_count: int
    created_at: dt.datetime
    finished_at: dt.datetime | None


class JobDetailOut(JobOut):
    errors: list[ProblemOut]


class JobPageOut(Schema):
    items: list[JobOut]
    next_before: int | None


class JobsQuery(Schema):
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(50, ge=1, le=200)


class ExportQuery(Schema):
    region_id: int = Field(..., ge=1, lt=2**63)
    format: str = Field("xlsx", pattern="^(csv|xlsx)$")


def job_out(job: ExchangeJob) -> dict[str, Any]:
    return {"id": job.pk, "kind": job.kind, "direction": job.direction, "status": job.status,
            "region_id": job.region_id, "region_code": job.region.code,
            "file_name": job.file_name, "file_format": job.file_format,
            "rows_total": job.rows_total, "rows_done": job.rows_done, "percent": job.percent,
            "summary": job.summary, "error_count": len(job.errors),
            "created_at": job.created_at, "finished_at": job.finished_at}


@router.get("/console/exchange/kinds", response=list[KindOut])
@scoped(Perm.EXCHANGE_MANAGE)
def kinds(request: HttpRequest):
    """The file formats: each kind's columns (Chinese header, English header), its natural
    key, and whether it can be imported."""
    return [{"key": k.key, "label": str(k.label), "importable": k.importable,
             "columns": [{"key": c.key, "header": c.zh, "header_en": c.en,
                          "required": c.required, "natural_key": c.key == k.natural_key}
                         for c in k.columns]} for k in KINDS.values()]


@router.get("/console/exchange/jobs", response=JobPageOut)
@scoped(Perm.EXCHANGE_MANAGE)
def job_list(request: HttpRequest, query: Query[JobsQuery]):
    """Imports and exports of the caller's subtrees, newest first (keyset by id)."""
    qs = exchange.jobs_for(access_for(request))
    if query.before:
        qs = qs.filter(pk__lt=query.before)
    rows = list(qs[:query.limit + 1])
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return {"items": [job_out(j) for j in rows], "next_before": rows[-1].pk if more else None}


@router.post("/console/exchange/imports", response={202: JobOut})
@scoped(Perm.EXCHANGE_MANAGE)
def start_import(request: HttpRequest, file: File[UploadedFile], kind: Form[str],
                 region_id: Form[int]):
    """Queue the import of one CSV or xlsx file; poll ``GET /console/exchange/jobs/{id}`` for
    its progress and problems. A file with any bad row changes nothing."""
    content = file.read(exchange.MAX_BYTES + 1)
    job = exchange.start_import(actor=request.user, kind=kind, region_id=region_id,
                                content=content, file_name=file.name or "", request=request)
    return Status(202, job_out(job))


@router.get("/console/exchange/jobs/{job_id}", response=JobDetailOut)
@scoped(Perm.EXCHANGE_MANAGE)
def job_detail(request: HttpRequest, job_id: int):
    job = exchange.job_in_scope(access_for(request), job_id)
    return {**job_out(job), "errors": job.errors}


@router.get("/console/exchange/jobs/{job_id}/errors.xlsx")
@scoped(Perm.EXCHANGE_MANAGE)
def job_errors(request: HttpRequest, job_id: int):
    """Every problem of an import as a spreadsheet (row, column, code, message)."""
    job = exchange.job_in_scope(access_for(request), job_id)
    return xlsx.download(exchange.error_report(job), f"exchange-{job.pk}-errors")


@router.get("/console/exchange/exports/{kind}")
@scoped(Perm.EXCHANGE_MANAGE)
def export(request: HttpRequest, kind: str, query: Query[ExportQuery]):
    """``kind`` of the region's subtree in the import's columns, streamed (CSV in UTF-8 with
    BOM, or xlsx). Residents: only those who consented to sharing, only the listed fields."""
    return export_response(request, kind, query.region_id, query.format)


def export_response(request: HttpRequest, kind: str, region_id: int, fmt: str) -> HttpResponse:
    headers, rows, _job = exchange.export(actor=request.user, kind=kind, region_id=region_id,
                                          fmt=fmt, request=request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        response: HttpResponse = StreamingHttpResponse(  # type: ignore[assignment]
            exchange.csv_chunks(headers, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.csv"'
        return response
    return xlsx.download(exchange.xlsx_content(kind, headers, rows), kind)
