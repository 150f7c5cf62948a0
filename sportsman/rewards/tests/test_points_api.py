"""Points API: my statement with cursor pages; staff rules and reversals with the one error
shape."""

from __future__ import annotations

import pytest

from sportsman.rewards import points
from sportsman.rewards.models import PointRule

pytestmark = pytest.mark.django_db


def test_my_points_shows_balance_and_pages_the_statement(tree, api_client,
                                                         django_assert_max_num_queries):
    me = tree.user(home_community=tree.k1)
    for i in range(5):
        points.award(user_id=me.pk, amount=10, reason=f"r{i}", source="event",
                     idempotency_key=f"k{i}")
    client = api_client.as_user(me)

    with django_assert_max_num_queries(8):
        first = client.get("/api/v1/me/points?limit=3").json()
    second = client.get(f"/api/v1/me/points?limit=3&cursor={first['next_cursor']}").json()

    assert first["balance"] == 50
    assert [e["reason"] for e in first["items"]] == ["r4", "r3", "r2"]
    assert [e["reason"] for e in second["items"]] == ["r1", "r0"]
    assert second["next_cursor"] is None
    assert first["items"][0]["balance_after"] == 50 and first["items"][0]["source_label"]


def test_my_points_needs_a_login(api_client):
    assert api_client.get("/api/v1/me/points").status_code == 401


def test_setting_a_rule_with_bad_caps_answers_the_error_shape(tree, api_client):
    client = api_client.as_user(tree.city_admin)

    response = client.json("put", f"/api/v1/regions/{tree.city.pk}/point-rules",
                           {"kind": "per_30_minutes", "points": 10, "daily_cap": 5})

    assert response.status_code == 400 and "daily_cap" in response.json()["fields"]
    assert not PointRule.objects.exists()


def test_a_rule_on_a_district_is_refused(tree, api_client):
    response = api_client.as_user(tree.city_admin).json(
        "put", f"/api/v1/regions/{tree.d1.pk}/point-rules", {"kind": "per_event", "points": 5})
    assert response.status_code == 400 and response.json()["code"] == "not_a_city"


def test_unknown_fields_are_refused(tree, api_client):
    response = api_client.as_user(tree.city_admin).json(
        "put", f"/api/v1/regions/{tree.city.pk}/point-rules",
        {"kind": "per_event", "points": 5, "bonus": 1})
    assert response.status_code == 400 and response.json()["code"] == "unknown_field"


def test_reversing_twice_answers_already_reversed(tree, api_client):
    user = tree.user(home_community=tree.k2)
    entry = points.award(user_id=user.pk, amount=10, reason="x", source="event",
                         idempotency_key="x")
    client = api_client.as_user(tree.district_admin)

    first = client.json("post", f"/api/v1/point-entries/{entry.pk}/reverse", {"reason": "dup"})
    second = client.json("post", f"/api/v1/point-entries/{entry.pk}/reverse", {"reason": "dup"})

    assert first.status_code == 201 and first.json()["amount"] == -10
    assert second.status_code == 409 and second.json()["code"] == "already_reversed"
    assert points.balance_of(user.pk) == 0
