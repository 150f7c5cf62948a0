"""The catalogue: staff keep rewards; residents redeem and cancel; merchants fulfil by code."""

from __future__ import annotations

import pytest

from sportsman.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from sportsman.core.models import AuditEntry
from sportsman.rewards import catalogue, points
from sportsman.rewards.models import MerchantStatus, OrderStatus, PointEntry, Reward, RewardOrder
from sportsman.rewards.tests.catalogue_fixtures import make_merchant, make_reward, rich

pytestmark = pytest.mark.django_db


def test_city_staff_add_and_change_a_reward_audited(tree):
    merchant = make_merchant(tree)
    reward = catalogue.create_reward(actor=tree.city_admin, region_id=tree.city.pk,
                                     name="羽毛球", kind="goods", points_cost=200, stock=10,
                                     merchant_id=merchant.pk)
    changed = catalogue.update_reward(actor=tree.city_admin,
                                      reward_id=reward.pk, changes={"stock": 3, "is_active": False})

    assert (changed.stock, changed.is_active) == (3, False)
    assert AuditEntry.objects.filter(object_id=str(reward.pk),
                                     action__in=["reward.create", "reward.update"]).count() == 2


def test_district_staff_keep_their_districts_rewards_only(tree):
    mine = catalogue.create_reward(actor=tree.district_admin, region_id=tree.d1.pk, name="水杯",
                                   kind="goods", points_cost=50)
    city = make_reward(tree.city)

    with pytest.raises(NotFound):
        catalogue.update_reward(actor=tree.district_admin, reward_id=city.pk,
                                changes={"stock": 0})
    with pytest.raises(NotFound):
        catalogue.create_reward(actor=tree.sibling_district_admin, region_id=tree.d1.pk,
                                name="x", kind="goods", points_cost=1)
    with pytest.raises(Forbidden):
        catalogue.create_reward(actor=tree.town_admin, region_id=tree.t1.pk, name="x",
                                kind="goods", points_cost=1)
    assert list(Reward.objects.values_list("pk", flat=True).order_by("pk")) == [mine.pk, city.pk]


@pytest.mark.parametrize("kw", [{"name": ""}, {"kind": "gold"}, {"points_cost": 0},
                                {"stock": -1}, {"per_person_limit": 0}, {"merchant_id": 999999}])
def test_bad_rewards_are_refused_and_nothing_is_written(tree, kw):
    base = {"name": "水杯", "kind": "goods", "points_cost": 10, "stock": 1}
    with pytest.raises(InvalidInput):
        catalogue.create_reward(actor=tree.city_admin, region_id=tree.city.pk, **{**base, **kw})
    assert not Reward.objects.exists()


def test_a_merchant_outside_the_rewards_region_or_pending_is_refused(tree):
    elsewhere = make_merchant(tree, region=tree.k3)
    pending = make_merchant(tree, status=MerchantStatus.PENDING)
    for merchant in (elsewhere, pending):
        with pytest.raises(InvalidInput):
            catalogue.create_reward(actor=tree.city_admin, region_id=tree.t1.pk, name="x",
                                    kind="goods", points_cost=1, merchant_id=merchant.pk)


def test_unknown_fields_are_refused(tree):
    reward = make_reward(tree.city)
    with pytest.raises(InvalidInput):
        catalogue.update_reward(actor=tree.city_admin, reward_id=reward.pk,
                                changes={"region_id": tree.other_city.pk})


def test_catalogue_of_a_community_holds_its_own_and_its_ancestors_rewards(tree):
    city, k2, k3 = make_reward(tree.city), make_reward(tree.k2), make_reward(tree.k3)
    make_reward(tree.other_city)
    hidden = make_reward(tree.city)
    Reward.objects.filter(pk=hidden.pk).update(is_active=False)

    assert set(catalogue.catalogue_for(tree.k2)) == {city, k2}
    assert k3 not in catalogue.catalogue_for(tree.k2)


def test_redeeming_spends_points_takes_stock_and_gives_a_code(tree):
    user = rich(tree, 300)
    reward = make_reward(tree.city, cost=120, stock=2)

    order = catalogue.redeem(actor=user, reward_id=reward.pk)

    reward.refresh_from_db()
    assert order.status == OrderStatus.PENDING and len(order.code) == 12
    assert reward.stock == 1 and points.balance_of(user.pk) == 180
    entry = PointEntry.objects.get(idempotency_key=f"order:{order.pk}")
    assert entry.amount == -120 and entry.source == "order"


def test_redeeming_without_enough_points_writes_nothing(tree):
    user = rich(tree, 50)
    reward = make_reward(tree.city, cost=120, stock=2)

    with pytest.raises(DomainError) as exc:
        catalogue.redeem(actor=user, reward_id=reward.pk)

    assert exc.value.code == "insufficient_points"
    reward.refresh_from_db()
    assert reward.stock == 2 and not RewardOrder.objects.exists()
    assert points.balance_of(user.pk) == 50


def test_redeeming_out_of_stock_writes_nothing(tree):
    user = rich(tree, 500)
    reward = make_reward(tree.city, stock=0)
    with pytest.raises(DomainError) as exc:
        catalogue.redeem(actor=user, reward_id=reward.pk)
    assert exc.value.code == "out_of_stock"
    assert points.balance_of(user.pk) == 500 and not RewardOrder.objects.exists()


def test_per_person_limit_counts_orders_not_cancelled(tree):
    user = rich(tree, 1000)
    reward = make_reward(tree.city, cost=100, stock=5, limit=1)

    first = catalogue.redeem(actor=user, reward_id=reward.pk)
    with pytest.raises(DomainError) as exc:
        catalogue.redeem(actor=user, reward_id=reward.pk)
    assert exc.value.code == "over_person_limit"
    catalogue.cancel_order(actor=user, order_id=first.pk)
    catalogue.redeem(actor=user, reward_id=reward.pk)

    assert points.balance_of(user.pk) == 900


def test_a_reward_of_another_region_or_inactive_is_not_found(tree):
    user = rich(tree, 1000)
    for reward in (make_reward(tree.k3), make_reward(tree.other_city)):
        with pytest.raises(NotFound):
            catalogue.redeem(actor=user, reward_id=reward.pk)
    inactive = make_reward(tree.city)
    Reward.objects.filter(pk=inactive.pk).update(is_active=False)
    with pytest.raises(NotFound):
        catalogue.redeem(actor=user, reward_id=inactive.pk)
    assert points.balance_of(user.pk) == 1000


def test_cancelling_refunds_by_reversal_and_restocks(tree):
    user = rich(tree, 300)
    reward = make_reward(tree.city, cost=120, stock=1)
    order = catalogue.redeem(actor=user, reward_id=reward.pk)

    cancelled = catalogue.cancel_order(actor=user, order_id=order.pk)

    reward.refresh_from_db()
    assert cancelled.status == OrderStatus.CANCELLED and reward.stock == 1
    assert points.balance_of(user.pk) == 300
    refund = PointEntry.objects.get(reverses__idempotency_key=f"order:{order.pk}")
    assert refund.amount == 120 and refund.source == "refund"
    with pytest.raises(DomainError) as exc:
        catalogue.cancel_order(actor=user, order_id=order.pk)
    assert exc.value.code == "order_not_pending"


def test_nobody_cancels_anothers_order(tree):
    user = rich(tree, 300)
    order = catalogue.redeem(actor=user, reward_id=make_reward(tree.city).pk)
    with pytest.raises(NotFound):
        catalogue.cancel_order(actor=tree.user(), order_id=order.pk)


def test_the_rewards_merchant_fulfils_a_code_once_audited(tree, django_capture_on_commit_callbacks):
    from sportsman.notifications.models import Notification

    merchant = make_merchant(tree)
    user = rich(tree, 300)
    order = catalogue.redeem(actor=user, reward_id=make_reward(tree.city,
                                                               merchant=merchant).pk)

    with django_capture_on_commit_callbacks(execute=True):
        done = catalogue.fulfil_order(actor=merchant.owner, code=f"spr:{order.code.lower()}")

    assert done.status == OrderStatus.FULFILLED and done.fulfilled_by == merchant.owner
    assert AuditEntry.objects.filter(action="reward_order.fulfil").count() == 1
    assert Notification.objects.filter(user=user, category="reward").exists()
    with pytest.raises(DomainError) as exc:
        catalogue.fulfil_order(actor=merchant.owner, code=order.code)
    assert exc.value.code == "order_not_pending"
    with pytest.raises(DomainError) as exc:
        catalogue.cancel_order(actor=user, order_id=order.pk)
    assert exc.value.code == "order_not_pending"


def test_another_merchant_cannot_fulfil_a_merchants_reward(tree):
    merchant = make_merchant(tree)
    other = make_merchant(tree, name="别家")
    order = catalogue.redeem(actor=rich(tree), reward_id=make_reward(tree.city,
                                                                     merchant=merchant).pk)
    with pytest.raises(Forbidden):
        catalogue.fulfil_order(actor=other.owner, code=order.code)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_reward_without_merchant_is_fulfilled_by_a_merchant_inside_its_region(tree):
    inside = make_merchant(tree, region=tree.k1)
    outside = make_merchant(tree, region=tree.k3, name="湘城店")
    order = catalogue.redeem(actor=rich(tree), reward_id=make_reward(tree.t1).pk)

    with pytest.raises(Forbidden):
        catalogue.fulfil_order(actor=outside.owner, code=order.code)
    assert catalogue.fulfil_order(actor=inside.owner, code=order.code).status == "fulfilled"


def test_unknown_or_empty_codes_are_refused(tree):
    merchant = make_merchant(tree)
    with pytest.raises(NotFound) as exc:
        catalogue.fulfil_order(actor=merchant.owner, code="ZZZZZZZZZZZZ")
    assert exc.value.code == "unknown_code"
    with pytest.raises(InvalidInput):
        catalogue.fulfil_order(actor=merchant.owner, code="  ")


def test_a_resident_without_the_merchant_role_cannot_fulfil(tree):
    order = catalogue.redeem(actor=rich(tree), reward_id=make_reward(tree.city).pk)
    with pytest.raises(Forbidden):
        catalogue.fulfil_order(actor=tree.town_admin, code=order.code)
