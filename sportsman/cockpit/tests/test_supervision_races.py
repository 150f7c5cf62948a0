"""Supervision tasks under concurrent requests (racing threads, each with its own connection): a
submission or a review applies once, the last two acceptances still close the task, and
reminder runs overlapping on the same day send each notice once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from sportsman.cockpit import supervision as sv
from sportsman.cockpit.models import SupervisionTask, TaskReport
from sportsman.cockpit.tests.scope_cases_supervision import (
    assignment_of,
    issue,
    private_media,  # noqa: F401
)
from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.notifications.models import Notification
from sportsman.regions.models import RoleAssignment

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    """Outcomes by error code; "ok" for a result; any other exception by its repr (which no
    expectation below contains, so it fails the test)."""
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_concurrent_submits_apply_once(tree):
    a = assignment_of(issue(tree), tree.t1)
    actors = [tree.town_admin, tree.district_admin, tree.city_admin]

    outcomes = _codes(race(lambda i: sv.submit(actor=actors[i % 3], assignment_id=a.pk,
                                               text=f"办结 {i}"), 6))

    assert outcomes == Counter({"ok": 1, "assignment_state": 5})
    assert TaskReport.objects.filter(assignment=a, kind="submit").count() == 1


def test_concurrent_reviews_apply_once(tree):
    a = assignment_of(issue(tree), tree.t1)
    sv.submit(actor=tree.town_admin, assignment_id=a.pk, text="办结")
    colleague = tree.user()
    RoleAssignment.objects.create(user=colleague, role="district_admin", region=tree.d1)
    reviewers = [tree.district_admin, tree.city_admin, colleague]

    outcomes = _codes(race(lambda i: sv.review(actor=reviewers[i % 3], assignment_id=a.pk,
                                               accept=i % 2 == 0, comment=f"意见 {i}"), 6))

    assert outcomes == Counter({"ok": 1, "assignment_state": 5})
    a.refresh_from_db()
    decided = TaskReport.objects.filter(assignment=a, kind__in=["accept", "return"])
    assert decided.count() == 1
    assert a.status == {"accept": "accepted", "return": "returned"}[decided.get().kind]


def test_the_last_two_acceptances_racing_close_the_task(tree):
    task = issue(tree, targets=[tree.t1, tree.t2])
    pair = [assignment_of(task, tree.t1), assignment_of(task, tree.t2)]
    sv.submit(actor=tree.town_admin, assignment_id=pair[0].pk, text="办结")
    sv.submit(actor=tree.sibling_town_admin, assignment_id=pair[1].pk, text="办结")

    outcomes = _codes(race(lambda i: sv.review(actor=tree.district_admin,
                                               assignment_id=pair[i].pk, accept=True), 2))

    assert outcomes == Counter({"ok": 2})
    assert SupervisionTask.objects.get(pk=task.pk).status == "closed"


def test_overlapping_reminder_runs_send_each_notice_once(tree):
    task = issue(tree, targets=[tree.t1, tree.t2])
    SupervisionTask.objects.filter(pk=task.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=1))
    before = Notification.objects.count()

    outcomes = race(lambda i: sv.remind(), 4)

    assert all(not isinstance(o, BaseException) for o in outcomes), outcomes
    # t1 and t2 each reminded once, d1 told once of each overdue unit
    assert sum(outcomes) == 4
    assert Notification.objects.count() - before == 4
