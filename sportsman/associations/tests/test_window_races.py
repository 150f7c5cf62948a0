"""Reviewers racing: two staff of the level acting at once on one application leave exactly
one result (each step is one conditional UPDATE); acceptances racing never share a receipt
number."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.associations import window
from sportsman.associations.models import Application, ApplicationStep
from sportsman.associations.tests.fixtures_window import make_association, submitted
from sportsman.core.errors import DomainError
from sportsman.core.testing import race

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_two_reviewers_deciding_at_once_leave_one_result(tree):
    from sportsman.regions.models import RoleAssignment

    second = tree.user()
    RoleAssignment.objects.create(user=second, role="district_admin", region=tree.d1)
    assoc, manager = make_association(tree)
    app = window.transition_application(actor=tree.town_admin,
                                        application_id=submitted(assoc, manager).pk,
                                        action="accept")
    reviewers = [tree.district_admin, second] * 3
    steps = [("approve", "pass"), ("reject", ""), ("return", "")] * 2

    outcomes = _codes(race(lambda i: window.transition_application(
        actor=reviewers[i], application_id=app.pk, action=steps[i][0], note="意见",
        result=steps[i][1]), len(reviewers)))

    assert outcomes == Counter({"ok": 1, "application_transition_not_allowed": 5})
    app.refresh_from_db()
    decided = ApplicationStep.objects.filter(application=app,
                                             action__in=("approve", "reject", "return"))
    assert decided.count() == 1
    assert app.status == {"approve": "approved", "reject": "rejected",
                          "return": "returned"}[decided.get().action]


def test_racing_acceptances_get_distinct_receipt_numbers(tree):
    apps = []
    for i in range(6):
        assoc, manager = make_association(tree, name=f"竞速协会{i}")
        apps.append(submitted(assoc, manager))

    outcomes = _codes(race(lambda i: window.transition_application(
        actor=tree.town_admin, application_id=apps[i].pk, action="accept"), len(apps)))

    assert outcomes == Counter({"ok": 6})
    numbers = list(Application.objects.values_list("receipt_no", flat=True))
    assert len(set(numbers)) == 6 and all(numbers)
