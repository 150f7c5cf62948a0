"""Fitness tests API. Staff (FITNESS_MANAGE): the test stations of their subtree, importing a
station's file (every bad row reported, nothing loaded), the records (keyset pages) and one
record (an audited view of personal data). Residents: their own records with item points."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.core import audit, crypto
from sportsman.core.errors import NotFound
from sportsman.core.schemas import In
from sportsman.fitness import imports, scoring, selectors, services
from sportsman.fitness.models import Edition, FitnessTest, Grade, TestStation
from sportsman.regions.access import Perm, access_for, for_self, scoped

router = Router(tags=["fitness"])

GRADES = "^(" + "|".join(Grade.values) + ")$"
EDITIONS = "^(" + "|".join(Edition.values) + ")$"


class StationOut(Schema):
    id: int
    name: str
    code: str
    address: str
    region_id: int
    region: str
    is_active: bool


class StationIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    name: str = Field(..., max_length=80)
    code: str = Field(..., max_length=40)
    address: str = Field("", max_length=200)


class ItemOut(Schema):
    item: str
    label: str
    unit: str
    value: float
    points: int | None


class TestOut(Schema):
    id: int
    station_id: int
    station: str
    region_id: int
    tested_on: dt.date
    edition: str
    sex: str
    age: int
    age_group: str
    total: int | None
    grade: str
    no_grade: str
    is_demonstration: bool
    name: str  # masked for staff
    is_linked: bool


class TestDetailOut(TestOut):
    phone: str  # masked
    items: list[ItemOut]


class TestPageOut(Schema):
    items: list[TestOut]
    next_cursor: str | None


class TestsQuery(Schema):
    station: int | None = Field(None, ge=1, lt=2**63)
    grade: str | None = Field(None, pattern=GRADES)
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=200)


class ProblemOut(Schema):
    row: int
    column: str
    code: str
    reason: str


class ImportOut(Schema):
    ok: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    linked: int
    problems: list[ProblemOut]


class MyTestOut(Schema):
    id: int
    tested_on: dt.date
    station: str
    edition: str
    age: int
    total: int | None
    grade: str
    no_grade: str
    is_demonstration: bool
    items: list[ItemOut]


def _station(s: TestStation) -> dict[str, Any]:
    return {"id": s.pk, "name": s.name, "code": s.code, "address": s.address,
            "region_id": s.region_id, "region": s.region.name, "is_active": s.is_active}


def masked_name(t: FitnessTest) -> str:
    name = crypto.decrypt(t.name_encrypted) if t.name_encrypted else ""
    return (name[0] + "*" * (len(name) - 1)) if name else ""


def _test(t: FitnessTest) -> dict[str, Any]:
    return {"id": t.pk, "station_id": t.station_id, "station": t.station.name,
            "region_id": t.region_id, "tested_on": t.tested_on, "edition": t.edition,
            "sex": t.sex, "age": t.age, "age_group": t.age_group, "total": t.total,
            "grade": t.grade, "no_grade": t.no_grade, "is_demonstration": t.is_demonstration,
            "name": masked_name(t), "is_linked": t.user_id is not None}


def _items(t: FitnessTest) -> list[dict[str, Any]]:
    return [{"item": i.item, "label": str(scoring.ITEMS[i.item][0]),
             "unit": scoring.ITEMS[i.item][1], "value": float(i.value), "points": i.points}
            for i in t.items.all()]


@router.get("/console/fitness/stations", response=list[StationOut])
@scoped(Perm.FITNESS_MANAGE)
def list_stations(request: HttpRequest):
    """The test stations of the caller's subtree."""
    return [_station(s) for s in selectors.stations_for(access_for(request))[:500]]


@router.post("/console/fitness/stations", response={201: StationOut})
@scoped(Perm.FITNESS_MANAGE)
def create_station(request: HttpRequest, payload: StationIn):
    """Register a test station on a region of the caller's subtree."""
    station = services.create_station(access=access_for(request), region_id=payload.region_id,
                                      name=payload.name, code=payload.code,
                                      address=payload.address, request=request)
    return Status(201, _station(station))


@router.post("/console/fitness/import", response=ImportOut)
@scoped(Perm.FITNESS_MANAGE)
def import_file(request: HttpRequest, file: File[UploadedFile], station_id: Form[int],
                edition: Form[str] = Edition.E2003):
    """Import a station's spreadsheet (xlsx, or csv). Every row is checked first: with any bad
    row the answer lists them all (``ok: false``; row, column, code, reason) and nothing is
    loaded. The same file imported again changes nothing."""
    content = file.read(imports.MAX_BYTES + 1)
    try:
        report = imports.import_tests(access=access_for(request), station_id=station_id,
                                      edition=edition, content=content, request=request)
    except imports.FitnessFileError as exc:
        return {"ok": False, "rows": 0, "created": 0, "updated": 0, "unchanged": 0,
                "linked": 0, "problems": [problem(p) for p in exc.problems]}
    return {"ok": True, **report.as_dict(), "problems": []}


def problem(p: Any) -> dict[str, Any]:
    return {"row": p.row, "column": p.column, "code": getattr(p, "code", "invalid"),
            "reason": str(p.reason)}


@router.get("/console/fitness/tests", response=TestPageOut)
@scoped(Perm.FITNESS_MANAGE)
def list_tests(request: HttpRequest, query: Query[TestsQuery]):
    """Test records of the caller's subtree, newest test day first; follow ``next_cursor``."""
    qs = selectors.tests_for(access_for(request), station_id=query.station, grade=query.grade)
    rows, cursor = selectors.page_after(qs, cursor=query.cursor, limit=query.limit)
    return {"items": [_test(t) for t in rows], "next_cursor": cursor}


@router.get("/console/fitness/tests/{test_id}", response=TestDetailOut)
@scoped(Perm.FITNESS_MANAGE)
def test_detail(request: HttpRequest, test_id: int):
    """One record with its items; reading it is audited (personal data)."""
    access = access_for(request)
    t = selectors.record_in_scope(access, test_id)
    if t is None:
        raise NotFound()
    audit.record_view(actor=access.user, subject=t, what="fitness_test", request=request,
                      region=t.region)
    phone = crypto.decrypt(t.phone_encrypted) if t.phone_encrypted else ""
    return {**_test(t), "phone": crypto.mask_phone(phone) if phone else "", "items": _items(t)}


@router.get("/fitness/my-tests", response=list[MyTestOut])
@for_self
def my_tests(request: HttpRequest):
    """The caller's own test records, oldest first, with every item's value and points."""
    return [{"id": t.pk, "tested_on": t.tested_on, "station": t.station.name,
             "edition": t.edition, "age": t.age, "total": t.total, "grade": t.grade,
             "no_grade": t.no_grade, "is_demonstration": t.is_demonstration,
             "items": _items(t)} for t in selectors.my_tests(request.user)]
