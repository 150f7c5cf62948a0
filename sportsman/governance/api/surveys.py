"""Surveys API: the surveys open to me, one survey, answering it (for myself or for a resident
who authorised me); and the staff's builder, workflow, results and export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from sportsman.core import xlsx
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.governance import surveys
from sportsman.governance.models import Survey, SurveyQuestion, SurveyStatus
from sportsman.governance.surveys_export import export
from sportsman.regions.access import Perm, access_for, for_self, scoped

router = Router(tags=["surveys"])

ID = Field(..., ge=1, lt=2**63)


class QuestionIn(In):
    kind: str = Field(..., max_length=8)
    prompt: str = Field(..., max_length=200)
    is_required: bool = True
    choices: list[str] = Field(default_factory=list, max_length=surveys.MAX_CHOICES)
    rows: list[str] = Field(default_factory=list, max_length=surveys.MAX_MATRIX_ROWS)
    scale: int | None = Field(None, ge=0, le=100)
    min_value: float | None = Field(None, ge=-1e12, le=1e12)
    max_value: float | None = Field(None, ge=-1e12, le=1e12)

    def spec(self) -> surveys.QuestionSpec:
        return surveys.QuestionSpec(**self.model_dump())


class TargetIn(In):
    sex: str = Field("", pattern="^(|F|M)$")
    age_min: int | None = Field(None, ge=0, le=120)
    age_max: int | None = Field(None, ge=0, le=120)
    sports: list[str] = Field(default_factory=list, max_length=50)

    def targeting(self) -> surveys.Targeting:
        return surveys.Targeting(sex=self.sex, age_min=self.age_min, age_max=self.age_max,
                                 sports=self.sports)


class SurveyIn(In):
    region_id: int = ID
    title: str = Field(..., max_length=80)
    description: str = Field("", max_length=2000)
    is_anonymous: bool = False
    opens_at: dt.datetime
    closes_at: dt.datetime
    target: TargetIn | None = None
    questions: list[QuestionIn] = Field(default_factory=list, max_length=surveys.MAX_QUESTIONS)


class SurveyPatchIn(In):
    title: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=2000)
    is_anonymous: bool | None = None
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    target: TargetIn | None = None
    questions: list[QuestionIn] | None = Field(None, max_length=surveys.MAX_QUESTIONS)


class QuestionOut(Schema):
    id: int
    position: int
    kind: str
    prompt: str
    is_required: bool
    choices: list[str]
    rows: list[str]
    scale: int | None
    min_value: float | None
    max_value: float | None


class SurveyOut(Schema):
    id: int
    title: str
    region_id: int
    region_name: str
    is_anonymous: bool
    status: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    responses: int


class MySurveyOut(SurveyOut):
    answered: bool


class SurveyDetailOut(SurveyOut):
    description: str
    accepting: bool
    answered: bool
    questions: list[QuestionOut]


class StaffSurveyOut(SurveyDetailOut):
    target_sex: str
    target_age_min: int | None
    target_age_max: int | None
    target_sports: list[str]


class RespondIn(In):
    answers: dict[str, Any] = Field(..., max_length=surveys.MAX_QUESTIONS)
    for_user_id: int | None = Field(None, ge=1, lt=2**63)


class ResponseOut(Schema):
    survey_id: int
    user_id: int
    acted_by_id: int | None
    created_at: dt.datetime


class BarOut(Schema):
    label: str
    count: int
    share: float


class MatrixRowOut(Schema):
    row: str
    counts: list[int]


class QuestionResultOut(Schema):
    question_id: int
    kind: str
    prompt: str
    answered: int
    bars: list[BarOut]
    mean: float | None
    low: float | None
    high: float | None
    columns: list[str]
    matrix: list[MatrixRowOut]
    texts: list[str]


class ResultsOut(Schema):
    survey_id: int
    responses: int
    questions: list[QuestionResultOut]


class StaffQuery(Schema):
    status: SurveyStatus | None = None
    limit: int = Field(50, ge=1, le=200)


def _question(q: SurveyQuestion) -> QuestionOut:
    return QuestionOut(id=q.pk, position=q.position, kind=q.kind, prompt=q.prompt,
                       is_required=q.is_required, choices=q.choices, rows=q.rows, scale=q.scale,
                       min_value=q.min_value, max_value=q.max_value)


def _base(s: Survey) -> dict[str, Any]:
    return {"id": s.pk, "title": s.title, "region_id": s.region_id, "region_name": s.region.name,
            "is_anonymous": s.is_anonymous, "status": s.status, "opens_at": s.opens_at,
            "closes_at": s.closes_at, "responses": s.responses}


def _detail(s: Survey, answered: bool) -> dict[str, Any]:
    return {**_base(s), "description": s.description, "accepting": surveys.is_accepting(s),
            "answered": answered, "questions": [_question(q) for q in s.questions.all()]}


def _staff(s: Survey) -> StaffSurveyOut:
    return StaffSurveyOut(**_detail(s, False), target_sex=s.target_sex,
                          target_age_min=s.target_age_min, target_age_max=s.target_age_max,
                          target_sports=sorted(s.target_sports.values_list("slug", flat=True)))


# --- residents ----------------------------------------------------------------------------------


@router.get("/surveys", response=list[MySurveyOut])
@for_self
def open_to_me(request: HttpRequest):
    """The surveys I may answer now (each says whether I already did), soonest closing first."""
    return [MySurveyOut(**_base(s), answered=s.answered)  # type: ignore[attr-defined]
            for s in surveys.open_for(request.user)[:100]]


@router.get("/surveys/{survey_id}", response=SurveyDetailOut)
@for_self
def survey_detail(request: HttpRequest, survey_id: int):
    """A survey meant for me, with its questions."""
    s = surveys.visible_survey(request.user, survey_id)
    return SurveyDetailOut(**_detail(s, surveys.has_answered(request.user, s)))


@router.post("/surveys/{survey_id}/responses", response={201: ResponseOut})
@for_self
@idempotent
def respond(request: HttpRequest, survey_id: int, body: RespondIn):
    """Answer a survey once (``answers``: question id → choice index, list of indexes, text,
    rating, number, or ``{row index: column index}``); ``for_user_id``: a resident who
    authorised me to act for them."""
    made = surveys.respond(actor=request.user, survey_id=survey_id, answers=body.answers,
                           for_user_id=body.for_user_id)
    return Status(201, ResponseOut(survey_id=made.survey_id, user_id=made.user_id,
                                   acted_by_id=made.acted_by_id, created_at=made.created_at))


# --- staff --------------------------------------------------------------------------------------


@router.get("/console/surveys", response=list[SurveyOut])
@scoped(Perm.SURVEY_MANAGE)
def staff_list(request: HttpRequest, query: Query[StaffQuery]):
    """The surveys of my subtree, newest first."""
    qs = surveys.surveys_in_scope(access_for(request))
    if query.status:
        qs = qs.filter(status=query.status)
    return [SurveyOut(**_base(s)) for s in qs.order_by("-id")[:query.limit]]


@router.post("/console/surveys", response={201: StaffSurveyOut})
@scoped(Perm.SURVEY_MANAGE)
@idempotent
def create(request: HttpRequest, body: SurveyIn):
    """A draft survey of a region in my subtree, with its targeting and questions (audited)."""
    made = surveys.create_survey(
        actor=request.user, region_id=body.region_id, title=body.title,
        description=body.description, is_anonymous=body.is_anonymous, opens_at=body.opens_at,
        closes_at=body.closes_at,
        targeting=body.target.targeting() if body.target else surveys.EVERYONE,
        questions=[q.spec() for q in body.questions], request=request)
    return Status(201, _staff(surveys.staff_survey(request.user, made.pk)))


@router.get("/console/surveys/{survey_id}", response=StaffSurveyOut)
@scoped(Perm.SURVEY_MANAGE)
def staff_detail(request: HttpRequest, survey_id: int):
    return _staff(surveys.staff_survey(request.user, survey_id))


@router.patch("/console/surveys/{survey_id}", response=StaffSurveyOut)
@scoped(Perm.SURVEY_MANAGE)
def edit(request: HttpRequest, survey_id: int, body: SurveyPatchIn):
    """Change a draft (``questions`` replaces them all); an open survey's closing time only."""
    given = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {k: v for k, v in given.items()
                               if k not in ("target", "questions") and v is not None}
    if body.target is not None:
        changes["targeting"] = body.target.targeting()
    if body.questions is not None:
        changes["questions"] = [q.spec() for q in body.questions]
    surveys.update_survey(actor=request.user, survey_id=survey_id, request=request, **changes)
    return _staff(surveys.staff_survey(request.user, survey_id))


@router.post("/console/surveys/{survey_id}/open", response=StaffSurveyOut)
@scoped(Perm.SURVEY_MANAGE)
def open_survey(request: HttpRequest, survey_id: int):
    """Open a draft (its audience is told); audited."""
    surveys.transition_survey(actor=request.user, survey_id=survey_id, to=SurveyStatus.OPEN,
                              request=request)
    return _staff(surveys.staff_survey(request.user, survey_id))


@router.post("/console/surveys/{survey_id}/close", response=StaffSurveyOut)
@scoped(Perm.SURVEY_MANAGE)
def close_survey(request: HttpRequest, survey_id: int):
    surveys.transition_survey(actor=request.user, survey_id=survey_id, to=SurveyStatus.CLOSED,
                              request=request)
    return _staff(surveys.staff_survey(request.user, survey_id))


@router.get("/console/surveys/{survey_id}/results", response=ResultsOut)
@scoped(Perm.SURVEY_MANAGE)
def results(request: HttpRequest, survey_id: int):
    """Counts, shares, means, matrix tables and text answers (never who answered)."""
    r = surveys.results(surveys.staff_survey(request.user, survey_id))
    return ResultsOut(survey_id=r.survey.pk, responses=r.responses, questions=[
        QuestionResultOut(
            question_id=q.question.pk, kind=q.question.kind, prompt=q.question.prompt,
            answered=q.answered, bars=[BarOut(label=b.label, count=b.count, share=b.share)
                                       for b in q.bars],
            mean=q.mean, low=q.low, high=q.high,
            columns=q.question.choices if q.question.kind == "matrix" else [],
            matrix=[MatrixRowOut(row=row, counts=counts) for row, counts in q.matrix],
            texts=q.texts)
        for q in r.questions])


@router.get("/console/surveys/{survey_id}/export.xlsx")
@scoped(Perm.SURVEY_MANAGE)
def export_xlsx(request: HttpRequest, survey_id: int) -> HttpResponse:
    """One row per response, one column per question (audited)."""
    return xlsx.download(export(actor=request.user, survey_id=survey_id, request=request),
                         f"survey-{survey_id}")
