"""Subtree and ancestor reads: one query each, answered from the path index (never a scan of
the region table) — what keeps them cheap at 100,000 regions (bench/ measures the time)."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from sportsman.core.demo_city import synthetic_city_rows
from sportsman.regions.models import Region
from sportsman.regions.selectors import ancestors, children, find_by_code, subtree
from sportsman.regions.services import bulk_load_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_cities():
    rng = random.Random(3)
    rows = [{"code12": "330000000000", "name": "浙江省", "level": "province", "parent_code": ""}]
    for code, name in (("3304", "嘉兴市"), ("3305", "湖州市")):
        rows += synthetic_city_rows(rng, city_code=code, city_name=name, province_code="33",
                                    districts=3, towns=4, communities=5)
    assert bulk_load_tree(rows, edition=2023) == len(rows)
    return rows


def test_subtree_holds_the_region_and_everything_below_it(two_cities):
    city = find_by_code("3304")
    got = set(subtree(city).values_list("code", flat=True))
    assert got == {r["code12"] for r in two_cities if r["code12"].startswith("3304")}
    district = find_by_code("330401")
    assert subtree(district).count() == 1 + 4 + 4 * 5
    assert subtree(district, include_self=False).count() == 4 + 4 * 5


def test_a_path_prefix_does_not_leak_into_a_sibling_with_a_longer_id():
    # "/1/" must not cover "/12/": paths end with a slash.
    a = Region.objects.create(code="330400000000", edition=2023, name="a", level="city",
                              path="/1/")
    b = Region.objects.create(code="330500000000", edition=2023, name="b", level="city",
                              path="/12/")
    assert list(subtree(a)) == [a]
    assert list(subtree(b)) == [b]


def test_subtree_and_ancestors_are_one_query_each(two_cities, django_assert_num_queries):
    community = find_by_code("330401001001")
    with django_assert_num_queries(1):
        names = [r.level for r in ancestors(community)]
    assert names == ["province", "city", "district", "town"]
    city = find_by_code("3304")
    with django_assert_num_queries(1):
        assert len(list(subtree(city))) == 1 + 3 + 3 * 4 + 3 * 4 * 5
    town = find_by_code("330401001")
    with django_assert_num_queries(1):
        assert [c.code for c in children(town)][:1] == ["330401001001"]


def test_subtree_query_is_answered_from_the_path_index(two_cities):
    district = find_by_code("330401")
    qs = subtree(district)
    if connection.vendor == "sqlite":
        plan = qs.explain()
        assert "USING" in plan and "INDEX" in plan, plan
        assert "SCAN regions_region" not in plan, plan
    else:
        # A table this small is cheaper to scan; forbid that to see that an index can serve it.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
        assert "Index" in plan and "Seq Scan" not in plan, plan


def test_find_by_code_takes_short_codes_and_the_newest_edition(two_cities):
    assert find_by_code("3304").name == "嘉兴市"
    assert find_by_code("330400000000") == find_by_code("3304")
    assert find_by_code("3399") is None
    assert find_by_code("3304", edition=2022) is None
