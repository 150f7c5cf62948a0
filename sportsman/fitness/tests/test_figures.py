"""The fitness figures: graded tests and those at 合格 or better per station region and test
day; the share is their ratio once summed over a subtree."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core import figures
from sportsman.fitness import imports
from sportsman.fitness.tests.fixtures import make_station, row, station_file, test_day
from sportsman.regions.access import Access

pytestmark = pytest.mark.django_db


def _values(key: str, start: dt.date, end: dt.date) -> dict:
    metric = figures.get(key)
    assert metric is not None
    return {(r, d): v for r, d, v in metric.compute(start, end)}


def test_share_at_pass_or_better_per_region(tree):
    station = make_station(tree.t1)
    day = test_day()
    rows = [row(serial=1), row(serial=2),  # good values: at least 合格
            row(serial=3, 握力=30, 肺活量=2400, 台阶指数=40, 俯卧撑=6, 纵跳=23, 坐位体前屈=-3,
                选择反应时=0.7, 闭眼单脚站立=5, 体重=95),  # 1s and 3s: 不合格
            row(serial=4, 握力=10)]  # an item at 0: no grade, in neither count
    imports.import_tests(access=Access(tree.town_admin), station_id=station.pk, edition="2003",
                         content=station_file(rows))
    week = (day - dt.timedelta(days=3), day + dt.timedelta(days=1))
    assert _values("fitness_graded", *week) == {(tree.t1.pk, day): 3}
    assert _values("fitness_passing", *week) == {(tree.t1.pk, day): 2}
    share = next(r for r in figures.ratios() if r.key == "fitness_pass_share")
    assert share.of({"fitness_graded": 3, "fitness_passing": 2}) == 66.67
    assert share.of({}) is None
    assert _values("fitness_graded", day + dt.timedelta(days=1), day + dt.timedelta(days=2)) == {}
