"""Scoring a test from the standard's tables (``data/standard-<edition>.json``).

A table file lists, per edition, the age groups (their ages, the items scored for each sex and
the overall-grade thresholds) and the item rules keyed by (item, sex, age band):
- ``thresholds`` [t1..t5]: for an item where more is better, the least value earning 1..5
  points; where less is better (选择反应时), the most. A value short of t1 scores 0 (below
  the table).
- ``ranges`` [[low, high, points], …] (身高标准体重 / BMI, scored only 1, 3 or 5): the points of
  the half-open range [low, high) the value falls in.

The overall grade is the sum of the group's item points against its ``grades`` thresholds (the
least sum for 一级 优秀, 二级 良好, 三级 合格; below that 四级 不合格). Any item at 0, or any item
of the group not tested, means no overall grade.

The item thresholds shipped are DEMONSTRATION VALUES (each file says so in ``notice`` and
``demonstration``) until the official tables of the 《国民体质测定标准手册》 are entered.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from sportsman.fitness.models import Edition, Grade, NoGrade

DATA = Path(__file__).resolve().parent / "data"

# Every item a table may name, with its label and unit; "height" and "weight" are measured
# only to give 身高标准体重 / BMI (kg/m²).
ITEMS: dict[str, tuple[Any, str]] = {
    "height": (_("height"), "cm"),
    "weight": (_("weight"), "kg"),
    "height_weight": (_("weight for height"), "kg/m²"),
    "bmi": (_("BMI"), "kg/m²"),
    "vital_capacity": (_("vital capacity"), "ml"),
    "step_index": (_("step test index"), ""),
    "bike_vo2": (_("cycle ergometer test (estimated VO₂max)"), "ml/kg/min"),
    "grip": (_("grip strength"), "kg"),
    "push_up": (_("push-ups"), ""),
    "knee_push_up": (_("knee push-ups"), ""),
    "sit_up": (_("sit-ups in one minute"), ""),
    "vertical_jump": (_("vertical jump"), "cm"),
    "sit_reach": (_("sit and reach"), "cm"),
    "reaction": (_("choice reaction time"), "s"),
    "balance": (_("one-leg stand, eyes closed"), "s"),
    "sit_stand": (_("30-second chair stand"), ""),
    "high_knee": (_("2-minute step in place"), ""),
}
DERIVED = {"height_weight", "bmi"}  # from height and weight


@dataclass(frozen=True)
class Rule:
    item: str
    sex: str
    low_age: int
    high_age: int
    better: str = "higher"  # or "lower"
    thresholds: tuple[Decimal, ...] = ()
    ranges: tuple[tuple[Decimal, Decimal, int], ...] = ()

    def points(self, value: Decimal) -> int:
        if self.ranges:
            for low, high, points in self.ranges:
                if low <= value < high:
                    return points
            return 0
        earned = 0
        for p, t in enumerate(self.thresholds, start=1):
            if (value >= t) if self.better == "higher" else (value <= t):
                earned = p
        return earned


@dataclass(frozen=True)
class Group:
    code: str
    low_age: int
    high_age: int
    items: dict[str, tuple[str, ...]]  # sex → items
    excellent: int
    good: int
    passing: int

    def grade(self, total: int) -> str:
        if total >= self.excellent:
            return Grade.EXCELLENT
        if total >= self.good:
            return Grade.GOOD
        if total >= self.passing:
            return Grade.PASS
        return Grade.FAIL


@dataclass(frozen=True)
class Table:
    edition: str
    is_demonstration: bool
    notice: str
    groups: tuple[Group, ...]
    rules: dict[tuple[str, str], tuple[Rule, ...]]  # (item, sex) → rules by age band

    def group_for(self, age: int) -> Group | None:
        return next((g for g in self.groups if g.low_age <= age <= g.high_age), None)

    def rule_for(self, item: str, sex: str, age: int) -> Rule | None:
        return next((r for r in self.rules.get((item, sex), ())
                     if r.low_age <= age <= r.high_age), None)


@dataclass
class Scored:
    group: str
    points: dict[str, int] = field(default_factory=dict)  # item → points
    total: int | None = None
    grade: str = ""
    no_grade: str = ""


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


@functools.cache
def table(edition: str) -> Table:
    """The edition's table, read once per process from its data file."""
    if edition not in Edition.values:
        raise KeyError(edition)
    doc = json.loads((DATA / f"standard-{edition}.json").read_text(encoding="utf-8"))
    groups = tuple(Group(code=g["code"], low_age=g["ages"][0], high_age=g["ages"][1],
                         items={s: tuple(i) for s, i in g["items"].items()},
                         excellent=g["grades"]["excellent"], good=g["grades"]["good"],
                         passing=g["grades"]["pass"]) for g in doc["groups"])
    rules: dict[tuple[str, str], list[Rule]] = {}
    for r in doc["items"]:
        rule = Rule(item=r["item"], sex=r["sex"], low_age=r["ages"][0], high_age=r["ages"][1],
                    better=r.get("better", "higher"),
                    thresholds=tuple(_dec(t) for t in r.get("thresholds", ())),
                    ranges=tuple((_dec(lo), _dec(hi), int(p)) for lo, hi, p in
                                 r.get("ranges", ())))
        rules.setdefault((rule.item, rule.sex), []).append(rule)
    return Table(edition=edition, is_demonstration=bool(doc.get("demonstration")),
                 notice=doc.get("notice", ""), groups=groups,
                 rules={k: tuple(v) for k, v in rules.items()})


def body_mass_index(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    metres = height_cm / 100
    return (weight_kg / (metres * metres)).quantize(Decimal("0.1"))


def with_derived(values: dict[str, Decimal]) -> dict[str, Decimal]:
    """The measured values plus 身高标准体重 / BMI when height and weight are both there."""
    out = dict(values)
    height, weight = values.get("height"), values.get("weight")
    if height and weight and height > 0:
        bmi = body_mass_index(height, weight)
        out["height_weight"] = out["bmi"] = bmi
    return out


def score(*, edition: str, sex: str, age: int, values: dict[str, Decimal]) -> Scored | None:
    """Points per item, total and grade for one person (None when no age group of the edition
    covers ``age``). ``values`` are the raw measurements by item code (height and weight give
    the body-shape item); items outside the person's group are ignored."""
    t = table(edition)
    group = t.group_for(age)
    if group is None:
        return None
    values = with_derived(values)
    out = Scored(group=group.code)
    missing = False
    for item in group.items.get(sex, ()):
        value = values.get(item)
        rule = t.rule_for(item, sex, age)
        if value is None or rule is None:
            missing = True
            continue
        out.points[item] = rule.points(value)
    if missing:
        out.no_grade = NoGrade.MISSING_ITEM
    elif any(p == 0 for p in out.points.values()):
        out.no_grade = NoGrade.ZERO_ITEM
    else:
        out.total = sum(out.points.values())
        out.grade = group.grade(out.total)
    if out.total is None and not missing:
        out.total = sum(out.points.values())
    return out
