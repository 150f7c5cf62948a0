"""Staff events API (``Perm.EVENT_MANAGE``, narrowed to the actor's subtrees; an event outside
looks missing): create, change, file, publish, cancel and finish events, the cover photo, the
registrations, check-in scans, results and qualifiers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.core.uploads import PHOTO_MAX_BYTES, too_large
from sportsman.events import selectors, services
from sportsman.events.api.common import event_out, page_response
from sportsman.events.api.events import EventsQuery
from sportsman.events.api.schemas import EventOut, EventPageOut, FormFieldIn
from sportsman.regions.access import Perm, access_for, scoped

router = Router(tags=["events (staff)"])


class EventFieldsIn(In):
    title: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=5000)
    sport_id: int | None = Field(None, ge=1, lt=2**63)
    facility_id: int | None = Field(None, ge=1, lt=2**63)
    place: str | None = Field(None, max_length=200)
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    registration_opens_at: dt.datetime | None = None
    registration_closes_at: dt.datetime | None = None
    capacity: int | None = Field(None, ge=1, le=100_000)
    has_waitlist: bool | None = None
    entry: Literal["individual", "team"] | None = None
    team_min: int | None = Field(None, ge=1, le=50)
    team_max: int | None = Field(None, ge=1, le=50)
    form_fields: list[FormFieldIn] | None = Field(None, max_length=20)
    age_min: int | None = Field(None, ge=0, le=120)
    age_max: int | None = Field(None, ge=0, le=120)
    sex: Literal["", "F", "M"] | None = None
    eligible_region_id: int | None = Field(None, ge=1, lt=2**63)
    target_interested: bool | None = None
    qualifiers_only: bool | None = None
    challenge_metric: Literal["", "minutes", "distance", "sessions"] | None = None
    challenge_goal: int | None = Field(None, ge=1)
    result_order: Literal["higher", "lower"] | None = None
    organiser_kind: Literal["government", "association", "group"] | None = None
    organiser_id: int | None = Field(None, ge=1, lt=2**63)
    organiser_name: str | None = Field(None, max_length=100)
    mode: Literal["offline", "online"] | None = None
    parent_id: int | None = Field(None, ge=1, lt=2**63, description="the next round")


class EventCreateIn(EventFieldsIn):
    region_id: int = Field(..., ge=1, lt=2**63)
    title: str = Field(..., min_length=1, max_length=100)
    starts_at: dt.datetime
    ends_at: dt.datetime
    registration_opens_at: dt.datetime
    registration_closes_at: dt.datetime
    capacity: int = Field(..., ge=1, le=100_000)


class CancelIn(In):
    reason: str = Field("", max_length=200)


class CheckInIn(In):
    code: str = Field(..., min_length=1, max_length=40, description="SPE:<code> or the code")
    event_id: int | None = Field(None, ge=1, lt=2**63, description="the event being scanned for")


class ResultIn(In):
    registration_id: int = Field(..., ge=1, lt=2**63)
    score: float | None = None
    note: str = Field("", max_length=60)


class ResultsIn(In):
    results: list[ResultIn] = Field(..., max_length=2000)


class QualifiersIn(In):
    registration_ids: list[int] = Field(..., min_length=1, max_length=2000)


class StaffRegistrationOut(Schema):
    id: int
    user_id: int
    name: str
    phone: str
    status: str
    team_name: str
    roster: list[dict[str, Any]]
    answers: dict[str, Any]
    from_waitlist: bool
    rank: int | None
    score: float | None
    is_qualifier: bool
    created_at: dt.datetime
    checked_in_at: dt.datetime | None


class RegistrationsQuery(Schema):
    status: Literal["registered", "waitlisted", "checked_in", "cancelled"] | None = None


class CheckedInOut(Schema):
    registration_id: int
    event_id: int
    name: str
    team_name: str
    status: str
    checked_in_at: dt.datetime | None


def staff_registration_out(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "user_id": r.user_id, "name": r.user.nickname,
            "phone": r.user.masked_phone, "status": r.status, "team_name": r.team_name,
            "roster": r.roster, "answers": r.answers, "from_waitlist": r.from_waitlist,
            "rank": r.rank, "score": r.score, "is_qualifier": r.is_qualifier,
            "created_at": r.created_at, "checked_in_at": r.checked_in_at}


def _fields(data: EventFieldsIn) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=True)
    if "form_fields" in values and values["form_fields"] is not None:
        values["form_fields"] = [dict(f) for f in values["form_fields"]]
    return values


def _detail(request: HttpRequest, event_id: int) -> dict[str, Any]:
    return event_out(services.get_staff_event(request.user, event_id))


@router.get("/staff/events", response=EventPageOut)
@scoped(Perm.EVENT_MANAGE)
def staff_list(request: HttpRequest, params: Query[EventsQuery]):
    """Events of my regions, every status (drafts and filed ones too)."""
    within = [g.path for g in access_for(request).roots(Perm.EVENT_MANAGE)]
    page = selectors.list_events(level=params.level, region_id=params.region,
                                 sport=params.sport, upcoming=params.upcoming,
                                 mode=params.mode, cursor=params.cursor, limit=params.limit,
                                 statuses=None, within=within)
    return page_response(page)


@router.post("/staff/events", response={201: EventOut})
@scoped(Perm.EVENT_MANAGE)
@idempotent
def create(request: HttpRequest, data: EventCreateIn):
    """A draft event in a region I govern (its level follows the region)."""
    values = _fields(data)
    region_id = values.pop("region_id")
    event = services.create_event(actor=request.user, region_id=region_id, request=request,
                                  **values)
    return Status(201, _detail(request, event.pk))


@router.patch("/staff/events/{event_id}", response=EventOut)
@scoped(Perm.EVENT_MANAGE)
def update(request: HttpRequest, event_id: int, data: EventFieldsIn):
    """Change an event; registrants are told when its time or place changed."""
    services.update_event(actor=request.user, event_id=event_id, request=request,
                          **_fields(data))
    return _detail(request, event_id)


@router.post("/staff/events/{event_id}/file", response=EventOut)
@scoped(Perm.EVENT_MANAGE)
def file(request: HttpRequest, event_id: int):
    """File a draft for review (status ``pending``)."""
    services.file_event(actor=request.user, event_id=event_id, request=request)
    return _detail(request, event_id)


@router.post("/staff/events/{event_id}/publish", response=EventOut)
@scoped(Perm.EVENT_MANAGE)
def publish(request: HttpRequest, event_id: int):
    """Publish: the event's audience is told."""
    services.publish_event(actor=request.user, event_id=event_id, request=request)
    return _detail(request, event_id)


@router.post("/staff/events/{event_id}/cancel", response=EventOut)
@scoped(Perm.EVENT_MANAGE)
def cancel(request: HttpRequest, event_id: int, data: CancelIn):
    """Cancel: everyone registered or waiting is told."""
    services.cancel_event(actor=request.user, event_id=event_id, reason=data.reason,
                          request=request)
    return _detail(request, event_id)


@router.post("/staff/events/{event_id}/finish", response=EventOut)
@scoped(Perm.EVENT_MANAGE)
def finish(request: HttpRequest, event_id: int):
    services.finish_event(actor=request.user, event_id=event_id, request=request)
    return _detail(request, event_id)


@router.post("/staff/events/{event_id}/cover", response=EventOut)
@scoped(Perm.EVENT_MANAGE)
def cover(request: HttpRequest, event_id: int, file: File[UploadedFile]):
    """The cover photo (JPEG, PNG, WebP or GIF up to 5 MB; re-encoded, EXIF dropped)."""
    if file.size and file.size > PHOTO_MAX_BYTES:
        raise too_large(PHOTO_MAX_BYTES, "cover")
    services.set_cover(actor=request.user, event_id=event_id,
                       content=file.read(PHOTO_MAX_BYTES + 1), request=request)
    return _detail(request, event_id)


@router.get("/staff/events/{event_id}/registrations", response=list[StaffRegistrationOut])
@scoped(Perm.EVENT_MANAGE)
def registrations(request: HttpRequest, event_id: int, params: Query[RegistrationsQuery]):
    event = services.get_staff_event(request.user, event_id)
    return [staff_registration_out(r)
            for r in selectors.event_registrations(event, status=params.status)[:2000]]


@router.post("/staff/check-ins", response=CheckedInOut)
@scoped(Perm.EVENT_MANAGE)
@idempotent
def check_in(request: HttpRequest, data: CheckInIn):
    """Scan a registration's QR code: checked in once; the attendance becomes a verified
    exercise session."""
    reg = services.check_in(actor=request.user, code=data.code, event_id=data.event_id,
                            request=request)
    return {"registration_id": reg.pk, "event_id": reg.event_id,
            "name": reg.user.nickname if reg.user_id else "", "team_name": reg.team_name,
            "status": reg.status, "checked_in_at": reg.checked_in_at}


@router.put("/staff/events/{event_id}/results", response=list[StaffRegistrationOut])
@scoped(Perm.EVENT_MANAGE)
def results(request: HttpRequest, event_id: int, data: ResultsIn):
    """Enter scores of checked-in registrations; ranks follow the event's result order."""
    done = services.enter_results(actor=request.user, event_id=event_id,
                                  results=[r.model_dump() for r in data.results],
                                  request=request)
    return [staff_registration_out(r) for r in done]


@router.post("/staff/events/{event_id}/qualifiers", response=list[StaffRegistrationOut])
@scoped(Perm.EVENT_MANAGE)
def qualifiers(request: HttpRequest, event_id: int, data: QualifiersIn):
    """Mark qualifiers of a round; each is registered in the next round (the answer lists
    those new registrations)."""
    done = services.mark_qualifiers(actor=request.user, event_id=event_id,
                                    registration_ids=data.registration_ids, request=request)
    return [staff_registration_out(r) for r in done]
