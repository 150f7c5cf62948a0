"""Vouchers limited to venues: merchants name the venues they operate (inside their region) when
they register or are reviewed; a campaign may name venues (inside its region); its vouchers are
redeemed only by a merchant operating one of them — refused with ``venue_not_covered`` and
nothing written otherwise. Shown in the API, the pages and the reconciliation."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry
from sportsman.facilities.tests.factories import make_facility
from sportsman.regions.access import access_for_user
from sportsman.rewards import merchants, reconciliation, vouchers
from sportsman.rewards.models import Merchant, MerchantStatus, Voucher, VoucherCampaign
from sportsman.rewards.tests.scope_cases_vouchers import make_campaign, make_merchant, make_voucher

pytestmark = pytest.mark.django_db


@pytest.fixture
def venues(tree):
    """Two venues in town t1 (k2), one in t2 (k3) — all in district d1 — and one in d2 (k4)."""
    return {"gym": make_facility(tree.k2, name="新南百姓健身房"),
            "court": make_facility(tree.k2, name="新南笼式足球场"),
            "pool": make_facility(tree.k3, name="湘城游泳池"),
            "far": make_facility(tree.k4, name="蓬莱健身广场")}


def _code(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value


def _operating(tree, region, *facilities, name="场馆商户"):
    merchant = make_merchant(tree, region, name=name)
    merchant.facilities.set(facilities)
    return merchant


def _values(**over):
    now = timezone.now()
    return {"name": "场馆消费券", "budget_cents": 100_000, "face_value_cents": 5_000,
            "claim_opens_at": now, "claim_closes_at": now + dt.timedelta(days=2), **over}


# --- merchants operate venues in their region -------------------------------------------------


def test_a_merchant_names_its_venues_when_it_applies(tree, venues):
    made = merchants.register_merchant(actor=tree.resident, name="新南体育", region_id=tree.t1.pk,
                                       address="新南路 1 号",
                                       facilities=[venues["gym"].pk, venues["gym"].pk])
    assert list(made.facilities.all()) == [venues["gym"]]


@pytest.mark.parametrize("outside", ["pool", "far"])
def test_venues_outside_the_merchants_region_are_refused_and_nothing_written(tree, venues,
                                                                            outside):
    error = _code(merchants.register_merchant, actor=tree.resident, name="新南体育",
                  region_id=tree.t1.pk, address="新南路 1 号",
                  facilities=[venues["gym"].pk, venues[outside].pk])
    assert error.code == "invalid" and "facilities" in error.fields
    assert not Merchant.objects.exists()
    assert _code(merchants.register_merchant, actor=tree.resident, name="店",
                 region_id=tree.t1.pk, address="路", facilities=[10**9]).code == "invalid"


def test_the_reviewer_sets_the_venues_when_approving(tree, venues):
    applied = merchants.register_merchant(actor=tree.resident, name="新南体育",
                                          region_id=tree.t1.pk, address="新南路 1 号",
                                          facilities=[venues["gym"].pk])
    refused = _code(merchants.review_merchant, actor=tree.town_admin, merchant_id=applied.pk,
                    approve=True, facilities=[venues["pool"].pk])
    assert refused.code == "invalid" and "facilities" in refused.fields
    applied.refresh_from_db()
    assert applied.status == MerchantStatus.PENDING
    assert list(applied.facilities.all()) == [venues["gym"]]

    approved = merchants.review_merchant(actor=tree.town_admin, merchant_id=applied.pk,
                                         approve=True, facilities=[venues["court"].pk])
    assert list(approved.facilities.all()) == [venues["court"]]
    entry = AuditEntry.objects.get(action="merchant.approve")
    assert entry.data["facilities"] == [venues["court"].pk]


def test_approving_without_venues_keeps_the_applicants_choice(tree, venues):
    applied = merchants.register_merchant(actor=tree.resident, name="新南体育",
                                          region_id=tree.t1.pk, address="新南路 1 号",
                                          facilities=[venues["gym"].pk])
    merchants.review_merchant(actor=tree.town_admin, merchant_id=applied.pk, approve=True)
    assert list(applied.facilities.all()) == [venues["gym"]]


# --- campaigns name venues in their region -----------------------------------------------------


def test_staff_change_the_venues_of_an_approved_merchant(tree, venues):
    merchant = _operating(tree, tree.t1, venues["gym"])
    merchants.set_venues(actor=tree.town_admin, merchant_id=merchant.pk,
                         facilities=[venues["court"].pk, venues["court"].pk])
    assert list(merchant.facilities.all()) == [venues["court"]]
    entry = AuditEntry.objects.get(action="merchant.venues")
    assert entry.data == {"before": [venues["gym"].pk], "after": [venues["court"].pk]}
    # Outside its region: refused, nothing changed.
    error = _code(merchants.set_venues, actor=tree.district_admin, merchant_id=merchant.pk,
                  facilities=[venues["court"].pk, venues["pool"].pk])
    assert error.code == "invalid" and "facilities" in error.fields
    assert list(merchant.facilities.all()) == [venues["court"]]
    # Another town's staff do not see the merchant; an application is not changed this way.
    assert _code(merchants.set_venues, actor=tree.sibling_town_admin, merchant_id=merchant.pk,
                 facilities=[]).code == "not_found"
    pending = make_merchant(tree, tree.t1, name="待审商户", status=MerchantStatus.PENDING)
    assert _code(merchants.set_venues, actor=tree.town_admin, merchant_id=pending.pk,
                 facilities=[venues["gym"].pk]).code == "merchant_not_approved"
    assert not pending.facilities.exists()
    # On the console, the approved merchant's row has the venue form.
    client = Client()
    client.force_login(tree.town_admin)
    page = client.get(reverse("rewards:console_merchants") + "?status=approved").content.decode()
    assert f'id="venues-form-{merchant.pk}"' in page
    done = client.post(reverse("rewards:console_merchant_venues", args=[merchant.pk]),
                       {"facilities": [venues["gym"].pk, venues["court"].pk]})
    assert done.status_code == 302
    assert set(merchant.facilities.all()) == {venues["gym"], venues["court"]}
    bad = client.post(reverse("rewards:console_merchant_venues", args=[merchant.pk]),
                      {"facilities": ["x"]})
    assert bad.status_code == 400
    assert set(merchant.facilities.all()) == {venues["gym"], venues["court"]}


def test_a_campaign_names_venues_inside_its_region(tree, venues):
    made = vouchers.create_campaign(
        actor=tree.district_admin, region_id=tree.d1.pk, values=_values(),
        scope=vouchers.Scope(facilities=[venues["gym"].pk, venues["pool"].pk]))
    assert set(made.facilities.all()) == {venues["gym"], venues["pool"]}

    error = _code(vouchers.create_campaign, actor=tree.district_admin, region_id=tree.d1.pk,
                  values=_values(name="越界券"),
                  scope=vouchers.Scope(facilities=[venues["far"].pk]))
    assert error.code == "invalid" and "facilities" in error.fields
    assert str(error.fields["facilities"][0])
    assert not VoucherCampaign.objects.filter(name="越界券").exists()


def test_an_active_campaign_may_change_its_venues_but_only_inside_its_region(tree, venues):
    campaign = make_campaign(tree.d1)
    vouchers.update_campaign(actor=tree.district_admin, campaign_id=campaign.pk, values={},
                             scope=vouchers.Scope(facilities=[venues["court"].pk]))
    assert list(campaign.facilities.all()) == [venues["court"]]
    error = _code(vouchers.update_campaign, actor=tree.district_admin, campaign_id=campaign.pk,
                  values={}, scope=vouchers.Scope(facilities=[venues["far"].pk]))
    assert error.code == "invalid"
    assert list(campaign.facilities.all()) == [venues["court"]]
    vouchers.update_campaign(actor=tree.district_admin, campaign_id=campaign.pk, values={},
                             scope=vouchers.Scope(facilities=[]))
    assert not campaign.facilities.exists()


# --- redeeming -----------------------------------------------------------------------------------


def test_only_a_merchant_operating_a_named_venue_redeems(tree, venues):
    at_gym = _operating(tree, tree.k2, venues["gym"], name="健身房柜台")
    at_court = _operating(tree, tree.k2, venues["court"], name="球场柜台")
    no_venue = make_merchant(tree, tree.k2, name="体育用品店")
    campaign = make_campaign(tree.d1)
    campaign.facilities.set([venues["gym"], venues["pool"]])
    voucher = make_voucher(campaign, tree.resident)

    for merchant in (at_court, no_venue):
        error = _code(vouchers.redeem, actor=merchant.owner, code=voucher.code,
                      amount_cents=15_000)
        assert (error.code, error.status) == ("venue_not_covered", 403)
        assert str(error.message)
    voucher.refresh_from_db()
    assert voucher.status == "issued" and voucher.merchant_id is None
    assert not AuditEntry.objects.filter(action="voucher.redeem").exists()

    done = vouchers.redeem(actor=at_gym.owner, code=voucher.code, amount_cents=15_000)
    assert done.status == "redeemed" and done.merchant == at_gym


def test_venue_and_merchant_scopes_both_apply(tree, venues):
    named = _operating(tree, tree.k2, venues["court"], name="指定商户")
    at_gym = _operating(tree, tree.k2, venues["gym"], name="健身房柜台")
    campaign = make_campaign(tree.d1, merchants=[named])
    campaign.facilities.set([venues["gym"]])
    voucher = make_voucher(campaign, tree.resident)

    assert _code(vouchers.redeem, actor=at_gym.owner, code=voucher.code,
                 amount_cents=15_000).code == "wrong_merchant"
    assert _code(vouchers.redeem, actor=named.owner, code=voucher.code,
                 amount_cents=15_000).code == "venue_not_covered"


def test_a_campaign_without_venues_is_redeemed_anywhere_in_its_region(tree, venues):
    plain = make_merchant(tree, tree.k2, name="体育用品店")
    voucher = make_voucher(make_campaign(tree.d1), tree.resident)
    assert vouchers.redeem(actor=plain.owner, code=voucher.code,
                           amount_cents=15_000).status == "redeemed"


# --- API ------------------------------------------------------------------------------------------


def test_api_campaign_venues_in_and_out(tree, venues, api_client):
    staff = api_client.as_user(tree.district_admin)
    now = timezone.now()
    body = {"region_id": tree.d1.pk, "name": "场馆券", "budget": "1000", "face_value": "50",
            "claim_opens_at": now.isoformat(),
            "claim_closes_at": (now + dt.timedelta(days=3)).isoformat(),
            "facilities": [venues["gym"].pk]}
    bad = staff.json("post", "/api/v1/voucher-campaigns",
                     {**body, "facilities": [venues["far"].pk]})
    assert bad.status_code == 400 and "facilities" in bad.json()["fields"]
    assert not VoucherCampaign.objects.exists()

    made = staff.json("post", "/api/v1/voucher-campaigns", body)
    assert made.status_code == 201, made.content
    assert made.json()["facilities"] == [{"id": venues["gym"].pk, "name": "新南百姓健身房"}]
    campaign_id = made.json()["id"]
    staff.post(f"/api/v1/voucher-campaigns/{campaign_id}/activate")
    patched = staff.json("patch", f"/api/v1/voucher-campaigns/{campaign_id}",
                         {"facilities": [venues["gym"].pk, venues["pool"].pk]})
    assert patched.status_code == 200, patched.content
    assert {f["id"] for f in patched.json()["facilities"]} == {venues["gym"].pk,
                                                               venues["pool"].pk}
    public = api_client.get(f"/api/v1/voucher-campaigns?region={tree.k1.pk}").json()
    assert {f["name"] for f in public[0]["facilities"]} == {"新南百姓健身房", "湘城游泳池"}


def test_api_redeem_refuses_a_merchant_outside_the_venues(tree, venues, api_client):
    no_venue = make_merchant(tree, tree.k2, name="体育用品店")
    campaign = make_campaign(tree.d1)
    campaign.facilities.set([venues["gym"]])
    voucher = make_voucher(campaign, tree.resident)
    response = api_client.as_user(no_venue.owner).json(
        "post", "/api/v1/merchant/redemptions", {"code": voucher.code, "amount": "150"})
    assert response.status_code == 403 and response.json()["code"] == "venue_not_covered"
    assert Voucher.objects.get().status == "issued"


def test_api_merchants_apply_and_review_with_venues(tree, venues, api_client):
    applied = api_client.as_user(tree.resident).json("post", "/api/v1/merchants", {
        "name": "新南体育", "region_id": tree.t1.pk, "address": "新南路 1 号",
        "facilities": [venues["gym"].pk]})
    assert applied.status_code == 201, applied.content
    assert applied.json()["facilities"] == [{"id": venues["gym"].pk, "name": "新南百姓健身房"}]
    staff = api_client.as_user(tree.town_admin)
    merchant_id = applied.json()["id"]
    bad = staff.json("post", f"/api/v1/merchants/{merchant_id}/review",
                     {"approve": True, "facilities": [venues["far"].pk]})
    assert bad.status_code == 400 and "facilities" in bad.json()["fields"]
    done = staff.json("post", f"/api/v1/merchants/{merchant_id}/review",
                      {"approve": True, "facilities": [venues["gym"].pk, venues["court"].pk]})
    assert done.status_code == 200 and len(done.json()["facilities"]) == 2
    listed = staff.get("/api/v1/merchants?status=approved").json()
    assert {f["id"] for f in listed[0]["facilities"]} == {venues["gym"].pk, venues["court"].pk}


# --- pages ----------------------------------------------------------------------------------------


def test_residents_see_where_a_campaign_is_valid(tree, venues):
    campaign = make_campaign(tree.d1, name="场馆券")
    campaign.facilities.set([venues["gym"]])
    client = Client()
    client.force_login(tree.resident)
    page = client.get(reverse("rewards:voucher_campaigns")).content.decode()
    assert "新南百姓健身房" in page
    assert reverse("facilities:facility", args=[venues["gym"].pk]) in page


def test_staff_choose_venues_run_by_merchants_on_the_campaign_form(tree, venues):
    _operating(tree, tree.k2, venues["gym"])
    client = Client()
    client.force_login(tree.district_admin)
    page = client.get(reverse("rewards:console_voucher_new")).content.decode()
    assert "新南百姓健身房" in page and "湘城游泳池" not in page  # no merchant runs the pool
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = {"region": tree.d1.pk, "name": "场馆券", "mode": "first_come", "face_value": "50",
            "min_spend": "0", "budget": "1000",
            "claim_opens_at": now.strftime("%Y-%m-%dT%H:%M"),
            "claim_closes_at": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "valid_days": 7, "per_campaign_limit": 1, "facilities": [venues["gym"].pk]}
    made = client.post(reverse("rewards:console_voucher_new"), form)
    assert made.status_code == 302
    campaign = VoucherCampaign.objects.get()
    assert list(campaign.facilities.all()) == [venues["gym"]]
    client.post(reverse("rewards:console_voucher_activate", args=[campaign.pk]))
    edit = client.get(reverse("rewards:console_voucher", args=[campaign.pk])).content.decode()
    assert "merchants and venues" in edit or "适用商户和适用场馆" in edit
    cleared = client.post(reverse("rewards:console_voucher", args=[campaign.pk]),
                          {**form, "facilities": []})
    assert cleared.status_code == 302
    assert not campaign.facilities.exists()
    listing = client.get(reverse("rewards:console_vouchers")).content.decode()
    assert "场馆券" in listing


def test_the_apply_page_offers_the_venues_of_the_chosen_town(tree, venues):
    me = tree.user(home_community=tree.k2)
    client = Client()
    client.force_login(me)
    page = client.get("/rewards/merchants/apply/").content.decode()
    assert "新南百姓健身房" in page and "湘城游泳池" not in page and 'id="venues"' in page
    other = client.get(f"/rewards/merchants/apply/?region={tree.t2.pk}",
                       HTTP_HX_REQUEST="true").content.decode()
    assert "湘城游泳池" in other and "新南百姓健身房" not in other
    refused = client.post("/rewards/merchants/apply/", {
        "name": "新南体育", "region": tree.t1.pk, "address": "新南路 2 号",
        "facilities": [venues["pool"].pk]})
    assert refused.status_code == 200 and not Merchant.objects.exists()
    done = client.post("/rewards/merchants/apply/", {
        "name": "新南体育", "region": tree.t1.pk, "address": "新南路 2 号",
        "facilities": [venues["gym"].pk]})
    assert done.status_code == 302
    assert list(Merchant.objects.get().facilities.all()) == [venues["gym"]]
    assert "新南百姓健身房" in client.get("/rewards/merchants/mine/").content.decode()


def test_the_review_queue_confirms_the_venues(tree, venues):
    from sportsman.rewards.tests.catalogue_fixtures import make_merchant as make_applicant

    pending = make_applicant(tree, region=tree.t1, status=MerchantStatus.PENDING,
                             name="待审商户")
    pending.facilities.set([venues["gym"]])
    client = Client()
    client.force_login(tree.town_admin)
    page = client.get("/rewards/console/merchants/").content.decode()
    assert f'<option value="{venues["gym"].pk}" selected>' in page
    assert f'<option value="{venues["court"].pk}">' in page and "湘城游泳池" not in page
    url = f"/rewards/console/merchants/{pending.pk}/review/"
    client.post(url, {"decision": "approve", "venues_offered": "1",
                      "facilities": [venues["pool"].pk]})
    pending.refresh_from_db()
    assert pending.status == MerchantStatus.PENDING
    client.post(url, {"decision": "approve", "venues_offered": "1",
                      "facilities": [venues["court"].pk]})
    pending.refresh_from_db()
    assert pending.status == MerchantStatus.APPROVED
    assert list(pending.facilities.all()) == [venues["court"]]


# --- reconciliation --------------------------------------------------------------------------


def test_reconciliation_names_the_venues(tree, venues):
    at_gym = _operating(tree, tree.k2, venues["gym"], venues["court"], name="健身房柜台")
    campaign = make_campaign(tree.d1, name="场馆券")
    campaign.facilities.set([venues["gym"], venues["pool"]])
    vouchers.redeem(actor=at_gym.owner, code=make_voucher(campaign, tree.resident).code,
                    amount_cents=15_000)
    _name, content = reconciliation.campaign_reconciliation(
        access=access_for_user(tree.district_admin), campaign_id=campaign.pk)
    book = load_workbook(io.BytesIO(content), read_only=True)
    totals, daily = ([tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book)
    assert "新南百姓健身房" in totals[1][0] and "湘城游泳池" in totals[1][0]
    line = totals[3]
    assert line[0] == "健身房柜台" and line[7] == "新南百姓健身房"  # not the court: not named
    assert daily[1][8] == "新南百姓健身房"
