"""Scoring is table-driven: every band edge and threshold edge of both editions' tables,
the overall-grade edges of DOMAIN.md §4, a missing item and a 0 (no grade)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sportsman.fitness import scoring
from sportsman.fitness.models import Grade, NoGrade

EDITIONS = ["2003", "2023"]
STEP = Decimal("0.001")


def _rules(edition: str) -> list[scoring.Rule]:
    return [r for rules in scoring.table(edition).rules.values() for r in rules]


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_table_says_it_holds_demonstration_values(edition):
    t = scoring.table(edition)
    assert t.is_demonstration
    assert "DEMONSTRATION" in t.notice


@pytest.mark.parametrize("edition", EDITIONS)
def test_each_threshold_earns_its_points_and_just_short_of_it_one_less(edition):
    for rule in _rules(edition):
        if rule.ranges:
            continue
        for points, t in enumerate(rule.thresholds, start=1):
            short = t - STEP if rule.better == "higher" else t + STEP
            assert rule.points(t) == points, (rule, t)
            assert rule.points(short) == points - 1, (rule, short)


@pytest.mark.parametrize("edition", EDITIONS)
def test_lower_is_better_only_for_the_reaction_time(edition):
    lower = {r.item for r in _rules(edition) if r.better == "lower"}
    assert lower == {"reaction"}
    for rule in _rules(edition):
        if rule.item == "reaction":
            assert list(rule.thresholds) == sorted(rule.thresholds, reverse=True)
        elif not rule.ranges:
            assert list(rule.thresholds) == sorted(rule.thresholds)


@pytest.mark.parametrize("edition", EDITIONS)
def test_weight_for_height_scores_only_1_3_or_5_at_every_range_edge(edition):
    ranged = [r for r in _rules(edition) if r.ranges]
    assert ranged
    for rule in ranged:
        assert {p for _lo, _hi, p in rule.ranges} == {1, 3, 5}
        for low, high, points in rule.ranges:
            assert rule.points(low) == points
            assert rule.points(high - Decimal("0.1")) == points


@pytest.mark.parametrize("edition", EDITIONS)
def test_age_bands_cover_each_group_without_gap_or_overlap(edition):
    t = scoring.table(edition)
    for group in t.groups:
        assert t.group_for(group.low_age) is group and t.group_for(group.high_age) is group
        for sex, items in group.items.items():
            for item in items:
                for age in range(group.low_age, group.high_age + 1):
                    covering = [r for r in t.rules[(item, sex)]
                                if r.low_age <= age <= r.high_age]
                    assert len(covering) == 1, (item, sex, age)
    ages = [a for g in t.groups for a in (g.low_age, g.high_age)]
    assert t.group_for(min(ages) - 1) is None and t.group_for(max(ages) + 1) is None


@pytest.mark.parametrize(("edition", "age", "group"), [
    ("2003", 19, None), ("2003", 20, "adult_a"), ("2003", 39, "adult_a"),
    ("2003", 40, "adult_b"), ("2003", 59, "adult_b"), ("2003", 60, "elderly"),
    ("2003", 69, "elderly"), ("2003", 70, None), ("2023", 79, "elderly"), ("2023", 80, None),
])
def test_age_group_edges(edition, age, group):
    found = scoring.table(edition).group_for(age)
    assert (found.code if found else None) == group


def test_a_band_edge_switches_the_thresholds():
    t = scoring.table("2003")
    at_24, at_25 = t.rule_for("vital_capacity", "M", 24), t.rule_for("vital_capacity", "M", 25)
    assert at_24 is not None and at_25 is not None and at_24 is not at_25
    assert (at_24.low_age, at_24.high_age, at_25.low_age) == (20, 24, 25)
    # a value between the two bands' 5-point thresholds earns 5 only in the older band
    value = at_25.thresholds[4]
    assert at_25.points(value) == 5 and at_24.points(value) == 4


# Overall grades from DOMAIN.md §4: 20–39 >33 / 30–33 / 23–29 / <23; 40–59 >26 / 24–26 /
# 18–23 / <18; 60–69 合格 ≥15.
@pytest.mark.parametrize(("group", "total", "grade"), [
    ("adult_a", 34, Grade.EXCELLENT), ("adult_a", 33, Grade.GOOD), ("adult_a", 30, Grade.GOOD),
    ("adult_a", 29, Grade.PASS), ("adult_a", 23, Grade.PASS), ("adult_a", 22, Grade.FAIL),
    ("adult_b", 27, Grade.EXCELLENT), ("adult_b", 26, Grade.GOOD), ("adult_b", 24, Grade.GOOD),
    ("adult_b", 23, Grade.PASS), ("adult_b", 18, Grade.PASS), ("adult_b", 17, Grade.FAIL),
    ("elderly", 15, Grade.PASS), ("elderly", 14, Grade.FAIL),
])
def test_overall_grade_edges_2003(group, total, grade):
    g = next(g for g in scoring.table("2003").groups if g.code == group)
    assert g.grade(total) == grade


def _values(edition: str, sex: str, age: int, points: int) -> dict[str, Decimal]:
    """Values earning ``points`` on every scored item (BMI 21: 5 points)."""
    t = scoring.table(edition)
    group = t.group_for(age)
    assert group is not None
    out = {"height": Decimal(170), "weight": Decimal("60.7")}
    for item in group.items[sex]:
        rule = t.rule_for(item, sex, age)
        assert rule is not None
        if not rule.ranges:
            out[item] = rule.thresholds[points - 1]
    return out


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("sex", ["M", "F"])
@pytest.mark.parametrize("age", [20, 39, 40, 59, 60])
def test_a_full_test_is_summed_and_graded(edition, sex, age):
    scored = scoring.score(edition=edition, sex=sex, age=age, values=_values(edition, sex, age, 3))
    assert scored is not None
    group = scoring.table(edition).group_for(age)
    assert group is not None
    assert set(scored.points) == set(group.items[sex])
    assert scored.total == sum(scored.points.values())
    assert scored.grade == group.grade(scored.total) and not scored.no_grade


@pytest.mark.parametrize("edition", EDITIONS)
def test_a_missing_item_gives_no_grade(edition):
    values = _values(edition, "M", 45, 4)
    del values["grip"]
    scored = scoring.score(edition=edition, sex="M", age=45, values=values)
    assert scored is not None
    assert (scored.grade, scored.no_grade, scored.total) == ("", NoGrade.MISSING_ITEM, None)


@pytest.mark.parametrize("edition", EDITIONS)
def test_an_item_at_0_gives_no_grade_however_high_the_rest(edition):
    values = _values(edition, "F", 30, 5)
    rule = scoring.table(edition).rule_for("grip", "F", 30)
    assert rule is not None
    values["grip"] = rule.thresholds[0] - 1
    scored = scoring.score(edition=edition, sex="F", age=30, values=values)
    assert scored is not None
    assert scored.points["grip"] == 0
    assert (scored.grade, scored.no_grade) == ("", NoGrade.ZERO_ITEM)


def test_no_group_no_score():
    assert scoring.score(edition="2003", sex="M", age=75, values={}) is None


def test_items_of_another_group_are_ignored():
    values = _values("2003", "M", 45, 3)
    values["push_up"] = Decimal(50)  # 20–39 only
    scored = scoring.score(edition="2003", sex="M", age=45, values=values)
    assert scored is not None and "push_up" not in scored.points
