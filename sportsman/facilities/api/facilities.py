"""The facility registry API: public search and detail, the category list, and the staff
operations (scoped by FACILITY_MANAGE) to register, edit, import and export facilities and read
their utilisation.

Slots, bookings, visits, devices, tickets, the venue QR code and booking policies live in the
sibling modules (bookings.py, visits.py, devices.py).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.core import audit, xlsx
from sportsman.core.errors import InvalidInput, NotFound
from sportsman.core.models import AuditEntry
from sportsman.core.schemas import In
from sportsman.facilities import (
    exports,
    hours,
    imports,
    registry,
    search_misses,
    selectors,
    stats,
    subsidy,
)
from sportsman.facilities.models import Category, Facility, OpeningException, Unit
from sportsman.regions.access import Perm, access_for, public, scoped
from sportsman.regions.models import Region, subtree_q

router = Router(tags=["facilities"])


# --- schemas -----------------------------------------------------------------------------------

class PointOut(Schema):
    lat: float
    lng: float


class RuleOut(Schema):
    weekday: int
    opens: str
    closes: str


class PhotoOut(Schema):
    id: int
    url: str
    caption: str


class SportOut(Schema):
    slug: str
    name: str


class FacilityOut(Schema):
    id: int
    name: str
    category: str
    category_label: str
    owner_kind: str
    region_id: int
    address: str
    lat: float
    lng: float
    gcj02: PointOut
    sports: list[SportOut]
    capacity: int
    status: str
    is_free: bool
    is_bookable: bool
    occupancy: int
    crowd: str
    open_now: bool
    distance_m: float | None = None
    photos: list[PhotoOut]
    hours: list[RuleOut]


class FacilityPageOut(Schema):
    items: list[FacilityOut]
    next_cursor: str | None


class DayOut(Schema):
    date: date
    intervals: list[list[str]]


class UnitOut(Schema):
    id: int
    name: str
    sport: str | None
    capacity: int
    slot_minutes: int
    price_cents: int
    booking_mode: str
    is_active: bool


class FacilityDetailOut(FacilityOut):
    description: str
    amenities: list[str]
    accessibility: list[str]
    contact_name: str
    contact_phone: str
    holiday_hours: str
    week: list[DayOut]
    today: list[list[str]]
    units: list[UnitOut]


class SearchQuery(Schema):
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    radius_m: float | None = Field(None, gt=0, le=selectors.MAX_RADIUS_M)
    sport: str | None = Field(None, max_length=32)
    category: str | None = Field(None, max_length=20)
    open_now: bool = False
    free: bool | None = None
    crowd: Literal["quiet", "moderate", "busy", "unknown"] | None = None
    q: str | None = Field(None, max_length=100)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(selectors.DEFAULT_LIMIT, ge=1, le=selectors.MAX_LIMIT)


class CategoryOut(Schema):
    code: str
    label: str


class VenueOut(Schema):
    id: int
    name: str
    category: str
    region_id: int
    region_name: str
    status: str
    occupancy: int
    capacity: int
    bookings_today: int
    external_ref: str


class VenuePageOut(Schema):
    items: list[VenueOut]
    next_cursor: int | None


class FacilityIn(In):
    name: str = Field(..., max_length=100)
    owner_kind: str
    category: str
    region: int
    address: str = Field(..., max_length=200)
    lat: float
    lng: float
    sports: list[str] = Field(default_factory=list, max_length=30)
    capacity: int = 0
    amenities: list[str] = Field(default_factory=list, max_length=30)
    accessibility: list[str] = Field(default_factory=list, max_length=30)
    description: str = Field("", max_length=2000)
    contact_name: str = Field("", max_length=32)
    contact_phone: str = Field("", max_length=20)
    status: str = "open"
    holiday_hours: str = "weekend"
    external_ref: str = Field("", max_length=64)


class FacilityPatchIn(In):
    name: str | None = Field(None, max_length=100)
    owner_kind: str | None = None
    category: str | None = None
    region: int | None = None
    address: str | None = Field(None, max_length=200)
    lat: float | None = None
    lng: float | None = None
    sports: list[str] | None = Field(None, max_length=30)
    capacity: int | None = None
    amenities: list[str] | None = Field(None, max_length=30)
    accessibility: list[str] | None = Field(None, max_length=30)
    description: str | None = Field(None, max_length=2000)
    contact_name: str | None = Field(None, max_length=32)
    contact_phone: str | None = Field(None, max_length=20)
    status: str | None = None
    holiday_hours: str | None = None
    external_ref: str | None = Field(None, max_length=64)


class RuleIn(In):
    weekday: int = Field(..., ge=0, le=6)
    opens: str = Field(..., max_length=8)
    closes: str = Field(..., max_length=8)


class HoursIn(In):
    rules: list[RuleIn] = Field(..., max_length=70)


class ExceptionIn(In):
    start_date: date
    end_date: date
    is_closed: bool = False
    opens: str | None = Field(None, max_length=8)
    closes: str | None = Field(None, max_length=8)
    reason: str = Field("", max_length=100)


class ExceptionOut(Schema):
    id: int
    start_date: date
    end_date: date
    is_closed: bool
    opens: str | None
    closes: str | None
    reason: str


class UnitIn(In):
    name: str = Field(..., max_length=50)
    sport: str | None = Field(None, max_length=32)
    capacity: int = 1
    slot_minutes: int = 60
    price_cents: int = 0
    booking_mode: str = "first_come"


class UnitPatchIn(In):
    name: str | None = Field(None, max_length=50)
    sport: str | None = Field(None, max_length=32)
    capacity: int | None = None
    slot_minutes: int | None = None
    price_cents: int | None = None
    booking_mode: str | None = None
    is_active: bool | None = None
    position: int | None = None


class ProblemOut(Schema):
    row: int
    column: str
    reason: str


class ImportOut(Schema):
    ok: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool
    problems: list[ProblemOut]


class UtilisationQuery(Schema):
    date_from: date = Field(..., alias="from")
    date_to: date = Field(..., alias="to")


class SubsidyQuery(Schema):
    date_from: date = Field(..., alias="from")
    date_to: date = Field(..., alias="to")
    budget_yuan: float = Field(0, ge=0, le=subsidy.MAX_BUDGET_CENTS / 100,
                               description="the budget to split, in yuan (0: index only)")


class SubsidyRowOut(Schema):
    facility_id: int
    name: str
    community: str
    category: str
    visits: int
    visitors: int
    hours: float
    utilisation: float | None
    index: float
    share_cents: int


class SubsidyOut(Schema):
    region_id: int
    date_from: date
    date_to: date
    budget_cents: int
    items: list[SubsidyRowOut]


class UtilisationOut(Schema):
    facility_id: int
    date_from: date
    date_to: date
    booked_hours: float
    open_hours: float
    places: int
    rate: float | None
    visits_per_day: dict[str, int]
    total_visits: int
    unique_visitors: int
    heat: list[list[int]]


# --- shaping -----------------------------------------------------------------------------------

def _unit_out(u: Unit) -> dict:
    return {"id": u.pk, "name": u.name, "sport": u.sport.slug if u.sport else None,
            "capacity": u.capacity, "slot_minutes": u.slot_minutes,
            "price_cents": u.price_cents, "booking_mode": u.booking_mode,
            "is_active": u.is_active}


def _exception_out(e: OpeningException) -> dict:
    return {"id": e.pk, "start_date": e.start_date, "end_date": e.end_date,
            "is_closed": e.is_closed, "opens": hours.hhmm(e.opens) if e.opens else None,
            "closes": hours.hhmm(e.closes) if e.closes else None, "reason": e.reason}


def _detail(facility_id: int) -> dict:
    d = selectors.facility_detail(facility_id)
    f = d.facility
    out = selectors.page_items([f.pk], now=timezone.now())[0]
    out.update({
        "description": f.description, "amenities": list(f.amenities or []),
        "accessibility": list(f.accessibility or []), "contact_name": f.contact_name,
        "contact_phone": f.contact_phone, "holiday_hours": f.holiday_hours,
        "week": [{"date": day.day, "intervals": [[hours.hhmm(o), hours.hhmm(c)] for o, c in day.intervals]}
                 for day in d.week],
        "today": [[hours.hhmm(o), hours.hhmm(c)] for o, c in d.today],
        "units": [_unit_out(u) for u in d.units],
    })
    return out


# --- public ------------------------------------------------------------------------------------

@router.get("/facilities", auth=None, response=FacilityPageOut)
@public
def search(request: HttpRequest, query: Query[SearchQuery]):
    """Facilities near a point (nearest first, within ``radius_m``, at most 50 km) or all by
    name, filtered by sport (slug), category, open now, free, crowd level and name. A first
    page near a point for a sport (no other filter) that finds nothing is counted, without who
    or where exactly, as a search miss of the nearest community (demand analysis), once a day
    per searcher and sport."""
    page = selectors.search_facilities(
        lat=query.lat, lng=query.lng, radius_m=query.radius_m, sport=query.sport,
        category=query.category, open_now=query.open_now, free=query.free, crowd=query.crowd,
        q=query.q, limit=query.limit, cursor=query.cursor, count_miss=True,
        searcher=search_misses.searcher(request))
    # The items are already FacilityOut (a test holds them to the schema): written as they
    # are, not validated again field by field on the hottest public read.
    return HttpResponse(json.dumps({"items": page.items, "next_cursor": page.next_cursor},
                                   ensure_ascii=False, separators=(",", ":")),
                        content_type="application/json")


@router.get("/categories", auth=None, response=list[CategoryOut])
@public
def categories(request: HttpRequest):
    """The facility categories (code list)."""
    return [{"code": value, "label": str(label)} for value, label in Category.choices]


# --- staff -------------------------------------------------------------------------------------

# The fixed paths come before any "/facilities/{facility_id}" path: Django tries URL patterns in
# order and the parameter would match "import" and "export.xlsx".

@router.post("/facilities/import", response=ImportOut)
@scoped(Perm.FACILITY_MANAGE)
def import_file(request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = False):
    """Import a register file (xlsx or csv). Every row is checked first: with any bad row the
    answer lists them all (``ok: false``, row, column, reason) and nothing is loaded. With
    ``dry_run`` a good file is only checked."""
    content = file.read(imports.MAX_BYTES + 1)
    try:
        report = imports.import_facilities(actor=request.user, content=content,
                                           dry_run=dry_run, request=request)
    except imports.FacilityFileError as exc:
        return {"ok": False, "rows": 0, "created": 0, "updated": 0, "unchanged": 0,
                "dry_run": dry_run,
                "problems": [{"row": p.row, "column": p.column, "reason": p.reason}
                             for p in exc.problems]}
    return {"ok": True, **report.as_dict(), "problems": []}


@router.get("/facilities/export.xlsx")
@scoped(Perm.FACILITY_MANAGE)
def export_facilities(request: HttpRequest, region: int | None = None):
    """My facilities as a spreadsheet in the import format (edit it and import it again)."""
    access = access_for(request)
    chosen = Region.objects.filter(pk=region).first() if region is not None else None
    if region is not None and chosen is None:
        raise NotFound(_("No such region in your scope."))
    qs = selectors.list_venues_for(access, region=chosen)
    count = qs.count()
    if count > exports.EXPORT_MAX_ROWS:
        raise InvalidInput(_("%(count)d facilities match; narrow the region.")
                           % {"count": count}, code="export_too_large")
    content = exports.facilities_workbook(
        registry.facilities_in_scope(access).filter(pk__in=qs.values("pk")).order_by("name"))
    audit.record(actor=request.user, action="facility.export", kind=AuditEntry.Kind.VIEW,
                 object_type="facilities.facility",
                 region=chosen or access.root_regions(Perm.FACILITY_MANAGE).first(),
                 request=request, data={"rows": count})
    return _xlsx(content, "facilities")



@router.get("/venues", response=VenuePageOut)
@scoped(Perm.FACILITY_MANAGE)
def venues(request: HttpRequest, region: int | None = None,
           q: str | None = Query(None, max_length=100),
           cursor: int | None = Query(None, ge=0),
           limit: int = Query(50, ge=1, le=200)):
    """My facilities (in my FACILITY_MANAGE scope), optionally under ``region``, by name."""
    access = access_for(request)
    chosen = None
    if region is not None:
        chosen = Region.objects.filter(pk=region).first()
        if chosen is None:
            raise NotFound(_("No such region in your scope."))
    qs = selectors.list_venues_for(access, region=chosen, q=q)
    offset = cursor or 0
    rows = list(qs[offset: offset + limit + 1])
    more = len(rows) > limit
    return {"items": [{"id": f.pk, "name": f.name, "category": f.category,
                       "region_id": f.region_id, "region_name": f.region.name,
                       "status": f.status, "occupancy": max(f.occupancy, 0),
                       "capacity": f.capacity,
                       "bookings_today": f.bookings_today,  # type: ignore[attr-defined]
                       "external_ref": f.external_ref} for f in rows[:limit]],
            "next_cursor": offset + limit if more else None}


@router.post("/facilities", response={201: FacilityDetailOut})
@scoped(Perm.FACILITY_MANAGE)
def create(request: HttpRequest, data: FacilityIn):
    """Register a facility in a community of my scope (404 outside it)."""
    facility = registry.create_facility(actor=request.user, data=data.model_dump(),
                                        request=request)
    return Status(201, _detail(facility.pk))


@router.patch("/facilities/{facility_id}", response=FacilityDetailOut)
@scoped(Perm.FACILITY_MANAGE)
def update(request: HttpRequest, facility_id: int, data: FacilityPatchIn):
    """Change the given fields of a facility in my scope."""
    changes = data.model_dump(exclude_unset=True)
    for key, value in list(changes.items()):
        if value is None:
            raise InvalidInput(_("This field may not be null."), fields={key: [
                _("This field may not be null.")]})
    registry.update_facility(actor=request.user, facility_id=facility_id, changes=changes,
                             request=request)
    return _detail(facility_id)


@router.put("/facilities/{facility_id}/hours", response=list[RuleOut])
@scoped(Perm.FACILITY_MANAGE)
def set_hours(request: HttpRequest, facility_id: int, data: HoursIn):
    """Replace the whole week's opening rules."""
    rules = registry.set_opening_rules(actor=request.user, facility_id=facility_id,
                                       rules=[r.model_dump() for r in data.rules],
                                       request=request)
    return [{"weekday": r.weekday, "opens": hours.hhmm(r.opens), "closes": hours.hhmm(r.closes)}
            for r in rules]


@router.post("/facilities/{facility_id}/exceptions", response={201: ExceptionOut})
@scoped(Perm.FACILITY_MANAGE)
def add_exception(request: HttpRequest, facility_id: int, data: ExceptionIn):
    """Add a closure or special hours for a date range."""
    exc = registry.add_opening_exception(actor=request.user, facility_id=facility_id,
                                         data=data.model_dump(), request=request)
    return Status(201, _exception_out(exc))


@router.delete("/facilities/{facility_id}/exceptions/{exception_id}", response={204: None})
@scoped(Perm.FACILITY_MANAGE)
def remove_exception(request: HttpRequest, facility_id: int, exception_id: int):
    """Remove one exception of a facility in my scope."""
    if not OpeningException.objects.filter(pk=exception_id, facility_id=facility_id).exists():
        raise NotFound(_("No such exception in your scope."))
    registry.remove_opening_exception(actor=request.user, exception_id=exception_id,
                                      request=request)
    return Status(204, None)


@router.post("/facilities/{facility_id}/units", response={201: UnitOut})
@scoped(Perm.FACILITY_MANAGE)
def add_unit(request: HttpRequest, facility_id: int, data: UnitIn):
    """Add a bookable unit (court, lane, room)."""
    unit = registry.add_unit(actor=request.user, facility_id=facility_id,
                             data=data.model_dump(), request=request)
    return Status(201, _unit_out(unit))


@router.patch("/units/{unit_id}", response=UnitOut)
@scoped(Perm.FACILITY_MANAGE)
def update_unit(request: HttpRequest, unit_id: int, data: UnitPatchIn):
    """Change a unit; ``is_active: false`` deactivates it."""
    unit = registry.update_unit(actor=request.user, unit_id=unit_id,
                                changes=data.model_dump(exclude_unset=True), request=request)
    return _unit_out(unit)


@router.post("/facilities/{facility_id}/photos", response={201: PhotoOut})
@scoped(Perm.FACILITY_MANAGE)
def add_photo(request: HttpRequest, facility_id: int, image: File[UploadedFile],
              caption: Form[str] = ""):
    """Upload a photo (JPEG/PNG/WebP up to 5 MB; stored re-encoded, without EXIF)."""
    if image.size and image.size > registry.PHOTO_MAX_BYTES:
        raise InvalidInput(_("The photo is larger than 5 MB."), code="photo_too_large")
    photo = registry.add_photo(actor=request.user, facility_id=facility_id,
                               content=image.read(registry.PHOTO_MAX_BYTES + 1),
                               caption=caption, request=request)
    return Status(201, {"id": photo.pk, "url": photo.image.url, "caption": photo.caption})


@router.get("/facilities/{facility_id}/utilisation", response=UtilisationOut)
@scoped(Perm.FACILITY_MANAGE)
def utilisation(request: HttpRequest, facility_id: int, query: Query[UtilisationQuery]):
    """Booked hours ÷ open hours, visits per day, unique visitors and the weekday × hour heat
    map over ``from``–``to`` (local dates, inclusive, at most 366 days)."""
    facility = registry.facility_for(access_for(request), facility_id)
    report = stats.utilisation(facility, query.date_from, query.date_to)
    return {"facility_id": facility.pk, "date_from": report.date_from,
            "date_to": report.date_to, "booked_hours": report.booked_hours,
            "open_hours": report.open_hours, "places": report.places, "rate": report.rate,
            "visits_per_day": {d.isoformat(): n for d, n in report.visits_per_day.items()},
            "total_visits": report.total_visits, "unique_visitors": report.unique_visitors,
            "heat": report.heat}


def _subsidy(request: HttpRequest, region_id: int, query: SubsidyQuery
             ) -> tuple[Region, list[dict[str, Any]], int]:
    access = access_for(request)
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not access.can(Perm.SUBSIDY_ALLOCATE, region):
        raise NotFound()
    budget_cents = round(query.budget_yuan * 100)
    facilities = Facility.objects.filter(subtree_q(region.path, "region"))
    scores = subsidy.evaluate(facilities, query.date_from, query.date_to,
                              budget_cents=budget_cents)
    audit.record(actor=request.user, action="facilities.subsidy.evaluate", region=region,
                 data={"from": query.date_from.isoformat(), "to": query.date_to.isoformat(),
                       "budget_cents": budget_cents}, request=request)
    return region, subsidy.as_rows(scores), budget_cents


@router.get("/regions/{region_id}/facility-subsidy", response=SubsidyOut)
@scoped(Perm.SUBSIDY_ALLOCATE)
def facility_subsidy(request: HttpRequest, region_id: int, query: Query[SubsidyQuery]):
    """The activity index of every facility in the region's subtree over ``from``–``to`` and,
    with ``budget_yuan``, its share of the subsidy budget (shares add up to the budget)."""
    region, rows, budget_cents = _subsidy(request, region_id, query)
    return {"region_id": region.pk, "date_from": query.date_from, "date_to": query.date_to,
            "budget_cents": budget_cents, "items": rows}


@router.get("/regions/{region_id}/facility-subsidy.xlsx")
@scoped(Perm.SUBSIDY_ALLOCATE)
def facility_subsidy_export(request: HttpRequest, region_id: int, query: Query[SubsidyQuery]):
    """The same evaluation as a spreadsheet."""
    region, rows, _budget = _subsidy(request, region_id, query)
    return _xlsx(exports.subsidy_workbook(region.name, query.date_from, query.date_to, rows),
                 "facility-subsidy")


@router.get("/facilities/{facility_id}", auth=None, response=FacilityDetailOut)
@public
def detail(request: HttpRequest, facility_id: int):
    """One facility: hours of this week and today, photos, units, occupancy and crowd level."""
    return _detail(facility_id)



def _xlsx(content: bytes, stem: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=xlsx.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.xlsx"'
    return response
