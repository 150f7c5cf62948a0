"""Merchant pages: apply, my merchants, and the staff review queue."""

from __future__ import annotations

import pytest

from sportsman.regions.models import RoleAssignment
from sportsman.rewards.models import Merchant, MerchantStatus
from sportsman.rewards.tests.catalogue_fixtures import make_merchant

pytestmark = pytest.mark.django_db


def test_a_resident_applies_on_the_form_and_sees_it_pending(tree, client):
    me = tree.user(home_community=tree.k2)
    client.force_login(me)
    assert client.get("/rewards/merchants/apply/").status_code == 200

    response = client.post("/rewards/merchants/apply/", {
        "name": "新南体育", "region": tree.t1.pk, "address": "新南路 2 号",
        "contact_phone": "", "licence_no": ""})

    assert response.status_code == 302
    merchant = Merchant.objects.get(owner=me)
    assert merchant.status == MerchantStatus.PENDING and merchant.region == tree.t1
    assert "新南体育" in client.get("/rewards/merchants/mine/").content.decode()


def test_staff_review_queue_approves_and_grants_the_role(tree, client):
    pending = make_merchant(tree, status=MerchantStatus.PENDING, name="待审商户")
    elsewhere = make_merchant(tree, region=tree.k3, status=MerchantStatus.PENDING, name="别处商户")
    client.force_login(tree.town_admin)

    page = client.get("/rewards/console/merchants/").content.decode()
    client.post(f"/rewards/console/merchants/{pending.pk}/review/", {"decision": "approve"})

    assert "待审商户" in page and "别处商户" not in page
    pending.refresh_from_db()
    assert pending.status == MerchantStatus.APPROVED
    assert RoleAssignment.objects.filter(user=pending.owner, role="merchant").exists()
    elsewhere.refresh_from_db()
    assert elsewhere.status == MerchantStatus.PENDING


def test_review_queue_refuses_residents(tree, client):
    client.force_login(tree.resident)
    assert client.get("/rewards/console/merchants/").status_code == 403
