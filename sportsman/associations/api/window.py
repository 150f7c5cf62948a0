"""The one window (一窗受理): an association's managers draft and submit applications with their
documents, follow them and download the result; staff work the inbox of their level, open
annual inspection seasons and set the review levels of their region."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.associations import registry, window
from sportsman.associations.models import (
    Application,
    ApplicationDocument,
    ApplicationKind,
    ApplicationStatus,
    ApplicationStep,
    InspectionSeason,
)
from sportsman.core.errors import NotFound
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.regions.access import Perm, access_for, for_self, public, scoped

router = Router(tags=["one window"])


class FieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    choices: list[str]


class DocOut(Schema):
    key: str
    label: str
    required: bool


class KindOut(Schema):
    code: str
    name: str
    levels: list[str]
    handle_days: int
    fields: list[FieldOut]
    documents: list[DocOut]


class StepOut(Schema):
    action: str
    label: str
    status: str
    level: str
    region: str
    by: str  # "association" or the staff role, never the person
    note: str
    at: dt.datetime


class DocumentOut(Schema):
    id: int
    requirement: str
    name: str
    file_type: str
    size: int
    uploaded_at: dt.datetime


class ApplicationOut(Schema):
    id: int
    association_id: int
    association: str
    kind: str
    kind_name: str
    status: str
    status_name: str
    receipt_no: str
    year: int | None
    event_id: int | None
    levels: list[str]
    level: str
    waiting_at: str
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    overdue: bool
    decided_at: dt.datetime | None
    decided_on_time: bool | None
    is_late: bool
    result: str
    decision_note: str
    created_at: dt.datetime


class ApplicationDetailOut(ApplicationOut):
    data: dict[str, Any]
    documents: list[DocumentOut]
    missing_documents: list[str]
    timeline: list[StepOut]
    actions: list[str]


class PageOut(Schema):
    items: list[ApplicationOut]
    next_before: int | None


class CreateIn(In):
    kind: str = Field(..., max_length=20)
    data: dict[str, Any] = Field(default_factory=dict)
    submit: bool = False


class DraftIn(In):
    data: dict[str, Any]


class TransitionIn(In):
    action: str = Field(..., max_length=10)
    note: str = Field("", max_length=500)
    result: str = Field("", max_length=8)


class InboxQuery(Schema):
    kind: str = Field("", max_length=20)
    overdue: bool = False
    all: bool = False  # everything in my subtree, not only what waits at my level
    status: str = Field("", max_length=12)
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(50, ge=1, le=200)


class PageQuery(Schema):
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=100)


class SeasonIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    year: int = Field(..., ge=2000, le=2100)
    due_on: dt.date


class SeasonOut(Schema):
    id: int
    region_id: int
    region: str
    year: int
    due_on: dt.date
    notified: int
    created_at: dt.datetime


class SeasonRowOut(Schema):
    association_id: int
    association: str
    region: str
    status: str
    result: str
    overdue: bool


class SeasonDetailOut(SeasonOut):
    associations: list[SeasonRowOut]


class RuleIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    kind: str = Field(..., max_length=20)
    levels: list[str] = Field(..., max_length=4)
    handle_days: int = Field(..., ge=1, le=180)


class RuleOut(Schema):
    id: int
    region_id: int
    region: str
    kind: str
    levels: list[str]
    handle_days: int


def application_out(a: Application, *, now: dt.datetime | None = None) -> dict:
    return {
        "id": a.pk, "association_id": a.association_id, "association": a.association.name,
        "kind": a.kind, "kind_name": str(ApplicationKind(a.kind).label), "status": a.status,
        "status_name": str(ApplicationStatus(a.status).label), "receipt_no": a.receipt_no,
        "year": a.year, "event_id": a.event_id, "levels": a.level_list,
        "level": a.level if a.status in window.WAITING else "",
        "waiting_at": a.reviewing_region.name if a.reviewing_region is not None else "",
        "submitted_at": a.submitted_at, "due_at": a.due_at,
        "overdue": window.is_overdue(a, now), "decided_at": a.decided_at,
        "decided_on_time": a.decided_on_time, "is_late": a.is_late, "result": a.result,
        "decision_note": a.decision_note, "created_at": a.created_at,
    }


def step_out(s: ApplicationStep) -> dict:
    return {"action": s.action, "label": s.get_action_display(), "status": s.to_status,
            "level": s.level, "region": s.region.name if s.region is not None else "",
            "by": s.actor_role, "note": s.note, "at": s.at}


def document_out(d: ApplicationDocument) -> dict:
    return {"id": d.pk, "requirement": d.requirement, "name": d.name,
            "file_type": d.file_type, "size": d.size, "uploaded_at": d.uploaded_at}


def actions_for(app: Application, as_whom: str, request: HttpRequest) -> list[str]:
    steps = [a for (s, a) in window.TRANSITIONS if s == app.status]
    if as_whom == "applicant":
        return [a for a in steps if a in window.APPLICANT_ACTIONS]
    if window.reviews_at(access_for(request), app.reviewing_region_id):
        return [a for a in steps if a in window.STAFF_ACTIONS]
    return []


def detail_out(request: HttpRequest, application_id: int) -> dict:
    app, as_whom = window.visible(request.user, application_id)
    docs = list(app.documents.all())
    have = {d.requirement for d in docs}
    return {**application_out(app), "data": app.data,
            "documents": [document_out(d) for d in docs],
            "missing_documents": [k for k in window.required_documents(app) if k not in have],
            "timeline": [step_out(s) for s in window.timeline(app)],
            "actions": actions_for(app, as_whom, request)}


def _page(qs, before: int | None, limit: int) -> dict:
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id")[:limit + 1])
    now = timezone.now()
    return {"items": [application_out(a, now=now) for a in rows[:limit]],
            "next_before": rows[limit - 1].pk if len(rows) > limit else None}


@router.get("/applications/kinds", auth=None, response=list[KindOut])
@public
def kinds(request: HttpRequest):
    """The kinds of application, each with its form fields, its documents, its default review
    levels (lowest first) and its handling time limit in days."""
    return [{"code": k.value, "name": str(k.label), "levels": list(window.DEFAULT_LEVELS[k]),
             "handle_days": window.DEFAULT_DAYS[k],
             "fields": [{"name": f.name, "label": str(f.label), "type": f.type,
                         "required": f.required, "choices": list(f.choices)}
                        for f in window.FIELDS[k]],
             "documents": [{"key": d.key, "label": str(d.label), "required": d.required}
                           for d in window.DOCUMENTS[k]]} for k in ApplicationKind]


@router.post("/associations/{association_id}/applications",
             response={201: ApplicationDetailOut})
@for_self
@idempotent
def create(request: HttpRequest, association_id: int, data: CreateIn):
    """Draft (or, with ``submit``, draft and submit) an application for an association I
    manage. Refusals: ``invalid_kind``, ``field_required``, ``invalid_field``,
    ``unknown_field``, ``too_few_members``, ``year_not_over``, ``permit_too_late``,
    ``event_not_organised``, ``association_not_active``, ``preparation_not_approved``,
    ``preparation_expired``, ``already_filed``, ``annual_report_exists``,
    ``documents_missing``."""
    app = window.create_application(actor=request.user, association_id=association_id,
                                    kind=data.kind, data=data.data, submit=data.submit)
    return Status(201, detail_out(request, app.pk))


@router.get("/applications/mine", response=PageOut)
@for_self
def mine(request: HttpRequest, query: Query[PageQuery]):
    """The applications of the associations I manage, newest first."""
    return _page(window.mine(request.user), query.before, query.limit)


@router.get("/applications/{application_id}", response=ApplicationDetailOut)
@for_self
def detail(request: HttpRequest, application_id: int):
    """An application (its applicant's managers, or staff of its subtree): form, documents,
    timeline (who by role, when, note) and the steps I may take now."""
    return detail_out(request, application_id)


@router.put("/applications/{application_id}/data", response=ApplicationDetailOut)
@for_self
def update_draft(request: HttpRequest, application_id: int, data: DraftIn):
    """Correct the form of my draft or returned application."""
    window.update_draft(actor=request.user, application_id=application_id, data=data.data)
    return detail_out(request, application_id)


@router.post("/applications/{application_id}/documents", response={201: DocumentOut})
@for_self
@idempotent
def upload(request: HttpRequest, application_id: int, requirement: Form[str],
           file: File[UploadedFile]):
    """Attach a document to my draft or returned application: a PDF (≤ 10 MB) or an image
    (≤ 5 MB); ``file_type``, ``file_too_large``, ``invalid_requirement``."""
    doc = window.attach_document(actor=request.user, application_id=application_id,
                                 requirement=requirement,
                                 content=file.read(registry.DOCUMENT_MAX_BYTES + 1),
                                 name=file.name or "")
    return Status(201, document_out(doc))


@router.get("/applications/{application_id}/documents/{document_id}")
@for_self
def document(request: HttpRequest, application_id: int, document_id: int):
    """Download one of an application's documents (as an attachment)."""
    app, _as_whom = window.visible(request.user, application_id)
    doc = app.documents.filter(pk=document_id).first()
    if doc is None:
        raise NotFound(code="document_not_found")
    with doc.file.open("rb") as handle:
        body = handle.read()
    response = HttpResponse(body, content_type="application/pdf" if doc.file_type == "pdf"
                            else "image/jpeg")
    response["Content-Disposition"] = f'attachment; filename="document-{doc.pk}.{doc.file_type}"'
    return response


@router.post("/applications/{application_id}/transition", response=ApplicationDetailOut)
@for_self
@idempotent
def transition(request: HttpRequest, application_id: int, data: TransitionIn):
    """Take a step: the applicant ``submit`` / ``withdraw``; the staff of the level it waits at
    ``accept`` / ``approve`` (``result`` pass, basic or fail on an annual report's last
    approval) / ``return`` / ``reject`` (a ``note`` for both). Refusals:
    ``application_transition_not_allowed``, ``application_not_your_level``,
    ``documents_missing``, ``reason_required``, ``result_required``, ``permit_too_late``."""
    window.transition_application(actor=request.user, application_id=application_id,
                                  action=data.action, note=data.note, result=data.result)
    return detail_out(request, application_id)


@router.get("/applications/{application_id}/result.pdf")
@for_self
def result_pdf(request: HttpRequest, application_id: int):
    """The decision document (PDF) of an approved or rejected application
    (``no_result_yet`` before)."""
    from sportsman.associations import documents

    app, _as_whom = window.visible(request.user, application_id)
    response = HttpResponse(documents.result_pdf(app), content_type="application/pdf")
    response["Content-Disposition"] = (f'attachment; filename="result-{app.receipt_no or app.pk}'
                                       '.pdf"')
    return response


@router.get("/console/applications", response=PageOut)
@scoped(Perm.APPLICATION_REVIEW)
def inbox(request: HttpRequest, query: Query[InboxQuery]):
    """My inbox: applications waiting at a level I hold (``overdue``, ``kind``); with ``all``,
    every application of my subtree (``status``)."""
    access = access_for(request)
    if query.all:
        qs = window.staff_applications(access)
        if query.status:
            qs = qs.filter(status=query.status)
        if query.kind:
            qs = qs.filter(kind=query.kind)
        if query.overdue:
            qs = qs.filter(status__in=window.WAITING, due_at__lt=timezone.now())
    else:
        qs = window.inbox(access, kind=query.kind, overdue=query.overdue)
    return _page(qs, query.before, query.limit)


def season_out(s: InspectionSeason) -> dict:
    return {"id": s.pk, "region_id": s.region_id, "region": s.region.name, "year": s.year,
            "due_on": s.due_on, "notified": s.notified, "created_at": s.created_at}


@router.get("/console/inspection-seasons", response=list[SeasonOut])
@scoped(Perm.ASSOCIATION_MANAGE)
def seasons(request: HttpRequest):
    """The annual inspection seasons opened in my subtree."""
    return [season_out(s) for s in window.seasons_for(access_for(request))[:100]]


@router.post("/console/inspection-seasons", response={201: SeasonOut})
@scoped(Perm.ASSOCIATION_MANAGE)
@idempotent
def open_season(request: HttpRequest, data: SeasonIn):
    """Open the annual inspection of a year for a region of my subtree; every association due
    there is told (``season_exists``, ``year_not_over``, ``invalid_due_date``)."""
    season = window.open_season(actor=request.user, **data.model_dump())
    return Status(201, season_out(InspectionSeason.objects.select_related("region")
                                  .get(pk=season.pk)))


@router.get("/console/inspection-seasons/{season_id}", response=SeasonDetailOut)
@scoped(Perm.ASSOCIATION_MANAGE)
def season(request: HttpRequest, season_id: int, overdue: bool = False):
    """A season: every association due, its report's status and result, overdue ones first."""
    found = window.season_in_scope(access_for(request), season_id)
    rows = window.season_rows(found, overdue_only=overdue)
    return {**season_out(found), "associations": [
        {"association_id": r["association"].pk, "association": r["association"].name,
         "region": r["association"].region.name, "status": r["status"],
         "result": r["result"], "overdue": r["overdue"]} for r in rows]}


def rule_out(r) -> dict:
    return {"id": r.pk, "region_id": r.region_id, "region": r.region.name, "kind": r.kind,
            "levels": [lv for lv in r.levels.split(",") if lv], "handle_days": r.handle_days}


@router.get("/console/review-rules", response=list[RuleOut])
@scoped(Perm.APPLICATION_REVIEW)
def rules(request: HttpRequest):
    """The review levels and time limits set in my subtree."""
    from sportsman.associations.models import ReviewRule

    return [rule_out(r) for r in access_for(request).scope(
        ReviewRule.objects.select_related("region"), Perm.APPLICATION_REVIEW)
        .order_by("region__path", "kind")]


@router.put("/console/review-rules", response=RuleOut)
@scoped(Perm.APPLICATION_REVIEW)
def set_rule(request: HttpRequest, data: RuleIn):
    """Set which levels review a kind in a region of my subtree, and its time limit."""
    rule = window.set_rule(actor=request.user, **data.model_dump())
    return rule_out(type(rule).objects.select_related("region").get(pk=rule.pk))

