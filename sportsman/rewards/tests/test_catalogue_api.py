"""Catalogue API: the public catalogue, redeeming (idempotent), my orders, cancelling, the
counter."""

from __future__ import annotations

import pytest

from sportsman.rewards import points
from sportsman.rewards.models import RewardOrder
from sportsman.rewards.tests.catalogue_fixtures import make_merchant, make_reward, rich

pytestmark = pytest.mark.django_db


def test_the_catalogue_of_a_region_is_public(tree, api_client, django_assert_max_num_queries):
    merchant = make_merchant(tree)
    city = make_reward(tree.city, merchant=merchant)
    make_reward(tree.k3, name="别处")

    with django_assert_max_num_queries(3):
        response = api_client.get(f"/api/v1/rewards?region={tree.k2.pk}")

    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [city.pk]
    assert response.json()[0]["merchant_name"] == merchant.name


def test_the_catalogue_without_region_uses_my_home_else_is_refused(tree, client):
    reward = make_reward(tree.k2)
    me = tree.user(home_community=tree.k2)
    assert client.get("/api/v1/rewards").status_code == 400
    client.force_login(me)
    assert [r["id"] for r in client.get("/api/v1/rewards").json()] == [reward.pk]


def test_redeem_with_an_idempotency_key_retried_makes_one_order(tree, api_client):
    me = rich(tree, 300)
    reward = make_reward(tree.city, cost=100, stock=5)
    client = api_client.as_user(me)

    first = client.post(f"/api/v1/rewards/{reward.pk}/redeem", HTTP_IDEMPOTENCY_KEY="tap-1")
    again = client.post(f"/api/v1/rewards/{reward.pk}/redeem", HTTP_IDEMPOTENCY_KEY="tap-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and len(first.json()["code"]) == 12
    assert RewardOrder.objects.count() == 1 and points.balance_of(me.pk) == 200


def test_redeem_short_of_points_answers_insufficient_points(tree, api_client):
    me = rich(tree, 10)
    reward = make_reward(tree.city, cost=100)
    response = api_client.as_user(me).post(f"/api/v1/rewards/{reward.pk}/redeem")
    assert response.status_code == 409 and response.json()["code"] == "insufficient_points"


def test_my_orders_pages_and_cancel(tree, api_client, django_assert_max_num_queries):
    me = rich(tree, 1000)
    reward = make_reward(tree.city, cost=100, stock=5)
    client = api_client.as_user(me)
    ids = [client.post(f"/api/v1/rewards/{reward.pk}/redeem").json()["id"] for _ in range(3)]

    with django_assert_max_num_queries(4):
        page = client.get("/api/v1/me/orders?limit=2").json()
    cancelled = client.post(f"/api/v1/me/orders/{ids[0]}/cancel")
    others = api_client.as_user(tree.user()).post(f"/api/v1/me/orders/{ids[1]}/cancel")

    assert [o["id"] for o in page["items"]] == ids[:0:-1] and page["next_cursor"] == ids[1]
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert others.status_code == 404
    assert points.balance_of(me.pk) == 800


def test_the_counter_fulfils_once(tree, api_client):
    merchant = make_merchant(tree)
    order_code = api_client.as_user(rich(tree)).post(
        f"/api/v1/rewards/{make_reward(tree.city, merchant=merchant).pk}/redeem").json()["code"]
    client = api_client.as_user(merchant.owner)

    first = client.json("post", "/api/v1/merchant/orders/fulfil", {"code": f"SPR:{order_code}"})
    second = client.json("post", "/api/v1/merchant/orders/fulfil", {"code": order_code})

    assert first.status_code == 200 and first.json()["status"] == "fulfilled"
    assert second.status_code == 409 and second.json()["code"] == "order_not_pending"


def test_staff_create_and_patch_rewards(tree, api_client):
    client = api_client.as_user(tree.district_admin)
    created = client.json("post", "/api/v1/rewards", {"region_id": tree.d1.pk, "name": "羽毛球",
                                                      "kind": "goods", "points_cost": 80,
                                                      "stock": 20})
    patched = client.json("patch", f"/api/v1/rewards/{created.json()['id']}",
                          {"stock": 5, "per_person_limit": 2})
    bad = client.json("post", "/api/v1/rewards", {"region_id": tree.d1.pk, "name": "x",
                                                  "kind": "gold", "points_cost": 1})

    assert created.status_code == 201
    assert patched.json()["stock"] == 5 and patched.json()["per_person_limit"] == 2
    assert bad.status_code == 400
