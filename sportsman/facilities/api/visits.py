"""Visits API: check in by the facility's code (resident) or by a booking pass (staff scan),
check out, my visits, a facility's visits of a day, and the facility's rotating code for its
screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.facilities import hours, registry, selectors, visits
from sportsman.facilities.models import Visit
from sportsman.regions.access import Perm, access_for, for_self, scoped

router = Router(tags=["visits"])


class VisitOut(Schema):
    id: int
    user_id: int
    facility_id: int
    facility_name: str
    booking_id: int | None
    sport_id: int | None
    source: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    closed_by: str
    duration_minutes: int | None


class StaffVisitOut(VisitOut):
    user_name: str


class VisitPageOut(Schema):
    items: list[VisitOut]
    next_cursor: int | None


class StaffVisitPageOut(Schema):
    items: list[StaffVisitOut]
    next_cursor: int | None


class CheckInIn(In):
    code: str = Field(..., min_length=1, max_length=120)
    sport_id: int | None = Field(None, ge=1, lt=2**63)


class PassIn(In):
    pass_code: str = Field(..., min_length=1, max_length=80)


class PageQuery(Schema):
    cursor: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=100)


class DayQuery(PageQuery):
    date: dt.date | None = None


class QrOut(Schema):
    code: str
    url: str
    svg: str
    valid_until: dt.datetime
    refresh_seconds: int


def _visit(v: Visit) -> dict[str, Any]:
    return {"id": v.pk, "user_id": v.user_id, "facility_id": v.facility_id,
            "facility_name": v.facility.name, "booking_id": v.booking_id,
            "sport_id": v.sport_id, "source": v.source, "started_at": v.started_at,
            "ended_at": v.ended_at, "closed_by": v.closed_by,
            "duration_minutes": v.duration_minutes}


@router.post("/check-ins", response={201: VisitOut})
@for_self
@idempotent
def check_in(request: HttpRequest, data: CheckInIn):
    """I scanned the facility's screen: check me in (my booking there, if it is near now; else a
    walk-in visit). Forged codes answer 400 ``qr_invalid``, old ones 400 ``qr_expired``."""
    visit = visits.check_in_with_code(actor=request.user, code=data.code, sport_id=data.sport_id)
    return Status(201, _visit(visit))


@router.post("/check-ins/pass", response={201: VisitOut})
@scoped(Perm.FACILITY_MANAGE)
def check_in_pass(request: HttpRequest, data: PassIn):
    """Staff scanned a resident's booking pass (``SPB:<code>``) at a facility they manage."""
    visit = visits.check_in_pass(actor=request.user, pass_code=data.pass_code)
    return Status(201, _visit(visit))


@router.post("/visits/{visit_id}/check-out", response=VisitOut)
@for_self
@idempotent
def check_out(request: HttpRequest, visit_id: int):
    """End my visit. Staff may also end a visit at a facility they manage (the service checks
    FACILITY_MANAGE over the facility and audits it); any other visit is 404."""
    return _visit(visits.check_out(actor=request.user, visit_id=visit_id))


@router.get("/me/visits", response=VisitPageOut)
@for_self
def my_visits(request: HttpRequest, page: Query[PageQuery]):
    """My visits, newest first; pass ``next_cursor`` back as ``cursor`` for older ones."""
    rows, next_cursor = visits.visits_of(request.user, cursor=page.cursor, limit=page.limit)
    return {"items": [_visit(v) for v in rows], "next_cursor": next_cursor}


@router.get("/facilities/{facility_id}/visits", response=StaffVisitPageOut)
@scoped(Perm.FACILITY_MANAGE)
def facility_visits(request: HttpRequest, facility_id: int, query: Query[DayQuery]):
    """The visits that started at a facility I manage on ``date`` (local; default today)."""
    access = access_for(request)
    facility = registry.facility_for(access, facility_id)
    day = query.date or hours.local(dt.datetime.now(dt.UTC)).date()
    qs = selectors.visits_of_day_for(access, facility, day)
    if query.cursor is not None:
        qs = qs.filter(id__lt=query.cursor)
    rows = list(qs.select_related("facility").order_by("-id")[: query.limit + 1])
    next_cursor = rows[query.limit - 1].pk if len(rows) > query.limit else None
    return {"items": [{**_visit(v), "user_name": str(v.user)} for v in rows[: query.limit]],
            "next_cursor": next_cursor}


@router.get("/facilities/{facility_id}/qr", response=QrOut)
@scoped(Perm.FACILITY_MANAGE)
def facility_qr(request: HttpRequest, facility_id: int):
    """The check-in code to show on the facility's screen now: the code, the page URL it
    encodes, that URL as an SVG QR code, and when to fetch the next one (every minute)."""
    facility = registry.facility_for(access_for(request), facility_id)
    now = dt.datetime.now(dt.UTC)
    code = visits.facility_code(facility, now)
    url = visits.checkin_url(request, code)
    svg = segno.make(url, error="m").svg_inline(scale=6, border=2)
    until = visits.code_valid_until(now)
    return {"code": code, "url": url, "svg": svg, "valid_until": until,
            "refresh_seconds": max(1, int((until - now).total_seconds()))}
