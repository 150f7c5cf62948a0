"""Balances under concurrent requests: racing threads, each with its own connection, never take a
balance below zero, and a retried award or reversal lands once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Sum

from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.rewards import points
from sportsman.rewards.models import PointEntry

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def _ledger(user_id: int) -> int:
    return PointEntry.objects.filter(user_id=user_id).aggregate(s=Sum("amount"))["s"] or 0


def test_concurrent_spends_never_take_a_balance_below_zero(tree):
    user = tree.user()
    points.award(user_id=user.pk, amount=100, reason="seed", source="staff",
                 idempotency_key="seed")

    outcomes = _codes(race(lambda i: points.spend(user_id=user.pk, amount=10, reason="race",
                                                  source="order", idempotency_key=f"s{i}"), 30))

    assert outcomes == Counter({"ok": 10, "insufficient_points": 20})
    assert points.balance_of(user.pk) == 0 == _ledger(user.pk)
    assert sorted(PointEntry.objects.filter(user=user, amount=-10)
                  .values_list("balance_after", flat=True)) == list(range(0, 100, 10))


def test_one_award_retried_concurrently_lands_once(tree):
    user = tree.user()

    outcomes = race(lambda i: points.award(user_id=user.pk, amount=25, reason="retry",
                                           source="event", idempotency_key="one-award"), 12)

    assert _codes(outcomes) == Counter({"ok": 12})
    assert len({o.pk for o in outcomes}) == 1
    assert points.balance_of(user.pk) == 25 == _ledger(user.pk)


def test_concurrent_reversals_of_one_entry_land_once(tree):
    user = tree.user(home_community=tree.k2)
    entry = points.award(user_id=user.pk, amount=40, reason="x", source="event",
                         idempotency_key="x")

    outcomes = _codes(race(lambda i: points.reverse_entry(actor=tree.city_admin,
                                                          entry_id=entry.pk, reason="fix"), 8))

    assert outcomes == Counter({"ok": 1, "already_reversed": 7})
    assert points.balance_of(user.pk) == 0 == _ledger(user.pk)


def test_concurrent_awards_for_cannot_pass_the_daily_cap(tree):
    from sportsman.rewards.models import PointRule, RuleKind

    PointRule.objects.create(region=tree.city, kind=RuleKind.PER_EVENT, points=10, daily_cap=30)
    user = tree.user(home_community=tree.k1)

    race(lambda i: points.award_for(RuleKind.PER_EVENT, user.pk, 1, f"ev{i}"), 10)

    assert points.balance_of(user.pk) == 30 == _ledger(user.pk)
