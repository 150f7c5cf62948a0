"""Supervision tasks (督办) API: list and issue tasks, a task with its assigned units, one unit's
part with its reports and evidence, progress reports, evidence uploads, submission, review and
cancellation, and evidence downloads (never from a public URL).

Regions are named by their statistical code (2–12 digits: "3304" = 嘉兴市). Every write takes an
``Idempotency-Key`` so a phone may retry it. Refusals use the one error shape, e.g. 400
``no_targets`` / ``target_not_below`` / ``deadline_past`` / ``comment_required`` /
``file_type``, 403 ``forbidden`` / ``self_review``, 404 ``task_not_found`` /
``assignment_not_found``, 409 ``assignment_state`` / ``task_state``. See docs/supervision.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from sportsman.cockpit import supervision as sv
from sportsman.cockpit.models.supervision import (
    SupervisionTask,
    TaskAssignment,
    TaskEvidence,
    TaskReport,
    TaskStatus,
)
from sportsman.core.errors import InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.regions.access import Access, Perm, access_for, scoped
from sportsman.regions.models import Region
from sportsman.regions.selectors import find_by_code

router = Router(tags=["supervision"])


# --- schemas -----------------------------------------------------------------------------------


class TaskIn(In):
    issuer: str = Field(..., min_length=2, max_length=12,
                        description="code of the issuing region (yours or one below it)")
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=8000)
    category: str = Field(..., max_length=24, description="overdue_reports, school_grounds, "
                                                          "facility_safety, participation, "
                                                          "data_quality, events or custom")
    custom_category: str = Field("", max_length=80, description="the name of a custom category")
    deadline: dt.date = Field(..., description="local date, inclusive")
    targets: list[str] = Field(..., max_length=sv.MAX_TARGETS + 1,
                               description="codes of the units, each strictly below the issuer")


class ProgressIn(In):
    progress: int = Field(..., description="0–100")
    text: str = Field(..., max_length=4000)


class SubmitIn(In):
    text: str = Field(..., max_length=4000, description="what was done")


class ReviewIn(In):
    decision: Literal["accept", "return"]
    comment: str = Field("", max_length=4000, description="required to return")


class CancelIn(In):
    reason: str = Field(..., max_length=1000)


class TasksQuery(Schema):
    role: Literal["issued", "assigned"] = "issued"
    region: str | None = Field(None, max_length=12, description="exactly this region (a code); "
                                                                "default every region in scope")
    status: Literal["open", "closed", "cancelled"] | None = None
    overdue: bool | None = None
    category: str | None = Field(None, max_length=24)
    cursor: str | None = Field(None, max_length=20, description="next_cursor of the last page")
    limit: int = Field(50, ge=1, le=200)


class RegionRef(Schema):
    id: int
    code: str
    name: str


class AssignmentOut(Schema):
    id: int
    region: RegionRef
    status: str
    status_label: str
    progress: int
    overdue: bool
    days_late: int
    last_comment: str
    reported_at: dt.datetime | None
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    can_answer: bool = Field(..., description="you may report, hand in and submit")


class Counts(Schema):
    assigned: int
    accepted: int
    submitted: int
    overdue: int


class TaskOut(Schema):
    id: int
    title: str
    body: str
    category: str
    category_label: str
    issuer: RegionRef
    issued_by: str
    deadline: dt.date
    status: str
    status_label: str
    overdue: bool = Field(..., description="open, with an overdue assignment among those shown")
    created_at: dt.datetime
    closed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str
    can_review: bool = Field(..., description="you speak for the issuer: review and cancel")
    counts: Counts
    assignments: list[AssignmentOut] = Field(..., description="those you may see (list: "
                                                              "those the role is about)")


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class EvidenceOut(Schema):
    id: int
    name: str
    kind: str
    size: int
    report_id: int | None
    uploaded_by: str
    created_at: dt.datetime
    url: str


class ReportOut(Schema):
    id: int
    kind: str
    kind_label: str
    text: str
    progress: int | None
    author: str
    created_at: dt.datetime


class AssignmentDetailOut(AssignmentOut):
    task: TaskOut
    can_review: bool
    reports: list[ReportOut]
    evidence: list[EvidenceOut]


# --- out ---------------------------------------------------------------------------------------


def _region(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "code": r.code, "name": r.name}


def assignment_out(a: TaskAssignment, access: Access, today: dt.date) -> dict[str, Any]:
    late = sv.is_overdue(a, today)
    return {"id": a.pk, "region": _region(a.region), "status": a.status,
            "status_label": str(a.get_status_display()),  # type: ignore[attr-defined]
            "progress": a.progress, "overdue": late,
            "days_late": sv.days_late(a.task.deadline, today) if late else 0,
            "last_comment": a.last_comment, "reported_at": a.reported_at,
            "submitted_at": a.submitted_at, "accepted_at": a.accepted_at,
            "can_answer": a.task.status == TaskStatus.OPEN and sv.can_answer(access, a)}


def task_out(task: SupervisionTask, rows: list[TaskAssignment], access: Access,
             today: dt.date) -> dict[str, Any]:
    for a in rows:
        a.task = task  # no query per row
    c = sv.counts(task, rows, today)
    return {
        "id": task.pk, "title": task.title, "body": task.body, "category": task.category,
        "category_label": task.category_label, "issuer": _region(task.issuer_region),
        "issued_by": str(task.issued_by) if task.issued_by else "",
        "deadline": task.deadline, "status": task.status,
        "status_label": str(task.get_status_display()),  # type: ignore[attr-defined]
        "overdue": c.overdue > 0, "created_at": task.created_at,
        "closed_at": task.closed_at, "cancelled_at": task.cancelled_at,
        "cancel_reason": task.cancel_reason, "can_review": sv.can_review(access, task),
        "counts": vars(c), "assignments": [assignment_out(a, access, today) for a in rows],
    }


def _detail(access: Access, task_id: int) -> dict[str, Any]:
    task = sv.get_task(access, task_id)
    return task_out(task, list(sv.visible_assignments(access, task)), access, sv.today_local())


def evidence_url(evidence_id: int) -> str:
    return f"/api/v1/cockpit/evidence/{evidence_id}"


def _evidence_out(e: TaskEvidence) -> dict[str, Any]:
    return {"id": e.pk, "name": e.name, "kind": e.kind, "size": e.size,
            "report_id": e.report_id, "uploaded_by": str(e.uploaded_by) if e.uploaded_by else "",
            "created_at": e.created_at, "url": evidence_url(e.pk)}


def _report_out(r: TaskReport) -> dict[str, Any]:
    return {"id": r.pk, "kind": r.kind,
            "kind_label": str(r.get_kind_display()),  # type: ignore[attr-defined]
            "text": r.text, "progress": r.progress,
            "author": str(r.author) if r.author else "", "created_at": r.created_at}


def assignment_detail(access: Access, assignment_id: int) -> dict[str, Any]:
    a = sv.get_assignment(access, assignment_id)
    today = sv.today_local()
    task = a.task
    reports = a.reports.select_related("author").order_by("created_at", "id")
    evidence = a.evidence.select_related("uploaded_by").order_by("created_at", "id")
    return {**assignment_out(a, access, today),
            "task": task_out(task, [a], access, today),
            "can_review": sv.can_review(access, task),
            "reports": [_report_out(r) for r in reports],
            "evidence": [_evidence_out(e) for e in evidence]}


def evidence_response(evidence: TaskEvidence) -> FileResponse:
    """The file, private to the browser that asked: a photo inline, a PDF as an attachment."""
    is_pdf = evidence.kind == "pdf"
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:  # the row outlived its file (storage restored without it)
        raise sv.EvidenceNotFound() from None
    response = FileResponse(handle, as_attachment=is_pdf,
                            filename=evidence.name,
                            content_type="application/pdf" if is_pdf else "image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _regions_by_code(codes: list[str]) -> dict[str, Region | None]:
    """Each code's region (its newest edition, like ``find_by_code``), in one query."""
    from sportsman.regions.services import normalise_code

    full = {code: normalise_code(code) for code in dict.fromkeys(codes)}
    newest: dict[str, Region] = {}
    for r in Region.objects.filter(code__in=set(full.values())).order_by("code", "-edition"):
        newest.setdefault(r.code, r)
    return {code: newest.get(twelve) for code, twelve in full.items()}


def _uploads(files: list[UploadedFile]) -> list[sv.Upload]:
    return [sv.Upload(f.name or "", f.read(sv.EVIDENCE_MAX_BYTES + 1)) for f in files]


# --- operations --------------------------------------------------------------------------------


@router.get("/cockpit/tasks", response=TaskPage)
@scoped(Perm.SUPERVISION)
def list_tasks(request: HttpRequest, query: Query[TasksQuery]):
    """Tasks issued by (``role=issued``) or assigned to (``role=assigned``) a region — exactly
    ``region``, or every region in your scope — newest first; filter by task ``status``,
    ``overdue`` and ``category``. Each task carries the assignments the role is about."""
    access = access_for(request)
    region = sv.region_in_scope(access, query.region) if query.region else None
    qs = sv.list_tasks(access, sv.TaskFilters(role=query.role, region=region,
                                              status=query.status, overdue=query.overdue,
                                              category=query.category))
    if query.cursor:
        if not (query.cursor.isascii() and query.cursor.isdigit()):
            message = _("The cursor is not valid.")
            raise InvalidInput(message, code="invalid_cursor", fields={"cursor": [message]})
        qs = qs.filter(pk__lt=int(query.cursor))
    page = list(qs[:query.limit + 1])
    more = len(page) > query.limit
    page = page[:query.limit]
    today = sv.today_local()
    return {"items": [task_out(t, t.rows, access, today) for t in page],  # type: ignore[attr-defined]
            "next_cursor": str(page[-1].pk) if more else None}


@router.post("/cockpit/tasks", response={201: TaskOut})
@scoped(Perm.SUPERVISION)
@idempotent
def create_task(request: HttpRequest, data: TaskIn):
    """Issue a task from ``issuer`` to the ``targets`` (each strictly below it)."""
    access = access_for(request)
    issuer = find_by_code(data.issuer)
    if issuer is None:
        raise sv.RegionNotFound(fields={"issuer": [str(sv.RegionNotFound.default_message)]})
    found = _regions_by_code(data.targets)
    unknown = [code for code, r in found.items() if r is None]
    if unknown:
        message = _("No region has the code %(codes)s.") % {"codes": ", ".join(unknown)}
        raise InvalidInput(message, code="unknown_region", fields={"targets": [message]})
    task = sv.issue_task(actor=access, issuer_region_id=issuer.pk, title=data.title,
                         body=data.body, category=data.category,
                         custom_category=data.custom_category, deadline=data.deadline,
                         target_region_ids=[r.pk for r in found.values() if r is not None],
                         request=request)
    return Status(201, _detail(access, task.pk))


@router.get("/cockpit/tasks/{task_id}", response=TaskOut)
@scoped(Perm.SUPERVISION)
def task_detail(request: HttpRequest, task_id: int):
    """A task with the assignments you may see (all of them on the issuing side)."""
    return _detail(access_for(request), task_id)


@router.post("/cockpit/tasks/{task_id}/cancel", response=TaskOut)
@scoped(Perm.SUPERVISION)
@idempotent
def cancel_task(request: HttpRequest, task_id: int, data: CancelIn):
    """Withdraw an open task (the issuing side), with a reason."""
    access = access_for(request)
    sv.cancel_task(actor=access, task_id=task_id, reason=data.reason, request=request)
    return _detail(access, task_id)


@router.get("/cockpit/assignments/{assignment_id}", response=AssignmentDetailOut)
@scoped(Perm.SUPERVISION)
def assignment(request: HttpRequest, assignment_id: int):
    """One unit's part of a task: its status, reports (oldest first) and evidence files."""
    return assignment_detail(access_for(request), assignment_id)


@router.post("/cockpit/assignments/{assignment_id}/progress",
             response={201: AssignmentDetailOut})
@scoped(Perm.SUPERVISION)
@idempotent
def report_progress(request: HttpRequest, assignment_id: int, data: ProgressIn):
    """The unit reports its progress (0–100 %) with a note."""
    access = access_for(request)
    sv.report_progress(actor=access, assignment_id=assignment_id, progress=data.progress,
                       text=data.text, request=request)
    return Status(201, assignment_detail(access, assignment_id))


@router.post("/cockpit/assignments/{assignment_id}/evidence", response={201: list[EvidenceOut]})
@scoped(Perm.SUPERVISION)
@idempotent
def upload_evidence(request: HttpRequest, assignment_id: int, file: File[list[UploadedFile]]):
    """Hand in evidence (multipart ``file``, up to 5 at a time): photos (JPEG, PNG, WebP, GIF;
    ≤ 5 MB; stored re-encoded without EXIF) or PDFs (≤ 10 MB)."""
    access = access_for(request)
    stored = sv.add_evidence(actor=access, assignment_id=assignment_id, files=_uploads(file),
                             request=request)
    return Status(201, [_evidence_out(e) for e in stored])


@router.post("/cockpit/assignments/{assignment_id}/submit", response=AssignmentDetailOut)
@scoped(Perm.SUPERVISION)
@idempotent
def submit(request: HttpRequest, assignment_id: int, data: SubmitIn):
    """The unit reports the task done and asks the issuer to review it."""
    access = access_for(request)
    sv.submit(actor=access, assignment_id=assignment_id, text=data.text, request=request)
    return assignment_detail(access, assignment_id)


@router.post("/cockpit/assignments/{assignment_id}/review", response=AssignmentDetailOut)
@scoped(Perm.SUPERVISION)
@idempotent
def review(request: HttpRequest, assignment_id: int, data: ReviewIn):
    """The issuing side accepts a submitted assignment or returns it with a comment."""
    access = access_for(request)
    sv.review(actor=access, assignment_id=assignment_id, accept=data.decision == "accept",
              comment=data.comment, request=request)
    return assignment_detail(access, assignment_id)


@router.get("/cockpit/evidence/{evidence_id}")
@scoped(Perm.SUPERVISION)
def evidence_file(request: HttpRequest, evidence_id: int):
    """An evidence file, for staff who may see its task (a photo inline, a PDF attached)."""
    return evidence_response(sv.get_evidence(access_for(request), evidence_id))
