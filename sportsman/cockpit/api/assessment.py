"""The composite sports index and the periodic assessments (考核). Regions are named by their
statistical code; see docs/cockpit.md, "Assessments".

- ``GET /cockpit/{region_code}/index?period=``: the region's index (0–100) with each
  indicator's part, and its children's indices ranked (``Perm.COCKPIT_VIEW`` over the region).
- ``GET|PUT /cockpit/{city_code}/index-config``: the city's index configuration; a PUT saves the
  next version (``Perm.INDEX_CONFIG``: city staff).
- ``GET /cockpit/{region_code}/assessments?scope=made|received``: the assessments the region
  made (``Perm.ASSESS`` over it: drafts too), or the published ones that score it (its cockpit).
- ``POST /cockpit/{region_code}/assessments``: open the draft for a period (409
  ``assessment_exists`` if there is one).
- ``GET /cockpit/assessments/{id}``: the score sheet. A draft is seen by the assessing level only;
  a published one also by the administrators of the subunits it scores.
- ``PUT …/items`` (manual items), ``PUT …/scores`` (manual scores, all or nothing),
  ``POST …/recompute``, ``POST …/publish`` (409 ``assessment_state`` once published),
  ``POST …/revise`` (a correction: the next revision as a draft).

Every write takes an ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.cockpit import assessment as svc
from sportsman.cockpit import index, periods
from sportsman.cockpit.api.summary import PeriodQuery
from sportsman.cockpit.models.assessment import Assessment, IndexConfig
from sportsman.cockpit.selectors import region_for
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.regions.access import Perm, access_for, scoped
from sportsman.regions.models import Region

router = Router(tags=["cockpit"])


# --- schemas -----------------------------------------------------------------------------------

class RegionRef(Schema):
    code: str
    name: str
    level: str


class PartOut(Schema):
    figure: str
    label: str
    unit: str
    weight: float
    value: float | None
    share: float | None = Field(..., description="0–1; None: no value")
    points: float | None = Field(..., description="part of the 0–100 index; None: left out")


class IndexLineOut(Schema):
    region: RegionRef
    index: float | None
    rank: int | None
    parts: list[PartOut]


class IndexOut(Schema):
    region: RegionRef
    period: str
    as_of: dt.date | None
    config_version: int | None = Field(..., description="None: the city has no configuration")
    index: float | None
    rank: int | None = Field(..., description="among the compared units")
    parts: list[PartOut]
    children: list[IndexLineOut]


class IndicatorIn(In):
    figure: str = Field(..., max_length=64, description="a key from `available`")
    weight: Decimal = Field(..., description="above 0; the weights are scaled to a sum of 100")
    direction: Literal["higher", "lower"] = "higher"
    normalisation: Literal["minmax", "target"] = "minmax"
    target: Decimal | None = Field(None, description="required with normalisation=target")


class IndexConfigIn(In):
    indicators: list[IndicatorIn] = Field(..., max_length=index.MAX_INDICATORS + 1)
    note: str = Field("", max_length=index.NOTE_MAX)


class IndicatorOut(Schema):
    figure: str
    label: str
    unit: str
    weight: float
    direction: str
    normalisation: str
    target: float | None


class ChoiceOut(Schema):
    key: str
    label: str
    unit: str


class IndexConfigOut(Schema):
    city: RegionRef
    version: int | None = Field(..., description="None: never configured")
    note: str
    created_at: dt.datetime | None
    indicators: list[IndicatorOut]
    available: list[ChoiceOut]


class ManualItemIn(In):
    name: str = Field(..., max_length=svc.NAME_MAX)
    max_score: Decimal


class AssessmentIn(In):
    period: str = Field(..., max_length=16, description="2026, 2026-Q3 or 2026-11")
    manual_items: list[ManualItemIn] | None = Field(
        None, max_length=svc.MAX_MANUAL_ITEMS + 1,
        description="default: those of the region's previous assessment of the same kind")


class ItemsIn(In):
    manual_items: list[ManualItemIn] = Field(..., max_length=svc.MAX_MANUAL_ITEMS + 1)


class ScoreIn(In):
    region: str = Field(..., max_length=12, description="the subunit's code")
    item: int = Field(..., description="a manual item's id")
    points: Decimal | None = Field(..., description="0 to the item's maximum; null clears")
    note: str = Field("", max_length=svc.NOTE_MAX)


class ScoresIn(In):
    scores: list[ScoreIn] = Field(..., min_length=1, max_length=5000)


class ReviseIn(In):
    reason: str = Field(..., max_length=svc.REASON_MAX)


class AssessmentsQuery(Schema):
    scope: Literal["made", "received"] = "made"
    grain: Literal["year", "quarter", "month"] | None = None
    status: Literal["draft", "published", "superseded"] | None = None
    limit: int = Field(50, ge=1, le=200)


class ItemOut(Schema):
    id: int
    kind: str
    label: str
    name: str
    figure: str
    weight: float | None
    direction: str
    normalisation: str
    target: float | None
    max_score: float
    no_data: bool = Field(..., description="a data item no subunit has a figure for")


class CellOut(Schema):
    item: int
    value: float | None
    points: float | None
    note: str


class EntryOut(Schema):
    region: RegionRef
    total: float
    rank: int | None
    cells: list[CellOut]


class AssessmentSummaryOut(Schema):
    id: int
    region: RegionRef
    grain: str
    period: str
    period_label: str
    revision: int
    status: str
    published_at: dt.datetime | None
    figures_as_of: dt.date | None


class AssessmentOut(AssessmentSummaryOut):
    index_version: int | None
    reason: str
    supersedes: int | None
    computed_at: dt.datetime | None
    created_at: dt.datetime
    max_total: float
    missing: int = Field(..., description="manual scores not entered yet")
    can_manage: bool
    items: list[ItemOut]
    entries: list[EntryOut]


class AssessmentList(Schema):
    items: list[AssessmentSummaryOut]


# --- shaping -----------------------------------------------------------------------------------

def _region(r: Region) -> dict[str, str]:
    return {"code": r.code, "name": r.name, "level": r.level}


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _parts(line: index.IndexLine | None) -> list[dict[str, Any]]:
    if line is None:
        return []
    return [{"figure": p.figure, "label": p.label, "unit": p.unit, "weight": float(p.weight),
             "value": p.value, "share": p.share, "points": p.points} for p in line.parts]


def _summary(a: Assessment) -> dict[str, Any]:
    return {"id": a.pk, "region": _region(a.region), "grain": a.grain, "period": a.period,
            "period_label": svc.period_of(a).label(), "revision": a.revision,
            "status": a.status, "published_at": a.published_at,
            "figures_as_of": a.figures_as_of}


def _detail(request: HttpRequest, a: Assessment) -> dict[str, Any]:
    sheet = svc.score_sheet(a)
    return {
        **_summary(a), "index_version": a.index_version, "reason": a.reason,
        "supersedes": a.supersedes_id, "computed_at": a.computed_at, "created_at": a.created_at,
        "max_total": float(sheet.max_total), "missing": sheet.missing,
        "can_manage": svc.can_manage(access_for(request), a),
        "items": [{"id": i.pk, "kind": i.kind, "label": i.label,  # type: ignore[attr-defined]
                   "name": i.name, "figure": i.figure, "weight": _num(i.weight),
                   "direction": i.direction, "normalisation": i.normalisation,
                   "target": _num(i.target), "max_score": float(i.max_score),
                   "no_data": i.pk in sheet.no_data} for i in sheet.items],
        "entries": [{"region": _region(row.entry.region), "total": float(row.entry.total),
                     "rank": row.entry.rank,
                     "cells": [{"item": i.pk, "value": c.value, "points": _num(c.points),
                                "note": c.note} for i, c in zip(sheet.items, row.cells,
                                                                strict=True)]}
                    for row in sheet.rows],
    }


def _fresh(request: HttpRequest, assessment_id: int) -> dict[str, Any]:
    return _detail(request, svc.get_assessment(access_for(request), assessment_id))


def _config_out(city: Region, config: IndexConfig | None) -> dict[str, Any]:
    known = index.catalogue()
    return {
        "city": _region(city), "version": config.version if config else None,
        "note": config.note if config else "", "created_at": config.created_at if config else None,
        "indicators": [{"figure": i.figure, "label": index.label_of(i.figure),
                        "unit": known[i.figure].unit if i.figure in known else "",
                        "weight": float(i.weight), "direction": i.direction,
                        "normalisation": i.normalisation, "target": _num(i.target)}
                       for i in (config.indicators.all() if config else [])],
        "available": [{"key": k, "label": v.label, "unit": v.unit} for k, v in known.items()],
    }


def _manual(items: list[ManualItemIn] | None) -> list[svc.ManualItem] | None:
    if items is None:
        return None
    return [svc.ManualItem(i.name, i.max_score) for i in items]


# --- the index ---------------------------------------------------------------------------------

@router.get("/cockpit/{region_code}/index", response=IndexOut)
@scoped(Perm.COCKPIT_VIEW)
def region_index(request: HttpRequest, region_code: str, query: Query[PeriodQuery]):
    """The region's composite sports index for the period (default: this month)."""
    region = region_for(access_for(request), region_code)
    p = periods.parse(query.period)
    panel = index.panel(region, p)
    return {"region": _region(region), "period": p.key, "as_of": panel.as_of,
            "config_version": panel.config.version if panel.config else None,
            "index": panel.line.index if panel.line else None,
            "rank": panel.line.rank if panel.line else None, "parts": _parts(panel.line),
            "children": [{"region": _region(c.region), "index": c.index, "rank": c.rank,
                          "parts": _parts(c)} for c in panel.children]}


@router.get("/cockpit/{region_code}/index-config", response=IndexConfigOut)
@scoped(Perm.INDEX_CONFIG)
def get_index_config(request: HttpRequest, region_code: str):
    """The city's current index configuration and the figures an indicator may use."""
    city = region_for(access_for(request), region_code, Perm.INDEX_CONFIG)
    return _config_out(city, index.current_config(city))


@router.put("/cockpit/{region_code}/index-config", response=IndexConfigOut)
@scoped(Perm.INDEX_CONFIG)
@idempotent
def put_index_config(request: HttpRequest, region_code: str, data: IndexConfigIn):
    """Save the next version of the city's index configuration."""
    access = access_for(request)
    city = region_for(access, region_code, Perm.INDEX_CONFIG)
    index.save_config(actor=access, city=city, note=data.note, request=request, indicators=[
        index.IndicatorInput(i.figure, i.weight, i.direction, i.normalisation, i.target)
        for i in data.indicators])
    return _config_out(city, index.current_config(city))


# --- assessments -------------------------------------------------------------------------------

@router.get("/cockpit/{region_code}/assessments", response=AssessmentList)
@scoped(Perm.COCKPIT_VIEW)
def list_assessments(request: HttpRequest, region_code: str, query: Query[AssessmentsQuery]):
    """The assessments the region made (``scope=made``: you assess there; drafts included) or
    the published ones that score it (``scope=received``: you see its cockpit)."""
    access = access_for(request)
    if query.scope == "made":
        region = region_for(access, region_code, Perm.ASSESS)
        qs = svc.assessments_by(region, grain=query.grain, status=query.status)
    else:
        region = region_for(access, region_code)
        qs = svc.assessments_of(region)
        if query.grain:
            qs = qs.filter(grain=query.grain)
    return {"items": [_summary(a) for a in qs[:query.limit]]}


@router.post("/cockpit/{region_code}/assessments", response={201: AssessmentOut})
@scoped(Perm.ASSESS)
@idempotent
def create_assessment(request: HttpRequest, region_code: str, data: AssessmentIn):
    """Open the draft assessment of the region's subunits for a period."""
    access = access_for(request)
    region = region_for(access, region_code, Perm.ASSESS)
    a = svc.create_assessment(actor=access, region=region, period=periods.parse(data.period),
                              manual_items=_manual(data.manual_items), request=request)
    return Status(201, _fresh(request, a.pk))


@router.get("/cockpit/assessments/{assessment_id}", response=AssessmentOut)
@scoped(Perm.COCKPIT_VIEW)
def assessment_detail(request: HttpRequest, assessment_id: int):
    """The score sheet: items, and per subunit its cells, total and rank."""
    return _fresh(request, assessment_id)


@router.put("/cockpit/assessments/{assessment_id}/items", response=AssessmentOut)
@scoped(Perm.ASSESS)
@idempotent
def put_manual_items(request: HttpRequest, assessment_id: int, data: ItemsIn):
    """Replace a draft's manual items (kept by name with their scores)."""
    svc.set_manual_items(actor=access_for(request), assessment_id=assessment_id,
                         items=_manual(data.manual_items) or [], request=request)
    return _fresh(request, assessment_id)


@router.put("/cockpit/assessments/{assessment_id}/scores", response=AssessmentOut)
@scoped(Perm.ASSESS)
@idempotent
def put_scores(request: HttpRequest, assessment_id: int, data: ScoresIn):
    """Enter manual scores on a draft: all of them or none."""
    access = access_for(request)
    a = svc.get_assessment(access, assessment_id)
    codes = dict(a.entries.values_list("region__code", "region_id"))
    svc.enter_scores(actor=access, assessment_id=assessment_id, request=request, scores=[
        svc.ScoreInput(codes.get(s.region, 0), s.item, s.points, s.note) for s in data.scores])
    return _fresh(request, assessment_id)


@router.post("/cockpit/assessments/{assessment_id}/recompute", response=AssessmentOut)
@scoped(Perm.ASSESS)
@idempotent
def recompute(request: HttpRequest, assessment_id: int):
    """Recompute a draft's data items from the figures as they are now."""
    svc.recompute(actor=access_for(request), assessment_id=assessment_id, request=request)
    return _fresh(request, assessment_id)


@router.post("/cockpit/assessments/{assessment_id}/publish", response=AssessmentOut)
@scoped(Perm.ASSESS)
@idempotent
def publish(request: HttpRequest, assessment_id: int):
    """Publish a draft: its scores are frozen and the subunits are told."""
    svc.publish(actor=access_for(request), assessment_id=assessment_id, request=request)
    return _fresh(request, assessment_id)


@router.post("/cockpit/assessments/{assessment_id}/revise", response={201: AssessmentOut})
@scoped(Perm.ASSESS)
@idempotent
def revise(request: HttpRequest, assessment_id: int, data: ReviseIn):
    """Open a correction of a published assessment (the next revision, as a draft)."""
    new = svc.revise(actor=access_for(request), assessment_id=assessment_id,
                     reason=data.reason, request=request)
    return Status(201, _fresh(request, new.pk))
