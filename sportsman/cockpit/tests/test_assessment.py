"""The composite sports index and the assessments' services, checked by hand on the constructed
figures of ``scope_cases_assessment`` (see its table):

- t1 = k1 + k2: 300 residents, 90 active (30 %), 5000 minutes (16.67 per resident), 120 regular
  (40 %); t2 = k3: 10 %, 10 per resident, 10 %;
- the indicators: active share 50 (min–max), minutes per resident 30 (min–max), regular share
  20 against a 40 % target.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from sportsman.cockpit import assessment as svc
from sportsman.cockpit import index, periods, tallies
from sportsman.cockpit.models import Tally, Watermark
from sportsman.cockpit.models.assessment import (
    Assessment,
    AssessmentStatus,
    IndexConfig,
    ItemScore,
)
from sportsman.cockpit.tests.scope_cases_assessment import (
    configure,
    put_figures,
    t1_assessment,
    this_month,
)
from sportsman.core.errors import DomainError, Forbidden, InvalidInput
from sportsman.core.models import AuditEntry
from sportsman.notifications.models import Notification
from sportsman.regions.access import access_for_user
from sportsman.regions.models import Region

pytestmark = pytest.mark.django_db

D = Decimal


def _sheet(a: Assessment) -> dict[str, dict[str, object]]:
    """Per subunit name: each item's points by (English) label, total and rank."""
    with translation.override("en"):
        sheet = svc.score_sheet(a)
        return {row.entry.region.name: {
            **{str(i.label): c.points  # type: ignore[attr-defined]
               for i, c in zip(sheet.items, row.cells, strict=True)},
            "total": row.entry.total, "rank": row.entry.rank} for row in sheet.rows}


def _as(user):
    return access_for_user(user)


# --- the index -----------------------------------------------------------------------------------

def test_shares_min_max_and_target_both_directions():
    class Spec:
        figure, weight, target = "x", 1, D(40)

    higher = Spec()
    higher.direction, higher.normalisation = "higher", "minmax"
    assert index.shares(higher, [10, 20, None, 30]) == [0.0, 0.5, None, 1.0]
    assert index.shares(higher, [7, 7]) == [1.0, 1.0]  # nobody ahead of anybody
    lower = Spec()
    lower.direction, lower.normalisation = "lower", "minmax"
    assert index.shares(lower, [10, 20, 30]) == [1.0, 0.5, 0.0]
    target = Spec()
    target.direction, target.normalisation = "higher", "target"
    assert index.shares(target, [20, 40, 60]) == [0.5, 1.0, 1.0]
    below = Spec()
    below.direction, below.normalisation = "lower", "target"
    assert index.shares(below, [20, 40, 80]) == [1.0, 1.0, 0.5]
    assert index.shares(higher, [None, None]) == [None, None]


def test_competition_ranks_share_a_rank_and_skip():
    assert index.competition_ranks([D(5), D(9), D(5), D(3)]) == [2, 1, 2, 4]
    assert index.competition_ranks([D(5), D(5), D(3)]) == [1, 1, 3]
    assert index.competition_ranks([1.0, None]) == [1, None]


def test_index_of_a_town_is_its_place_among_its_district_towns(tree):
    put_figures(tree)
    configure(tree)
    period = this_month()

    t1, t2 = index.index_of(tree.t1, period), index.index_of(tree.t2, period)

    # t1 leads on both min–max indicators and meets the 40 % target: 50 + 30 + 20.
    assert t1 is not None and t1.index == 100.0 and t1.rank == 1
    assert [(p.figure, p.value, p.share, p.points) for p in t1.parts] == [
        ("active_share_30d", 30.0, 1.0, 50.0),
        ("exercise_minutes_per_resident", 16.6667, 1.0, 30.0),
        ("regular_share", 40.0, 1.0, 20.0)]
    # t2 is last on both and has 10 % of the 40 % target: 20 × 0.25.
    assert t2 is not None and t2.index == 5.0 and t2.rank == 2
    ranked = index.children_index(tree.d1, period)
    assert [(ln.region.pk, ln.index, ln.rank) for ln in ranked] == [(tree.t1.pk, 100.0, 1),
                                                                    (tree.t2.pk, 5.0, 2)]


def test_the_city_is_placed_within_the_range_of_its_districts(tree):
    put_figures(tree)
    configure(tree)

    line = index.index_of(tree.city, this_month())

    # city 26 % active between d1's 25 % and d2's 30 % → 0.2; minutes 15 everywhere → 1;
    # regular 32 % of 40 % → 0.8: 50 × 0.2 + 30 + 20 × 0.8.
    assert line is not None and line.index == 56.0 and line.rank is None


def test_an_indicator_without_data_anywhere_is_left_out_and_the_rest_scaled(tree):
    put_figures(tree)
    configure(tree, [{"figure": "active_share_30d", "weight": 1},
                     {"figure": "tickets_on_time_rate", "weight": 1}])

    line = index.index_of(tree.t2, this_month())

    assert line is not None and line.index == 0.0  # last on the only indicator with data
    assert [(p.figure, p.points) for p in line.parts] == [("active_share_30d", 0.0),
                                                          ("tickets_on_time_rate", None)]
    assert index.index_of(tree.t1, this_month()).index == 100.0  # type: ignore[union-attr]


def test_no_configuration_no_index(tree):
    put_figures(tree)
    assert index.index_of(tree.t1, this_month()) is None
    p = index.panel(tree.t1, this_month())
    assert p.config is None and index.panel_dict(p)["configured"] is False


def test_the_panel_gives_the_region_and_its_children(tree):
    put_figures(tree)
    configure(tree)

    data = index.panel_dict(index.panel(tree.d1, this_month()))

    # d1 (25 % active, 32.5 % regular) trails d2 (30 %, 30 %): 0 + 30 + 20 × 0.8125.
    assert data["configured"] and data["version"] == 1
    assert data["index"] == pytest.approx(46.2, abs=0.051) and data["rank"] == 2
    assert [(c["code"], c["index"], c["rank"]) for c in data["children"]] == [
        (tree.t1.code, 100.0, 1), (tree.t2.code, 5.0, 2)]


# --- the index configuration ---------------------------------------------------------------------

def test_weights_are_scaled_to_100_and_each_save_is_a_new_version(tree):
    first = configure(tree)
    assert [w for w in first.indicators.values_list("weight", flat=True)] == [D(50), D(30),
                                                                             D(20)]
    second = configure(tree, [{"figure": f, "weight": 1} for f in
                              ("active_share_30d", "regular_share", "utilisation")])
    assert second.version == 2
    assert list(second.indicators.values_list("weight", flat=True)) == [D("33.34"), D("33.33"),
                                                                       D("33.33")]
    assert sum(second.indicators.values_list("weight", flat=True)) == D(100)
    assert index.current_config(tree.city) == second
    assert first.indicators.count() == 3  # the old version is kept as it was
    assert AuditEntry.objects.filter(action="index.configure").count() == 2


@pytest.mark.parametrize(("indicators", "field"), [
    ([{"figure": "no_such_figure", "weight": 1}], "indicators.0.figure"),
    ([{"figure": "utilisation", "weight": 1}, {"figure": "utilisation", "weight": 2}],
     "indicators.1.figure"),
    ([{"figure": "utilisation", "weight": 0}], "indicators.0.weight"),
    ([{"figure": "utilisation", "weight": "-3"}], "indicators.0.weight"),
    ([{"figure": "utilisation", "weight": "x"}], "indicators.0.weight"),
    ([{"figure": "utilisation", "weight": 1, "normalisation": "target"}], "indicators.0.target"),
    ([{"figure": "utilisation", "weight": 1, "direction": "sideways"}],
     "indicators.0.direction"),
    ([], "indicators"),
])
def test_a_bad_configuration_is_refused_and_changes_nothing(tree, indicators, field):
    with pytest.raises(InvalidInput) as caught:
        configure(tree, indicators)
    assert caught.value.code == "bad_index_config" and field in caught.value.fields
    assert not IndexConfig.objects.exists()


def test_only_city_staff_configure_the_index(tree):
    with pytest.raises(Forbidden):
        index.save_config(actor=_as(tree.district_admin), city=tree.city,
                          indicators=[index.IndicatorInput("utilisation", 1)])
    with pytest.raises(Forbidden):
        index.save_config(actor=_as(tree.other_city_admin), city=tree.city,
                          indicators=[index.IndicatorInput("utilisation", 1)])
    with pytest.raises(InvalidInput):
        index.save_config(actor=_as(tree.city_admin), city=tree.d1,
                          indicators=[index.IndicatorInput("utilisation", 1)])
    assert not IndexConfig.objects.exists()


def test_per_resident_indicators_come_from_the_registry():
    known = index.catalogue()
    assert {"exercise_minutes_per_resident", "facilities_per_1000", "regular_share",
            "exercise_minutes"} <= set(known)
    assert "residents_registered_per_1000" not in known


# --- the score sheet -----------------------------------------------------------------------------

def test_the_score_sheet_is_computed_from_the_figures(tree):
    a = t1_assessment(tree)

    sheet = svc.score_sheet(a)
    # 组织保障 takes 10 of 100; the data items share 90 as 50:30:20.
    assert [(i.kind, i.max_score) for i in sheet.items] == [
        ("data", D(45)), ("data", D(27)), ("data", D(18)), ("manual", D(10))]
    assert sheet.max_total == D(100) and sheet.missing == 2
    assert a.index_version == 1 and a.figures_as_of == timezone.localdate()
    rows = _sheet(a)
    # k1: first on active share (50 %) and minutes (30), 20 % of the 40 % target: 45 + 27 + 9.
    assert rows["花园社区"] == {"share of residents active in 30 days": D(45),
                            "exercise minutes per resident": D(27),
                            "share of regular exercisers": D(9), "组织保障": None,
                            "total": D(81), "rank": 1}
    # k2: last on both (20 %, 10), 50 % ≥ the target: 18.
    assert rows["新南社区"]["total"] == D(18) and rows["新南社区"]["rank"] == 2
    values = {row.entry.region.name: [c.value for c in row.cells[:3]] for row in sheet.rows}
    assert values["花园社区"] == [50.0, 30.0, 20.0]


def test_manual_scores_count_in_the_totals_and_the_ranks(tree):
    a = t1_assessment(tree, scored={"k1": 5, "k2": "9.5"})
    rows = _sheet(a)
    assert (rows["花园社区"]["total"], rows["花园社区"]["rank"]) == (D(86), 1)
    assert (rows["新南社区"]["total"], rows["新南社区"]["rank"]) == (D("27.5"), 2)
    entry = AuditEntry.objects.filter(action="assessment.score").get()
    assert {c["to"] for c in entry.data["changes"]} == {"5", "9.5"}


def test_equal_totals_share_a_rank(tree):
    k9 = Region.objects.create(code="330402009036", edition=2023, name="同分社区",
                               level="community", parent=tree.t1, path="")
    k9.path = f"{tree.t1.path}{k9.pk}/"
    k9.save(update_fields=["path"])
    tree.k9 = k9
    put_figures(tree, {"k9": {"residents_registered": 100, "residents_active_30d": 50,
                              "regular_exercisers": 20, "exercise_minutes": 3000}})

    a = t1_assessment(tree, scored={"k1": 7, "k9": 7, "k2": 10})

    rows = _sheet(a)
    assert rows["花园社区"]["total"] == rows["同分社区"]["total"] == D(88)
    assert [rows[n]["rank"] for n in ("花园社区", "同分社区", "新南社区")] == [1, 1, 3]


def test_a_data_item_nobody_has_data_for_scores_zero_and_is_flagged(tree):
    put_figures(tree)
    configure(tree, [{"figure": "active_share_30d", "weight": 1},
                     {"figure": "tickets_on_time_rate", "weight": 1}])
    a = svc.create_assessment(actor=_as(tree.town_admin), region=tree.t1, period=this_month(),
                              manual_items=[])
    sheet = svc.score_sheet(a)
    assert sheet.no_data == {sheet.items[1].pk}
    assert _sheet(a)["花园社区"]["total"] == D(50) and _sheet(a)["新南社区"]["total"] == D(0)


def test_without_a_configuration_only_manual_items(tree):
    put_figures(tree)
    a = svc.create_assessment(actor=_as(tree.town_admin), region=tree.t1, period=this_month(),
                              manual_items=[svc.ManualItem("组织保障", 30)])
    sheet = svc.score_sheet(a)
    assert a.index_version is None and [i.kind for i in sheet.items] == ["manual"]
    assert sheet.max_total == D(30)


# --- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("items", "field"), [
    ([("", 10)], "manual_items.0.name"),
    ([("组织保障", 10), ("组织保障", 5)], "manual_items.1.name"),
    ([("组织保障", 0)], "manual_items.0.max_score"),
    ([("组织保障", "100.5")], "manual_items.0.max_score"),
    ([("组织保障", "1.005")], "manual_items.0.max_score"),
    ([("组织保障", "x")], "manual_items.0.max_score"),
    ([("甲", 60), ("乙", 40)], "manual_items"),  # nothing left for the data items
    ([(f"项{n}", 1) for n in range(11)], "manual_items"),
    ([("长" * 61, 1)], "manual_items.0.name"),
])
def test_bad_manual_items_are_refused(tree, items, field):
    put_figures(tree)
    configure(tree)
    with pytest.raises(InvalidInput) as caught:
        svc.create_assessment(actor=_as(tree.town_admin), region=tree.t1, period=this_month(),
                              manual_items=[svc.ManualItem(n, m) for n, m in items])
    assert caught.value.code == "bad_manual_items" and field in caught.value.fields
    assert not Assessment.objects.exists()


def test_bad_scores_are_refused_all_together(tree):
    a = t1_assessment(tree)
    item = a.items.get(kind="manual")
    data_item = a.items.filter(kind="data").first()
    assert data_item is not None
    k1, k2, k3 = tree.k1.pk, tree.k2.pk, tree.k3.pk
    bad = [svc.ScoreInput(k1, item.pk, 5),  # fine on its own
           svc.ScoreInput(k2, item.pk, "10.5"),  # above the maximum
           svc.ScoreInput(k1, data_item.pk, 3),  # a data item
           svc.ScoreInput(k3, item.pk, 3),  # not a subunit of t1
           svc.ScoreInput(k2, item.pk, "-1"),  # given twice
           ]
    with pytest.raises(InvalidInput) as caught:
        svc.enter_scores(actor=_as(tree.town_admin), assessment_id=a.pk, scores=bad)
    assert caught.value.code == "bad_scores"
    assert set(caught.value.fields) == {"scores.1.points", "scores.2.item", "scores.3.region",
                                        "scores.4"}
    assert not ItemScore.objects.filter(item=item, points__isnull=False).exists()
    for points in ("-1", "1.001", "abc"):
        with pytest.raises(InvalidInput):
            svc.enter_scores(actor=_as(tree.town_admin), assessment_id=a.pk,
                             scores=[svc.ScoreInput(k1, item.pk, points)])
    with pytest.raises(InvalidInput):
        svc.enter_scores(actor=_as(tree.town_admin), assessment_id=a.pk,
                         scores=[svc.ScoreInput(k1, item.pk, 1, "字" * 201)])
    assert not ItemScore.objects.filter(item=item, points__isnull=False).exists()


def test_a_score_can_be_cleared_and_carries_its_note_and_author(tree):
    a = t1_assessment(tree, scored={"k1": 5})
    item = a.items.get(kind="manual")
    svc.enter_scores(actor=_as(tree.district_admin), assessment_id=a.pk,
                     scores=[svc.ScoreInput(tree.k1.pk, item.pk, "6.25", "材料齐全")])
    cell = ItemScore.objects.get(item=item, entry__region=tree.k1)
    assert (cell.points, cell.note, cell.entered_by) == (D("6.25"), "材料齐全",
                                                         tree.district_admin)
    svc.enter_scores(actor=_as(tree.town_admin), assessment_id=a.pk,
                     scores=[svc.ScoreInput(tree.k1.pk, item.pk, None)])
    assert ItemScore.objects.get(pk=cell.pk).points is None
    assert _sheet(a)["花园社区"]["total"] == D(81)


def test_changing_the_manual_items_keeps_scores_by_name_and_rescales_the_data(tree):
    a = t1_assessment(tree, scored={"k1": 8, "k2": 6})
    svc.set_manual_items(actor=_as(tree.town_admin), assessment_id=a.pk,
                         items=[svc.ManualItem("宣传推广", 10), svc.ManualItem("组织保障", 10)])
    sheet = svc.score_sheet(a)
    assert [(i.label, i.max_score) for i in sheet.items][-2:] == [("宣传推广", D(10)),
                                                                  ("组织保障", D(10))]
    assert [i.max_score for i in sheet.items[:3]] == [D(40), D(24), D(16)]  # 80 as 50:30:20
    rows = _sheet(a)
    assert rows["花园社区"]["组织保障"] == D(8) and rows["花园社区"]["宣传推广"] is None
    assert rows["花园社区"]["total"] == D(40 + 24 + 8 + 8)
    with pytest.raises(InvalidInput) as caught:  # k1 already has 8 on 组织保障
        svc.set_manual_items(actor=_as(tree.town_admin), assessment_id=a.pk,
                             items=[svc.ManualItem("组织保障", 5)])
    assert "manual_items.0.max_score" in caught.value.fields
    svc.set_manual_items(actor=_as(tree.town_admin), assessment_id=a.pk, items=[])
    assert not a.items.filter(kind="manual").exists()
    assert _sheet(a)["花园社区"]["total"] == D(90)
    assert AuditEntry.objects.filter(action="assessment.items").count() == 2


# --- creation ------------------------------------------------------------------------------------

def test_one_assessment_per_region_and_period(tree):
    a = t1_assessment(tree)
    with pytest.raises(svc.AssessmentExists):
        svc.create_assessment(actor=_as(tree.district_admin), region=tree.t1,
                              period=this_month())
    with pytest.raises(IntegrityError), transaction.atomic():  # the database says so too
        Assessment.objects.create(region=tree.t1, grain="month", period=a.period,
                                  starts_on=a.starts_on)
    assert Assessment.objects.count() == 1


def test_who_may_open_an_assessment_and_for_what(tree):
    put_figures(tree)
    month = this_month()
    with pytest.raises(Forbidden):
        svc.create_assessment(actor=_as(tree.sibling_town_admin), region=tree.t1, period=month)
    with pytest.raises(Forbidden):
        svc.create_assessment(actor=_as(tree.community_admin), region=tree.t1, period=month)
    with pytest.raises(InvalidInput) as caught:
        svc.create_assessment(actor=_as(tree.town_admin), region=tree.k1, period=month)
    assert caught.value.code == "not_assessing_level"
    later = periods.period_containing(periods.Grain.MONTH,
                                      month.end + dt.timedelta(days=1))
    if later.start.year == month.start.year:  # December has no later month this year
        with pytest.raises(InvalidInput) as caught:
            svc.create_assessment(actor=_as(tree.town_admin), region=tree.t1, period=later)
        assert caught.value.code == "future_period"
    assert not Assessment.objects.exists()
    made = svc.create_assessment(actor=_as(tree.city_admin), region=tree.d1,
                                 period=periods.period_containing(periods.Grain.YEAR,
                                                                  month.start))
    assert {e.region_id for e in made.entries.all()} == {tree.t1.pk, tree.t2.pk}


def test_a_new_draft_starts_with_the_manual_items_of_the_last_one(tree):
    a = t1_assessment(tree, manual=(("组织保障", 10), ("宣传推广", 5)))
    Assessment.objects.filter(pk=a.pk).update(period="2025-01", starts_on=dt.date(2025, 1, 1))
    b = svc.create_assessment(actor=_as(tree.town_admin), region=tree.t1, period=this_month())
    assert [(i.name, i.max_score) for i in b.items.filter(kind="manual")] == [
        ("组织保障", D(10)), ("宣传推广", D(5))]


def test_an_assessment_keeps_the_configuration_it_was_opened_with(tree):
    a = t1_assessment(tree)
    configure(tree, [{"figure": "utilisation", "weight": 1}])
    svc.recompute(actor=_as(tree.town_admin), assessment_id=a.pk)
    assert [i.figure for i in a.items.filter(kind="data").order_by("position")] == [
        "active_share_30d", "exercise_minutes_per_resident", "regular_share"]
    assert Assessment.objects.get(pk=a.pk).index_version == 1


def test_a_draft_follows_late_figures_when_recomputed(tree):
    a = t1_assessment(tree, scored={"k1": 5, "k2": 5})
    # A late import: k2 had 160 active residents (80 %), not 40.
    Tally.objects.filter(region=tree.k2, metric="residents_active_30d").update(value=160)
    Watermark.objects.get(metric="residents_active_30d").save()  # a refresh happened
    svc.recompute(actor=_as(tree.town_admin), assessment_id=a.pk)
    rows = _sheet(a)
    assert rows["新南社区"]["share of residents active in 30 days"] == D(45)
    assert rows["花园社区"]["share of residents active in 30 days"] == D(0)
    assert rows["新南社区"]["组织保障"] == D(5)  # manual scores kept
    assert AuditEntry.objects.filter(action="assessment.recompute").exists()


# --- publication ---------------------------------------------------------------------------------

def test_publication_waits_for_every_manual_score(tree):
    a = t1_assessment(tree, scored={"k1": 5})
    with pytest.raises(InvalidInput) as caught:
        svc.publish(actor=_as(tree.town_admin), assessment_id=a.pk)
    assert caught.value.code == "scores_missing"
    assert Assessment.objects.get(pk=a.pk).status == AssessmentStatus.DRAFT


def test_a_published_assessment_is_frozen(tree):
    a = t1_assessment(tree, published=True)
    before = list(ItemScore.objects.filter(entry__assessment=a)
                  .order_by("pk").values_list("points", "value", "note"))
    item = a.items.get(kind="manual")
    actor = _as(tree.town_admin)
    Tally.objects.filter(region=tree.k2).update(value=999)
    tallies.roll_up_months()
    Watermark.objects.get(metric="residents_active_30d").save()
    for attempt in (
        lambda: svc.enter_scores(actor=actor, assessment_id=a.pk,
                                 scores=[svc.ScoreInput(tree.k1.pk, item.pk, 1)]),
        lambda: svc.recompute(actor=actor, assessment_id=a.pk),
        lambda: svc.set_manual_items(actor=actor, assessment_id=a.pk, items=[]),
        lambda: svc.publish(actor=actor, assessment_id=a.pk),
    ):
        with pytest.raises(svc.AssessmentState):
            attempt()
    assert svc.recompute_drafts() == 0
    after = list(ItemScore.objects.filter(entry__assessment=a)
                 .order_by("pk").values_list("points", "value", "note"))
    assert after == before
    a = Assessment.objects.get(pk=a.pk)
    assert a.status == "published" and a.published_by == tree.town_admin


def test_publication_tells_each_subunits_own_administrators(tree):
    a = t1_assessment(tree, scored={"k1": 8, "k2": 6}, published=True)
    told = {n.user_id: n for n in Notification.objects.filter(dedupe_key__startswith="assessm")}
    # k1's and k2's community administrators; not the assessors above them.
    assert set(told) == {tree.community_admin.pk, tree.sibling_community_admin.pk}
    k1 = told[tree.community_admin.pk]
    assert k1.data == {"assessment_id": a.pk, "total": "89.00", "rank": 1}
    assert "89.00" in k1.body and k1.link.endswith(f"/assessments/{a.pk}/ranking/")
    assert AuditEntry.objects.filter(action="assessment.publish").count() == 1


def test_a_subunit_sees_the_published_assessment_and_not_the_draft(tree):
    a = t1_assessment(tree)
    with pytest.raises(svc.AssessmentNotFound):
        svc.get_assessment(_as(tree.community_admin), a.pk)
    with pytest.raises(svc.AssessmentNotFound):
        svc.get_assessment(_as(tree.sibling_town_admin), a.pk)
    svc.enter_scores(actor=_as(tree.town_admin), assessment_id=a.pk, scores=[
        svc.ScoreInput(k.pk, a.items.get(kind="manual").pk, 5) for k in (tree.k1, tree.k2)])
    svc.publish(actor=_as(tree.town_admin), assessment_id=a.pk)
    assert svc.get_assessment(_as(tree.community_admin), a.pk).pk == a.pk
    assert list(svc.assessments_of(tree.k1)) == [a]
    with pytest.raises(svc.AssessmentNotFound):
        svc.get_assessment(_as(tree.sibling_town_admin), a.pk)
    with pytest.raises(Forbidden):  # seeing is not assessing
        svc.recompute(actor=_as(tree.community_admin), assessment_id=a.pk)


# --- corrections ---------------------------------------------------------------------------------

def test_a_correction_is_a_new_revision_and_supersedes_on_publication(tree):
    first = t1_assessment(tree, scored={"k1": 8, "k2": 6}, published=True)
    actor = _as(tree.town_admin)
    with pytest.raises(InvalidInput):
        svc.revise(actor=actor, assessment_id=first.pk, reason="  ")

    second = svc.revise(actor=actor, assessment_id=first.pk, reason="新南社区材料漏报")

    assert (second.revision, second.status, second.supersedes_id) == (2, "draft", first.pk)
    assert _sheet(second) == _sheet(first)  # copied as published
    with pytest.raises(svc.CorrectionOpen):
        svc.revise(actor=actor, assessment_id=first.pk, reason="again")
    with pytest.raises(svc.AssessmentState):
        svc.revise(actor=actor, assessment_id=second.pk, reason="a draft")
    item = second.items.get(kind="manual")
    svc.enter_scores(actor=actor, assessment_id=second.pk,
                     scores=[svc.ScoreInput(tree.k2.pk, item.pk, 10)])
    assert _sheet(first)["新南社区"]["total"] == D(24)  # the published one is untouched
    svc.publish(actor=actor, assessment_id=second.pk)

    first, second = (Assessment.objects.get(pk=first.pk), Assessment.objects.get(pk=second.pk))
    assert (first.status, second.status) == ("superseded", "published")
    assert _sheet(second)["新南社区"]["total"] == D(28)
    assert list(svc.assessments_of(tree.k2)) == [second]
    assert AuditEntry.objects.filter(action="assessment.revise",
                                     data__reason="新南社区材料漏报").exists()
    third = svc.revise(actor=actor, assessment_id=second.pk, reason="再次更正")
    assert third.revision == 3


def test_errors_carry_codes(tree):
    a = t1_assessment(tree)
    with pytest.raises(DomainError) as caught:
        svc.get_assessment(_as(tree.town_admin), a.pk + 1000)
    assert caught.value.code == "assessment_not_found" and caught.value.status == 404
