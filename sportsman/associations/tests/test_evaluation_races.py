"""Concurrent finalising, publishing and acknowledging (threads, each with its own
connection): exactly one result, one grade, one acknowledgement. Meant for PostgreSQL (where
the writers really overlap); on SQLite the write transactions run one at a time and the same
assertions hold."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.associations import board
from sportsman.associations import evaluation as ev
from sportsman.associations.models import Association, Evaluation, EvaluationStep, Notice
from sportsman.associations.tests.fixtures_evaluation import (
    evaluation_at,
    make_association,
    manager_of,
)
from sportsman.core.errors import DomainError
from sportsman.core.testing import race

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_two_staff_finalising_at_once_leave_one_result(tree):
    e = evaluation_at(tree, "scored", total=905)
    staff = [tree.district_admin, tree.city_admin]

    outcomes = _codes(race(lambda i: ev.finalise(actor=staff[i % 2], evaluation_id=e.pk), 4))

    assert outcomes == Counter({"ok": 1, "evaluation_bad_transition": 3})
    assert Evaluation.objects.get(pk=e.pk).status == "finalised"
    assert EvaluationStep.objects.filter(evaluation=e, step="finalised").count() == 1


def test_two_staff_publishing_at_once_publish_once(tree):
    e = evaluation_at(tree, "finalised", total=955)
    staff = [tree.district_admin, tree.city_admin]

    outcomes = _codes(race(lambda i: ev.publish(actor=staff[i % 2], evaluation_id=e.pk), 4))

    assert outcomes == Counter({"ok": 1, "evaluation_bad_transition": 3})
    assert EvaluationStep.objects.filter(evaluation=e, step="published").count() == 1
    assert Association.objects.get(pk=e.association_id).grade == "5A"


def test_managers_acknowledging_at_once_count_once(tree):
    association = make_association(tree)
    second = tree.user(nickname="秘书长")
    association.memberships.create(user=second, name="秘书长", manages=True)
    notice = board.publish_notice(actor=tree.town_admin, region_id=tree.t1.pk, kind="policy",
                                  title="政策", body="内容")
    row = notice.deliveries.get()
    people = [manager_of(association), second]

    outcomes = race(lambda i: board.acknowledge(actor=people[i % 2], recipient_id=row.pk)[1], 6)

    assert sorted(outcomes) == [False] * 5 + [True]
    assert Notice.objects.get(pk=notice.pk).acknowledged == 1
