"""等级评估: every state change of the evaluation of sports associations (DOMAIN.md §5).

Who may do what:

- staff holding ``EVALUATION_MANAGE`` over a region (city and district staff) open a season for
  it, edit its rubric until the first score, check eligibility, assign evaluators, return a first
  rating to the evaluators, finalise (终评), publish (公示) and request rectifications (整改);
- a third-party evaluator (``EVALUATION_SCORE``, role ``evaluator``) acts only on evaluations of
  associations inside their grant's subtree AND assigned to them: reads the whole process, scores
  indicators with evidence, submits the first rating, re-checks rectifications;
- an association's managers (``selectors.manages``) apply and self-assess, run service projects
  with milestones and progress records, and answer rectification requests.

The evaluation's status moves through ``FLOW`` (action → from-status → to-status) by one
conditional UPDATE on the status (``core.db.transition``): of two staff finalising or publishing
at once exactly one wins, the other gets ``evaluation_bad_transition`` and changes nothing.
Every step appends an ``EvaluationStep`` (the timeline) and an audit entry in the same
transaction; notifications go out after commit.

Eligibility (资格审查) reads what the registry and the one window hold: a registered (已登记),
active association, registered at least two full years before the season's applications open
(``founded_on``), in the season's region, and by its 年检 (DOMAIN.md §5) of the two years
before the season's: no 不合格, not 基本合格 both years, and no report missing where the platform
ran that year's inspection season (past its due date) — years before the platform have no record
and are not held against anyone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.associations.models import (
    RUBRIC_TOTAL,
    Association,
    AssociationStatus,
    Evaluation,
    EvaluationSeason,
    EvaluationStatus,
    EvaluationStep,
    EvaluatorAssignment,
    Grade,
    Indicator,
    IndicatorGroup,
    LegalStatus,
    Milestone,
    ProgressFile,
    ProgressRecord,
    Rectification,
    RectificationStatus,
    Score,
    SeasonStatus,
    SelfScore,
    ServiceProject,
    TimelineStep,
)
from sportsman.associations.selectors import managed_by
from sportsman.core import audit
from sportsman.core.db import transition
from sportsman.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    bad_field,
)
from sportsman.core.uploads import clean_pdf, clean_photo, is_image
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Region

VALIDITY_YEARS = 5
MIN_YEARS_REGISTERED = 2
FILE_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 9

# The grade of a total (DOMAIN.md §5): 5A above 950, 4A 901–950, 3A 851–900, 2A 801–850, 1A below.
# (lowest total of the band, grade), highest band first.
GRADE_BANDS: tuple[tuple[int, str], ...] = (
    (951, Grade.A5), (901, Grade.A4), (851, Grade.A3), (801, Grade.A2), (0, Grade.A1))

# A default rubric for a region's first season (copied, then editable): 1,000 points.
DEFAULT_RUBRIC: tuple[tuple[str, str, str, int], ...] = (
    (IndicatorGroup.BASIC, "B1", "法人资格与登记事项", 60),
    (IndicatorGroup.BASIC, "B2", "办公场所与专职人员", 60),
    (IndicatorGroup.BASIC, "B3", "章程与年检情况", 80),
    (IndicatorGroup.GOVERNANCE, "G1", "会员大会与理事会", 100),
    (IndicatorGroup.GOVERNANCE, "G2", "财务管理与资产", 100),
    (IndicatorGroup.GOVERNANCE, "G3", "党建与制度建设", 80),
    (IndicatorGroup.GOVERNANCE, "G4", "档案与信息公开", 70),
    (IndicatorGroup.PERFORMANCE, "P1", "赛事活动组织", 120),
    (IndicatorGroup.PERFORMANCE, "P2", "服务项目与全民健身", 110),
    (IndicatorGroup.PERFORMANCE, "P3", "人才培养与社会体育指导", 70),
    (IndicatorGroup.REPUTATION, "R1", "会员与群众满意度", 80),
    (IndicatorGroup.REPUTATION, "R2", "主管单位评价", 40),
    (IndicatorGroup.REPUTATION, "R3", "表彰与媒体报道", 30),
)

# The workflow: action → {from-status: to-status}. Anything not listed is refused.
FLOW: dict[str, dict[str, str]] = {
    "apply": {EvaluationStatus.DRAFT: EvaluationStatus.APPLIED},
    "withdraw": {EvaluationStatus.DRAFT: EvaluationStatus.WITHDRAWN,
                 EvaluationStatus.APPLIED: EvaluationStatus.WITHDRAWN},
    "approve": {EvaluationStatus.APPLIED: EvaluationStatus.ELIGIBLE},
    "refuse": {EvaluationStatus.APPLIED: EvaluationStatus.INELIGIBLE},
    "assign": {EvaluationStatus.ELIGIBLE: EvaluationStatus.UNDER_REVIEW,
               EvaluationStatus.UNDER_REVIEW: EvaluationStatus.UNDER_REVIEW},
    "submit": {EvaluationStatus.UNDER_REVIEW: EvaluationStatus.SCORED},
    "return": {EvaluationStatus.SCORED: EvaluationStatus.UNDER_REVIEW},
    "finalise": {EvaluationStatus.SCORED: EvaluationStatus.FINALISED},
    "publish": {EvaluationStatus.FINALISED: EvaluationStatus.PUBLISHED},
}
ACTIONS = tuple(FLOW)
STAMPS: dict[str, str] = {EvaluationStatus.APPLIED: "applied_at", EvaluationStatus.ELIGIBLE: "checked_at",
          EvaluationStatus.INELIGIBLE: "checked_at", EvaluationStatus.SCORED: "scored_at",
          EvaluationStatus.FINALISED: "finalised_at", EvaluationStatus.PUBLISHED: "published_at"}
SCORING = frozenset({EvaluationStatus.UNDER_REVIEW})
# Service projects and their records run from application to the final rating.
PROJECTS_OPEN = frozenset({EvaluationStatus.DRAFT, EvaluationStatus.APPLIED,
                           EvaluationStatus.ELIGIBLE, EvaluationStatus.UNDER_REVIEW,
                           EvaluationStatus.SCORED})
RECTIFIABLE = frozenset({EvaluationStatus.UNDER_REVIEW, EvaluationStatus.SCORED,
                         EvaluationStatus.PUBLISHED})


def grade_for(total: int) -> str:
    """The grade of a total out of 1,000 (pure; see GRADE_BANDS)."""
    for lowest, grade in GRADE_BANDS:
        if total >= lowest:
            return grade
    return Grade.A1


def next_status(status: str, action: str) -> str | None:
    """Where ``action`` takes an evaluation in ``status`` (None: refused)."""
    return FLOW.get(action, {}).get(status)


# --- errors --------------------------------------------------------------------------------------

class SeasonNotFound(NotFound):
    code = "evaluation_season_not_found"
    default_message = gettext_lazy("No such evaluation season.")


class EvaluationNotFound(NotFound):
    code = "evaluation_not_found"
    default_message = gettext_lazy("No such evaluation.")


class ProjectNotFound(NotFound):
    code = "service_project_not_found"
    default_message = gettext_lazy("No such service project.")


class RectificationNotFound(NotFound):
    code = "rectification_not_found"
    default_message = gettext_lazy("No such rectification request.")


class BadTransition(Conflict):
    code = "evaluation_bad_transition"
    default_message = gettext_lazy("The evaluation is not at a step where this can be done.")


class RubricLocked(Conflict):
    code = "rubric_locked"
    default_message = gettext_lazy("Scoring has started: the rubric can no longer change.")


class SeasonExists(Conflict):
    code = "evaluation_season_exists"
    default_message = gettext_lazy("This region already has a season for that year.")


class SeasonClosed(Conflict):
    code = "evaluation_season_closed"
    default_message = gettext_lazy("This season is closed or not taking applications now.")


class AlreadyApplied(Conflict):
    code = "evaluation_already_applied"
    default_message = gettext_lazy("This association already takes part in this season.")


class NotEligible(InvalidInput):
    code = "association_not_eligible"
    default_message = gettext_lazy("The association does not meet the conditions of this "
                                   "evaluation.")


class NotManager(Forbidden):
    code = "not_association_manager"
    default_message = gettext_lazy("Only the association's managers may do this.")


class NotAssigned(Forbidden):
    code = "evaluator_not_assigned"
    default_message = gettext_lazy("You are not assigned to evaluate this association.")


class NotAnEvaluator(InvalidInput):
    code = "not_an_evaluator"
    default_message = gettext_lazy("This user is not an evaluator for the association's region.")


class Incomplete(InvalidInput):
    code = "evaluation_incomplete"
    default_message = gettext_lazy("Score every indicator first.")


class RectificationState(Conflict):
    code = "rectification_bad_transition"
    default_message = gettext_lazy("The rectification is not at a step where this can be done.")


class RectificationsOpen(Conflict):
    code = "rectifications_open"
    default_message = gettext_lazy("Rectifications are still open: re-check them first.")


# --- access ------------------------------------------------------------------------------------

def _access(actor: Any) -> Access:
    return actor if isinstance(actor, Access) else access_for_user(actor)


def _user(actor: Any) -> Any:
    return actor.user if isinstance(actor, Access) else actor


def _require_login(actor: Any) -> Any:
    user = _user(actor)
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    return user


def seasons_in_scope(actor: Any) -> QuerySet[EvaluationSeason]:
    return _access(actor).scope(EvaluationSeason.objects.select_related("region"),
                                Perm.EVALUATION_MANAGE)


def evaluations_in_scope(actor: Any) -> QuerySet[Evaluation]:
    """Evaluations of associations in the staff member's subtree."""
    return _access(actor).scope(
        Evaluation.objects.select_related("association__region", "season"),
        Perm.EVALUATION_MANAGE, field="association__region")


def assigned_to(actor: Any) -> QuerySet[Evaluation]:
    """The evaluations assigned to an evaluator, inside their grant's subtree (both needed)."""
    access = _access(actor)
    user = _require_login(actor)
    return access.scope(
        Evaluation.objects.select_related("association__region", "season")
        .filter(assignments__evaluator_id=user.pk), Perm.EVALUATION_SCORE,
        field="association__region").distinct()


def get_season(actor: Any, season_id: int) -> EvaluationSeason:
    found = seasons_in_scope(actor).filter(pk=season_id).first()
    if found is None:
        raise SeasonNotFound()
    return found


def get_managed(actor: Any, evaluation_id: int) -> Evaluation:
    """An evaluation staff of its association's region may manage."""
    found = evaluations_in_scope(actor).filter(pk=evaluation_id).first()
    if found is None:
        raise EvaluationNotFound()
    return found


def get_assigned(actor: Any, evaluation_id: int) -> Evaluation:
    found = assigned_to(actor).filter(pk=evaluation_id).first()
    if found is None:
        if Evaluation.objects.filter(pk=evaluation_id).exists() and _access(actor).has_anywhere(
                Perm.EVALUATION_SCORE):
            raise NotAssigned()
        raise EvaluationNotFound()
    return found


def get_own(actor: Any, evaluation_id: int) -> Evaluation:
    """An evaluation of an association the actor manages."""
    user = _require_login(actor)
    found = (Evaluation.objects.select_related("association__region", "season")
             .filter(pk=evaluation_id, association__in=managed_by(user)).first())
    if found is None:
        raise EvaluationNotFound()
    return found


def can_view(actor: Any, evaluation: Evaluation) -> bool:
    """Staff over it, its assigned evaluators, or its association's managers."""
    user = _user(actor)
    if user is None or not user.is_authenticated:
        return False
    access = _access(actor)
    return (access.can(Perm.EVALUATION_MANAGE, evaluation.association.region)
            or assigned_to(access).filter(pk=evaluation.pk).exists()
            or managed_by(user).filter(pk=evaluation.association_id).exists())


def _managed_association(actor: Any, association_id: int) -> Association:
    user = _require_login(actor)
    found = managed_by(user).select_related("region").filter(pk=association_id).first()
    if found is None:
        raise NotManager()
    return found


# --- the timeline ------------------------------------------------------------------------------

def _step(evaluation: Evaluation, step: str, *, actor: Any, note: str = "",
          data: dict | None = None, at: dt.datetime | None = None) -> EvaluationStep:
    user = _user(actor)
    return EvaluationStep.objects.create(
        evaluation=evaluation, step=step, note=note[:300], data=data or {},
        actor=user if user is not None and user.is_authenticated else None,
        at=at or timezone.now())


def timeline(evaluation: Evaluation) -> QuerySet[EvaluationStep]:
    return evaluation.steps.select_related("actor").order_by("at", "id")


def _move(evaluation: Evaluation, action: str, *, actor: Any, note: str = "",
          data: dict | None = None, request: Any = None) -> Evaluation:
    """Apply ``action`` by one conditional UPDATE, append the timeline step, audit it."""
    to = next_status(evaluation.status, action)
    if to is None:
        raise BadTransition()
    if to != evaluation.status:
        transition(evaluation, to,
                   table={evaluation.status: frozenset({to})}, stamps=STAMPS,
                   error=BadTransition)
    audit.record(actor=_user(actor), action=f"associations.evaluation.{action}", obj=evaluation,
                 region=evaluation.association.region, request=request,
                 data={"to": to, **(data or {})})
    return evaluation


# --- seasons and the rubric ----------------------------------------------------------------------

@dataclass(frozen=True)
class IndicatorSpec:
    group: str
    code: str
    name: str
    max_points: int


def validate_rubric(specs: Sequence[IndicatorSpec]) -> None:
    """The rubric's rules: every indicator in one of the four groups, codes unique, names given,
    1..1000 points each, every group present, the maxima summing to exactly 1,000."""
    if not specs:
        raise bad_field("indicators", _("Add the indicators."), "rubric_empty")
    codes = [s.code.strip() for s in specs]
    if len(set(codes)) != len(codes) or not all(codes):
        raise bad_field("indicators", _("Each indicator needs its own code."), "rubric_codes")
    for s in specs:
        if s.group not in IndicatorGroup.values:
            raise bad_field("indicators", _("Unknown indicator group."), "rubric_group")
        if not s.name.strip():
            raise bad_field("indicators", _("Each indicator needs a name."), "rubric_name")
        if not 1 <= s.max_points <= RUBRIC_TOTAL:
            raise bad_field("indicators", _("Each indicator is worth 1 to 1000 points."),
                       "rubric_points")
    if {s.group for s in specs} != set(IndicatorGroup.values):
        raise bad_field("indicators", _("The rubric needs indicators in all four groups."),
                   "rubric_groups")
    total = sum(s.max_points for s in specs)
    if total != RUBRIC_TOTAL:
        raise bad_field("indicators", _("The indicators add up to %(n)d points, not 1000.")
                   % {"n": total}, "rubric_total")


def _write_rubric(season: EvaluationSeason, specs: Sequence[IndicatorSpec]) -> None:
    season.indicators.all().delete()
    Indicator.objects.bulk_create([
        Indicator(season=season, group=s.group, code=s.code.strip()[:12],
                  name=s.name.strip()[:120], max_points=s.max_points, position=i)
        for i, s in enumerate(specs)])


def rubric_of(season: EvaluationSeason) -> list[Indicator]:
    return list(season.indicators.order_by("position", "id"))


def open_season(*, actor: Any, region_id: int, year: int, title: str,
                applications_open_on: dt.date, applications_close_on: dt.date,
                request: Any = None) -> EvaluationSeason:
    """Open a season for ``region_id`` (``EVALUATION_MANAGE`` over it). Its rubric is copied
    from the region's latest earlier season, else the default rubric. One season per region and
    year (``evaluation_season_exists``)."""
    access = _access(actor)
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        raise NotFound()
    access.require(Perm.EVALUATION_MANAGE, region)
    title = (title or "").strip()[:80]
    if not title:
        raise bad_field("title", _("Give the season a title."))
    if not 2000 <= year <= 2100:
        raise bad_field("year", _("Give a year."))
    if applications_close_on < applications_open_on:
        raise bad_field("applications_close_on", _("The window closes before it opens."),
                   "bad_window")
    previous = (EvaluationSeason.objects.filter(region=region, year__lt=year)
                .order_by("-year").first())
    specs = ([IndicatorSpec(i.group, i.code, i.name, i.max_points) for i in rubric_of(previous)]
             if previous is not None else [IndicatorSpec(*row) for row in DEFAULT_RUBRIC])
    try:
        with transaction.atomic():
            season = EvaluationSeason.objects.create(
                region=region, year=year, title=title, opened_by=_user(actor),
                applications_open_on=applications_open_on,
                applications_close_on=applications_close_on)
            _write_rubric(season, specs)
            audit.record(actor=_user(actor), action="associations.season.open", obj=season,
                         region=region, request=request,
                         data={"year": year, "copied_from": previous.pk if previous else None})
    except IntegrityError as exc:
        raise SeasonExists() from exc
    return season


def set_rubric(*, actor: Any, season_id: int, indicators: Sequence[IndicatorSpec],
               request: Any = None) -> list[Indicator]:
    """Replace the season's rubric (validated, see ``validate_rubric``). Refused once scoring
    started (``rubric_locked``): the season row is locked, and the first score sets
    ``scoring_started_at`` under the same lock, so an edit never slips past a score."""
    season = get_season(actor, season_id)
    validate_rubric(indicators)
    with transaction.atomic():
        locked = EvaluationSeason.objects.select_for_update().get(pk=season.pk)
        if locked.scoring_started_at is not None or locked.status == SeasonStatus.CLOSED:
            raise RubricLocked()
        if SelfScore.objects.filter(evaluation__season=locked).exists():
            # Self-assessments point at the indicators: they are started over.
            SelfScore.objects.filter(evaluation__season=locked).delete()
            Evaluation.objects.filter(season=locked).update(self_total=0)
        _write_rubric(locked, indicators)
        audit.record(actor=_user(actor), action="associations.season.rubric", obj=locked,
                     region=locked.region, request=request,
                     data={"indicators": len(indicators)})
    return rubric_of(season)


def close_season(*, actor: Any, season_id: int, request: Any = None) -> EvaluationSeason:
    season = get_season(actor, season_id)
    with transaction.atomic():
        now = timezone.now()
        if not EvaluationSeason.objects.filter(pk=season.pk, status=SeasonStatus.OPEN).update(
                status=SeasonStatus.CLOSED, closed_at=now, updated_at=now):
            raise SeasonClosed()
        season.status, season.closed_at = SeasonStatus.CLOSED, now
        audit.record(actor=_user(actor), action="associations.season.close", obj=season,
                     region=season.region, request=request)
    return season


def open_seasons_for(association: Association, today: dt.date | None = None
                     ) -> QuerySet[EvaluationSeason]:
    """Seasons taking applications now whose region holds the association."""
    today = today or timezone.localdate()
    ids = [*association.region.ancestor_ids, association.region_id]
    return (EvaluationSeason.objects.filter(region_id__in=ids, status=SeasonStatus.OPEN,
                                            applications_open_on__lte=today,
                                            applications_close_on__gte=today)
            .select_related("region").order_by("-year", "id"))


# --- applying and self-assessment ----------------------------------------------------------------

def _years_between(start: dt.date, end: dt.date) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


PROBLEMS = {
    "outside_region": gettext_lazy("The association is outside the season's region."),
    "not_registered": gettext_lazy("The association is not registered (已登记)."),
    "not_active": gettext_lazy("The association is not active."),
    "registered_under_two_years": gettext_lazy(
        "The association has been registered for less than two full years."),
    "inspection_failed": gettext_lazy("An annual inspection of the last two years failed."),
    "inspection_basic_twice": gettext_lazy(
        "The annual inspections of both of the last two years were a basic pass."),
    "inspection_missing": gettext_lazy(
        "An annual report of the last two years is missing past its due date."),
}


def inspection_problems(association: Association, on: dt.date) -> list[str]:
    """What the 年检 of the two years before ``on``'s says against the association."""
    from sportsman.associations.models import (
        Application,
        ApplicationKind,
        ApplicationStatus,
        InspectionResult,
        InspectionSeason,
    )
    from sportsman.regions.selectors import nearest_rule

    years = [on.year - 1, on.year - 2]
    results = dict(Application.objects.filter(
        association_id=association.pk, kind=ApplicationKind.ANNUAL_REPORT,
        status=ApplicationStatus.APPROVED, year__in=years)
        .values_list("year", "result"))
    problems = []
    if InspectionResult.FAIL in results.values():
        problems.append("inspection_failed")
    if all(results.get(y) == InspectionResult.BASIC for y in years):
        problems.append("inspection_basic_twice")
    founded = association.founded_on
    for year in years:
        if results.get(year) or (founded is not None and founded.year > year):
            continue
        # only a season the platform ran over the association's region asked for the report
        season = nearest_rule(InspectionSeason.objects.filter(year=year), association.region)
        if season is not None and season.due_on < on:
            problems.append("inspection_missing")
            break
    return problems


def problem_texts(problems: Iterable[str]) -> list[tuple[str, str]]:
    return [(p, str(PROBLEMS.get(p, p))) for p in problems]


def eligibility_problems(association: Association, season: EvaluationSeason) -> list[str]:
    """Why the association may not take part (codes of ``PROBLEMS``; empty: eligible). See the
    module docstring for what the registry can tell."""
    problems = []
    if not association.region.path.startswith(season.region.path):
        problems.append("outside_region")
    if association.legal_status != LegalStatus.REGISTERED:
        problems.append("not_registered")
    if association.status != AssociationStatus.ACTIVE:
        problems.append("not_active")
    founded = association.founded_on
    if founded is None or _years_between(founded, season.applications_open_on) \
            < MIN_YEARS_REGISTERED:
        problems.append("registered_under_two_years")
    problems += inspection_problems(association, season.applications_open_on)
    return problems


def start(*, actor: Any, association_id: int, season_id: int, request: Any = None) -> Evaluation:
    """A manager of the association enters it into a season taking applications now: a draft
    to self-assess and then apply. Refused when the association is not eligible
    (``association_not_eligible``, the reasons in ``fields.association``)."""
    association = _managed_association(actor, association_id)
    season = EvaluationSeason.objects.select_related("region").filter(pk=season_id).first()
    if season is None:
        raise SeasonNotFound()
    if not open_seasons_for(association).filter(pk=season.pk).exists():
        raise SeasonClosed()
    problems = eligibility_problems(association, season)
    if problems:
        raise NotEligible(fields={"association": problems})
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(season=season, association=association,
                                                   created_by=_user(actor))
            _step(evaluation, TimelineStep.CREATED, actor=actor)
            audit.record(actor=_user(actor), action="associations.evaluation.start",
                         obj=evaluation, region=association.region, request=request)
    except IntegrityError as exc:
        raise AlreadyApplied() from exc
    return evaluation


@dataclass(frozen=True)
class Points:
    indicator_id: int
    points: int
    note: str = ""


def _checked_points(evaluation: Evaluation, rows: Iterable[Points]) -> dict[int, Points]:
    maxima = dict(evaluation.season.indicators.values_list("pk", "max_points"))
    out: dict[int, Points] = {}
    for row in rows:
        if row.indicator_id not in maxima:
            raise bad_field("indicator_id", _("Not an indicator of this season."), "unknown_indicator")
        if not 0 <= row.points <= maxima[row.indicator_id]:
            raise bad_field("points", _("Between 0 and the indicator's points."), "points_out_of_range")
        out[row.indicator_id] = row
    return out


def self_assess(*, actor: Any, evaluation_id: int, scores: Iterable[Points],
                request: Any = None) -> Evaluation:
    """The association's own score per indicator (0..max), while a draft. Replaces earlier
    self-scores of the indicators given."""
    evaluation = get_own(actor, evaluation_id)
    if evaluation.status != EvaluationStatus.DRAFT:
        raise BadTransition()
    rows = _checked_points(evaluation, scores)
    with transaction.atomic():
        for row in rows.values():
            SelfScore.objects.update_or_create(
                evaluation=evaluation, indicator_id=row.indicator_id,
                defaults={"points": row.points, "note": row.note[:500]})
        total = evaluation.self_scores.aggregate(t=Sum("points"))["t"] or 0
        Evaluation.objects.filter(pk=evaluation.pk).update(self_total=total,
                                                           updated_at=timezone.now())
        evaluation.self_total = total
        _step(evaluation, TimelineStep.SELF_ASSESSED, actor=actor, data={"total": total})
    return evaluation


def apply(*, actor: Any, evaluation_id: int, request: Any = None) -> Evaluation:
    """Hand in the self-assessment (申报): every indicator self-scored, within the window.
    The season's staff are told."""
    evaluation = get_own(actor, evaluation_id)
    if not open_seasons_for(evaluation.association).filter(pk=evaluation.season_id).exists():
        raise SeasonClosed()
    if evaluation.self_scores.count() != evaluation.season.indicators.count():
        raise Incomplete(_("Self-assess every indicator first."))
    with transaction.atomic():
        _move(evaluation, "apply", actor=actor, request=request)
        _step(evaluation, TimelineStep.APPLIED, actor=actor,
              data={"self_total": evaluation.self_total})
        _tell_staff(evaluation, _("%(name)s applied for the evaluation")
                    % {"name": evaluation.association.name}, key="applied")
    return evaluation


def withdraw(*, actor: Any, evaluation_id: int, request: Any = None) -> Evaluation:
    evaluation = get_own(actor, evaluation_id)
    with transaction.atomic():
        _move(evaluation, "withdraw", actor=actor, request=request)
        _step(evaluation, TimelineStep.WITHDRAWN, actor=actor)
    return evaluation


# --- staff: eligibility, evaluators --------------------------------------------------------------

def check_eligibility(*, actor: Any, evaluation_id: int, approve: bool, note: str = "",
                      request: Any = None) -> Evaluation:
    """资格审查: staff approve or refuse an application (a refusal needs a note). The automatic
    checks are repeated: an association no longer eligible cannot be approved."""
    evaluation = get_managed(actor, evaluation_id)
    note = (note or "").strip()[:300]
    if approve and eligibility_problems(evaluation.association, evaluation.season):
        raise NotEligible(fields={"association": eligibility_problems(
            evaluation.association, evaluation.season)})
    if not approve and not note:
        raise bad_field("note", _("Say why the association is not eligible."))
    with transaction.atomic():
        _move(evaluation, "approve" if approve else "refuse", actor=actor, request=request)
        Evaluation.objects.filter(pk=evaluation.pk).update(eligibility_note=note)
        evaluation.eligibility_note = note
        _step(evaluation, TimelineStep.ELIGIBLE if approve else TimelineStep.INELIGIBLE,
              actor=actor, note=note)
        _tell_managers(evaluation, _("Eligibility checked: %(status)s")
                       % {"status": evaluation.get_status_display()}, key="checked")
    return evaluation


def evaluators_for(region: Region) -> QuerySet[Any]:
    """Active users holding ``EVALUATION_SCORE`` over ``region`` (who may be assigned)."""
    from sportsman.regions.access import holders

    return holders(Perm.EVALUATION_SCORE, region)


def assign(*, actor: Any, evaluation_id: int, evaluator_id: int,
           request: Any = None) -> EvaluatorAssignment:
    """Assign a third-party evaluator (a user with the evaluator role over the association's
    region) to an eligible evaluation, which goes under review; more may be added later."""
    evaluation = get_managed(actor, evaluation_id)
    evaluator = evaluators_for(evaluation.association.region).filter(pk=evaluator_id).first()
    if evaluator is None:
        raise NotAnEvaluator(fields={"evaluator_id": [str(NotAnEvaluator.default_message)]})
    try:
        with transaction.atomic():
            _move(evaluation, "assign", actor=actor, request=request,
                  data={"evaluator_id": evaluator.pk})
            made = EvaluatorAssignment.objects.create(evaluation=evaluation, evaluator=evaluator,
                                                      assigned_by=_user(actor))
            _step(evaluation, TimelineStep.ASSIGNED, actor=actor,
                  data={"evaluator_id": evaluator.pk})
            _tell([evaluator.pk], _("You are assigned to evaluate %(name)s")
                  % {"name": evaluation.association.name},
                  link=_link("associations:evaluator_evaluation", evaluation.pk),
                  key=f"associations.evaluation:{evaluation.pk}:assigned:{evaluator.pk}")
    except IntegrityError as exc:
        raise Conflict(_("This evaluator is already assigned."),
                       code="evaluator_already_assigned") from exc
    return made


# --- service projects and progress records -------------------------------------------------------

@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    due_on: dt.date


def add_project(*, actor: Any, evaluation_id: int, title: str, description: str = "",
                starts_on: dt.date, ends_on: dt.date, milestones: Sequence[MilestoneSpec] = (),
                request: Any = None) -> ServiceProject:
    """A service project (服务项目) of the association, with its milestones (due dates inside
    the project's span)."""
    evaluation = get_own(actor, evaluation_id)
    if evaluation.status not in PROJECTS_OPEN:
        raise BadTransition()
    title = (title or "").strip()[:80]
    if not title:
        raise bad_field("title", _("Give the project a title."))
    if ends_on < starts_on:
        raise bad_field("ends_on", _("The project ends before it starts."), "bad_span")
    for m in milestones:
        if not m.title.strip():
            raise bad_field("milestones", _("Each milestone needs a title."))
        if not starts_on <= m.due_on <= ends_on:
            raise bad_field("milestones", _("Milestones fall within the project's span."),
                       "milestone_outside")
    with transaction.atomic():
        project = ServiceProject.objects.create(evaluation=evaluation, title=title,
                                                description=(description or "")[:2000],
                                                starts_on=starts_on, ends_on=ends_on)
        Milestone.objects.bulk_create([Milestone(project=project, title=m.title.strip()[:80],
                                                 due_on=m.due_on) for m in milestones])
        _step(evaluation, TimelineStep.PROJECT, actor=actor, note=title,
              data={"project_id": project.pk})
    return project


def _project_of_manager(actor: Any, project_id: int) -> ServiceProject:
    user = _require_login(actor)
    found = (ServiceProject.objects.select_related("evaluation__association__region",
                                                   "evaluation__season")
             .filter(pk=project_id, evaluation__association__in=managed_by(user)).first())
    if found is None:
        raise ProjectNotFound()
    return found


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes


def _clean_upload(upload: Upload, field: str) -> tuple[bool, bytes, str]:
    """(is_photo, bytes, extension): photos re-encoded by clean_photo, else a PDF."""
    if is_image(upload.content):
        return True, clean_photo(upload.content, field=field), "jpg"
    return False, clean_pdf(upload.content, max_bytes=FILE_MAX_BYTES, field=field), "pdf"


def add_record(*, actor: Any, project_id: int, text: str, milestone_id: int | None = None,
               files: Sequence[Upload] = (), milestone_done: bool = False,
               request: Any = None) -> ProgressRecord:
    """A progress record of a running project: text, and photos (re-encoded, EXIF dropped) or
    PDFs; optionally marks its milestone reached today."""
    project = _project_of_manager(actor, project_id)
    evaluation = project.evaluation
    if evaluation.status not in PROJECTS_OPEN:
        raise BadTransition()
    text = (text or "").strip()[:2000]
    if not text:
        raise bad_field("text", _("Say what was done."))
    if len(files) > MAX_FILES:
        raise bad_field("files", _("At most nine files a record."), "too_many_files")
    milestone = None
    if milestone_id is not None:
        milestone = project.milestones.filter(pk=milestone_id).first()
        if milestone is None:
            raise bad_field("milestone_id", _("Not a milestone of this project."))
    cleaned = [(_clean_upload(f, "files"), f.name) for f in files]
    with transaction.atomic():
        record = ProgressRecord.objects.create(project=project, milestone=milestone, text=text,
                                               author=_user(actor))
        for (is_photo, content, ext), name in cleaned:
            row = ProgressFile(record=record, is_photo=is_photo, name=(name or "")[:120])
            row.file.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(content), save=False)
            row.save()
        _step(evaluation, TimelineStep.RECORD, actor=actor, note=text[:100],
              data={"project_id": project.pk, "record_id": record.pk, "files": len(cleaned)})
        if milestone is not None and milestone_done and milestone.done_on is None:
            Milestone.objects.filter(pk=milestone.pk, done_on=None).update(
                done_on=timezone.localdate())
            _step(evaluation, TimelineStep.MILESTONE_DONE, actor=actor, note=milestone.title,
                  data={"milestone_id": milestone.pk})
    return record


def projects_of(evaluation: Evaluation) -> list[ServiceProject]:
    return list(evaluation.projects.prefetch_related("milestones", "records__files")
                .order_by("starts_on", "id"))


# --- scoring (evaluators) ------------------------------------------------------------------------

def score(*, actor: Any, evaluation_id: int, indicator_id: int, points: int, note: str = "",
          evidence: Upload | None = None, request: Any = None) -> Score:
    """An assigned evaluator scores one indicator (0..its max) with evidence: a note and
    optionally a photo or PDF. The first score of a season fixes its rubric."""
    evaluation = get_assigned(actor, evaluation_id)
    if evaluation.status not in SCORING:
        raise BadTransition()
    _checked_points(evaluation, [Points(indicator_id, points, note)])
    cleaned = _clean_upload(evidence, "evidence") if evidence is not None else None
    with transaction.atomic():
        # The rubric lock: the first score sets it under the season's row lock (see
        # set_rubric), then checks the points against the rubric as it stands; later scores
        # find it set and take no lock (the rubric cannot change any more).
        if not EvaluationSeason.objects.filter(pk=evaluation.season_id,
                                               scoring_started_at__isnull=False).exists():
            season = EvaluationSeason.objects.select_for_update().get(pk=evaluation.season_id)
            if season.scoring_started_at is None:
                EvaluationSeason.objects.filter(pk=season.pk).update(
                    scoring_started_at=timezone.now())
        row = _checked_points(evaluation, [Points(indicator_id, points, note)])[indicator_id]
        made, _created = Score.objects.update_or_create(
            evaluation=evaluation, indicator_id=indicator_id,
            defaults={"points": row.points, "note": (note or "")[:500],
                      "scored_by": _user(actor)})
        if cleaned is not None:
            made.evidence.save(f"{uuid.uuid4().hex}.{cleaned[2]}", ContentFile(cleaned[1]),
                               save=True)
        _step(evaluation, TimelineStep.SCORED, actor=actor,
              data={"indicator_id": indicator_id, "points": row.points})
        audit.record(actor=_user(actor), action="associations.evaluation.score", obj=evaluation,
                     region=evaluation.association.region, request=request,
                     data={"indicator_id": indicator_id, "points": row.points})
    return made


def scored_total(evaluation: Evaluation) -> int:
    return evaluation.scores.aggregate(t=Sum("points"))["t"] or 0


def submit(*, actor: Any, evaluation_id: int, request: Any = None) -> Evaluation:
    """初评: the evaluator hands in a complete score sheet; the total and its grade are set."""
    evaluation = get_assigned(actor, evaluation_id)
    if evaluation.scores.count() != evaluation.season.indicators.count():
        raise Incomplete()
    with transaction.atomic():
        _move(evaluation, "submit", actor=actor, request=request)
        total = scored_total(evaluation)
        grade = grade_for(total)
        Evaluation.objects.filter(pk=evaluation.pk).update(total=total, grade=grade)
        evaluation.total, evaluation.grade = total, grade
        _step(evaluation, TimelineStep.SUBMITTED, actor=actor,
              data={"total": total, "grade": grade})
        _tell_staff(evaluation, _("First rating of %(name)s: %(total)d points")
                    % {"name": evaluation.association.name, "total": total}, key="scored")
    return evaluation


# --- staff: return, finalise, publish ------------------------------------------------------------

def return_to_evaluators(*, actor: Any, evaluation_id: int, note: str = "",
                         request: Any = None) -> Evaluation:
    evaluation = get_managed(actor, evaluation_id)
    with transaction.atomic():
        _move(evaluation, "return", actor=actor, request=request)
        _step(evaluation, TimelineStep.RETURNED, actor=actor, note=(note or "")[:300])
        _tell(list(evaluation.assignments.values_list("evaluator_id", flat=True)),
              _("Returned for another look: %(name)s") % {"name": evaluation.association.name},
              link=_link("associations:evaluator_evaluation", evaluation.pk),
              key=f"associations.evaluation:{evaluation.pk}:returned:{uuid.uuid4().hex[:8]}")
    return evaluation


def finalise(*, actor: Any, evaluation_id: int, note: str = "",
             request: Any = None) -> Evaluation:
    """终评: the committee's final rating of a first-rated evaluation (its total and grade as
    scored; open rectifications must be re-checked first). One conditional UPDATE: of two
    staff finalising at once one wins, the other gets ``evaluation_bad_transition``."""
    evaluation = get_managed(actor, evaluation_id)
    if evaluation.rectifications.exclude(status=RectificationStatus.CLOSED).exists():
        raise RectificationsOpen()
    with transaction.atomic():
        _move(evaluation, "finalise", actor=actor, request=request)
        total = scored_total(evaluation)
        grade = grade_for(total)
        Evaluation.objects.filter(pk=evaluation.pk).update(total=total, grade=grade)
        evaluation.total, evaluation.grade = total, grade
        _step(evaluation, TimelineStep.FINALISED, actor=actor, note=(note or "")[:300],
              data={"total": total, "grade": grade})
    return evaluation


def valid_until(published_on: dt.date) -> dt.date:
    """Five years from publication (29 February → 28 February)."""
    try:
        return published_on.replace(year=published_on.year + VALIDITY_YEARS)
    except ValueError:
        return published_on.replace(year=published_on.year + VALIDITY_YEARS, day=28)


def publish(*, actor: Any, evaluation_id: int, request: Any = None) -> Evaluation:
    """公示: the final grade is published; the association's ``grade`` and
    ``grade_valid_until`` (five years) are set in the same transaction; the association's
    managers and its region's own staff (the supervisor) are told after commit."""
    evaluation = get_managed(actor, evaluation_id)
    with transaction.atomic():
        _move(evaluation, "publish", actor=actor, request=request)
        until = valid_until(timezone.localdate(evaluation.published_at))
        Evaluation.objects.filter(pk=evaluation.pk).update(valid_until=until)
        evaluation.valid_until = until
        Association.objects.filter(pk=evaluation.association_id).update(
            grade=evaluation.grade, grade_valid_until=until, updated_at=timezone.now())
        _step(evaluation, TimelineStep.PUBLISHED, actor=actor,
              data={"grade": evaluation.grade, "total": evaluation.total,
                    "valid_until": until.isoformat()})
        title = _("Evaluation result of %(name)s: %(grade)s (%(total)s points)") % {
            "name": evaluation.association.name, "grade": evaluation.grade,
            "total": evaluation.total}
        _tell_managers(evaluation, title, key="published")
        _tell_supervisors(evaluation, title, key="published")
    return evaluation


# --- rectification -------------------------------------------------------------------------------

def request_rectification(*, actor: Any, evaluation_id: int, text: str, due_on: dt.date,
                          request: Any = None) -> Rectification:
    """整改: staff ask the association to put something right by ``due_on`` (today or later)."""
    evaluation = get_managed(actor, evaluation_id)
    if evaluation.status not in RECTIFIABLE:
        raise BadTransition()
    text = (text or "").strip()[:2000]
    if not text:
        raise bad_field("text", _("Say what must be put right."))
    if due_on < timezone.localdate():
        raise bad_field("due_on", _("The deadline is in the past."), "due_in_past")
    with transaction.atomic():
        made = Rectification.objects.create(evaluation=evaluation, request=text, due_on=due_on,
                                            requested_by=_user(actor))
        _step(evaluation, TimelineStep.RECTIFY, actor=actor, note=text[:200],
              data={"rectification_id": made.pk, "due_on": due_on.isoformat()})
        audit.record(actor=_user(actor), action="associations.rectification.request", obj=made,
                     region=evaluation.association.region, request=request)
        _tell_managers(evaluation, _("Rectification requested by %(due)s")
                       % {"due": due_on.isoformat()}, key=f"rectify:{made.pk}")
    return made


def is_overdue(rectification: Rectification, today: dt.date | None = None) -> bool:
    return (rectification.status == RectificationStatus.OPEN
            and rectification.due_on < (today or timezone.localdate()))


def overdue(qs: QuerySet[Rectification], today: dt.date | None = None) -> QuerySet[Rectification]:
    return qs.filter(status=RectificationStatus.OPEN, due_on__lt=today or timezone.localdate())


def rectifications_in_scope(actor: Any) -> QuerySet[Rectification]:
    return _access(actor).scope(
        Rectification.objects.select_related("evaluation__association__region"),
        Perm.EVALUATION_MANAGE, field="evaluation__association__region")


def answer_rectification(*, actor: Any, rectification_id: int, text: str,
                         request: Any = None) -> Rectification:
    """The association says what it put right (also after the deadline: it stays flagged
    overdue on the timeline). The assigned evaluators are told."""
    user = _require_login(actor)
    found = (Rectification.objects.select_related("evaluation__association__region")
             .filter(pk=rectification_id, evaluation__association__in=managed_by(user)).first())
    if found is None:
        raise RectificationNotFound()
    text = (text or "").strip()[:2000]
    if not text:
        raise bad_field("text", _("Say what was put right."))
    late = is_overdue(found)
    with transaction.atomic():
        now = timezone.now()
        if not Rectification.objects.filter(pk=found.pk, status=RectificationStatus.OPEN).update(
                status=RectificationStatus.ANSWERED, answer=text, answered_at=now,
                updated_at=now):
            raise RectificationState()
        found.status, found.answer, found.answered_at = RectificationStatus.ANSWERED, text, now
        _step(found.evaluation, TimelineStep.RECTIFY_ANSWERED, actor=actor, note=text[:200],
              data={"rectification_id": found.pk, "late": late})
        _tell(list(found.evaluation.assignments.values_list("evaluator_id", flat=True)),
              _("Rectification answered: %(name)s") % {"name": found.evaluation.association.name},
              link=_link("associations:evaluator_evaluation", found.evaluation_id),
              key=f"associations.rectification:{found.pk}:answered")
    return found


def recheck(*, actor: Any, rectification_id: int, accept: bool,
            scores: Iterable[Points] = (), note: str = "", request: Any = None) -> Rectification:
    """An assigned evaluator re-checks an answered rectification: accepts it (closed), with
    re-scored indicators if given (only before the final rating), or sends it back (open)."""
    found = Rectification.objects.select_related("evaluation").filter(
        pk=rectification_id).first()
    if found is None:
        raise RectificationNotFound()
    evaluation = get_assigned(actor, found.evaluation_id)
    rescored = _checked_points(evaluation, scores)
    if rescored and evaluation.status not in (EvaluationStatus.UNDER_REVIEW,
                                              EvaluationStatus.SCORED):
        raise BadTransition()
    to = RectificationStatus.CLOSED if accept else RectificationStatus.OPEN
    with transaction.atomic():
        now = timezone.now()
        if not Rectification.objects.filter(pk=found.pk,
                                            status=RectificationStatus.ANSWERED).update(
                status=to, checked_by=_user(actor), updated_at=now,
                closed_at=now if accept else None):
            raise RectificationState()
        found.status = to
        for row in rescored.values():
            Score.objects.update_or_create(
                evaluation=evaluation, indicator_id=row.indicator_id,
                defaults={"points": row.points, "note": row.note[:500],
                          "scored_by": _user(actor)})
        data: dict[str, Any] = {"rectification_id": found.pk, "accepted": accept}
        if rescored and evaluation.status == EvaluationStatus.SCORED:
            total = scored_total(evaluation)
            Evaluation.objects.filter(pk=evaluation.pk).update(total=total,
                                                               grade=grade_for(total))
            data |= {"total": total, "grade": grade_for(total)}
        if rescored:
            data["rescored"] = {str(k): v.points for k, v in rescored.items()}
        _step(evaluation, TimelineStep.RECHECKED if accept else TimelineStep.RECTIFY_REOPENED,
              actor=actor, note=(note or "")[:300], data=data)
        audit.record(actor=_user(actor), action="associations.rectification.recheck", obj=found,
                     region=evaluation.association.region, request=request, data=data)
        if not accept:
            _tell_managers(evaluation, _("Rectification sent back: please look again"),
                           key=f"rectify:{found.pk}:back:{uuid.uuid4().hex[:8]}")
    return found


# --- notifications -------------------------------------------------------------------------------

def _link(name: str, pk: int) -> str:
    from django.urls import reverse

    return reverse(name, args=[pk])


def _tell(user_ids: list[int], title: Any, *, link: str, key: str) -> None:
    """Tell users after commit, in one batched notify() (inbox and their channels)."""
    if not user_ids:
        return
    from sportsman.notifications.categories import Category
    from sportsman.notifications.services import notify

    ids = sorted(set(user_ids))

    def send() -> None:
        from django.contrib.auth import get_user_model

        notify(users=get_user_model().objects.filter(pk__in=ids), category=Category.ASSOCIATION,
               title=str(title)[:120], link=link, dedupe_key=key[:100])

    transaction.on_commit(send)


def manager_ids(association_ids: Iterable[int]) -> list[int]:
    from sportsman.associations.models import AssociationMember

    return list(AssociationMember.objects.filter(
        association_id__in=list(association_ids), manages=True, left_on=None,
        user__isnull=False).values_list("user_id", flat=True).distinct())


def _tell_managers(evaluation: Evaluation, title: Any, *, key: str) -> None:
    _tell(manager_ids([evaluation.association_id]), title,
          link=_link("associations:my_evaluation", evaluation.pk),
          key=f"associations.evaluation:{evaluation.pk}:{key}")


def _tell_staff(evaluation: Evaluation, title: Any, *, key: str) -> None:
    """The season's own staff (of the season's region)."""
    from sportsman.regions.access import own_holders

    ids = own_holders(Perm.EVALUATION_MANAGE, [evaluation.season.region_id])[
        evaluation.season.region_id]
    _tell(ids, title, link=_link("associations:evaluation_console_detail", evaluation.pk),
          key=f"associations.evaluation:{evaluation.pk}:staff:{key}")


def _tell_supervisors(evaluation: Evaluation, title: Any, *, key: str) -> None:
    """The supervisor (业务主管单位): staff holding EVALUATION_MANAGE on the association's own
    region, else on the nearest region above it that has such staff."""
    from sportsman.regions.access import own_holders

    region = evaluation.association.region
    chain = [region.pk, *reversed(region.ancestor_ids)]
    found = own_holders(Perm.EVALUATION_MANAGE, chain)
    for region_id in chain:
        if found[region_id]:
            _tell(found[region_id], title,
                  link=_link("associations:evaluation_console_detail", evaluation.pk),
                  key=f"associations.evaluation:{evaluation.pk}:supervisor:{key}")
            return
