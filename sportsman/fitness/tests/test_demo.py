"""The demo's fitness records: a few hundred in the demo towns' stations, scored as an import
would score them, the demo resident tested three times; the same seed gives the same records."""

from __future__ import annotations

import time

import pytest

from sportsman.core import crypto, demo_city
from sportsman.core.demo import DEMO_STAFF
from sportsman.fitness import scoring
from sportsman.fitness.models import FitnessTest, TestStation

pytestmark = pytest.mark.django_db


def _digest() -> list[tuple]:
    return sorted((t.station.code, t.tested_on, t.sex, t.age, t.total, t.grade,
                   tuple(sorted((i.item, str(i.value), i.points) for i in t.items.all())))
                  for t in FitnessTest.objects.select_related("station")
                  .prefetch_related("items"))


def test_the_demo_has_scored_records_a_trend_for_the_demo_resident_and_is_deterministic():
    started = time.perf_counter()
    demo_city.generate(scale="small", seed=3, progress=False)
    assert time.perf_counter() - started < 120

    assert TestStation.objects.exists()
    tests = list(FitnessTest.objects.prefetch_related("items"))
    assert 200 <= len(tests) <= 400
    assert {t.grade for t in tests} >= {"1", "2", "3", "4"}
    assert any(t.no_grade for t in tests)
    for t in tests[:100]:
        values = {i.item: i.value for i in t.items.all() if i.item not in scoring.DERIVED}
        again = scoring.score(edition=t.edition, sex=t.sex, age=t.age, values=values)
        assert again is not None and (again.total, again.grade) == (t.total, t.grade)
        assert t.region_id == t.station.region_id
    demo = FitnessTest.objects.filter(user__phone_hash=crypto.keyed_hash(DEMO_STAFF[0][0]))
    assert demo.count() == 3

    # the same seed gives the same records
    first = _digest()
    FitnessTest.objects.all().delete()
    TestStation.objects.all().delete()
    city = demo_city.DemoCity(scale="small", seed=3, progress=False)
    from sportsman.regions.models import Region

    city.regions = {r.code: r for r in Region.objects.all()}
    city.communities = list(Region.objects.filter(level__in=["community", "village"])
                            .order_by("code"))
    from sportsman.fitness.demo_steps import step_fitness

    step_fitness(city)
    assert _digest() == first
