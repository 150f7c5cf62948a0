"""Evaluation pages (等级评估): the console's seasons, rubric editor, evaluations with their
actions and the whole process of one; the evaluator's workspace; the association managers'
pages (enter a season, self-assess, apply, projects and progress records, rectification,
results). Views validate and call the services; the services check who may act."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.associations import evaluation as ev
from sportsman.associations.models import (
    Evaluation,
    EvaluationStatus,
    IndicatorGroup,
    Rectification,
    RectificationStatus,
)
from sportsman.associations.selectors import managed_by
from sportsman.core.errors import InvalidInput
from sportsman.regions.access import Perm, for_self, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "evaluation"
RUBRIC_ROWS_SPARE = 3


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.strip().isdigit() and 0 <= int(raw) < 2**63 else None


def _date(raw: str | None, field: str) -> dt.date:
    value = parse_date((raw or "").strip())
    if value is None:
        raise InvalidInput(_("Give a date."), fields={field: [_("Give a date.")]})
    return value


def _upload(request: HttpRequest, name: str) -> ev.Upload | None:
    f = request.FILES.get(name)
    if f is None:
        return None
    return ev.Upload(f.name or "", f.read(ev.FILE_MAX_BYTES + 1))


def _by_group(indicators: list[Any], values: dict[int, Any] | None = None) -> list[Any]:
    values = values or {}
    groups = []
    for value, label in IndicatorGroup.choices:
        rows = [(i, values.get(i.pk)) for i in indicators if i.group == value]
        groups.append((value, label, rows, sum(i.max_points for i, _v in rows)))
    return groups


def _process(evaluation: Evaluation) -> dict[str, Any]:
    """What every page of one evaluation shows: rubric with both scores, projects, timeline."""
    indicators = ev.rubric_of(evaluation.season)
    scores = {s.indicator_id: s for s in evaluation.scores.all()}
    selfs = {s.indicator_id: s for s in evaluation.self_scores.all()}
    return {
        "evaluation": evaluation, "indicators": indicators,
        "rows": [(i, selfs.get(i.pk), scores.get(i.pk)) for i in indicators],
        "groups": _by_group(indicators),
        "scored_total": sum(s.points for s in scores.values()),
        "projects": ev.projects_of(evaluation), "today": timezone.localdate(),
        "rectifications": list(evaluation.rectifications.order_by("id")),
        "timeline": list(ev.timeline(evaluation)),
        "problems": ev.problem_texts(ev.eligibility_problems(evaluation.association,
                                                          evaluation.season)),
        "evaluators": list(evaluation.assignments.select_related("evaluator")),
    }


# --- console -------------------------------------------------------------------------------------

@scoped(Perm.EVALUATION_MANAGE)
def console(request: HttpRequest) -> HttpResponse:
    """Seasons of the chosen region's subtree; one season's evaluations with their actions."""
    state = console_state(request)
    here = subtree_q(state.region.path, "region")
    seasons = list(ev.seasons_in_scope(state.access).filter(here)
                   .order_by("-year", "region__code")[:100])
    chosen = next((s for s in seasons if s.pk == _int(request.GET.get("season"))),
                  seasons[0] if seasons else None)
    rows: list[Evaluation] = []
    if chosen is not None:
        qs = ev.evaluations_in_scope(state.access).filter(season=chosen)
        status = request.GET.get("status", "")
        if status in EvaluationStatus.values:
            qs = qs.filter(status=status)
        rows = list(qs.prefetch_related("assignments__evaluator")
                    .order_by("association__name", "id")[:500])
    evaluators = (list(ev.evaluators_for(chosen.region)[:200]) if chosen is not None else [])
    return _render(request, "associations/evaluation/console.html", state, SECTION,
                   seasons=seasons, season=chosen, evaluations=rows, evaluators=evaluators,
                   statuses=EvaluationStatus.choices, status=request.GET.get("status", ""),
                   can_open=state.access.can(Perm.EVALUATION_MANAGE, state.region),
                   year=timezone.localdate().year,
                   overdue=list(ev.overdue(ev.rectifications_in_scope(state.access))
                                .order_by("due_on")[:50]))


@scoped(Perm.EVALUATION_MANAGE)
@require_POST
def console_season(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    close = _int(request.POST.get("close"))
    if close is not None:
        ev.close_season(actor=state.access, season_id=close, request=request)
        messages.info(request, _("The season is closed."))
        return HttpResponseRedirect(reverse("associations:evaluation_console"))
    made = ev.open_season(
        actor=state.access, region_id=state.region.pk,
        year=_int(request.POST.get("year")) or 0, title=request.POST.get("title", ""),
        applications_open_on=_date(request.POST.get("applications_open_on"),
                                   "applications_open_on"),
        applications_close_on=_date(request.POST.get("applications_close_on"),
                                    "applications_close_on"), request=request)
    messages.success(request, _("The season is open; check its rubric."))
    return HttpResponseRedirect(reverse("associations:season_rubric", args=[made.pk]))


@scoped(Perm.EVALUATION_MANAGE)
def rubric(request: HttpRequest, season_id: int) -> HttpResponse:
    """The rubric editor: one row per indicator (blank rows are dropped), saved as a whole."""
    state = console_state(request)
    season = ev.get_season(state.access, season_id)
    if request.method == "POST":
        specs = []
        P = request.POST
        for group, code, name, points in zip(P.getlist("group"), P.getlist("code"),
                                             P.getlist("name"), P.getlist("max_points"),
                                             strict=False):
            if not (code.strip() or name.strip()):
                continue
            specs.append(ev.IndicatorSpec(group, code, name, _int(points) or 0))
        ev.set_rubric(actor=state.access, season_id=season.pk, indicators=specs,
                      request=request)
        messages.success(request, _("The rubric is saved."))
        return HttpResponseRedirect(reverse("associations:season_rubric", args=[season.pk]))
    indicators = ev.rubric_of(season)
    return _render(request, "associations/evaluation/rubric.html", state, SECTION,
                   season=season, indicators=indicators, spare=range(RUBRIC_ROWS_SPARE),
                   groups=IndicatorGroup.choices, total=sum(i.max_points for i in indicators),
                   locked=season.scoring_started_at is not None or season.status == "closed",
                   by_group=_by_group(indicators))


@scoped(Perm.EVALUATION_MANAGE)
def console_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    state = console_state(request)
    found = ev.get_managed(state.access, evaluation_id)
    return _render(request, "associations/evaluation/console_detail.html", state, SECTION,
                   evaluators_available=list(ev.evaluators_for(found.association.region)[:200]),
                   **_process(found))


@scoped(Perm.EVALUATION_MANAGE)
@require_POST
def console_action(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    state = console_state(request)
    actor, action, note = state.access, request.POST.get("action", ""), request.POST.get(
        "note", "")
    if action in ("approve", "refuse"):
        ev.check_eligibility(actor=actor, evaluation_id=evaluation_id,
                             approve=action == "approve", note=note, request=request)
    elif action == "assign":
        ev.assign(actor=actor, evaluation_id=evaluation_id,
                  evaluator_id=_int(request.POST.get("evaluator_id")) or 0, request=request)
    elif action == "return":
        ev.return_to_evaluators(actor=actor, evaluation_id=evaluation_id, note=note,
                                request=request)
    elif action == "finalise":
        ev.finalise(actor=actor, evaluation_id=evaluation_id, note=note, request=request)
    elif action == "publish":
        ev.publish(actor=actor, evaluation_id=evaluation_id, request=request)
    elif action == "rectify":
        ev.request_rectification(actor=actor, evaluation_id=evaluation_id,
                                 text=request.POST.get("text", ""),
                                 due_on=_date(request.POST.get("due_on"), "due_on"),
                                 request=request)
    else:
        raise InvalidInput()
    messages.success(request, _("Saved."))
    if request.POST.get("back") == "list":
        found = Evaluation.objects.only("season_id").get(pk=evaluation_id)
        return HttpResponseRedirect(reverse("associations:evaluation_console")
                                    + f"?season={found.season_id}")
    return HttpResponseRedirect(reverse("associations:evaluation_console_detail",
                                        args=[evaluation_id]))


# --- the evaluator's workspace -------------------------------------------------------------------

@scoped(Perm.EVALUATION_SCORE)
def workspace(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    rows = list(ev.assigned_to(state.access).order_by("status", "association__name")[:500])
    return _render(request, "associations/evaluation/workspace.html", state, SECTION,
                   evaluations=rows,
                   answered=list(Rectification.objects.filter(
                       evaluation__in=ev.assigned_to(state.access),
                       status=RectificationStatus.ANSWERED).select_related(
                       "evaluation__association").order_by("answered_at")[:100]))


@scoped(Perm.EVALUATION_SCORE)
def evaluator_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    state = console_state(request)
    found = ev.get_assigned(state.access, evaluation_id)
    return _render(request, "associations/evaluation/evaluator_detail.html", state, SECTION,
                   can_score=found.status in ev.SCORING, **_process(found))


@scoped(Perm.EVALUATION_SCORE)
@require_POST
def evaluator_action(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    state = console_state(request)
    action = request.POST.get("action", "")
    if action == "score":
        ev.score(actor=state.access, evaluation_id=evaluation_id,
                 indicator_id=_int(request.POST.get("indicator_id")) or 0,
                 points=_int(request.POST.get("points")) or 0,
                 note=request.POST.get("note", ""), evidence=_upload(request, "evidence"),
                 request=request)
    elif action == "submit":
        ev.submit(actor=state.access, evaluation_id=evaluation_id, request=request)
    elif action in ("accept", "send_back"):
        ev.recheck(actor=state.access, rectification_id=_int(request.POST.get("rectification"))
                   or 0, accept=action == "accept", note=request.POST.get("note", ""),
                   request=request)
    else:
        raise InvalidInput()
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("associations:evaluator_evaluation",
                                        args=[evaluation_id]))


# --- the association's managers ------------------------------------------------------------------

@for_self
def mine(request: HttpRequest) -> HttpResponse:
    """My associations: their grade, the seasons they may enter, their evaluations."""
    from sportsman.associations import board

    associations = list(managed_by(request.user).select_related("region").order_by("name")[:50])
    cards = [(a, list(ev.open_seasons_for(a)),
              list(a.evaluations.select_related("season").order_by("-season__year")[:10]))
             for a in associations]
    return render(request, "associations/evaluation/mine.html", {
        "cards": cards,
        "pending_notices": board.inbox_for(request.user).filter(acknowledged_at=None).count()})


@for_self
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    made = ev.start(actor=request.user, association_id=_int(request.POST.get("association")) or 0,
                    season_id=_int(request.POST.get("season")) or 0, request=request)
    messages.success(request, _("Entered: self-assess each indicator, then apply."))
    return HttpResponseRedirect(reverse("associations:my_evaluation", args=[made.pk]))


@for_self
def my_evaluation(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    found = ev.get_own(request.user, evaluation_id)
    return render(request, "associations/evaluation/my_evaluation.html", {
        **_process(found), "can_self_assess": found.status == EvaluationStatus.DRAFT,
        "projects_open": found.status in ev.PROJECTS_OPEN})


@for_self
@require_POST
def my_action(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    action, user, P = request.POST.get("action", ""), request.user, request.POST
    anchor = ""
    if action == "self_assess":
        found = ev.get_own(user, evaluation_id)
        rows = [ev.Points(i.pk, _int(P.get(f"points_{i.pk}")) or 0, P.get(f"note_{i.pk}", ""))
                for i in ev.rubric_of(found.season) if P.get(f"points_{i.pk}", "").strip()]
        ev.self_assess(actor=user, evaluation_id=evaluation_id, scores=rows, request=request)
        anchor = "#self"
    elif action == "apply":
        ev.apply(actor=user, evaluation_id=evaluation_id, request=request)
    elif action == "withdraw":
        ev.withdraw(actor=user, evaluation_id=evaluation_id, request=request)
    elif action == "project":
        milestones = [ev.MilestoneSpec(t, _date(d, "milestones"))
                      for t, d in zip(P.getlist("milestone_title"), P.getlist("milestone_due"),
                                      strict=False) if t.strip()]
        ev.add_project(actor=user, evaluation_id=evaluation_id, title=P.get("title", ""),
                       description=P.get("description", ""),
                       starts_on=_date(P.get("starts_on"), "starts_on"),
                       ends_on=_date(P.get("ends_on"), "ends_on"), milestones=milestones,
                       request=request)
        anchor = "#projects"
    elif action == "record":
        files = [ev.Upload(f.name or "", f.read(ev.FILE_MAX_BYTES + 1))
                 for f in request.FILES.getlist("files")]
        ev.add_record(actor=user, project_id=_int(P.get("project")) or 0, text=P.get("text", ""),
                      milestone_id=_int(P.get("milestone")), files=files,
                      milestone_done=P.get("milestone_done") == "1", request=request)
        anchor = "#projects"
    elif action == "answer":
        ev.answer_rectification(actor=user, rectification_id=_int(P.get("rectification")) or 0,
                                text=P.get("text", ""), request=request)
        anchor = "#rectification"
    else:
        raise InvalidInput()
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("associations:my_evaluation", args=[evaluation_id])
                                + anchor)


urlpatterns: list[URLPattern] = [
    path("console/evaluation/", console, name="evaluation_console"),
    path("console/evaluation/seasons/", console_season, name="evaluation_console_season"),
    path("console/evaluation/seasons/<int:season_id>/rubric/", rubric, name="season_rubric"),
    path("console/evaluation/<int:evaluation_id>/", console_detail,
         name="evaluation_console_detail"),
    path("console/evaluation/<int:evaluation_id>/do/", console_action,
         name="evaluation_console_action"),
    path("evaluator/", workspace, name="evaluator_workspace"),
    path("evaluator/<int:evaluation_id>/", evaluator_detail, name="evaluator_evaluation"),
    path("evaluator/<int:evaluation_id>/do/", evaluator_action, name="evaluator_action"),
    path("evaluation/", mine, name="my_evaluations"),
    path("evaluation/start/", start, name="evaluation_start"),
    path("evaluation/<int:evaluation_id>/", my_evaluation, name="my_evaluation"),
    path("evaluation/<int:evaluation_id>/do/", my_action, name="my_evaluation_action"),
]
