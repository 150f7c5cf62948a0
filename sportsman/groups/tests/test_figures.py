"""The groups' cockpit figures from their records: groups and members by day, activities held,
attendance, active groups, and the demand signals of full activities and waitlists."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from sportsman.core import figures
from sportsman.facilities import hours
from sportsman.groups import activities
from sportsman.groups.tests.fixtures import make_activity, make_group, member

pytestmark = pytest.mark.django_db

NOW = "2026-06-15T10:00:00+08:00"


def _values(key: str, start: dt.date, end: dt.date) -> dict:
    metric = figures.get(key)
    assert metric is not None
    return {(r, d): v for r, d, v in metric.compute(start, end)}


@time_machine.travel(NOW, tick=True)
def test_groups_members_activities_and_attendance(tree):
    group = make_group(tree, members=2)  # leader + 2
    act = make_activity(group, capacity=2, starts_in=dt.timedelta(hours=3))
    came = member(tree, group)
    activities.sign_up(actor=came, activity_id=act.pk)
    activities.sign_up(actor=member(tree, group), activity_id=act.pk)
    activities.sign_up(actor=member(tree, group), activity_id=act.pk)  # waits
    activities.check_in(actor=came, code=act.check_in_code, now=act.starts_at)
    activities.finish(act, now=act.ends_at)
    today = hours.local(act.starts_at).date()
    week = (today - dt.timedelta(days=3), today + dt.timedelta(days=3))

    assert _values("groups", *week)[(tree.k2.pk, today)] == 1
    assert _values("group_members", *week)[(tree.k2.pk, today)] == 6
    assert (tree.k2.pk, today - dt.timedelta(days=1)) not in _values("group_members", *week)
    assert _values("group_activities", *week) == {(tree.k2.pk, today): 1}
    assert _values("group_attendance", *week) == {(tree.k2.pk, today): 1}
    active = _values("active_groups", *week)
    assert active[(tree.k2.pk, today + dt.timedelta(days=3))] == 1
    assert (tree.k2.pk, today - dt.timedelta(days=1)) not in active

    full = figures.get_signal("group_activities_full")
    waiting = figures.get_signal("group_waitlist")
    assert full is not None and waiting is not None
    assert sum(row[-1] for row in full.compute(*week)) == 1
    assert sum(row[-1] for row in waiting.compute(*week)) == 1
