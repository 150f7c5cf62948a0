"""Merchants API: apply, my merchants, the staff review queue and review."""

from __future__ import annotations

import pytest

from sportsman.rewards.models import Merchant

pytestmark = pytest.mark.django_db


def _apply(client, tree, **kw):
    return client.json("post", "/api/v1/merchants", {
        "name": "动力体育用品", "region_id": tree.k2.pk, "address": "新南路 1 号",
        "contact_phone": "0573-1234567", "licence_no": "91330402MA2B", **kw})


def test_apply_review_and_see_it_approved(tree, api_client, django_assert_max_num_queries):
    me = tree.user(home_community=tree.k2)
    mine = api_client.as_user(me)
    staff = api_client.as_user(tree.town_admin)

    applied = _apply(mine, tree)
    with django_assert_max_num_queries(6):
        queue = staff.get("/api/v1/merchants?status=pending").json()
    reviewed = staff.json("post", f"/api/v1/merchants/{applied.json()['id']}/review",
                          {"approve": True, "note": "资料齐全"})
    listed = mine.get("/api/v1/me/merchants").json()

    assert applied.status_code == 201 and applied.json()["status"] == "pending"
    assert [m["id"] for m in queue] == [applied.json()["id"]]
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "approved"
    assert listed[0]["status"] == "approved" and listed[0]["region_name"] == tree.k2.name


def test_applying_needs_a_login_and_valid_fields(tree, api_client):
    assert _apply(api_client, tree).status_code == 401
    bad = _apply(api_client.as_user(tree.resident), tree, region_id=987654321)
    assert bad.status_code == 400 and "region_id" in bad.json()["fields"]
    assert _apply(api_client.as_user(tree.resident), tree, owner_id=1).status_code == 400
    assert not Merchant.objects.exists()


def test_a_second_review_answers_conflict(tree, api_client):
    applied = _apply(api_client.as_user(tree.resident), tree).json()
    staff = api_client.as_user(tree.town_admin)
    staff.json("post", f"/api/v1/merchants/{applied['id']}/review", {"approve": False})
    again = staff.json("post", f"/api/v1/merchants/{applied['id']}/review", {"approve": True})
    assert again.status_code == 409 and again.json()["code"] == "merchant_already_reviewed"


def test_an_unknown_status_filter_is_refused(tree, api_client):
    response = api_client.as_user(tree.town_admin).get("/api/v1/merchants?status=bogus")
    assert response.status_code == 400
