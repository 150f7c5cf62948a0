"""Scope-matrix cases of the evaluation's staff and evaluator operations (collected by
tests/test_scope_matrix.py). The association lies in community k2 (town t1, district d1); the
season is d1's, run by d1's staff and the city's.

Evaluator operations use their own cast: the assigned evaluator (right); an evaluator over the
whole city who is not assigned (parent); an evaluator assigned once but whose grant is in
another district (child: outside their subtree); another city's staff (sibling)."""

from __future__ import annotations

import datetime as dt

from tests.scope import Case, ids

DISTRICT_LEVEL = {"right": "district_admin", "parent": "city_admin", "child": "town_admin",
                  "sibling": "sibling_district_admin", "resident": "resident", "anonymous": None}
EVALUATOR_CAST = {"right": "eval_assigned", "parent": "eval_unassigned",
                  "child": "eval_elsewhere", "sibling": "other_city_admin",
                  "resident": "resident", "anonymous": None}


def _at(status):
    def setup(tree):
        from sportsman.associations.tests.fixtures_evaluation import evaluation_at

        return {"evaluation": evaluation_at(tree, status)}
    return setup


def _season(tree):
    from sportsman.associations.tests.fixtures_evaluation import make_season

    return {"season": make_season(tree)}


def _with_evaluators(status):
    """An evaluation at ``status`` and the evaluator cast put on the tree."""
    def setup(tree):
        from sportsman.associations.models import EvaluatorAssignment
        from sportsman.associations.tests.fixtures_evaluation import (
            assigned_evaluator,
            evaluation_at,
            evaluator,
        )

        e = evaluation_at(tree, status)
        tree.eval_assigned = assigned_evaluator(e)
        tree.eval_unassigned = evaluator(tree, nickname="未分配评估员")
        tree.eval_elsewhere = evaluator(tree, region=tree.d2, nickname="秀洲评估员")
        EvaluatorAssignment.objects.create(evaluation=e, evaluator=tree.eval_elsewhere)
        return {"evaluation": e}
    return setup


def _answered(tree):
    from sportsman.associations import evaluation as ev
    from sportsman.associations.tests.fixtures_evaluation import manager_of

    state = _with_evaluators("scored")(tree)
    e = state["evaluation"]
    from django.utils import timezone

    r = ev.request_rectification(actor=tree.district_admin, evaluation_id=e.pk, text="整改",
                                 due_on=timezone.localdate() + dt.timedelta(days=5))
    ev.answer_rectification(actor=manager_of(e.association), rectification_id=r.pk, text="已改")
    return {**state, "rectification": r}


def _open_rectification(tree):
    from django.utils import timezone

    from sportsman.associations import evaluation as ev

    state = _at("scored")(tree)
    r = ev.request_rectification(actor=tree.district_admin, evaluation_id=state[
        "evaluation"].pk, text="整改", due_on=timezone.localdate() + dt.timedelta(days=5))
    return {**state, "rectification": r}


def _status(status):
    def changed(tree, state) -> bool:
        state["evaluation"].refresh_from_db()
        return state["evaluation"].status == status
    return changed


def _assign_body(tree, state):
    from sportsman.associations.tests.fixtures_evaluation import evaluator

    return {"evaluator_id": evaluator(tree, nickname="矩阵评估员").pk}


def _rubric_body(state) -> dict:
    return {"indicators": [
        {"group": "basic", "code": "A", "name": "基础", "max_points": 250},
        {"group": "governance", "code": "B", "name": "治理", "max_points": 250},
        {"group": "performance", "code": "C", "name": "绩效", "max_points": 250},
        {"group": "reputation", "code": "D", "name": "评价", "max_points": 250}]}


def _rubric_changed(tree, state) -> bool:
    return list(state["season"].indicators.values_list("code", flat=True)) == ["A", "B", "C",
                                                                              "D"]


def _season_made(tree, state) -> bool:
    from sportsman.associations.models import EvaluationSeason

    return EvaluationSeason.objects.filter(region=tree.d1, year=2031).exists()


def _closed(tree, state) -> bool:
    state["season"].refresh_from_db()
    return state["season"].status == "closed"


def _scored(tree, state) -> bool:
    return state["evaluation"].scores.filter(points=7, note="矩阵").exists()


def _rechecked(tree, state) -> bool:
    state["rectification"].refresh_from_db()
    return state["rectification"].status == "closed"


def _rectified(tree, state) -> bool:
    return state["evaluation"].rectifications.filter(request="矩阵整改").exists()


def _first_indicator(state) -> int:
    return state["evaluation"].season.indicators.order_by("position").first().pk


def _one(r, key, value) -> bool:
    return r.status_code == 200 and r.json()[key] == value


def _complete_sheet(tree):
    """Under review, every indicator scored: only the submission remains."""
    from sportsman.associations import evaluation as ev
    from sportsman.associations.tests.fixtures_evaluation import scores_summing_to

    state = _with_evaluators("under_review")(tree)
    e = state["evaluation"]
    for row in scores_summing_to(e.season, 920):
        ev.score(actor=tree.eval_assigned, evaluation_id=e.pk, indicator_id=row.indicator_id,
                 points=row.points)
    return state


CASES: list[Case] = [
    Case("evaluation.seasons (sees d1's)", op="GET /console/evaluation-seasons", setup=_season,
         call=lambda c, t, s: c.get("/api/v1/console/evaluation-seasons"),
         sees=lambda r, t, s: r.status_code == 200 and s["season"].pk in ids(r),
         cast=DISTRICT_LEVEL),
    Case("evaluation.open a season for d1", op="POST /console/evaluation-seasons",
         call=lambda c, t, s: c.json("post", "/api/v1/console/evaluation-seasons", {
             "region_id": t.d1.pk, "year": 2031, "title": "矩阵评估",
             "applications_open_on": "2031-03-01", "applications_close_on": "2031-04-30"}),
         changed=_season_made, cast=DISTRICT_LEVEL),
    Case("evaluation.season detail", op="GET /console/evaluation-seasons/{season_id}",
         setup=_season,
         call=lambda c, t, s: c.get(f"/api/v1/console/evaluation-seasons/{s['season'].pk}"),
         sees=lambda r, t, s: _one(r, "id", s["season"].pk), cast=DISTRICT_LEVEL),
    Case("evaluation.edit the rubric", op="PUT /console/evaluation-seasons/{season_id}/rubric",
         setup=_season,
         call=lambda c, t, s: c.json("put", f"/api/v1/console/evaluation-seasons/"
                                     f"{s['season'].pk}/rubric", _rubric_body(s)),
         changed=_rubric_changed, cast=DISTRICT_LEVEL),
    Case("evaluation.close a season", op="POST /console/evaluation-seasons/{season_id}/close",
         setup=_season,
         call=lambda c, t, s: c.post(f"/api/v1/console/evaluation-seasons/{s['season'].pk}"
                                     f"/close"),
         changed=_closed, cast=DISTRICT_LEVEL),
    Case("evaluation.list (sees a k2 association's)", op="GET /console/evaluations",
         setup=_at("applied"), call=lambda c, t, s: c.get("/api/v1/console/evaluations"),
         sees=lambda r, t, s: r.status_code == 200 and s["evaluation"].pk in ids(r),
         cast=DISTRICT_LEVEL),
    Case("evaluation.detail", op="GET /console/evaluations/{evaluation_id}",
         setup=_at("applied"),
         call=lambda c, t, s: c.get(f"/api/v1/console/evaluations/{s['evaluation'].pk}"),
         sees=lambda r, t, s: _one(r, "id", s["evaluation"].pk), cast=DISTRICT_LEVEL),
    Case("evaluation.eligibility", op="POST /console/evaluations/{evaluation_id}/eligibility",
         setup=_at("applied"),
         call=lambda c, t, s: c.json("post", f"/api/v1/console/evaluations/"
                                     f"{s['evaluation'].pk}/eligibility", {"approve": True}),
         changed=_status("eligible"), cast=DISTRICT_LEVEL),
    Case("evaluation.assign an evaluator",
         op="POST /console/evaluations/{evaluation_id}/evaluators", setup=_at("eligible"),
         call=lambda c, t, s: c.json("post", f"/api/v1/console/evaluations/"
                                     f"{s['evaluation'].pk}/evaluators", _assign_body(t, s)),
         changed=_status("under_review"), cast=DISTRICT_LEVEL),
    Case("evaluation.return to the evaluators",
         op="POST /console/evaluations/{evaluation_id}/return", setup=_at("scored"),
         call=lambda c, t, s: c.json("post", f"/api/v1/console/evaluations/"
                                     f"{s['evaluation'].pk}/return", {}),
         changed=_status("under_review"), cast=DISTRICT_LEVEL),
    Case("evaluation.finalise", op="POST /console/evaluations/{evaluation_id}/finalise",
         setup=_at("scored"),
         call=lambda c, t, s: c.json("post", f"/api/v1/console/evaluations/"
                                     f"{s['evaluation'].pk}/finalise", {}),
         changed=_status("finalised"), cast=DISTRICT_LEVEL),
    Case("evaluation.publish", op="POST /console/evaluations/{evaluation_id}/publish",
         setup=_at("finalised"),
         call=lambda c, t, s: c.post(f"/api/v1/console/evaluations/{s['evaluation'].pk}"
                                     f"/publish"),
         changed=_status("published"), cast=DISTRICT_LEVEL),
    Case("evaluation.request rectification",
         op="POST /console/evaluations/{evaluation_id}/rectifications", setup=_at("scored"),
         call=lambda c, t, s: c.json("post", f"/api/v1/console/evaluations/"
                                     f"{s['evaluation'].pk}/rectifications", {
                                         "text": "矩阵整改", "due_on": "2099-01-01"}),
         changed=_rectified, cast=DISTRICT_LEVEL),
    Case("evaluation.rectifications (sees a k2 one)", op="GET /console/rectifications",
         setup=_open_rectification,
         call=lambda c, t, s: c.get("/api/v1/console/rectifications"),
         sees=lambda r, t, s: r.status_code == 200 and s["rectification"].pk in ids(r),
         cast=DISTRICT_LEVEL),
    # --- the evaluator's operations ---
    Case("evaluator.assigned (sees it)", op="GET /evaluator/evaluations",
         setup=_with_evaluators("under_review"),
         call=lambda c, t, s: c.get("/api/v1/evaluator/evaluations"),
         sees=lambda r, t, s: r.status_code == 200 and s["evaluation"].pk in ids(r),
         allowed={"right"}, cast=EVALUATOR_CAST),
    Case("evaluator.the process", op="GET /evaluator/evaluations/{evaluation_id}",
         setup=_with_evaluators("under_review"),
         call=lambda c, t, s: c.get(f"/api/v1/evaluator/evaluations/{s['evaluation'].pk}"),
         sees=lambda r, t, s: _one(r, "id", s["evaluation"].pk),
         allowed={"right"}, cast=EVALUATOR_CAST),
    Case("evaluator.score an indicator", op="POST /evaluator/evaluations/{evaluation_id}/scores",
         setup=_with_evaluators("under_review"),
         call=lambda c, t, s: c.post(f"/api/v1/evaluator/evaluations/{s['evaluation'].pk}"
                                     f"/scores", {"indicator_id": _first_indicator(s),
                                                  "points": 7, "note": "矩阵"}),
         changed=_scored, allowed={"right"}, cast=EVALUATOR_CAST),
    Case("evaluator.submit the first rating",
         op="POST /evaluator/evaluations/{evaluation_id}/submit", setup=_complete_sheet,
         call=lambda c, t, s: c.post(f"/api/v1/evaluator/evaluations/{s['evaluation'].pk}"
                                     f"/submit"),
         changed=_status("scored"), allowed={"right"}, cast=EVALUATOR_CAST),
    Case("evaluator.re-check a rectification",
         op="POST /evaluator/rectifications/{rectification_id}/recheck", setup=_answered,
         call=lambda c, t, s: c.json("post", f"/api/v1/evaluator/rectifications/"
                                     f"{s['rectification'].pk}/recheck", {"accept": True}),
         changed=_rechecked, allowed={"right"}, cast=EVALUATOR_CAST),
]
