"""The reports' cockpit figures from their records: opened, resolved, on time (escalations
included), ratings and satisfaction, by the community of the place and the local day; and the
cockpit's governance panel showing them once tallied."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from sportsman.core import figures
from sportsman.governance import reports
from sportsman.governance.tests.fixtures_reports import make_report

pytestmark = pytest.mark.django_db
LOCAL = dt.timezone(dt.timedelta(hours=8))


def _values(key: str, start: dt.date, end: dt.date) -> dict:
    metric = figures.get(key)
    assert metric is not None
    return {(r, d): v for r, d, v in metric.compute(start, end)}


def test_reports_resolved_on_time_and_late_and_their_ratings(tree):
    day = dt.date(2027, 3, 31)  # a quarter's last day, late evening local time
    with time_machine.travel(dt.datetime(2027, 3, 31, 23, 10, tzinfo=LOCAL), tick=False):
        quick = make_report(tree, category="hygiene")  # resolve within 2 days
        late = make_report(tree, category="hygiene", reporter=tree.user(home_community=tree.k1))
        make_report(tree, category="noise", reporter=tree.user(home_community=tree.k1))
        reports.transition(actor=tree.community_admin, report_id=quick.pk, to="resolved")
        reports.rate(actor=quick.reporter, report_id=quick.pk, rating=4)
    with time_machine.travel(dt.datetime(2027, 4, 3, 9, 0, tzinfo=LOCAL), tick=False):
        reports.transition(actor=tree.community_admin, report_id=late.pk, to="resolved")
        reports.rate(actor=late.reporter, report_id=late.pk, rating=1)
    span = (day, day + dt.timedelta(days=3))
    k1 = tree.k1.pk

    assert _values("reports_opened", *span) == {(k1, day): 3}
    assert _values("reports_resolved", *span) == {(k1, day): 1, (k1, dt.date(2027, 4, 3)): 1}
    assert _values("reports_resolved_on_time", *span) == {(k1, day): 1}
    assert _values("reports_rated", *span) == {(k1, day): 1, (k1, dt.date(2027, 4, 3)): 1}
    assert sum(_values("report_rating_points", *span).values()) == 5
    hot = figures.get_signal("reports_made")
    assert hot is not None
    assert list(hot.compute(*span)) == [(k1, day, "", "", 3)]
    rate = next(r for r in figures.ratios() if r.key == "reports_on_time_rate")
    assert rate.of({"reports_resolved_on_time": 1, "reports_resolved": 2}) == 50.0
    satisfaction = next(r for r in figures.ratios() if r.key == "report_satisfaction")
    assert satisfaction.of({"report_rating_points": 5, "reports_rated": 2}) == 2.5


def test_the_cockpit_shows_the_governance_panel_from_the_tallies(tree):
    from sportsman.cockpit import tallies
    from sportsman.cockpit.board import build
    from sportsman.cockpit.periods import parse

    with time_machine.travel(dt.datetime(2027, 12, 31, 20, 0, tzinfo=LOCAL), tick=False):
        report = make_report(tree)
        reports.transition(actor=tree.community_admin, report_id=report.pk, to="resolved")
        tallies.refresh(dt.date(2027, 12, 1), dt.date(2027, 12, 31))
        board = build(tree.t1, parse("2027-12"))
    panel = next(p for p in board.panels if p.domain == "governance")
    shown = {v.figure.key: v.value for v in panel.values}
    assert shown["reports_opened"] == 1 and shown["reports_on_time_rate"] == 100.0
    assert "reports_on_time_rate" in {v.figure.key for v in board.headline}
