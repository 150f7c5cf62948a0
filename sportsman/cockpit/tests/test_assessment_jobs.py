"""The nightly assessment job: it opens the drafts of the period that just ended for every city,
district and town with subunits, once however often it runs, catches up a few missed days, and
keeps recent drafts up to date with late figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from sportsman.cockpit import assessment as svc
from sportsman.cockpit.models import Tally, Watermark
from sportsman.cockpit.models.assessment import Assessment
from sportsman.cockpit.tests.scope_cases_assessment import t1_assessment
from sportsman.core import scheduler
from sportsman.core.models import AuditEntry
from sportsman.core.testing import failures, race

# Regions with subunits in the Tree: 嘉兴市, 南湖区, 秀洲区, 新嘉街道, 东栅街道, 新塍镇, 湖州市.
ASSESSING = 7


def _periods() -> Counter:
    return Counter(Assessment.objects.values_list("period", flat=True))


@pytest.mark.django_db
def test_the_first_of_a_month_opens_last_months_drafts_once(tree):
    assert svc.open_due_drafts(dt.date(2026, 5, 1)) == ASSESSING
    assert _periods() == Counter({"2026-04": ASSESSING})
    assert set(Assessment.objects.values_list("status", flat=True)) == {"draft"}
    assert not Assessment.objects.filter(region__in=[tree.k1, tree.other_district]).exists()
    assert svc.open_due_drafts(dt.date(2026, 5, 1)) == 0  # idempotent
    assert svc.open_due_drafts(dt.date(2026, 5, 3)) == 0
    assert AuditEntry.objects.filter(action="assessment.create",
                                     data__by="schedule").count() == ASSESSING


@pytest.mark.django_db
def test_a_quarter_and_a_year_open_on_their_first_day(tree):
    assert svc.open_due_drafts(dt.date(2026, 7, 1)) == 2 * ASSESSING
    assert _periods() == Counter({"2026-06": ASSESSING, "2026-Q2": ASSESSING})
    assert svc.open_due_drafts(dt.date(2026, 1, 1)) == 3 * ASSESSING
    assert _periods()["2025"] == ASSESSING and _periods()["2025-Q4"] == ASSESSING
    assert _periods()["2025-12"] == ASSESSING


@pytest.mark.django_db
def test_missed_days_are_caught_up_but_not_forever(tree):
    assert svc.open_due_drafts(dt.date(2026, 5, 6)) == ASSESSING  # the scheduler was down
    assert svc.open_due_drafts(dt.date(2026, 6, 20)) == 0  # May ended long ago: none
    assert "2026-05" not in _periods()


@pytest.mark.django_db
def test_a_region_that_already_has_its_assessment_is_skipped(tree):
    from sportsman.cockpit import periods
    from sportsman.regions.access import access_for_user

    svc.create_assessment(actor=access_for_user(tree.town_admin), region=tree.t1,
                          period=periods.parse("2026-04"), manual_items=[])
    assert svc.open_due_drafts(dt.date(2026, 5, 1)) == ASSESSING - 1
    assert Assessment.objects.filter(region=tree.t1).count() == 1


@pytest.mark.django_db
def test_recent_drafts_follow_late_figures(tree):
    a = t1_assessment(tree, scored={"k1": 5})
    Tally.objects.filter(region=tree.k2, metric="residents_active_30d").update(value=160)
    Watermark.objects.get(metric="residents_active_30d").save()

    assert svc.recompute_drafts() == 1

    cell = a.entries.get(region=tree.k2).scores.get(item__figure="active_share_30d")
    assert cell.value == 80.0


def test_the_job_is_on_the_schedule():
    scheduler.autodiscover()
    job = next(j for j in scheduler.SCHEDULE if j.name == "cockpit.assessment_drafts")
    assert job.daily_at == dt.time(3, 15)
    assert not [p for p in scheduler.problems() if "assessment" in p]


@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_open_each_draft_once(tree):
    outcomes = race(lambda i: svc.open_due_drafts(dt.date(2026, 5, 1)), 3)
    assert not failures(outcomes), outcomes
    assert sum(outcomes) == ASSESSING
    assert _periods() == Counter({"2026-04": ASSESSING})
