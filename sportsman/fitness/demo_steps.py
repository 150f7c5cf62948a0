"""Demo: a test station in each of the first towns and a few hundred scored fitness records of
their residents over the last two years (DEMONSTRATION tables), the demo resident tested three
times a year apart so "my tests" shows a trend. Deterministic from the seed; a few bulk
inserts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

STATIONS = 6
TESTED = 300
DEMO_DAYS = (760, 395, 30)  # the demo resident's tests, days ago


def _values(rng: Any, edition: str, sex: str, age: int, level: float) -> dict[str, Decimal]:
    """Measurements of a person of fitness ``level`` (about -2..2): each item at the threshold
    of the points that level earns, give or take one; now and then an item below the table."""
    from sportsman.fitness import scoring

    table = scoring.table(edition)
    group = table.group_for(age)
    assert group is not None
    height = Decimal(rng.randint(150, 185) if sex == "M" else rng.randint(148, 172))
    bmi = Decimal(str(round(rng.gauss(23.0, 3.0), 1)))
    values = {"height": height, "weight": (bmi * (height / 100) ** 2).quantize(Decimal("0.1"))}
    for item in group.items[sex]:
        rule = table.rule_for(item, sex, age)
        if rule is None or rule.ranges:
            continue
        points = max(1, min(5, round(3 + level + rng.uniform(-1, 1))))
        value = rule.thresholds[points - 1]
        if rng.random() < 0.02:  # below the table: no overall grade
            value = (value - abs(value) / 2 - 1) if rule.better == "higher" else value * 2
        values[item] = value
    return values


@demo_step("fitness", order=95)
def step_fitness(city: DemoCity) -> None:
    from django.utils import timezone

    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_STAFF
    from sportsman.fitness import scoring
    from sportsman.fitness.models import FitnessTest, ItemResult, TestStation
    from sportsman.regions.models import Level

    rng = city.rng("fitness")
    today = timezone.localdate()
    towns = sorted({c.parent_id for c in city.communities if c.parent_id})
    town_regions = {r.pk: r for r in city.regions.values() if r.level == Level.TOWN}
    stations = {}
    for town_id in towns[:STATIONS]:
        town = town_regions.get(town_id)
        if town is None:
            continue
        stations[town_id] = TestStation.objects.create(
            region=town, name=f"{town.name}国民体质监测站", code=f"DEMO-{town.code[:9]}",
            address=f"{town.name}文体中心")
    if not stations:
        return
    demo_phone = DEMO_STAFF[0][0]
    people = list(User.objects.filter(home_community__parent_id__in=list(stations),
                                      role_assignments__isnull=True, birth_year__isnull=False)
                  .exclude(sex="").order_by("pk")
                  .values_list("pk", "phone_encrypted", "nickname", "sex", "birth_year",
                               "home_community__parent_id"))
    demo = (User.objects.filter(phone_hash=crypto.keyed_hash(demo_phone))
            .values_list("pk", "phone_encrypted", "nickname", "sex", "birth_year",
                         "home_community__parent_id").first())
    people = [p for p in people if demo is None or p[0] != demo[0]]
    chosen = rng.sample(people, min(TESTED, len(people)))
    plan: list[tuple[Any, dt.date]] = [(p, today - dt.timedelta(days=rng.randint(5, 720)))
                                       for p in chosen]
    if demo is not None and demo[5] in stations:
        plan += [(demo, today - dt.timedelta(days=d)) for d in DEMO_DAYS]
    edition = "2003"
    tests: list[FitnessTest] = []
    item_rows: list[list[tuple[str, Decimal, int | None]]] = []
    seen: set[tuple[int, dt.date]] = set()
    for (pk, phone_enc, nickname, sex, birth_year, town_id), day in plan:
        age = day.year - birth_year
        if scoring.table(edition).group_for(age) is None or (pk, day) in seen:
            continue
        seen.add((pk, day))
        # the demo resident improves from test to test
        is_demo = demo is not None and pk == demo[0]
        level = (0.6 * DEMO_DAYS.index((today - day).days) - 0.3) if is_demo \
            else rng.gauss(0.3, 0.8)
        values = _values(rng, edition, sex, age, level)
        scored = scoring.score(edition=edition, sex=sex, age=age, values=values)
        assert scored is not None
        station = stations[town_id]
        tests.append(FitnessTest(
            station=station, region_id=station.region_id, user_id=pk,
            person_key=crypto.keyed_hash(crypto.decrypt(phone_enc)),
            name_encrypted=crypto.encrypt(nickname) if nickname else "",
            phone_encrypted=phone_enc, sex=sex, age=age, tested_on=day, edition=edition,
            age_group=scored.group, total=scored.total, grade=scored.grade,
            no_grade=scored.no_grade, is_demonstration=True))
        item_rows.append([(k, v, scored.points.get(k)) for k, v in
                          scoring.with_derived(values).items()
                          if k not in scoring.DERIVED or k in scored.points])
    FitnessTest.objects.bulk_create(tests, batch_size=BATCH)
    ItemResult.objects.bulk_create(
        [ItemResult(test=t, item=k, value=v, points=p)
         for t, rows in zip(tests, item_rows, strict=True) for k, v, p in rows],
        batch_size=BATCH)
    city.made["fitness_tests"] = len(tests)
