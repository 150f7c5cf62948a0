"""The vouchers API: public campaigns, eligibility, claiming (idempotent), lottery entries, my
vouchers and their QR codes, the merchant counter and the staff operations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.rewards.models import Voucher, VoucherCampaign
from sportsman.rewards.tests.scope_cases_vouchers import make_campaign, make_merchant, make_voucher

pytestmark = pytest.mark.django_db


def test_public_list_shows_active_campaigns_with_remaining_budget(tree, api_client):
    city = make_campaign(tree.city, name="全市", budget_cents=500_000, issued_cents=100_000)
    make_campaign(tree.d1, name="草稿", status="draft")
    d2 = make_campaign(tree.d2, name="秀洲")

    body = api_client.get("/api/v1/voucher-campaigns").json()

    assert {c["name"] for c in body} == {"全市", "秀洲"}
    row = next(c for c in body if c["id"] == city.pk)
    assert row["remaining_cents"] == 400_000 and row["vouchers_left"] == 80
    assert row["face_value"] == "50" and row["lottery_seed"] == ""
    in_k1 = api_client.get("/api/v1/voucher-campaigns", {"region": tree.k1.pk}).json()
    assert {c["id"] for c in in_k1} == {city.pk}
    assert d2.pk not in {c["id"] for c in in_k1}


def test_public_list_has_no_n_plus_one(tree, api_client, django_assert_max_num_queries):
    merchant = make_merchant(tree, tree.k2)
    for i in range(12):
        make_campaign(tree.d1, name=f"券{i}", merchants=[merchant])

    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/voucher-campaigns").json()) == 12


def test_a_draft_is_not_public(tree, api_client):
    draft = make_campaign(tree.d1, status="draft")

    response = api_client.get(f"/api/v1/voucher-campaigns/{draft.pk}")

    assert response.status_code == 404 and response.json()["code"] == "campaign_not_found"


def test_eligibility_answers_why_not(tree, api_client):
    campaign = make_campaign(tree.d1, eligibility={"min_verified_minutes_last_month": 300})
    client = api_client.as_user(tree.resident)

    body = client.get(f"/api/v1/voucher-campaigns/{campaign.pk}/eligibility").json()

    assert body["can_act"] is False and body["eligible"] is False
    assert body["minutes_last_month"] == 0
    assert [r["code"] for r in body["reasons"]] == ["not_enough_exercise"]
    assert api_client.get(
        f"/api/v1/voucher-campaigns/{campaign.pk}/eligibility").status_code == 401


def test_claim_returns_the_voucher_with_its_code_and_replays_with_the_same_key(tree, api_client):
    campaign = make_campaign(tree.d1, per_campaign_limit=1)
    client = api_client.as_user(tree.resident)

    first = client.post(f"/api/v1/vouchers/{campaign.pk}/claim", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(f"/api/v1/vouchers/{campaign.pk}/claim", HTTP_IDEMPOTENCY_KEY="k-1")
    third = client.post(f"/api/v1/vouchers/{campaign.pk}/claim")

    assert first.status_code == 201 and again.status_code == 201
    assert first.json() == again.json() and len(first.json()["code"]) == 12
    assert third.status_code == 409 and third.json()["code"] == "over_limit"
    assert Voucher.objects.count() == 1


@pytest.mark.parametrize(("over", "status", "code"), [
    ({"budget_cents": 5_000, "issued_cents": 5_000}, 409, "campaign_exhausted"),
    ({"eligibility": {"age_min": 60}}, 403, "not_eligible"),
    ({"claim_opens_at": timezone.now() + dt.timedelta(days=1),
      "claim_closes_at": timezone.now() + dt.timedelta(days=2)}, 400, "outside_window"),
])
def test_claim_refusals_use_the_error_shape(tree, api_client, over, status, code):
    campaign = make_campaign(tree.d1, **over)

    response = api_client.as_user(tree.resident).post(f"/api/v1/vouchers/{campaign.pk}/claim")

    assert response.status_code == status and response.json()["code"] == code
    assert response.json()["message"]
    assert not Voucher.objects.exists()


def test_lottery_entry_then_my_vouchers_and_qr(tree, api_client):
    now = timezone.now()
    lottery = make_campaign(tree.d1, mode="lottery", draw_at=now + dt.timedelta(days=2))
    first_come = make_campaign(tree.d1)
    client = api_client.as_user(tree.resident)

    entered = client.post(f"/api/v1/voucher-campaigns/{lottery.pk}/entries")
    twice = client.post(f"/api/v1/voucher-campaigns/{lottery.pk}/entries")
    claimed = client.post(f"/api/v1/vouchers/{first_come.pk}/claim").json()
    mine = client.get("/api/v1/me/vouchers").json()
    qr = client.get(claimed["qr_url"])
    stranger = api_client.as_user(tree.user()).get(claimed["qr_url"])

    assert entered.status_code == 201 and twice.json()["code"] == "already_entered"
    assert [v["id"] for v in mine] == [claimed["id"]]
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert stranger.status_code == 404


def test_merchant_redeems_by_code_and_amount_in_yuan(tree, api_client):
    merchant = make_merchant(tree, tree.k2)
    voucher = make_voucher(make_campaign(tree.d1), tree.resident)
    client = api_client.as_user(merchant.owner)

    bad = client.json("post", "/api/v1/merchant/redemptions",
                      {"code": voucher.code, "amount": 150})
    low = client.json("post", "/api/v1/merchant/redemptions",
                      {"code": voucher.code, "amount": "99.99"})
    done = client.json("post", "/api/v1/merchant/redemptions",
                       {"code": f"SPV:{voucher.code}", "amount": "128.50"})
    again = client.json("post", "/api/v1/merchant/redemptions",
                        {"code": voucher.code, "amount": "128.50"})
    unknown = client.json("post", "/api/v1/merchant/redemptions",
                          {"code": "ZZZZZZZZZZZZ", "amount": "128.50"})

    assert bad.status_code == 400
    assert low.status_code == 400 and low.json()["code"] == "below_min_spend"
    assert done.status_code == 201, done.content
    assert done.json()["spend_cents"] == 12_850 and done.json()["to_pay_cents"] == 7_850
    assert again.status_code == 409 and again.json()["code"] == "already_redeemed"
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_code"


def test_staff_create_edit_activate_in_yuan(tree, api_client):
    client = api_client.as_user(tree.district_admin)
    now = timezone.now()

    made = client.json("post", "/api/v1/voucher-campaigns", {
        "region_id": tree.d1.pk, "name": "夏季券", "budget": "500000", "face_value": "50",
        "min_spend": "100", "eligibility": {"min_verified_minutes_last_month": 300},
        "per_day_limit": 1, "claim_opens_at": now.isoformat(),
        "claim_closes_at": (now + dt.timedelta(days=30)).isoformat(), "valid_days": 7})
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["budget_cents"], body["face_value_cents"], body["min_spend_cents"]) == (
        50_000_000, 5_000, 10_000)
    assert body["status"] == "draft"

    edited = client.json("patch", f"/api/v1/voucher-campaigns/{body['id']}",
                         {"per_day_limit": None, "name": "夏季消费券"})
    assert edited.json()["per_day_limit"] is None and edited.json()["name"] == "夏季消费券"
    assert client.post(f"/api/v1/voucher-campaigns/{body['id']}/activate").json()["status"] \
        == "active"
    refused = client.json("patch", f"/api/v1/voucher-campaigns/{body['id']}",
                          {"min_spend": "10"})
    assert refused.status_code == 409 and refused.json()["code"] == "campaign_state"
    unknown = client.json("post", "/api/v1/voucher-campaigns", {"region_id": tree.d1.pk,
                                                               "colour": "red"})
    assert unknown.status_code == 400
    assert VoucherCampaign.objects.count() == 1


def test_a_retried_redemption_with_the_same_key_gets_the_same_answer(tree, api_client):
    merchant = make_merchant(tree, tree.k2)
    voucher = make_voucher(make_campaign(tree.d1), tree.resident)
    client = api_client.as_user(merchant.owner)
    body = {"code": voucher.code, "amount": "200"}

    first = client.json("post", "/api/v1/merchant/redemptions", body, HTTP_IDEMPOTENCY_KEY="r-1")
    retry = client.json("post", "/api/v1/merchant/redemptions", body, HTTP_IDEMPOTENCY_KEY="r-1")

    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    from sportsman.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="voucher.redeem").count() == 1


def test_lottery_eligibility_and_the_published_seed(tree, api_client):
    from sportsman.rewards import vouchers

    now = timezone.now()
    lottery = make_campaign(tree.d1, mode="lottery", claim_closes_at=now + dt.timedelta(hours=1),
                            draw_at=now + dt.timedelta(hours=2))
    client = api_client.as_user(tree.resident)
    before = client.get(f"/api/v1/voucher-campaigns/{lottery.pk}/eligibility").json()
    client.post(f"/api/v1/voucher-campaigns/{lottery.pk}/entries")
    after = client.get(f"/api/v1/voucher-campaigns/{lottery.pk}/eligibility").json()
    vouchers.draw(campaign_id=lottery.pk, now=lottery.draw_at, seed="published")
    public = api_client.get(f"/api/v1/voucher-campaigns/{lottery.pk}").json()

    assert (before["action"], before["can_act"]) == ("enter", True)
    assert (after["entered"], after["can_act"]) == (True, False)
    assert public["lottery_seed"] == "published" and public["drawn_at"]
    assert client.get("/api/v1/me/vouchers").json()[0]["campaign_id"] == lottery.pk


def test_staff_set_a_campaigns_merchants_only_inside_its_region(tree, api_client):
    campaign = make_campaign(tree.d1, status="draft")
    inside = make_merchant(tree, tree.k3, name="湘城商户")
    outside = make_merchant(tree, tree.k4, name="蓬莱商户")
    client = api_client.as_user(tree.district_admin)

    refused = client.json("patch", f"/api/v1/voucher-campaigns/{campaign.pk}",
                          {"merchants": [outside.pk]})
    done = client.json("patch", f"/api/v1/voucher-campaigns/{campaign.pk}",
                       {"merchants": [inside.pk]})

    assert refused.status_code == 400 and "merchants" in refused.json()["fields"]
    assert [m["name"] for m in done.json()["merchants"]] == ["湘城商户"]
