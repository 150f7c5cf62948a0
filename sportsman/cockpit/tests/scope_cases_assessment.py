"""Scope-matrix cases of the index and assessment API (collected by tests/test_scope_matrix.py),
and the builders the assessment tests share.

The assessment is town t1's, scoring its communities k1 and k2. Assessing (create, score, items,
recompute, publish, correct, a draft's detail, the list of what t1 made) is cast at town level:
t1's administrator and d1's (above it) may; k1's community administrator and the sibling town
t2's may not. A *published* assessment is also seen by the administrators of a subunit it
scores: k1's (the "child") sees it and finds it among the assessments received by k1; t2's
still does not. The index configuration is cast at city level (city staff only).

The constructed figures (``FIGURES``), checked by hand in test_assessment.py, on one day of the
current month:

=========  ===========  ==========  =======  ========
community  residents    active 30d  regular  minutes
=========  ===========  ==========  =======  ========
k1 (t1)    100          50          20       3000
k2 (t1)    200          40          100      2000
k3 (t2)    100          10          10       1000
k4 (t3)    100          30          30       1500
=========  ===========  ==========  =======  ========
"""

from __future__ import annotations

from decimal import Decimal

from tests.scope import CITY_LEVEL, Case, ids

FIGURES = {
    "k1": {"residents_registered": 100, "residents_active_30d": 50, "regular_exercisers": 20,
           "exercise_minutes": 3000},
    "k2": {"residents_registered": 200, "residents_active_30d": 40, "regular_exercisers": 100,
           "exercise_minutes": 2000},
    "k3": {"residents_registered": 100, "residents_active_30d": 10, "regular_exercisers": 10,
           "exercise_minutes": 1000},
    "k4": {"residents_registered": 100, "residents_active_30d": 30, "regular_exercisers": 30,
           "exercise_minutes": 1500},
}

# active share 50, minutes per resident 30, regular share 20 against a 40 % target.
INDICATORS = [
    {"figure": "active_share_30d", "weight": 5},
    {"figure": "exercise_minutes_per_resident", "weight": 3},
    {"figure": "regular_share", "weight": 2, "normalisation": "target", "target": "40"},
]


def put_figures(tree, figures=None, day=None) -> None:
    """``figures`` (default ``FIGURES``) as tallies of the tree's communities on ``day``
    (default today), every metric computed through that day."""
    from django.utils import timezone

    from sportsman.cockpit import tallies
    from sportsman.cockpit.models import Tally, Watermark

    day = day or timezone.localdate()
    figures = figures or FIGURES
    for name, values in figures.items():
        for metric, value in values.items():
            Tally.objects.update_or_create(region=getattr(tree, name), day=day, metric=metric,
                                           defaults={"value": value})
    for metric in {m for values in figures.values() for m in values}:
        Watermark.objects.update_or_create(metric=metric, defaults={"through": day})
    tallies.roll_up_months()


def configure(tree, indicators=None):
    """The city's index configuration, saved by its administrator."""
    from sportsman.cockpit import index
    from sportsman.regions.access import access_for_user

    return index.save_config(actor=access_for_user(tree.city_admin), city=tree.city,
                             indicators=[index.IndicatorInput(**i)
                                         for i in (INDICATORS if indicators is None
                                                   else indicators)])


def this_month():
    from django.utils import timezone

    from sportsman.cockpit import periods

    return periods.period_containing(periods.Grain.MONTH, timezone.localdate())


def t1_assessment(tree, *, manual=(("组织保障", 10),), scored=None, published=False,
                  by=None):
    """Town t1's assessment of k1 and k2 for this month, with the figures and the city's
    configuration in place; ``scored`` {community name: points} on the first manual item."""
    from sportsman.cockpit import assessment as svc
    from sportsman.regions.access import access_for_user

    put_figures(tree)
    configure(tree)
    actor = access_for_user(by or tree.town_admin)
    a = svc.create_assessment(actor=actor, region=tree.t1, period=this_month(),
                              manual_items=[svc.ManualItem(n, m) for n, m in manual])
    if published and scored is None:
        scored = {"k1": 8, "k2": 6}
    if scored:
        item = a.items.get(kind="manual", name=manual[0][0])
        svc.enter_scores(actor=actor, assessment_id=a.pk, scores=[
            svc.ScoreInput(getattr(tree, k).pk, item.pk, p) for k, p in scored.items()])
    if published:
        a = svc.publish(actor=actor, assessment_id=a.pk)
    return a


def _draft(tree):
    return {"a": t1_assessment(tree)}


def _published(tree):
    return {"a": t1_assessment(tree, published=True)}


def _scoreable(tree):
    a = t1_assessment(tree)
    return {"a": a, "item": a.items.get(kind="manual")}


def _stale(tree):
    a = t1_assessment(tree)
    type(a).objects.filter(pk=a.pk).update(computed_at=None)
    return {"a": a}


def _ready(tree):
    return {"a": t1_assessment(tree, scored={"k1": 8, "k2": 6})}


def _figures_only(tree):
    put_figures(tree)
    configure(tree)
    return {"period": this_month().key}


def _configured(tree):
    return {"config": configure(tree)}


def _status(state) -> str:
    return type(state["a"]).objects.get(pk=state["a"].pk).status


def _k1_points(tree, state):
    from sportsman.cockpit.models.assessment import ItemScore

    cell = ItemScore.objects.get(item=state["item"], entry__region=tree.k1)
    return cell.points == Decimal("7.50")


CASES: list[Case] = [
    Case("assessment.list made by t1 (sees its draft)", op="GET /cockpit/{region_code}/assessments",
         setup=_draft,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.t1.code}/assessments"),
         sees=lambda r, t, s: r.status_code == 200 and s["a"].pk in ids(r)),
    Case("assessment.list received by k1 (sees t1's published one)",
         op="GET /cockpit/{region_code}/assessments", setup=_published,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.k1.code}/assessments?scope=received"),
         sees=lambda r, t, s: r.status_code == 200 and s["a"].pk in ids(r),
         allowed={"right", "parent", "child"}),
    Case("assessment.create for t1", op="POST /cockpit/{region_code}/assessments",
         setup=_figures_only,
         call=lambda c, t, s: c.json("post", f"/api/v1/cockpit/{t.t1.code}/assessments",
                                     {"period": s["period"]}),
         changed=lambda t, s: _assessments_of(t.t1) == 1),
    Case("assessment.detail of t1's draft", op="GET /cockpit/assessments/{assessment_id}",
         setup=_draft,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/assessments/{s['a'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["a"].pk),
    Case("assessment.detail of t1's published one (k1 scored in it)",
         op="GET /cockpit/assessments/{assessment_id}", setup=_published,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/assessments/{s['a'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["a"].pk,
         allowed={"right", "parent", "child"}),
    Case("assessment.items of t1's draft", op="PUT /cockpit/assessments/{assessment_id}/items",
         setup=_draft,
         call=lambda c, t, s: c.json("put", f"/api/v1/cockpit/assessments/{s['a'].pk}/items",
                                     {"manual_items": [{"name": "组织保障", "max_score": 10},
                                                       {"name": "宣传推广", "max_score": 5}]}),
         changed=lambda t, s: s["a"].items.filter(name="宣传推广").exists()),
    Case("assessment.scores of t1's draft", op="PUT /cockpit/assessments/{assessment_id}/scores",
         setup=_scoreable,
         call=lambda c, t, s: c.json(
             "put", f"/api/v1/cockpit/assessments/{s['a'].pk}/scores",
             {"scores": [{"region": t.k1.code, "item": s["item"].pk, "points": "7.5"}]}),
         changed=_k1_points),
    Case("assessment.recompute of t1's draft",
         op="POST /cockpit/assessments/{assessment_id}/recompute", setup=_stale,
         call=lambda c, t, s: c.post(f"/api/v1/cockpit/assessments/{s['a'].pk}/recompute"),
         changed=lambda t, s: type(s["a"]).objects.get(pk=s["a"].pk).computed_at is not None),
    Case("assessment.publish of t1's draft",
         op="POST /cockpit/assessments/{assessment_id}/publish", setup=_ready,
         call=lambda c, t, s: c.post(f"/api/v1/cockpit/assessments/{s['a'].pk}/publish"),
         changed=lambda t, s: _status(s) == "published"),
    Case("assessment.revise t1's published one",
         op="POST /cockpit/assessments/{assessment_id}/revise", setup=_published,
         call=lambda c, t, s: c.json("post", f"/api/v1/cockpit/assessments/{s['a'].pk}/revise",
                                     {"reason": "数据更正"}),
         changed=lambda t, s: type(s["a"]).objects.filter(supersedes=s["a"]).exists()),
    Case("index of t1", op="GET /cockpit/{region_code}/index", setup=_figures_only,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.t1.code}/index?period={s['period']}"),
         sees=lambda r, t, s: (r.status_code == 200 and r.json()["region"]["code"] == t.t1.code
                               and r.json()["index"] == 100.0)),
    Case("index-config of the city", op="GET /cockpit/{region_code}/index-config",
         setup=_configured,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.city.code}/index-config"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["version"] == 1,
         cast=CITY_LEVEL),
    Case("index-config of the city, saved", op="PUT /cockpit/{region_code}/index-config",
         setup=_configured,
         call=lambda c, t, s: c.json("put", f"/api/v1/cockpit/{t.city.code}/index-config",
                                     {"indicators": [{"figure": "active_share_30d",
                                                      "weight": 1}]}),
         changed=lambda t, s: type(s["config"]).objects.filter(city=t.city, version=2).exists(),
         cast=CITY_LEVEL),
]


def _assessments_of(region) -> int:
    from sportsman.cockpit.models.assessment import Assessment

    return Assessment.objects.filter(region=region).count()
