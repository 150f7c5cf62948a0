"""Stock, balances and codes under concurrent requests: the last items go to exactly as many
people as there are items, nobody pays twice, and a code is collected once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Sum

from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.rewards import catalogue, points
from sportsman.rewards.models import OrderStatus, PointEntry, Reward, RewardOrder
from sportsman.rewards.tests.catalogue_fixtures import make_merchant, make_reward, rich

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_concurrent_redemptions_of_the_last_items_never_exceed_stock(tree):
    reward = make_reward(tree.city, cost=100, stock=3)
    racers = [rich(tree, 100) for _ in range(20)]

    outcomes = _codes(race(lambda i: catalogue.redeem(actor=racers[i], reward_id=reward.pk),
                           len(racers)))

    assert outcomes == Counter({"ok": 3, "out_of_stock": 17})
    reward.refresh_from_db()
    assert reward.stock == 0 and RewardOrder.objects.count() == 3
    spent = PointEntry.objects.filter(source="order").aggregate(s=Sum("amount"))["s"]
    assert spent == -300
    assert sum(points.balance_of(u.pk) for u in racers) == 1700


def test_one_persons_concurrent_redemptions_never_double_spend(tree):
    reward = make_reward(tree.city, cost=100, stock=50)
    user = rich(tree, 250)

    outcomes = _codes(race(lambda i: catalogue.redeem(actor=user, reward_id=reward.pk), 10))

    assert outcomes == Counter({"ok": 2, "insufficient_points": 8})
    reward.refresh_from_db()
    assert reward.stock == 48
    assert points.balance_of(user.pk) == 50
    assert PointEntry.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] == 50


def test_concurrent_redemptions_never_pass_the_per_person_limit(tree):
    reward = make_reward(tree.city, cost=10, stock=50, limit=2)
    user = rich(tree, 1000)

    outcomes = _codes(race(lambda i: catalogue.redeem(actor=user, reward_id=reward.pk), 8))

    assert outcomes == Counter({"ok": 2, "over_person_limit": 6})
    assert Reward.objects.get(pk=reward.pk).stock == 48 and points.balance_of(user.pk) == 980


def test_a_code_scanned_at_once_is_fulfilled_once(tree):
    merchant = make_merchant(tree)
    order = catalogue.redeem(actor=rich(tree), reward_id=make_reward(tree.city,
                                                                     merchant=merchant).pk)

    outcomes = _codes(race(lambda i: catalogue.fulfil_order(actor=merchant.owner,
                                                            code=order.code), 10))

    assert outcomes == Counter({"ok": 1, "order_not_pending": 9})
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED


def test_cancel_racing_a_scan_lets_one_win_and_keeps_points_consistent(tree):
    merchant = make_merchant(tree)
    user = rich(tree, 100)
    reward = make_reward(tree.city, cost=100, stock=1, merchant=merchant)
    order = catalogue.redeem(actor=user, reward_id=reward.pk)

    def act(i):
        if i % 2:
            return catalogue.cancel_order(actor=user, order_id=order.pk)
        return catalogue.fulfil_order(actor=merchant.owner, code=order.code)

    outcomes = _codes(race(act, 6))

    assert outcomes["ok"] == 1 and outcomes["order_not_pending"] == 5
    order.refresh_from_db()
    reward.refresh_from_db()
    if order.status == OrderStatus.CANCELLED:
        assert (points.balance_of(user.pk), reward.stock) == (100, 1)
    else:
        assert (points.balance_of(user.pk), reward.stock) == (0, 0)
