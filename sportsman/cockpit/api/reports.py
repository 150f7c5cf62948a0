"""Monthly reports (月度报告) of a region, scoped like the pages (``COCKPIT_VIEW`` over the
region; another region: 404):

- ``GET /cockpit/{region_code}/reports``: the stored reports, newest month first, with their
  status and progress;
- ``POST /cockpit/{region_code}/reports/{period}``: (re)generate the report of a finished month
  (202; a report already waiting or being generated is answered as it is). Takes an
  ``Idempotency-Key``;
- ``GET /cockpit/{region_code}/reports/{period}/file``: the PDF (404 until one was generated).

A ``period`` that is not a month, or one that is not over, is refused: 400 ``bad_period``.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from sportsman.cockpit import monthly_reports, report
from sportsman.cockpit.models import MonthlyReport
from sportsman.cockpit.selectors import region_for
from sportsman.core.idempotency import idempotent
from sportsman.regions.access import Perm, access_for, scoped

router = Router(tags=["cockpit"])
LIST_MAX = 120  # ten years of months


class ReportOut(Schema):
    period: str = Field(..., description="YYYY-MM")
    status: str = Field(..., description="pending, running, done or failed")
    progress: int = Field(..., description="0–100")
    generation: int
    requested_at: dt.datetime
    generated_at: dt.datetime | None
    pages: int
    size: int = Field(..., description="bytes of the PDF (0: none yet)")
    page_url: str = Field(..., description="the printable page (staff session)")
    file_url: str | None = Field(..., description="the PDF through the API (None: none yet)")


class ReportList(Schema):
    items: list[ReportOut]


def _out(row: MonthlyReport, code: str) -> dict[str, object]:
    return {"period": row.period, "status": row.status, "progress": row.progress,
            "generation": row.generation, "requested_at": row.requested_at,
            "generated_at": row.generated_at, "pages": row.pages, "size": row.size,
            "page_url": reverse("cockpit:report_page", args=[code, row.period]),
            "file_url": f"/api/v1/cockpit/{code}/reports/{row.period}/file"
            if row.file else None}


@router.get("/cockpit/{region_code}/reports", response=ReportList)
@scoped(Perm.COCKPIT_VIEW)
def list_reports(request: HttpRequest, region_code: str):
    """The region's monthly reports, newest month first."""
    region = region_for(access_for(request), region_code)
    return {"items": [_out(r, region.code)
                      for r in monthly_reports.reports_of(region)[:LIST_MAX]]}


@router.post("/cockpit/{region_code}/reports/{period}", response={202: ReportOut})
@scoped(Perm.COCKPIT_VIEW)
@idempotent
def request_report(request: HttpRequest, region_code: str, period: str):
    """Generate (again) the region's report of a finished month; poll the list for its
    progress."""
    access = access_for(request)
    region = region_for(access, region_code)
    month = report.month(period, finished=True)
    row = monthly_reports.request_report(actor=request.user, access=access, region=region,
                                         period=month, request=request)
    return Status(202, _out(row, region.code))


@router.get("/cockpit/{region_code}/reports/{period}/file")
@scoped(Perm.COCKPIT_VIEW)
def report_file(request: HttpRequest, region_code: str, period: str):
    """The month's PDF (the latest generation)."""
    region = region_for(access_for(request), region_code)
    return monthly_reports.download(actor=request.user, region=region,
                                    period=report.month(period), request=request)
