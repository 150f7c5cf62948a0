"""Evaluation API (等级评估): the console's seasons, rubric, eligibility, evaluators, final rating,
publication and rectification (``EVALUATION_MANAGE``); the evaluator's workspace
(``EVALUATION_SCORE``, assigned evaluations only); and the association managers' side (apply,
self-assess, service projects and progress records, answers to rectification requests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch
from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from sportsman.associations import evaluation as ev
from sportsman.associations.models import (
    Evaluation,
    EvaluationSeason,
    Indicator,
    Milestone,
    ProgressRecord,
    Rectification,
    ServiceProject,
)
from sportsman.core.errors import InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.regions.access import Perm, access_for, for_self, scoped

router = Router(tags=["association evaluation"])
ID = Field(..., ge=1, lt=2**63)


# --- schemas -----------------------------------------------------------------------------------

class IndicatorOut(Schema):
    id: int
    group: str
    code: str
    name: str
    max_points: int


class SeasonOut(Schema):
    id: int
    region_id: int
    region_name: str
    year: int
    title: str
    status: str
    applications_open_on: dt.date
    applications_close_on: dt.date
    rubric_locked: bool
    evaluations: int


class SeasonDetailOut(SeasonOut):
    indicators: list[IndicatorOut]


class EvaluationOut(Schema):
    id: int
    season_id: int
    association_id: int
    association_name: str
    region_name: str
    status: str
    self_total: int
    total: int | None
    grade: str
    valid_until: dt.date | None
    evaluator_ids: list[int]


class StepOut(Schema):
    step: str
    at: dt.datetime
    actor_id: int | None
    note: str
    data: dict[str, Any]


class PointsOut(Schema):
    indicator_id: int
    points: int
    note: str
    evidence_url: str = ""


class RecordOut(Schema):
    id: int
    milestone_id: int | None
    text: str
    created_at: dt.datetime
    files: list[dict[str, Any]]


class MilestoneOut(Schema):
    id: int
    title: str
    due_on: dt.date
    done_on: dt.date | None
    overdue: bool


class ProjectOut(Schema):
    id: int
    title: str
    description: str
    starts_on: dt.date
    ends_on: dt.date
    milestones: list[MilestoneOut]
    records: list[RecordOut]


class RectificationOut(Schema):
    id: int
    evaluation_id: int
    association_name: str
    request: str
    due_on: dt.date
    status: str
    overdue: bool
    answer: str


class EvaluationDetailOut(EvaluationOut):
    eligibility_note: str
    eligibility_problems: list[str]
    indicators: list[IndicatorOut]
    self_scores: list[PointsOut]
    scores: list[PointsOut]
    projects: list[ProjectOut]
    rectifications: list[RectificationOut]
    timeline: list[StepOut]


class SeasonIn(In):
    region_id: int = ID
    year: int = Field(..., ge=2000, le=2100)
    title: str = Field(..., min_length=1, max_length=80)
    applications_open_on: dt.date
    applications_close_on: dt.date


class IndicatorIn(In):
    group: str = Field(..., max_length=12)
    code: str = Field(..., min_length=1, max_length=12)
    name: str = Field(..., min_length=1, max_length=120)
    max_points: int = Field(..., ge=1, le=1000)


class RubricIn(In):
    indicators: list[IndicatorIn] = Field(..., max_length=100)


class EligibilityIn(In):
    approve: bool
    note: str = Field("", max_length=300)


class AssignIn(In):
    evaluator_id: int = ID


class NoteIn(In):
    note: str = Field("", max_length=300)


class RectifyIn(In):
    text: str = Field(..., min_length=1, max_length=2000)
    due_on: dt.date


class StartIn(In):
    season_id: int = ID


class PointsIn(In):
    indicator_id: int = ID
    points: int = Field(..., ge=0, le=1000)
    note: str = Field("", max_length=500)


class SelfAssessIn(In):
    scores: list[PointsIn] = Field(..., max_length=100)


class MilestoneIn(In):
    title: str = Field(..., min_length=1, max_length=80)
    due_on: dt.date


class ProjectIn(In):
    title: str = Field(..., min_length=1, max_length=80)
    description: str = Field("", max_length=2000)
    starts_on: dt.date
    ends_on: dt.date
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=20)


class AnswerIn(In):
    text: str = Field(..., min_length=1, max_length=2000)


class RecheckIn(In):
    accept: bool
    scores: list[PointsIn] = Field(default_factory=list, max_length=100)
    note: str = Field("", max_length=300)


class SeasonQuery(Schema):
    season: int | None = Field(None, ge=1, lt=2**63)
    status: str | None = Field(None, max_length=12)


# --- answers -------------------------------------------------------------------------------------

def _rubric_locked(s: EvaluationSeason) -> bool:
    return s.scoring_started_at is not None or s.status == "closed"


def season_out(s: EvaluationSeason, count: int | None = None) -> dict[str, Any]:
    return {"id": s.pk, "region_id": s.region_id, "region_name": s.region.name, "year": s.year,
            "title": s.title, "status": s.status,
            "applications_open_on": s.applications_open_on,
            "applications_close_on": s.applications_close_on,
            "rubric_locked": _rubric_locked(s),
            "evaluations": count if count is not None else getattr(s, "n_evaluations", 0)}


def indicator_out(i: Indicator) -> dict[str, Any]:
    return {"id": i.pk, "group": i.group, "code": i.code, "name": i.name,
            "max_points": i.max_points}


def season_detail(s: EvaluationSeason) -> dict[str, Any]:
    return {**season_out(s, s.evaluations.count()),
            "indicators": [indicator_out(i) for i in ev.rubric_of(s)]}


def evaluation_out(e: Evaluation) -> dict[str, Any]:
    return {"id": e.pk, "season_id": e.season_id, "association_id": e.association_id,
            "association_name": e.association.name, "region_name": e.association.region.name,
            "status": e.status, "self_total": e.self_total, "total": e.total, "grade": e.grade,
            "valid_until": e.valid_until,
            "evaluator_ids": sorted(a.evaluator_id for a in e.assignments.all())}


def rectification_out(r: Rectification) -> dict[str, Any]:
    return {"id": r.pk, "evaluation_id": r.evaluation_id,
            "association_name": r.evaluation.association.name, "request": r.request,
            "due_on": r.due_on, "status": r.status, "overdue": ev.is_overdue(r),
            "answer": r.answer}


def _record_out(r: ProgressRecord) -> dict[str, Any]:
    return {"id": r.pk, "milestone_id": r.milestone_id, "text": r.text,
            "created_at": r.created_at,
            "files": [{"id": f.pk, "name": f.name, "is_photo": f.is_photo, "url": f.file.url}
                      for f in r.files.all()]}


def _milestone_out(m: Milestone, today: dt.date) -> dict[str, Any]:
    return {"id": m.pk, "title": m.title, "due_on": m.due_on, "done_on": m.done_on,
            "overdue": m.done_on is None and m.due_on < today}


def project_out(p: ServiceProject, today: dt.date) -> dict[str, Any]:
    return {"id": p.pk, "title": p.title, "description": p.description,
            "starts_on": p.starts_on, "ends_on": p.ends_on,
            "milestones": [_milestone_out(m, today) for m in p.milestones.all()],
            "records": [_record_out(r) for r in p.records.all()]}


def evaluation_detail(e: Evaluation) -> dict[str, Any]:
    from django.utils import timezone

    today = timezone.localdate()
    return {
        **evaluation_out(e), "eligibility_note": e.eligibility_note,
        "eligibility_problems": ev.eligibility_problems(e.association, e.season),
        "indicators": [indicator_out(i) for i in ev.rubric_of(e.season)],
        "self_scores": [{"indicator_id": s.indicator_id, "points": s.points, "note": s.note}
                        for s in e.self_scores.order_by("indicator_id")],
        "scores": [{"indicator_id": s.indicator_id, "points": s.points, "note": s.note,
                    "evidence_url": s.evidence.url if s.evidence else ""}
                   for s in e.scores.order_by("indicator_id")],
        "projects": [project_out(p, today) for p in ev.projects_of(e)],
        "rectifications": [rectification_out(r)
                           for r in e.rectifications.select_related("evaluation__association")
                           .order_by("id")],
        "timeline": [{"step": s.step, "at": s.at, "actor_id": s.actor_id, "note": s.note,
                      "data": s.data} for s in ev.timeline(e)]}


def _listed(qs):
    return (qs.select_related("association__region", "season")
            .prefetch_related("assignments").order_by("association__name", "id"))


def _points(rows: list[PointsIn]) -> list[ev.Points]:
    return [ev.Points(r.indicator_id, r.points, r.note) for r in rows]


def _upload(f: UploadedFile | None) -> ev.Upload | None:
    if f is None:
        return None
    return ev.Upload(f.name or "", f.read(max(PHOTO_MAX_BYTES, ev.FILE_MAX_BYTES) + 1))


# --- console (staff) -----------------------------------------------------------------------------

@router.get("/console/evaluation-seasons", response=list[SeasonOut])
@scoped(Perm.EVALUATION_MANAGE)
def seasons(request: HttpRequest):
    """Seasons of the regions in my scope, newest first."""
    rows = (ev.seasons_in_scope(access_for(request)).annotate(n_evaluations=Count("evaluations"))
            .order_by("-year", "region__code")[:200])
    return [season_out(s) for s in rows]


@router.post("/console/evaluation-seasons", response={201: SeasonDetailOut})
@scoped(Perm.EVALUATION_MANAGE)
@idempotent
def open_season(request: HttpRequest, data: SeasonIn):
    """Open a season (its rubric copied from the region's previous season, else the default).
    Refusals: ``evaluation_season_exists``, ``bad_window``."""
    made = ev.open_season(actor=access_for(request), request=request, **data.model_dump())
    return Status(201, season_detail(made))


@router.get("/console/evaluation-seasons/{season_id}", response=SeasonDetailOut)
@scoped(Perm.EVALUATION_MANAGE)
def season(request: HttpRequest, season_id: int):
    return season_detail(ev.get_season(access_for(request), season_id))


@router.put("/console/evaluation-seasons/{season_id}/rubric", response=SeasonDetailOut)
@scoped(Perm.EVALUATION_MANAGE)
def set_rubric(request: HttpRequest, season_id: int, data: RubricIn):
    """Replace the rubric: indicators in all four groups, the maxima adding up to 1,000.
    Refusals: ``rubric_total``, ``rubric_groups``, ``rubric_codes``, ``rubric_locked``."""
    ev.set_rubric(actor=access_for(request), season_id=season_id, request=request,
                  indicators=[ev.IndicatorSpec(i.group, i.code, i.name, i.max_points)
                              for i in data.indicators])
    return season_detail(ev.get_season(access_for(request), season_id))


@router.post("/console/evaluation-seasons/{season_id}/close", response=SeasonOut)
@scoped(Perm.EVALUATION_MANAGE)
def close_season(request: HttpRequest, season_id: int):
    made = ev.close_season(actor=access_for(request), season_id=season_id, request=request)
    return season_out(made, made.evaluations.count())


@router.get("/console/evaluations", response=list[EvaluationOut])
@scoped(Perm.EVALUATION_MANAGE)
def evaluations(request: HttpRequest, query: Query[SeasonQuery]):
    """Evaluations of associations in my scope (of one season, of one status)."""
    qs = ev.evaluations_in_scope(access_for(request))
    if query.season is not None:
        qs = qs.filter(season_id=query.season)
    if query.status:
        qs = qs.filter(status=query.status)
    return [evaluation_out(e) for e in _listed(qs)[:500]]


@router.get("/console/evaluations/{evaluation_id}", response=EvaluationDetailOut)
@scoped(Perm.EVALUATION_MANAGE)
def evaluation(request: HttpRequest, evaluation_id: int):
    """The whole process: self-assessment, scores, projects and records, rectifications, and
    the timeline."""
    return evaluation_detail(ev.get_managed(access_for(request), evaluation_id))


@router.post("/console/evaluations/{evaluation_id}/eligibility", response=EvaluationOut)
@scoped(Perm.EVALUATION_MANAGE)
@idempotent
def check_eligibility(request: HttpRequest, evaluation_id: int, data: EligibilityIn):
    made = ev.check_eligibility(actor=access_for(request), evaluation_id=evaluation_id,
                                approve=data.approve, note=data.note, request=request)
    return evaluation_out(made)


@router.post("/console/evaluations/{evaluation_id}/evaluators", response={201: EvaluationOut})
@scoped(Perm.EVALUATION_MANAGE)
@idempotent
def assign(request: HttpRequest, evaluation_id: int, data: AssignIn):
    """Assign an evaluator (a user holding the evaluator role over the association's region).
    Refusals: ``not_an_evaluator``, ``evaluator_already_assigned``."""
    ev.assign(actor=access_for(request), evaluation_id=evaluation_id,
              evaluator_id=data.evaluator_id, request=request)
    return Status(201, evaluation_out(ev.get_managed(access_for(request), evaluation_id)))


@router.post("/console/evaluations/{evaluation_id}/return", response=EvaluationOut)
@scoped(Perm.EVALUATION_MANAGE)
@idempotent
def return_to_evaluators(request: HttpRequest, evaluation_id: int, data: NoteIn):
    return evaluation_out(ev.return_to_evaluators(actor=access_for(request),
                                                  evaluation_id=evaluation_id, note=data.note,
                                                  request=request))


@router.post("/console/evaluations/{evaluation_id}/finalise", response=EvaluationOut)
@scoped(Perm.EVALUATION_MANAGE)
@idempotent
def finalise(request: HttpRequest, evaluation_id: int, data: NoteIn):
    """终评. Of two at once, one wins; the other: ``evaluation_bad_transition``."""
    return evaluation_out(ev.finalise(actor=access_for(request), evaluation_id=evaluation_id,
                                      note=data.note, request=request))


@router.post("/console/evaluations/{evaluation_id}/publish", response=EvaluationOut)
@scoped(Perm.EVALUATION_MANAGE)
@idempotent
def publish(request: HttpRequest, evaluation_id: int):
    """公示: sets the association's grade, valid five years; tells it and its supervisor."""
    return evaluation_out(ev.publish(actor=access_for(request), evaluation_id=evaluation_id,
                                     request=request))


@router.post("/console/evaluations/{evaluation_id}/rectifications",
             response={201: RectificationOut})
@scoped(Perm.EVALUATION_MANAGE)
@idempotent
def request_rectification(request: HttpRequest, evaluation_id: int, data: RectifyIn):
    made = ev.request_rectification(actor=access_for(request), evaluation_id=evaluation_id,
                                    text=data.text, due_on=data.due_on, request=request)
    return Status(201, rectification_out(made))


@router.get("/console/rectifications", response=list[RectificationOut])
@scoped(Perm.EVALUATION_MANAGE)
def rectifications(request: HttpRequest, overdue: bool = False):
    """Rectification requests in my scope (``overdue``: open past their deadline only)."""
    qs = ev.rectifications_in_scope(access_for(request))
    if overdue:
        qs = ev.overdue(qs)
    return [rectification_out(r) for r in qs.order_by("due_on", "id")[:500]]


# --- the evaluator's workspace -------------------------------------------------------------------

@router.get("/evaluator/evaluations", response=list[EvaluationOut])
@scoped(Perm.EVALUATION_SCORE)
def assigned(request: HttpRequest):
    """The evaluations assigned to me (inside my grant's subtree)."""
    return [evaluation_out(e) for e in _listed(ev.assigned_to(access_for(request)))[:500]]


@router.get("/evaluator/evaluations/{evaluation_id}", response=EvaluationDetailOut)
@scoped(Perm.EVALUATION_SCORE)
def assigned_detail(request: HttpRequest, evaluation_id: int):
    """The whole process of an assigned evaluation (``evaluator_not_assigned`` otherwise)."""
    return evaluation_detail(ev.get_assigned(access_for(request), evaluation_id))


@router.post("/evaluator/evaluations/{evaluation_id}/scores", response=PointsOut)
@scoped(Perm.EVALUATION_SCORE)
@idempotent
def score(request: HttpRequest, evaluation_id: int, indicator_id: Form[int],
          points: Form[int], note: Form[str] = "",
          evidence: File[UploadedFile] = None):  # type: ignore[assignment]
    """Score one indicator (0..its max) with a note and optionally a photo or PDF as evidence.
    Refusals: ``points_out_of_range``, ``unknown_indicator``, ``evaluation_bad_transition``,
    ``photo_invalid``, ``file_type``, ``file_too_large``."""
    if not 0 <= points <= 1000:
        raise InvalidInput(code="points_out_of_range", fields={"points": ["0..1000"]})
    made = ev.score(actor=access_for(request), evaluation_id=evaluation_id,
                    indicator_id=indicator_id, points=points, note=note[:500],
                    evidence=_upload(evidence), request=request)
    return {"indicator_id": made.indicator_id, "points": made.points, "note": made.note,
            "evidence_url": made.evidence.url if made.evidence else ""}


@router.post("/evaluator/evaluations/{evaluation_id}/submit", response=EvaluationOut)
@scoped(Perm.EVALUATION_SCORE)
@idempotent
def submit(request: HttpRequest, evaluation_id: int):
    """初评: hand in the complete score sheet (``evaluation_incomplete`` otherwise)."""
    ev.submit(actor=access_for(request), evaluation_id=evaluation_id, request=request)
    return evaluation_out(ev.get_assigned(access_for(request), evaluation_id))


@router.post("/evaluator/rectifications/{rectification_id}/recheck",
             response=RectificationOut)
@scoped(Perm.EVALUATION_SCORE)
@idempotent
def recheck(request: HttpRequest, rectification_id: int, data: RecheckIn):
    """Re-check an answered rectification: accept (optionally re-scoring indicators) or send
    it back."""
    made = ev.recheck(actor=access_for(request), rectification_id=rectification_id,
                      accept=data.accept, scores=_points(data.scores), note=data.note,
                      request=request)
    return rectification_out(Rectification.objects.select_related(
        "evaluation__association").get(pk=made.pk))


# --- the association's managers ------------------------------------------------------------------

@router.get("/associations/{association_id}/evaluation-seasons", response=list[SeasonOut])
@for_self
def open_seasons(request: HttpRequest, association_id: int):
    """Seasons my association may enter now (``not_association_manager`` otherwise)."""
    found = ev._managed_association(request.user, association_id)
    return [season_out(s, 0) for s in ev.open_seasons_for(found)]


@router.get("/associations/{association_id}/evaluations", response=list[EvaluationOut])
@for_self
def my_evaluations(request: HttpRequest, association_id: int):
    found = ev._managed_association(request.user, association_id)
    return [evaluation_out(e) for e in _listed(Evaluation.objects.filter(association=found))]


@router.post("/associations/{association_id}/evaluations", response={201: EvaluationOut})
@for_self
@idempotent
def start(request: HttpRequest, association_id: int, data: StartIn):
    """Enter a season (a draft to self-assess). Refusals: ``association_not_eligible`` (the
    reasons in ``fields.association``), ``evaluation_season_closed``,
    ``evaluation_already_applied``."""
    made = ev.start(actor=request.user, association_id=association_id,
                    season_id=data.season_id, request=request)
    return Status(201, evaluation_out(made))


@router.get("/evaluations/{evaluation_id}", response=EvaluationDetailOut)
@for_self
def my_evaluation(request: HttpRequest, evaluation_id: int):
    return evaluation_detail(ev.get_own(request.user, evaluation_id))


@router.put("/evaluations/{evaluation_id}/self-assessment", response=EvaluationOut)
@for_self
def self_assess(request: HttpRequest, evaluation_id: int, data: SelfAssessIn):
    return evaluation_out(ev.self_assess(actor=request.user, evaluation_id=evaluation_id,
                                         scores=_points(data.scores), request=request))


@router.post("/evaluations/{evaluation_id}/apply", response=EvaluationOut)
@for_self
@idempotent
def apply(request: HttpRequest, evaluation_id: int):
    """申报: every indicator self-assessed (``evaluation_incomplete``), within the window."""
    return evaluation_out(ev.apply(actor=request.user, evaluation_id=evaluation_id,
                                   request=request))


@router.post("/evaluations/{evaluation_id}/withdraw", response=EvaluationOut)
@for_self
@idempotent
def withdraw(request: HttpRequest, evaluation_id: int):
    return evaluation_out(ev.withdraw(actor=request.user, evaluation_id=evaluation_id,
                                      request=request))


@router.post("/evaluations/{evaluation_id}/projects", response={201: ProjectOut})
@for_self
@idempotent
def add_project(request: HttpRequest, evaluation_id: int, data: ProjectIn):
    made = ev.add_project(actor=request.user, evaluation_id=evaluation_id, title=data.title,
                          description=data.description, starts_on=data.starts_on,
                          ends_on=data.ends_on, request=request,
                          milestones=[ev.MilestoneSpec(m.title, m.due_on)
                                      for m in data.milestones])
    from django.utils import timezone

    return Status(201, project_out(ServiceProject.objects.prefetch_related(
        Prefetch("milestones"), "records__files").get(pk=made.pk), timezone.localdate()))


@router.post("/service-projects/{project_id}/records", response={201: RecordOut})
@for_self
@idempotent
def add_record(request: HttpRequest, project_id: int, text: Form[str],
               milestone_id: Form[int | None] = None, milestone_done: Form[bool] = False,
               files: File[list[UploadedFile]] = None):  # type: ignore[assignment]
    """A progress record: text and up to nine photos (re-encoded, EXIF dropped) or PDFs."""
    uploads = [u for u in (_upload(f) for f in files or []) if u is not None]
    made = ev.add_record(actor=request.user, project_id=project_id, text=text,
                         milestone_id=milestone_id, milestone_done=milestone_done,
                         files=uploads, request=request)
    return Status(201, _record_out(ProgressRecord.objects.prefetch_related("files")
                                   .get(pk=made.pk)))


@router.post("/rectifications/{rectification_id}/answer", response=RectificationOut)
@for_self
@idempotent
def answer(request: HttpRequest, rectification_id: int, data: AnswerIn):
    made = ev.answer_rectification(actor=request.user, rectification_id=rectification_id,
                                   text=data.text, request=request)
    return rectification_out(made)
