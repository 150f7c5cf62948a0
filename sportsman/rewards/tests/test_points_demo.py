"""The rewards demo step: rules, merchants (the demo merchant login owns one), a catalogue, and
the demo resident's points computed in bulk exactly as the daily job pays them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from sportsman.accounts.models import User
from sportsman.rewards import merchants, points
from sportsman.rewards.demo_steps.points import _activity_entries
from sportsman.rewards.models import Merchant, PointEntry, PointRule, Reward, RuleKind

pytestmark = pytest.mark.django_db


def test_demo_merchant_login_works_the_counter_of_an_approved_merchant():
    call_command("seed_demo", "--scale", "small", stdout=io.StringIO(), stderr=io.StringIO(),
                 verbosity=0)

    owner = User.objects.get_by_phone("13800000006")
    (mine,) = merchants.operable_merchants(owner)
    assert mine.name == "新嘉运动商户" and mine.region.code == "330402009000"
    assert Merchant.objects.filter(status="approved").count() == 7
    assert Merchant.objects.filter(status="pending").count() == 1
    assert Reward.objects.filter(region__code="330400000000").count() == 10
    assert Reward.objects.filter(merchant=mine).count() == 3
    rule = PointRule.objects.get(region__code="330400000000", kind=RuleKind.PER_30_MINUTES)
    assert (rule.points, rule.daily_cap, rule.yearly_cap) == (10, 60, 5000)
    for merchant in Merchant.objects.filter(status="approved"):
        assert merchants.require_merchant(actor=merchant.owner, merchant_id=merchant.pk)


def test_demo_residents_points_follow_their_verified_minutes_and_orders_wait_at_the_counter():
    from django.db.models import Count, Sum

    from sportsman.activity.models import UserDay
    from sportsman.rewards.models import PointBalance, RewardOrder

    call_command("seed_demo", "--scale", "small", stdout=io.StringIO(), stderr=io.StringIO(),
                 verbosity=0)
    if not UserDay.objects.filter(verified_minutes__gte=30).exists():
        pytest.skip("the exercise record's demo step made no verified days")

    per_user = {row["user_id"]: row for row in PointEntry.objects.values("user_id").annotate(
        total=Sum("amount"), n=Count("id"))}
    days = dict(UserDay.objects.filter(verified_minutes__gte=30).values("user_id")
                .annotate(n=Count("id")).values_list("user_id", "n"))
    balances = dict(PointBalance.objects.values_list("user_id", "balance"))
    assert per_user and set(balances) == set(per_user)
    for user_id, row in per_user.items():
        assert balances[user_id] == row["total"] >= 0  # the ledger sums to the balance
        activity = PointEntry.objects.filter(user_id=user_id, source="activity")
        assert activity.count() <= days.get(user_id, 0)  # points of other kinds need no day
    assert not PointEntry.objects.filter(source="activity", amount__gt=60).exists()
    orders = RewardOrder.objects.filter(status="pending")
    assert orders.exists()
    assert {o.reward.merchant.owner.phone for o in orders} == {"13800000006"}


def test_bulk_demo_points_equal_what_the_daily_job_pays(tree):
    from sportsman.activity.models import UserDay

    rule = PointRule.objects.create(region=tree.city, kind=RuleKind.PER_30_MINUTES, points=10,
                                    daily_cap=60, yearly_cap=300)
    user = tree.user(home_community=tree.k1)
    minutes = [45, 200, 29, 90, 400, 61, 120, 500]
    start = dt.date(2026, 12, 27)
    days = [(start + dt.timedelta(days=i), m) for i, m in enumerate(minutes)]

    bulk = _activity_entries(user.pk, [d for d in days if d[1] >= 30], rule)
    for day, m in days:
        UserDay.objects.create(user=user, day=day, region=tree.k1, minutes=m,
                               verified_minutes=m)
        points.award_activity_day(day=day)

    paid = list(PointEntry.objects.filter(user=user).order_by("id")
                .values_list("idempotency_key", "amount", "balance_after"))
    assert [(e.idempotency_key, e.amount, e.balance_after) for e in bulk] == paid
    assert paid[-1][2] == points.balance_of(user.pk)
