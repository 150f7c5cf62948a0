"""Points: one service moves balances; the ledger is append-only and idempotent; staff correct by
reversal; earning rules with daily and yearly caps; the daily activity job."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db.models import Sum

from sportsman.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from sportsman.core.models import AuditEntry
from sportsman.rewards import points
from sportsman.rewards.models import PointBalance, PointEntry, PointRule, RuleKind

pytestmark = pytest.mark.django_db


def _ledger_sum(user) -> int:
    return PointEntry.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] or 0


def test_award_creates_the_balance_and_one_entry_with_balance_after(tree):
    entry = points.award(user_id=tree.resident.pk, amount=50, reason="test", source="staff",
                         idempotency_key="k1")

    assert entry.amount == 50 and entry.balance_after == 50
    assert points.balance_of(tree.resident.pk) == 50


def test_retried_award_with_the_same_key_changes_nothing(tree):
    first = points.award(user_id=tree.resident.pk, amount=50, reason="x", source="staff",
                         idempotency_key="same")
    again = points.award(user_id=tree.resident.pk, amount=50, reason="x", source="staff",
                         idempotency_key="same")

    assert again.pk == first.pk
    assert PointEntry.objects.filter(user=tree.resident).count() == 1
    assert points.balance_of(tree.resident.pk) == 50


def test_a_key_used_for_another_user_is_refused(tree):
    points.award(user_id=tree.resident.pk, amount=5, reason="x", source="staff",
                 idempotency_key="mine")
    other = tree.user()

    with pytest.raises(DomainError) as exc:
        points.award(user_id=other.pk, amount=5, reason="x", source="staff",
                     idempotency_key="mine")

    assert exc.value.code == "idempotency_key_reused"
    assert points.balance_of(other.pk) == 0


def test_spend_below_zero_is_refused_and_writes_nothing(tree):
    points.award(user_id=tree.resident.pk, amount=20, reason="x", source="staff",
                 idempotency_key="a")

    with pytest.raises(DomainError) as exc:
        points.spend(user_id=tree.resident.pk, amount=21, reason="y", source="order",
                     idempotency_key="b")

    assert exc.value.code == "insufficient_points"
    assert points.balance_of(tree.resident.pk) == 20
    assert not PointEntry.objects.filter(idempotency_key="b").exists()


def test_spend_of_exactly_the_balance_leaves_zero(tree):
    points.award(user_id=tree.resident.pk, amount=20, reason="x", source="staff",
                 idempotency_key="a")
    entry = points.spend(user_id=tree.resident.pk, amount=20, reason="y", source="order",
                         idempotency_key="b")

    assert entry.amount == -20 and entry.balance_after == 0


@pytest.mark.parametrize("amount", [0, -5])
def test_award_and_spend_of_no_or_negative_points_are_refused(tree, amount):
    for service in (points.award, points.spend):
        with pytest.raises(InvalidInput):
            service(user_id=tree.resident.pk, amount=amount, reason="x", source="staff",
                    idempotency_key=f"bad-{amount}")
    assert not PointEntry.objects.exists()
    assert not PointBalance.objects.filter(balance__gt=0).exists()


def _resident_with(tree, amount, community=None):
    user = tree.user(home_community=community or tree.k2)
    entry = points.award(user_id=user.pk, amount=amount, reason="x", source="activity",
                         idempotency_key=f"seed:{user.pk}")
    return user, entry


def test_staff_reverse_an_entry_once_and_it_is_audited(tree):
    user, entry = _resident_with(tree, 30)

    made = points.reverse_entry(actor=tree.district_admin, entry_id=entry.pk, reason="error")

    assert made.amount == -30 and made.reverses_id == entry.pk and made.balance_after == 0
    assert points.balance_of(user.pk) == 0
    assert AuditEntry.objects.filter(action="points.reverse", object_id=str(made.pk)).exists()
    with pytest.raises(DomainError) as exc:
        points.reverse_entry(actor=tree.city_admin, entry_id=entry.pk, reason="again")
    assert exc.value.code == "already_reversed"
    assert points.balance_of(user.pk) == 0


def test_a_reversal_that_would_take_the_balance_negative_is_refused(tree):
    user, entry = _resident_with(tree, 30)
    points.spend(user_id=user.pk, amount=25, reason="x", source="order", idempotency_key="s")

    with pytest.raises(DomainError) as exc:
        points.reverse_entry(actor=tree.city_admin, entry_id=entry.pk, reason="error")

    assert exc.value.code == "insufficient_points"
    assert points.balance_of(user.pk) == 5
    assert not PointEntry.objects.filter(reverses=entry).exists()


def test_a_reversal_cannot_be_reversed(tree):
    _user, entry = _resident_with(tree, 30)
    made = points.reverse_entry(actor=tree.city_admin, entry_id=entry.pk, reason="error")

    with pytest.raises(InvalidInput):
        points.reverse_entry(actor=tree.city_admin, entry_id=made.pk, reason="undo")


@pytest.mark.parametrize("who", ["sibling_district_admin", "town_admin", "other_city_admin",
                                 "resident"])
def test_staff_outside_the_users_region_cannot_reverse(tree, who):
    user, entry = _resident_with(tree, 30)  # lives in k2 (d1)

    with pytest.raises((NotFound, Forbidden)):
        points.reverse_entry(actor=getattr(tree, who), entry_id=entry.pk, reason="error")

    assert points.balance_of(user.pk) == 30


def test_reversal_needs_a_reason(tree):
    user, entry = _resident_with(tree, 30)
    with pytest.raises(InvalidInput):
        points.reverse_entry(actor=tree.city_admin, entry_id=entry.pk, reason="  ")
    assert points.balance_of(user.pk) == 30


# --- rules -----------------------------------------------------------------------------------

def test_city_staff_set_a_rule_and_it_is_audited(tree):
    rule = points.set_point_rule(actor=tree.city_admin, region_id=tree.city.pk,
                                 kind=RuleKind.PER_30_MINUTES, points=10, daily_cap=60,
                                 yearly_cap=5000)
    again = points.set_point_rule(actor=tree.city_admin, region_id=tree.city.pk,
                                  kind=RuleKind.PER_30_MINUTES, points=5, daily_cap=None,
                                  yearly_cap=None)

    assert again.pk == rule.pk and again.points == 5 and again.daily_cap is None
    assert AuditEntry.objects.filter(action="points.rule.set").count() == 2


def test_rules_belong_on_cities(tree):
    with pytest.raises(InvalidInput) as exc:
        points.set_point_rule(actor=tree.city_admin, region_id=tree.d1.pk,
                              kind=RuleKind.PER_EVENT, points=10)
    assert exc.value.code == "not_a_city"
    assert not PointRule.objects.exists()


@pytest.mark.parametrize("who", ["district_admin", "other_city_admin", "town_admin", "resident"])
def test_only_the_citys_staff_set_its_rules(tree, who):
    with pytest.raises((NotFound, Forbidden)):
        points.set_point_rule(actor=getattr(tree, who), region_id=tree.city.pk,
                              kind=RuleKind.PER_EVENT, points=10)
    assert not PointRule.objects.exists()


@pytest.mark.parametrize("kw", [{"points": 0}, {"points": 10, "daily_cap": 5},
                                {"points": 10, "daily_cap": 100, "yearly_cap": 50}])
def test_bad_rules_are_refused(tree, kw):
    with pytest.raises(InvalidInput):
        points.set_point_rule(actor=tree.city_admin, region_id=tree.city.pk,
                              kind=RuleKind.PER_EVENT, **kw)
    assert not PointRule.objects.exists()


def test_award_for_uses_the_rule_of_the_users_city_and_its_daily_cap(tree):
    PointRule.objects.create(region=tree.city, kind=RuleKind.PER_EVENT, points=20, daily_cap=50)
    user = tree.user(home_community=tree.k3)

    first = points.award_for(RuleKind.PER_EVENT, user.pk, 2, "event:1")
    second = points.award_for(RuleKind.PER_EVENT, user.pk, 2, "event:2")
    third = points.award_for(RuleKind.PER_EVENT, user.pk, 1, "event:3")

    assert (first.amount, second.amount, third) == (40, 10, None)
    assert points.balance_of(user.pk) == 50
    assert first.source == "event"


def test_award_for_is_idempotent_by_key(tree):
    PointRule.objects.create(region=tree.city, kind=RuleKind.PER_VOLUNTEER_HOUR, points=15)
    user = tree.user(home_community=tree.k1)

    a = points.award_for(RuleKind.PER_VOLUNTEER_HOUR, user.pk, 3, "volunteer:9")
    b = points.award_for(RuleKind.PER_VOLUNTEER_HOUR, user.pk, 3, "volunteer:9")

    assert a.pk == b.pk and points.balance_of(user.pk) == 45


def test_award_for_respects_the_yearly_cap(tree):
    PointRule.objects.create(region=tree.city, kind=RuleKind.PER_EVENT, points=30,
                             yearly_cap=70)
    user = tree.user(home_community=tree.k1)
    day = dt.datetime(2026, 5, 1, 4, tzinfo=dt.UTC)

    amounts = []
    for i in range(4):
        with time_machine.travel(day + dt.timedelta(days=i), tick=False):
            amounts.append(getattr(points.award_for(RuleKind.PER_EVENT, user.pk, 1, f"e{i}"),
                                   "amount", None))

    assert amounts == [30, 30, 10, None]
    # and a new year starts the count again
    with time_machine.travel(dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC), tick=False):
        assert points.award_for(RuleKind.PER_EVENT, user.pk, 1, "e-new-year").amount == 30


def test_award_for_without_a_rule_or_home_awards_nothing(tree):
    PointRule.objects.create(region=tree.other_city, kind=RuleKind.PER_EVENT, points=30)
    nowhere = tree.user()
    k1_user = tree.user(home_community=tree.k1)

    assert points.award_for(RuleKind.PER_EVENT, nowhere.pk, 1, "x1") is None
    assert points.award_for(RuleKind.PER_EVENT, k1_user.pk, 1, "x2") is None
    assert not PointEntry.objects.exists()


def test_award_for_refuses_an_unknown_kind(tree):
    with pytest.raises(InvalidInput):
        points.award_for("per_smile", tree.resident.pk, 1, "x")


# --- the daily job ---------------------------------------------------------------------------

DAY = dt.date(2026, 6, 10)


def _day(user, minutes, day=DAY, region=None):
    from sportsman.activity.models import UserDay

    return UserDay.objects.create(user=user, day=day, region=region or user.home_community,
                                  minutes=minutes + 20, verified_minutes=minutes)


def test_daily_job_awards_per_30_verified_minutes_capped_and_is_idempotent(tree):
    PointRule.objects.create(region=tree.city, kind=RuleKind.PER_30_MINUTES, points=10,
                             daily_cap=60, yearly_cap=5000)
    a, b, c, d = (tree.user(home_community=tree.k2) for _ in range(4))
    e = tree.user(home_community=tree.other_district)  # another city: no rule
    _day(a, 95)   # 3 blocks → 30
    _day(b, 400)  # 13 blocks → capped at 60
    _day(c, 29)   # nothing
    _day(d, 60, day=DAY - dt.timedelta(days=1))  # another day
    _day(e, 120)

    assert points.award_activity_day(day=DAY) == 2
    assert points.award_activity_day(day=DAY) == 0

    assert (points.balance_of(a.pk), points.balance_of(b.pk)) == (30, 60)
    assert [points.balance_of(u.pk) for u in (c, d, e)] == [0, 0, 0]
    entry = PointEntry.objects.get(user=a)
    assert entry.idempotency_key == f"activity:{a.pk}:{DAY.isoformat()}"
    assert entry.source == "activity"


def test_daily_job_respects_the_yearly_cap_by_the_activity_year(tree):
    PointRule.objects.create(region=tree.city, kind=RuleKind.PER_30_MINUTES, points=10,
                             daily_cap=60, yearly_cap=100)
    user = tree.user(home_community=tree.k1)
    days = [dt.date(2026, 12, 29) + dt.timedelta(days=i) for i in range(4)]  # 29,30,31 Dec, 1 Jan
    for day in days:
        _day(user, 180, day=day)

    amounts = []
    for day in days:
        points.award_activity_day(day=day)
        amounts.append(points.balance_of(user.pk))

    assert amounts == [60, 100, 100, 160]


def test_daily_job_task_awards_yesterday(tree, settings):
    from django.utils import timezone

    from sportsman.core.scheduler import LOCAL_TZ, SCHEDULE
    from sportsman.rewards import tasks_points

    PointRule.objects.create(region=tree.city, kind=RuleKind.PER_30_MINUTES, points=10)
    user = tree.user(home_community=tree.k1)
    yesterday = timezone.localtime(timezone.now(), LOCAL_TZ).date() - dt.timedelta(days=1)
    _day(user, 60, day=yesterday)

    assert tasks_points.award_activity_points.call() == 1
    assert points.balance_of(user.pk) == 20
    assert any(j.name == "rewards.award_activity_points" for j in SCHEDULE)


def test_ledger_sums_to_the_balance_after_mixed_changes(tree):
    user, _ = _resident_with(tree, 100)
    spent = points.spend(user_id=user.pk, amount=30, reason="x", source="order",
                         idempotency_key="s1")
    points.award(user_id=user.pk, amount=7, reason="x", source="event", idempotency_key="a1")
    back = points.reverse_entry(actor=tree.city_admin, entry_id=spent.pk, reason="oops")

    assert back.amount == 30 and back.balance_after == 107
    assert points.balance_of(user.pk) == _ledger_sum(user) == 107


def test_statement_pages_newest_first(tree):
    user = tree.user()
    for i in range(5):
        points.award(user_id=user.pk, amount=i + 1, reason="x", source="staff",
                     idempotency_key=f"p{i}")

    first = points.statement(user_id=user.pk, limit=3)
    rest = points.statement(user_id=user.pk, before=first[-1].pk, limit=3)

    assert [e.amount for e in first] == [5, 4, 3]
    assert [e.amount for e in rest] == [2, 1]
