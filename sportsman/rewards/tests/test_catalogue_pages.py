"""Catalogue pages: browse and redeem, my orders with a QR code, cancel; the merchant counter;
the staff catalogue and rules consoles."""

from __future__ import annotations

import pytest

from sportsman.core.models import AuditEntry
from sportsman.rewards import catalogue, points
from sportsman.rewards.models import OrderStatus, PointRule, Reward, RewardOrder
from sportsman.rewards.tests.catalogue_fixtures import make_merchant, make_reward, rich

pytestmark = pytest.mark.django_db


def test_catalogue_page_is_public_for_a_region(tree, client):
    make_reward(tree.city, name="游泳体验券")
    page = client.get(f"/rewards/?region={tree.k2.pk}")
    assert page.status_code == 200 and "游泳体验券" in page.content.decode()


def test_redeem_from_the_page_shows_the_order_with_a_qr_code(tree, client):
    me = rich(tree, 500)
    reward = make_reward(tree.city, cost=200)
    client.force_login(me)

    response = client.post(f"/rewards/{reward.pk}/redeem/")
    orders = client.get("/rewards/orders/")

    order = RewardOrder.objects.get(user=me)
    assert response.status_code == 302
    assert order.code in orders.content.decode() and "<svg" in orders.content.decode()
    assert points.balance_of(me.pk) == 300


def test_redeem_without_points_shows_why_and_writes_nothing(tree, client):
    me = rich(tree, 10)
    reward = make_reward(tree.city, cost=200)
    client.force_login(me)

    response = client.post(f"/rewards/{reward.pk}/redeem/", HTTP_REFERER="/rewards/",
                           follow=True)

    shown = [m.level_tag for m in response.context["messages"]]
    assert shown == ["error"]
    assert not RewardOrder.objects.exists() and points.balance_of(me.pk) == 10


def test_cancel_from_the_page(tree, client):
    me = rich(tree, 500)
    order = catalogue.redeem(actor=me, reward_id=make_reward(tree.city, cost=200).pk)
    client.force_login(me)

    client.post(f"/rewards/orders/{order.pk}/cancel/")

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and points.balance_of(me.pk) == 500


def test_counter_hands_over_a_typed_code_once(tree, client):
    merchant = make_merchant(tree)
    order = catalogue.redeem(actor=rich(tree), reward_id=make_reward(tree.city,
                                                                     merchant=merchant).pk)
    client.force_login(merchant.owner)

    assert client.get("/rewards/counter/orders/").status_code == 200
    first = client.post("/rewards/counter/orders/", {"code": order.code.lower()}, follow=True)
    second = client.post("/rewards/counter/orders/", {"code": order.code}, follow=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert first.status_code == second.status_code == 200
    assert AuditEntry.objects.filter(action="reward_order.fulfil").count() == 1


def test_counter_refuses_residents(tree, client):
    client.force_login(tree.resident)
    assert client.get("/rewards/counter/orders/").status_code == 403


def test_staff_add_a_reward_and_change_its_stock(tree, client):
    client.force_login(tree.city_admin)
    assert client.get("/rewards/console/catalogue/").status_code == 200

    client.post("/rewards/console/catalogue/", {
        "region": tree.city.pk, "name": "跳绳", "kind": "goods", "points_cost": 150,
        "stock": 20, "description": "", "per_person_limit": "", "merchant": ""})
    reward = Reward.objects.get(name="跳绳")
    client.post(f"/rewards/console/catalogue/{reward.pk}/stock/", {"stock": 5})

    reward.refresh_from_db()
    assert (reward.stock, reward.is_active) == (5, False)


def test_catalogue_console_refuses_town_staff(tree, client):
    client.force_login(tree.town_admin)
    assert client.get("/rewards/console/catalogue/").status_code == 403


def test_city_staff_set_a_rule_on_the_console(tree, client):
    client.force_login(tree.city_admin)
    assert client.get("/rewards/console/point-rules/").status_code == 200

    client.post("/rewards/console/point-rules/", {
        "region": tree.city.pk, "kind": "per_30_minutes", "points": 10, "daily_cap": 60,
        "yearly_cap": 5000, "is_active": "on"})

    rule = PointRule.objects.get(region=tree.city)
    assert (rule.points, rule.daily_cap, rule.yearly_cap) == (10, 60, 5000)


def test_a_bad_rule_shows_the_form_again(tree, client):
    client.force_login(tree.city_admin)
    page = client.post("/rewards/console/point-rules/", {
        "region": tree.city.pk, "kind": "per_30_minutes", "points": 10, "daily_cap": 5})
    assert page.status_code == 200 and not PointRule.objects.exists()


def test_staff_add_a_reward_collected_at_a_merchant(tree, client):
    merchant = make_merchant(tree)
    client.force_login(tree.district_admin)

    client.post("/rewards/console/catalogue/", {
        "region": tree.d1.pk, "name": "羽毛球", "kind": "goods", "points_cost": 600,
        "stock": 20, "description": "", "per_person_limit": 1, "merchant": merchant.pk})

    assert Reward.objects.get(name="羽毛球").merchant == merchant
