"""Reporting a problem (报事反馈): residents report (with photos), follow, confirm, reopen and
rate their reports; staff work the queue of their subtree and set routing rules."""

from __future__ import annotations

import datetime as dt
import json

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.core.errors import InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.governance import reports
from sportsman.governance.models import Category, Report, ReportEvent, RoutingRule
from sportsman.regions.access import Perm, access_for, for_self, public, scoped

router = Router(tags=["reports"])


class CategoryOut(Schema):
    code: str
    name: str
    accept_hours: int
    resolve_days: int


class StepOut(Schema):
    step: str
    label: str
    by: str
    region: str
    note: str
    at: dt.datetime


class ReportOut(Schema):
    id: int
    category: str
    category_name: str
    status: str
    status_name: str
    description: str
    address: str
    region_id: int
    region: str
    facility_id: int | None
    lat: float | None
    lng: float | None
    photos: list[str]
    handling_region: str
    accept_due: dt.datetime
    resolve_due: dt.datetime
    overdue: bool
    public_note: str
    rating: int | None
    merged_into_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ReportDetailOut(ReportOut):
    timeline: list[StepOut]


class ReportPageOut(Schema):
    items: list[ReportOut]
    next_before: int | None


class QueueQuery(Schema):
    status: str | None = Field(None, max_length=12)
    category: str | None = Field(None, max_length=16)
    overdue: bool = False
    mine: bool = False
    facility_id: int | None = Field(None, ge=1, lt=2**63)
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(50, ge=1, le=200)


class PageQuery(Schema):
    before: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=50)


class NearbyQuery(Schema):
    category: str | None = Field(None, max_length=16)
    facility_id: int | None = Field(None, ge=1, lt=2**63)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class TransitionIn(In):
    to: str = Field(..., max_length=12)
    note: str = Field("", max_length=500)


class MergeIn(In):
    into_id: int = Field(..., ge=1, lt=2**63)


class ReopenIn(In):
    reason: str = Field(..., max_length=500)


class RateIn(In):
    rating: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


class RuleIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    category: str = Field(..., max_length=16)
    handler: str = Field("region_staff", max_length=16)
    accept_hours: int = Field(..., ge=1, le=720)
    resolve_days: int = Field(..., ge=1, le=180)


class RuleOut(Schema):
    id: int
    region_id: int
    region: str
    category: str
    handler: str
    accept_hours: int
    resolve_days: int


def report_out(r: Report, *, now: dt.datetime | None = None) -> dict:
    from django.utils import timezone

    at = now or timezone.now()
    overdue = ((r.status == "submitted" and r.accept_due < at)
               or (r.status in ("accepted", "in_progress") and r.resolve_due < at))
    return {
        "id": r.pk, "category": r.category, "category_name": str(Category(r.category).label),
        "status": r.status, "status_name": r.get_status_display(),
        "description": r.description, "address": r.address, "region_id": r.region_id,
        "region": r.region.name, "facility_id": r.facility_id, "lat": r.lat, "lng": r.lng,
        "photos": [p.image.url for p in r.photos.all()],
        "handling_region": r.handling_region.name, "accept_due": r.accept_due,
        "resolve_due": r.resolve_due, "overdue": overdue, "public_note": r.public_note,
        "rating": r.rating, "merged_into_id": r.merged_into_id, "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def step_out(e: ReportEvent) -> dict:
    return {"step": e.step, "label": e.get_step_display(),
            "by": e.actor.nickname if e.actor is not None and e.step not in (
                "submitted", "confirmed", "reopened", "rated") else "",
            "region": e.region.name if e.region is not None else "", "note": e.note,
            "at": e.at}


def report_detail(report_id: int) -> dict:
    r = reports.public_report(report_id)
    return {**report_out(r), "timeline": [step_out(e) for e in reports.timeline(r)]}


def _page(qs, before: int | None, limit: int) -> dict:
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs.prefetch_related("photos").order_by("-id")[:limit + 1])
    return {"items": [report_out(r) for r in rows[:limit]],
            "next_before": rows[limit - 1].pk if len(rows) > limit else None}


@router.get("/reports/categories", auth=None, response=list[CategoryOut])
@public
def categories(request: HttpRequest):
    """What can be reported, with the default time to accept and to resolve."""
    return [{"code": c.value, "name": str(c.label), "accept_hours": reports.DEFAULT_SLA[c][0],
             "resolve_days": reports.DEFAULT_SLA[c][1]} for c in Category]


@router.post("/reports", response={201: ReportDetailOut})
@for_self
@idempotent
def submit(request: HttpRequest, category: Form[str], description: Form[str],
           facility_id: Form[int | None] = None, lat: Form[float | None] = None,
           lng: Form[float | None] = None, address: Form[str] = "",
           share_location: Form[bool] = False, for_user_id: Form[int | None] = None,
           photos: File[list[UploadedFile]] = None):  # type: ignore[assignment]
    """Report a problem with 1–9 photos (JPEG/PNG/WebP, each up to 5 MB, kept re-encoded
    without EXIF) and a place: ``facility_id`` (the facility's position), or ``lat``/``lng``;
    ``share_location`` takes the first photo's GPS position when no place is given.
    ``for_user_id``: for a resident who authorised me. Refusals: ``invalid_category``,
    ``photo_required``, ``too_many_photos``, ``photo_invalid``, ``photo_too_large``,
    ``location_required``, ``location_outside``, ``facility_not_found``, ``sensitive_words``,
    ``proxy_not_authorised``, ``throttled``."""
    files = photos or []
    if len(files) > reports.MAX_PHOTOS:
        raise InvalidInput(code="too_many_photos", fields={"photos": ["≤ 9"]})
    made = reports.submit(actor=request.user, category=category, description=description,
                          photos=[f.read(PHOTO_MAX_BYTES + 1) for f in files],
                          facility_id=facility_id, lat=lat, lng=lng, address=address,
                          share_location=share_location, for_user_id=for_user_id)
    return Status(201, report_detail(made.pk))


@router.get("/reports/mine", response=ReportPageOut)
@for_self
def mine(request: HttpRequest, query: Query[PageQuery]):
    """My reports (and those I made for residents who authorised me), newest first."""
    return _page(reports.my_reports(request.user), query.before, query.limit)


@router.get("/reports/nearby", response=list[ReportOut])
@for_self
def nearby(request: HttpRequest, query: Query[NearbyQuery]):
    """Open reports that may already describe the problem: same facility, or same category
    within 300 m, in the last 14 days (shown before submitting)."""
    return [report_out(r) for r in reports.nearby(**query.model_dump())]


@router.get("/reports/{report_id}", auth=None, response=ReportDetailOut)
@public
def detail(request: HttpRequest, report_id: int):
    """A report and its public timeline (who handled each step, and when). The reporter is never
    shown."""
    return report_detail(report_id)


@router.post("/reports/{report_id}/confirm", response=ReportDetailOut)
@for_self
def confirm(request: HttpRequest, report_id: int):
    """I confirm the problem is solved (a resolved report closes)."""
    reports.confirm(actor=request.user, report_id=report_id)
    return report_detail(report_id)


@router.post("/reports/{report_id}/reopen", response=ReportDetailOut)
@for_self
def reopen(request: HttpRequest, report_id: int, data: ReopenIn):
    """The problem is not solved: reopen within seven days of the resolution
    (``report_reopen_too_late`` after)."""
    reports.reopen(actor=request.user, report_id=report_id, reason=data.reason)
    return report_detail(report_id)


@router.post("/reports/{report_id}/rating", response=ReportDetailOut)
@for_self
def rate(request: HttpRequest, report_id: int, data: RateIn):
    """Rate the handling 1–5, once (``report_already_rated``)."""
    reports.rate(actor=request.user, report_id=report_id, rating=data.rating,
                 comment=data.comment)
    return report_detail(report_id)


@router.get("/console/reports", response=ReportPageOut)
@scoped(Perm.REPORT_HANDLE)
def queue(request: HttpRequest, query: Query[QueueQuery]):
    """The reports of my subtree, newest first; ``status=open`` for all unfinished ones,
    ``overdue``, ``mine`` (routed to my own region), ``category``, ``facility_id``."""
    items, next_before = reports.queue_page(
        access_for(request), status=query.status, category=query.category,
        overdue=query.overdue, mine=query.mine, facility_id=query.facility_id,
        before=query.before, limit=query.limit)
    # the rows are already ReportPageOut's fields: written as they are (a test holds them to
    # what the schema makes of the same reports)
    return HttpResponse(json.dumps({"items": items, "next_before": next_before}),
                        content_type="application/json; charset=utf-8")


@router.post("/console/reports/{report_id}/transition", response=ReportDetailOut)
@scoped(Perm.REPORT_HANDLE)
def transition(request: HttpRequest, report_id: int, data: TransitionIn):
    """Accept, start work on, resolve or reject (``note`` required) a report of my subtree."""
    reports.transition(actor=request.user, report_id=report_id, to=data.to, note=data.note)
    return report_detail(report_id)


@router.post("/console/reports/{report_id}/merge", response=ReportDetailOut)
@scoped(Perm.REPORT_HANDLE)
def merge(request: HttpRequest, report_id: int, data: MergeIn):
    """Merge a duplicate into the open report it repeats."""
    reports.merge(actor=request.user, report_id=report_id, into_id=data.into_id)
    return report_detail(report_id)


def rule_out(r: RoutingRule) -> dict:
    return {"id": r.pk, "region_id": r.region_id, "region": r.region.name,
            "category": r.category, "handler": r.handler, "accept_hours": r.accept_hours,
            "resolve_days": r.resolve_days}


@router.get("/console/report-rules", response=list[RuleOut])
@scoped(Perm.REPORT_RULES)
def rules(request: HttpRequest):
    """The routing rules and service levels set in my subtree."""
    return [rule_out(r) for r in reports.rules_in_scope(access_for(request))
            .order_by("region__path", "category")]


@router.put("/console/report-rules", response=RuleOut)
@scoped(Perm.REPORT_RULES)
def set_rule(request: HttpRequest, data: RuleIn):
    """Set who handles a category in a region of my subtree and how fast (audited)."""
    rule = reports.set_rule(actor=request.user, **data.model_dump())
    return rule_out(RoutingRule.objects.select_related("region").get(pk=rule.pk))


class ClientIn(In):
    city_id: int = Field(..., ge=1, lt=2**63)
    name: str = Field(..., max_length=64)


class ClientOut(Schema):
    id: int
    name: str
    created_at: dt.datetime


class IssuedOut(ClientOut):
    api_key: str


@router.get("/console/open311-clients", response=list[ClientOut])
@scoped(Perm.REPORT_RULES)
def open311_clients(request: HttpRequest):
    """The 311 applications that may post reports (city staff)."""
    from sportsman.governance import open311

    return [{"id": c.pk, "name": c.name, "created_at": c.created_at}
            for c in open311.clients(actor=request.user)]


@router.post("/console/open311-clients", response={201: IssuedOut})
@scoped(Perm.REPORT_RULES)
def issue_open311_key(request: HttpRequest, data: ClientIn):
    """Issue an ``api_key`` for a 311 application (city staff; shown once, audited)."""
    from sportsman.governance import open311

    client, key = open311.issue_key(actor=request.user, name=data.name, city_id=data.city_id)
    return Status(201, {"id": client.pk, "name": client.name, "created_at": client.created_at,
                        "api_key": key})
