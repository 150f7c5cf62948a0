"""Instructor registry API: the public search and profile; the instructor's own profile,
promotion progress and guidance records; the staff registry of a subtree (INSTRUCTOR_MANAGE):
list, register, edit, suspend/reinstate, confirm yearly work registrations, progress, export."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from sportsman.core import audit, xlsx
from sportsman.core.schemas import In
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.instructors import exports, registry, selectors
from sportsman.instructors.models import Instructor
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import Region

router = Router(tags=["instructors"])


class SportOut(Schema):
    slug: str
    name: str


class InstructorOut(Schema):
    id: int
    name: str
    level: str
    level_label: str
    region_id: int
    region_name: str
    sports: list[SportOut]
    rating: float | None
    rating_count: int
    sessions: int
    service_minutes: int
    photo_url: str
    accepts_bookings: bool
    max_group_size: int
    distance_m: float | None = None


class InstructorPageOut(Schema):
    items: list[InstructorOut]
    next_cursor: str | None


class RatingOut(Schema):
    stars: int
    at: dt.datetime


class ProfileOut(InstructorOut):
    bio: str
    certified_on: dt.date | None
    recent_ratings: list[RatingOut]
    rating_histogram: list[int]


class ConditionOut(Schema):
    key: str
    label: str
    required: int
    value: int
    met: bool


class YearOut(Schema):
    year: int
    registered_service: int | None
    org: str
    sessions: int
    minutes: int


class ProgressOut(Schema):
    level: str
    next_level: str | None
    all_met: bool
    years: list[YearOut]
    conditions: list[ConditionOut]


class SearchQuery(Schema):
    sport: str | None = Field(None, max_length=32)
    level: str | None = Field(None, max_length=10)
    region: int | None = Field(None, ge=1, lt=2**63)
    lat: float | None = None
    lng: float | None = None
    radius_m: float | None = None
    min_rating: float | None = None
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(selectors.DEFAULT_LIMIT, ge=1, le=selectors.MAX_LIMIT)


class ProfileIn(In):
    bio: str | None = Field(None, max_length=2000)
    sports: list[str] | None = Field(None, max_length=registry.MAX_SPORTS)
    accepts_bookings: bool | None = None
    max_group_size: int | None = Field(None, ge=1, le=30)
    lat: float | None = None
    lng: float | None = None


class StaffInstructorOut(Schema):
    id: int
    user_id: int
    name: str
    level: str
    certificate_number: str
    certified_on: dt.date | None
    region_id: int
    region_name: str
    status: str
    sports: list[str]
    sessions: int
    service_minutes: int


class RegisterIn(In):
    user_id: int = Field(..., ge=1, lt=2**63)
    name: str = Field(..., min_length=1, max_length=30)
    level: str = Field(..., max_length=10)
    certificate_number: str = Field(..., min_length=1, max_length=40)
    region_id: int = Field(..., ge=1, lt=2**63)
    sports: list[str] = Field(default_factory=list, max_length=registry.MAX_SPORTS)
    certified_on: dt.date | None = None


class EditIn(In):
    name: str | None = Field(None, max_length=30)
    level: str | None = Field(None, max_length=10)
    certificate_number: str | None = Field(None, max_length=40)
    region_id: int | None = Field(None, ge=1, lt=2**63)
    sports: list[str] | None = Field(None, max_length=registry.MAX_SPORTS)
    certified_on: dt.date | None = None


class StatusIn(In):
    to: Literal["active", "suspended", "retired"]
    reason: str = Field("", max_length=200)


class RegistrationIn(In):
    year: int = Field(..., ge=1990, le=2100)
    org: str = Field(..., min_length=1, max_length=80)
    service_count: int = Field(..., ge=0, le=10_000)
    association_id: int | None = Field(None, ge=1, lt=2**63)


class RegistrationOut(Schema):
    id: int
    instructor_id: int
    year: int
    org: str
    service_count: int
    confirmed: bool


class ConsoleQuery(Schema):
    region: int | None = Field(None, ge=1, lt=2**63)
    status: str | None = Field(None, max_length=10)
    q: str = Field("", max_length=30)


class ExportQuery(Schema):
    year: int | None = Field(None, ge=1990, le=2100)


def staff_out(i: Instructor) -> dict[str, Any]:
    return {"id": i.pk, "user_id": i.user_id, "name": i.name, "level": i.level,
            "certificate_number": i.certificate_number, "certified_on": i.certified_on,
            "region_id": i.region_id, "region_name": i.region.name, "status": i.status,
            "sports": sorted(s.slug for s in i.sports.all()), "sessions": i.sessions,
            "service_minutes": i.service_minutes}


def progress_out(p: registry.Progress) -> dict[str, Any]:
    return {"level": p.level, "next_level": p.next_level, "all_met": p.all_met,
            "years": [vars(y) for y in p.years],
            "conditions": [{"key": c.key, "label": c.label, "required": c.required,
                            "value": c.value, "met": c.met} for c in p.conditions]}


def registration_out(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "instructor_id": r.instructor_id, "year": r.year, "org": r.org,
            "service_count": r.service_count, "confirmed": r.confirmed_by_id is not None}


def _pdf_response(content: bytes, stem: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{stem}.pdf"'
    return response


# --- public --------------------------------------------------------------------------------------

@router.get("/instructors", auth=None, response=InstructorPageOut)
@public
def search(request: HttpRequest, query: Query[SearchQuery]):
    """Active instructors by sport (slug), level, region subtree, least mean rating; near a
    point (nearest first, ``distance_m``) or by registration. Keyset pages (``cursor``)."""
    region = None
    if query.region is not None:
        region = Region.objects.filter(pk=query.region).first()
        if region is None:
            return HttpResponse(json.dumps({"items": [], "next_cursor": None}),
                                content_type="application/json")
    page = selectors.search_instructors(
        sport=query.sport, level=query.level, region=region, lat=query.lat, lng=query.lng,
        radius_m=query.radius_m, min_rating=query.min_rating, cursor=query.cursor,
        limit=query.limit)
    # Already InstructorOut (a test holds them to the schema): written as they are.
    return HttpResponse(json.dumps({"items": page.items, "next_cursor": page.next_cursor},
                                   ensure_ascii=False, separators=(",", ":")),
                        content_type="application/json")


# --- the instructor's own ---------------------------------------------------------------------
# (before /instructors/{instructor_id}: "me" is not an id)

@router.get("/instructors/me", response=ProfileOut)
@for_self
def me(request: HttpRequest):
    return selectors.profile(registry.instructor_of(request.user))


@router.patch("/instructors/me", response=ProfileOut)
@for_self
def edit_me(request: HttpRequest, data: ProfileIn):
    """Edit my bio, sports, whether I take bookings, my largest group and where I teach."""
    found = registry.update_profile(actor=request.user, **data.model_dump(exclude_unset=True))
    return selectors.profile(found)


@router.post("/instructors/me/photo", response=ProfileOut)
@for_self
def my_photo(request: HttpRequest, photo: File[UploadedFile]):
    """My photo (JPEG/PNG/WebP up to 5 MB; kept re-encoded without EXIF)."""
    found = registry.update_profile(actor=request.user, photo=photo.read(PHOTO_MAX_BYTES + 1))
    return selectors.profile(found)


@router.get("/instructors/me/progress", response=ProgressOut)
@for_self
def my_progress(request: HttpRequest):
    """My service per year and the conditions of the next level, met or not yet."""
    return progress_out(registry.promotion_progress(registry.instructor_of(request.user)))


@router.get("/instructors/me/records.xlsx")
@for_self
def my_records_xlsx(request: HttpRequest, query: Query[ExportQuery]):
    """My guidance records as a workbook (a year, or all)."""
    found = registry.instructor_of(request.user)
    return xlsx.download(exports.workbook(exports.of_instructor(found, year=query.year)),
                         "guidance-records")


@router.get("/instructors/me/records.pdf")
@for_self
def my_records_pdf(request: HttpRequest, query: Query[ExportQuery]):
    """My guidance records, printable (A4)."""
    found = registry.instructor_of(request.user)
    title = _("Guidance records of %(name)s") % {"name": found.name}
    return _pdf_response(exports.pdf(exports.of_instructor(found, year=query.year), title=title),
                         "guidance-records")


@router.get("/instructors/{instructor_id}", auth=None, response=ProfileOut)
@public
def detail(request: HttpRequest, instructor_id: int):
    """An active instructor's public profile: level, sports, mean rating and the last
    ratings."""
    return selectors.profile(registry.get_instructor(instructor_id, public=True))


# --- staff ---------------------------------------------------------------------------------------

@router.get("/console/instructors", response=list[StaffInstructorOut])
@scoped(Perm.INSTRUCTOR_MANAGE)
def console_list(request: HttpRequest, query: Query[ConsoleQuery]):
    """Instructors of my subtree (narrowed to ``region``), by region code."""
    region = Region.objects.filter(pk=query.region).first() if query.region else None
    rows = selectors.instructors_for(access_for(request), region=region, status=query.status,
                                     q=query.q)
    return [staff_out(i) for i in rows[:500]]


@router.post("/console/instructors", response={201: StaffInstructorOut})
@scoped(Perm.INSTRUCTOR_MANAGE)
def console_register(request: HttpRequest, data: RegisterIn):
    """Register a resident as an instructor of a region of my subtree."""
    made = registry.register_instructor(access=access_for(request), request=request,
                                        **data.model_dump())
    return Status(201, staff_out(registry.get_instructor(made.pk)))


@router.patch("/console/instructors/{instructor_id}", response=StaffInstructorOut)
@scoped(Perm.INSTRUCTOR_MANAGE)
def console_edit(request: HttpRequest, instructor_id: int, data: EditIn):
    registry.update_instructor(access=access_for(request), instructor_id=instructor_id,
                               request=request, **data.model_dump(exclude_unset=True))
    return staff_out(registry.get_instructor(instructor_id))


@router.post("/console/instructors/{instructor_id}/status", response=StaffInstructorOut)
@scoped(Perm.INSTRUCTOR_MANAGE)
def console_status(request: HttpRequest, instructor_id: int, data: StatusIn):
    """Suspend, retire or reinstate (``invalid_status_change`` from the same status)."""
    registry.transition_instructor(access=access_for(request), instructor_id=instructor_id,
                                   to=data.to, reason=data.reason, request=request)
    return staff_out(registry.get_instructor(instructor_id))


@router.post("/console/instructors/{instructor_id}/registrations",
             response={201: RegistrationOut})
@scoped(Perm.INSTRUCTOR_MANAGE)
def console_registration(request: HttpRequest, instructor_id: int, data: RegistrationIn):
    """Confirm (or correct) the instructor's 工作注册 of a year."""
    made = registry.confirm_registration(access=access_for(request),
                                         instructor_id=instructor_id, request=request,
                                         **data.model_dump())
    return Status(201, registration_out(made))


@router.get("/console/instructors/{instructor_id}/progress", response=ProgressOut)
@scoped(Perm.INSTRUCTOR_MANAGE)
def console_progress(request: HttpRequest, instructor_id: int):
    found = registry.in_scope(access_for(request), instructor_id)
    return progress_out(registry.promotion_progress(found))


@router.get("/console/instructor-records.xlsx")
@scoped(Perm.INSTRUCTOR_MANAGE)
def console_records_xlsx(request: HttpRequest, query: Query[ExportQuery]):
    """The guidance records of my subtree's instructors (audited as an export)."""
    access = access_for(request)
    sessions = exports.of_scope(access, year=query.year)
    audit.record(actor=request.user, action="export.guidance_records", request=request,
                 data={"year": query.year})
    return xlsx.download(exports.workbook(sessions), "guidance-records")


@router.get("/console/instructor-records.pdf")
@scoped(Perm.INSTRUCTOR_MANAGE)
def console_records_pdf(request: HttpRequest, query: Query[ExportQuery]):
    access = access_for(request)
    sessions = exports.of_scope(access, year=query.year)
    audit.record(actor=request.user, action="export.guidance_records_pdf", request=request,
                 data={"year": query.year})
    return _pdf_response(exports.pdf(sessions, title=_("Guidance records")), "guidance-records")
