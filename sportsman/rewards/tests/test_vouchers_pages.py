"""Voucher pages: campaigns with what I can do, claiming, my vouchers with the code, the merchant
counter, and the staff console (create, edit, activate, close, reconciliation)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sportsman.rewards.models import Voucher, VoucherCampaign
from sportsman.rewards.tests.scope_cases_vouchers import make_campaign, make_merchant, make_voucher

pytestmark = pytest.mark.django_db


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_visitors_see_campaigns_and_are_asked_to_log_in(tree):
    make_campaign(tree.city, name="全民健身消费券")

    page = _client().get(reverse("rewards:voucher_campaigns")).content.decode()

    assert "全民健身消费券" in page and reverse("accounts:login") in page


def test_resident_sees_why_not_and_claims_where_they_can(tree):
    picky = make_campaign(tree.d1, name="挑剔券", eligibility={"age_min": 60})
    open_ = make_campaign(tree.d1, name="开放券")
    client = _client(tree.resident)

    page = client.get(reverse("rewards:voucher_campaigns")).content.decode()
    assert 'data-reason="age_unknown"' in page
    assert reverse("rewards:claim_voucher", args=[open_.pk]) in page
    assert reverse("rewards:claim_voucher", args=[picky.pk]) not in page

    refused = client.post(reverse("rewards:claim_voucher", args=[picky.pk]))
    assert refused.status_code == 302 and not Voucher.objects.exists()
    done = client.post(reverse("rewards:claim_voucher", args=[open_.pk]))
    assert done.status_code == 302 and done["Location"] == reverse("rewards:my_vouchers")

    voucher = Voucher.objects.get()
    mine = client.get(reverse("rewards:my_vouchers")).content.decode()
    assert voucher.code in mine and "<svg" in mine


def test_my_vouchers_needs_a_login(tree):
    response = _client().get(reverse("rewards:my_vouchers"))

    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_merchant_counter_redeems_and_shows_what_to_pay(tree):
    merchant = make_merchant(tree, tree.k2, name="柜台商户")
    voucher = make_voucher(make_campaign(tree.d1), tree.resident)
    client = _client(merchant.owner)
    url = reverse("rewards:voucher_counter")

    assert client.get(url).status_code == 200
    low = client.post(url, {"merchant": merchant.pk, "code": voucher.code, "amount": "50"})
    assert low.status_code == 400 and Voucher.objects.get().status == "issued"
    done = client.post(url, {"merchant": merchant.pk, "code": voucher.code, "amount": "120"})

    assert done.status_code == 200
    assert "¥70" in done.content.decode()
    assert Voucher.objects.get().status == "redeemed"
    book = client.get(reverse("rewards:voucher_counter_reconciliation"))
    assert book.status_code == 200 and book["Content-Type"].startswith("application/vnd")
    assert _client(tree.resident).get(url).status_code == 403


def test_staff_create_activate_edit_and_close_a_campaign(tree):
    client = _client(tree.district_admin)
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = {"region": tree.d1.pk, "name": "南湖夏季券", "mode": "first_come",
            "face_value": "50", "min_spend": "100", "budget": "1000",
            "claim_opens_at": now.strftime("%Y-%m-%dT%H:%M"),
            "claim_closes_at": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "valid_days": 7, "per_campaign_limit": 1, "min_minutes": 300}

    assert client.get(reverse("rewards:console_voucher_new")).status_code == 200
    bad = client.post(reverse("rewards:console_voucher_new"), {**form, "budget": "10"})
    assert bad.status_code == 200 and not VoucherCampaign.objects.exists()
    made = client.post(reverse("rewards:console_voucher_new"), form)
    campaign = VoucherCampaign.objects.get()
    assert made["Location"] == reverse("rewards:console_voucher", args=[campaign.pk])
    assert campaign.budget_cents == 100_000 and campaign.eligibility == {
        "min_verified_minutes_last_month": 300}

    client.post(reverse("rewards:console_voucher_activate", args=[campaign.pk]))
    edited = client.post(reverse("rewards:console_voucher", args=[campaign.pk]),
                         {**form, "budget": "2000", "name": "南湖夏季消费券"})
    assert edited.status_code == 302
    refused = client.post(reverse("rewards:console_voucher", args=[campaign.pk]),
                          {**form, "face_value": "20"})
    assert refused.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.status, campaign.budget_cents, campaign.name, campaign.face_value_cents) \
        == ("active", 200_000, "南湖夏季消费券", 5_000)
    listing = client.get(reverse("rewards:console_vouchers")).content.decode()
    assert "南湖夏季消费券" in listing
    client.post(reverse("rewards:console_voucher_close", args=[campaign.pk]))
    assert VoucherCampaign.objects.get().status == "closed"
    assert client.get(reverse("rewards:console_voucher_reconciliation",
                              args=[campaign.pk])).status_code == 200


def test_staff_of_another_district_cannot_open_the_campaign(tree):
    campaign = make_campaign(tree.d1)

    response = _client(tree.sibling_district_admin).get(
        reverse("rewards:console_voucher", args=[campaign.pk]))

    assert response.status_code == 404
    assert _client(tree.town_admin).get(reverse("rewards:console_vouchers")).status_code == 403
