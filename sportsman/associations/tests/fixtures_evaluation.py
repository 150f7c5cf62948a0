"""Builders for evaluation and board tests: a registered association in community k2 (town t1,
district d1) with a manager, a season of d1 opened by d1's staff, an evaluator over the city,
and an evaluation brought to any status the real way (through the services)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sportsman.associations import evaluation as ev
from sportsman.associations.models import (
    Association,
    AssociationMember,
    Evaluation,
    EvaluationSeason,
)
from sportsman.regions.models import RoleAssignment


def make_association(tree: Any, *, region: Any = None, name: str = "新南社区篮球协会",
                     years: int = 3, legal_status: str = "registered", kind: str = "sport",
                     manager: Any = None) -> Association:
    association = Association.objects.create(
        name=name, region=region or tree.k2, legal_status=legal_status, kind=kind,
        founded_on=timezone.localdate() - dt.timedelta(days=366 * years))
    manager = manager or tree.user(home_community=tree.k2, nickname="会长")
    AssociationMember.objects.create(association=association, user=manager, name="会长",
                                     manages=True)
    return association


def manager_of(association: Association) -> Any:
    return association.memberships.filter(manages=True).select_related("user").order_by(
        "id")[0].user


def evaluator(tree: Any, region: Any = None, nickname: str = "评估员") -> Any:
    user = tree.user(nickname=nickname)
    RoleAssignment.objects.create(user=user, role="evaluator", region=region or tree.city)
    return user


def make_season(tree: Any, *, region: Any = None, year: int | None = None,
                actor: Any = None) -> EvaluationSeason:
    today = timezone.localdate()
    return ev.open_season(actor=actor or tree.district_admin, region_id=(region or tree.d1).pk,
                          year=year or today.year, title="南湖区体育社会组织等级评估",
                          applications_open_on=today - dt.timedelta(days=10),
                          applications_close_on=today + dt.timedelta(days=20))


def full_marks(season: EvaluationSeason, share: float = 1.0) -> list[ev.Points]:
    return [ev.Points(i.pk, int(i.max_points * share)) for i in ev.rubric_of(season)]


def scores_summing_to(season: EvaluationSeason, total: int) -> list[ev.Points]:
    """Points per indicator adding up to exactly ``total`` (≤ 1000)."""
    left = total
    out = []
    for i in ev.rubric_of(season):
        take = min(i.max_points, left)
        out.append(ev.Points(i.pk, take))
        left -= take
    return out


def evaluation_at(tree: Any, status: str, *, association: Association | None = None,
                  season: EvaluationSeason | None = None, who: Any = None,
                  total: int = 930) -> Evaluation:
    """An evaluation brought to ``status`` by the services (staff: d1's district admin)."""
    association = association or make_association(tree)
    season = season or make_season(tree)
    who = who or evaluator(tree)
    manager = manager_of(association)
    staff = tree.district_admin
    e = ev.start(actor=manager, association_id=association.pk, season_id=season.pk)
    ev.self_assess(actor=manager, evaluation_id=e.pk, scores=full_marks(season, 0.95))
    if status == "draft":
        return _fresh(e)
    if status == "withdrawn":
        return ev.withdraw(actor=manager, evaluation_id=e.pk)
    ev.apply(actor=manager, evaluation_id=e.pk)
    if status == "applied":
        return _fresh(e)
    if status == "ineligible":
        return ev.check_eligibility(actor=staff, evaluation_id=e.pk, approve=False, note="材料不全")
    ev.check_eligibility(actor=staff, evaluation_id=e.pk, approve=True)
    if status == "eligible":
        return _fresh(e)
    ev.assign(actor=staff, evaluation_id=e.pk, evaluator_id=who.pk)
    if status == "under_review":
        return _fresh(e)
    for row in scores_summing_to(season, total):
        ev.score(actor=who, evaluation_id=e.pk, indicator_id=row.indicator_id, points=row.points,
                 note="现场查看")
    ev.submit(actor=who, evaluation_id=e.pk)
    if status == "scored":
        return _fresh(e)
    ev.finalise(actor=staff, evaluation_id=e.pk)
    if status == "finalised":
        return _fresh(e)
    ev.publish(actor=staff, evaluation_id=e.pk)
    assert status == "published", status
    return _fresh(e)


def _fresh(e: Evaluation) -> Evaluation:
    return Evaluation.objects.select_related("association__region", "season__region").get(
        pk=e.pk)


def assigned_evaluator(e: Evaluation) -> Any:
    return e.assignments.select_related("evaluator").order_by("id")[0].evaluator
