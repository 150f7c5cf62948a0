"""Stored monthly reports: asking for one, generating it in a task, the monthly job, and reading
them back (the PDF files behind ``MonthlyReport``; what a report says is ``cockpit.report``).

- :func:`request_report`: staff ask for a region's report of a finished month (a page or the API);
  a new row, or the existing one regenerated. Runs as a task; the page shows its progress.
- :func:`generate`: the task's body. Claims the row with a conditional UPDATE (one worker per
  generation), builds the content, lays out the PDF, stores the file and, in one transaction with
  the row, replaces the previous file (deleted after commit). A worker that finishes an older
  generation after a newer one was asked for throws its file away.
- :func:`schedule_month`: the job on the 1st at 06:00 (after the nightly recomputation of the
  last 35 days at 02:30): last month's report for every city, district and town, once per region
  and month (the unique row), the region's administrators told when it is ready.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from sportsman.cockpit import report
from sportsman.cockpit.models import MonthlyReport, ReportStatus
from sportsman.cockpit.periods import Period
from sportsman.core import audit
from sportsman.core.errors import NotFound
from sportsman.core.models import AuditEntry
from sportsman.regions.access import Access, Perm, own_holders
from sportsman.regions.models import Level, Region

logger = logging.getLogger(__name__)

SCHEDULED_LEVELS = (Level.CITY, Level.DISTRICT, Level.TOWN)
# A generation still pending or running after this long is taken as lost (a worker died): it
# may be asked for again.
STALE_AFTER = dt.timedelta(minutes=15)
NOTIFY_CATEGORY = "system"  # staff work notices (as supervision tasks and maintenance tickets)
UPLOAD_DIR = "cockpit/reports"


# --- reading ------------------------------------------------------------------------------------

def reports_of(region: Region) -> QuerySet[MonthlyReport]:
    """The region's stored reports, newest month first. The caller has checked the actor's
    ``COCKPIT_VIEW`` over ``region``."""
    return MonthlyReport.objects.filter(region=region).order_by("-period")


def report_of(region: Region, period: Period) -> MonthlyReport | None:
    return MonthlyReport.objects.filter(region=region, period=period.key).first()


def is_busy(row: MonthlyReport, now: dt.datetime | None = None) -> bool:
    """Waiting or being generated, and not given up as lost."""
    now = now or timezone.now()
    since = row.started_at if row.status == ReportStatus.RUNNING else row.requested_at
    return (row.status in (ReportStatus.PENDING, ReportStatus.RUNNING)
            and since is not None and now - since < STALE_AFTER)


def download(*, actor: Any, region: Region, period: Period, request: Any = None) -> FileResponse:
    """The stored PDF of ``region``'s month as an attachment, private to the browser that asked;
    NotFound until one was generated. The caller has checked the actor's ``COCKPIT_VIEW`` over
    ``region``. Audited as a view (``cockpit.report.download``)."""
    row = report_of(region, period)
    if row is None or not row.file:
        raise NotFound(_("This month's report has not been generated yet."))
    audit.record(actor=actor, action="cockpit.report.download", kind=AuditEntry.Kind.VIEW,
                 obj=row, region=region, request=request,
                 data={"period": row.period, "generation": row.generation})
    response = FileResponse(default_storage.open(str(row.file.name), "rb"), as_attachment=True,
                            filename=f"monthly-report-{region.code}-{row.period}.pdf",
                            content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response


# --- asking -------------------------------------------------------------------------------------

def request_report(*, actor: Any, access: Access, region: Region, period: Period,
                   request: Any = None) -> MonthlyReport:
    """Have ``region``'s report of the finished month ``period`` (re)generated, as ``actor``.

    Assumes the caller found ``region`` through ``access`` with ``COCKPIT_VIEW`` (checked again
    here); ``period`` must be a month that is over (``report.month(..., finished=True)``). A
    report already waiting or being generated is returned as it is (asking twice starts one
    generation); otherwise the row is created or reset to pending with the next generation, and
    the task is queued after commit. The previous file stays downloadable until the new one
    replaces it. Audited (``cockpit.report.request``)."""
    access.require(Perm.COCKPIT_VIEW, region)
    now = timezone.now()
    with transaction.atomic():
        row = (MonthlyReport.objects.select_for_update()
               .filter(region=region, period=period.key).first())
        if row is not None and is_busy(row, now):
            return row
        if row is None:
            try:
                with transaction.atomic():
                    row = MonthlyReport.objects.create(
                        region=region, period=period.key, requested_by=actor, requested_at=now)
            except IntegrityError:  # asked at the same moment by someone else: theirs runs
                return MonthlyReport.objects.get(region=region, period=period.key)
        else:
            row.status = ReportStatus.PENDING
            row.generation += 1
            row.progress = 0
            row.error = ""
            row.requested_by = actor
            row.requested_at = now
            row.started_at = None
            row.save(update_fields=["status", "generation", "progress", "error", "requested_by",
                                    "requested_at", "started_at", "updated_at"])
        audit.record(actor=actor, action="cockpit.report.request", obj=row, region=region,
                     request=request, data={"period": period.key,
                                            "generation": row.generation})
        transaction.on_commit(partial(_enqueue, row.pk, row.generation))
    return row


def _enqueue(report_id: int, generation: int) -> None:
    from sportsman.cockpit.tasks_reports import generate_monthly_report

    generate_monthly_report.enqueue(report_id, generation)


# --- generating ---------------------------------------------------------------------------------

def _set_progress(report_id: int, generation: int, percent: int) -> None:
    MonthlyReport.objects.filter(pk=report_id, generation=generation,
                                 status=ReportStatus.RUNNING).update(progress=percent)


def generate(report_id: int, generation: int) -> str:
    """Generate one report (the task's body); returns what happened: "done", "failed" or
    "skipped" (another worker has it, or a newer generation was asked for).

    Side effects: the PDF stored under ``cockpit/reports/``, the previous file deleted after
    commit, and a notification — to the staff member who asked, or for a scheduled report to the
    region's own administrators."""
    now = timezone.now()
    claimed = MonthlyReport.objects.filter(
        pk=report_id, generation=generation, status=ReportStatus.PENDING).update(
        status=ReportStatus.RUNNING, started_at=now, progress=5, updated_at=now)
    if not claimed:
        return "skipped"
    row = MonthlyReport.objects.select_related("region").get(pk=report_id)
    try:
        period = report.month(row.period, finished=True)
        with override(settings.LANGUAGE_CODE):  # a stored document: the site's language
            content = report.build(row.region, period)
            _set_progress(report_id, generation, 25)
            pdf, pages = report.render_pdf(
                content, progress=partial(_set_progress, report_id, generation))
    except Exception as exc:
        # Logged with its traceback; the row says it failed so staff can ask again.
        logger.exception("monthly report %s (generation %s) failed", report_id, generation)
        MonthlyReport.objects.filter(pk=report_id, generation=generation).update(
            status=ReportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:300],
            updated_at=timezone.now())
        return "failed"
    name = default_storage.save(
        f"{UPLOAD_DIR}/{row.region.code}/{row.period}-{uuid.uuid4().hex[:12]}.pdf",
        ContentFile(pdf))
    with transaction.atomic():
        current = (MonthlyReport.objects.select_for_update(of=("self",))
                   .filter(pk=report_id, generation=generation, status=ReportStatus.RUNNING)
                   .select_related("region", "requested_by").first())
        if current is None:  # regenerated meanwhile: the newer generation's file will stand
            transaction.on_commit(partial(default_storage.delete, name))
            return "skipped"
        old = current.file.name
        current.file.name = name
        current.status = ReportStatus.DONE
        current.progress = 100
        current.size = len(pdf)
        current.pages = pages
        current.generated_at = timezone.now()
        current.save(update_fields=["file", "status", "progress", "size", "pages",
                                    "generated_at", "updated_at"])
        if old and old != name:
            transaction.on_commit(partial(default_storage.delete, old))
    _tell_ready(current)
    return "done"


def _tell_ready(row: MonthlyReport) -> int:
    from sportsman.notifications.services import notify

    if row.requested_by_id is not None:
        user_ids = [row.requested_by_id]
        key = f"cockpit.report:{row.pk}:{row.generation}"
    else:
        user_ids = own_holders(Perm.COCKPIT_VIEW, [row.region_id])[row.region_id]
        key = f"cockpit.report:{row.region_id}:{row.period}"
    if not user_ids:
        return 0
    period = report.month(row.period)
    with override(settings.LANGUAGE_CODE):  # stored text: the site's language
        title = _("Monthly report ready: %(region)s, %(month)s") % {
            "region": row.region.name, "month": period.label()}
        body = _("The monthly report of %(region)s for %(month)s can be downloaded as a PDF.") % {
            "region": row.region.name, "month": period.label()}
    return notify(users=get_user_model().objects.filter(pk__in=user_ids),
                  category=NOTIFY_CATEGORY, title=title[:200], body=body,
                  link=reverse("cockpit:reports", args=[row.region.code]),
                  data={"report_id": row.pk, "region": row.region.code, "period": row.period},
                  dedupe_key=key)


# --- the monthly job ----------------------------------------------------------------------------

def scheduled_regions() -> QuerySet[Region]:
    return Region.objects.filter(level__in=SCHEDULED_LEVELS).order_by("path")


def schedule_month(*, today: dt.date | None = None) -> int:
    """Queue last month's report of every city, district and town that has none yet; returns
    how many were queued. Idempotent: a region and month gets one row, whoever made it (this job
    on another day, or staff), so running again queues nothing new."""
    period = report.last_month(today)
    now = timezone.now()
    wanted = list(scheduled_regions().values_list("pk", flat=True))
    have = set(MonthlyReport.objects.filter(period=period.key, region_id__in=wanted)
               .values_list("region_id", flat=True))
    new = [MonthlyReport(region_id=pk, period=period.key, requested_at=now)
           for pk in wanted if pk not in have]
    with transaction.atomic():
        MonthlyReport.objects.bulk_create(new, ignore_conflicts=True)
        # Rows another caller inserted meanwhile may be queued twice: the claim in generate()
        # lets one task through.
        queued = list(MonthlyReport.objects.filter(
            period=period.key, region_id__in=[r.region_id for r in new],
            status=ReportStatus.PENDING, requested_by=None)
            .values_list("pk", "generation"))
        for report_id, generation in queued:
            transaction.on_commit(partial(_enqueue, report_id, generation))
    return len(queued)
