"""Volunteering's cockpit figures: hours approved per team region and day, and volunteers
active over the 30 days after an approval."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.core import figures
from sportsman.governance import figures_volunteering  # noqa: F401  (declares the figures)
from sportsman.governance import volunteering as vol
from sportsman.governance.tests.fixtures_volunteering import attended, leader_of, make_team

pytestmark = pytest.mark.django_db


def _values(key: str, start: dt.date, end: dt.date) -> dict:
    metric = figures.get(key)
    assert metric is not None
    return {(r, d): v for r, d, v in metric.compute(start, end)}


def test_hours_approved_and_volunteers_active_by_the_teams_region(tree):
    team = make_team(tree)
    first = attended(tree, team, minutes=120)
    second = attended(tree, team, minutes=60)
    rejected = attended(tree, team, minutes=60)
    vol.decide_hours(actor=leader_of(team), signup_id=first.pk, approve=True)
    vol.decide_hours(actor=leader_of(team), signup_id=second.pk, approve=True)
    vol.decide_hours(actor=leader_of(team), signup_id=rejected.pk, approve=False, reason="缺勤")
    today = timezone.localdate()
    week = (today - dt.timedelta(days=3), today + dt.timedelta(days=3))

    assert _values("volunteer_hours", *week) == {(tree.k2.pk, today): 3}
    assert _values("volunteer_minutes", *week) == {(tree.k2.pk, today): 180}
    active = _values("volunteers_active", today - dt.timedelta(days=1),
                     today + dt.timedelta(days=31))
    assert active[(tree.k2.pk, today)] == 2
    assert (tree.k2.pk, today - dt.timedelta(days=1)) not in active
    assert active[(tree.k2.pk, today + dt.timedelta(days=29))] == 2
    assert (tree.k2.pk, today + dt.timedelta(days=30)) not in active
