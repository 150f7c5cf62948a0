"""Voucher reconciliation workbooks: per merchant, campaign and local day, with exact totals; a
merchant sees only their own redemptions; staff only campaigns in their scope."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from sportsman.core import xlsx
from sportsman.core.models import AuditEntry
from sportsman.rewards import reconciliation, vouchers
from sportsman.rewards.tests.scope_cases_vouchers import make_campaign, make_merchant, make_voucher

pytestmark = pytest.mark.django_db


def _sheets(content: bytes) -> list[list[tuple]]:
    """The sheets in order (totals, by day), as rows; titles and labels are translated, so
    tests find things by position."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [[tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book]


@pytest.fixture
def redeemed(tree):
    gym = make_merchant(tree, tree.k2, name="健身房")
    pool = make_merchant(tree, tree.k3, name="游泳馆")
    campaign = make_campaign(tree.d1, name="南湖券")
    other = make_campaign(tree.d1, name="另一券")
    yesterday = timezone.now() - dt.timedelta(days=1)
    for merchant, amount, camp in [(gym, 15_000, campaign), (gym, 20_000, campaign),
                                   (pool, 10_000, campaign), (gym, 30_000, other)]:
        v = make_voucher(camp, tree.resident)
        vouchers.redeem(actor=merchant.owner, code=v.code, amount_cents=amount)
    make_voucher(campaign, tree.resident)  # issued, not redeemed: not in the books
    late = make_voucher(campaign, tree.resident)
    vouchers.redeem(actor=gym.owner, code=late.code, amount_cents=12_000, now=yesterday)
    return {"gym": gym, "pool": pool, "campaign": campaign, "other": other}


def test_campaign_workbook_sums_per_merchant_and_per_day(tree, redeemed):
    from sportsman.regions.access import access_for_user

    name, content = reconciliation.campaign_reconciliation(
        access=access_for_user(tree.district_admin), campaign_id=redeemed["campaign"].pk)
    sheets = _sheets(content)

    totals = {row[0]: row[4:7] for row in sheets[0][2:-1]}
    assert totals == {"健身房": (3, 150.0, 470.0), "游泳馆": (1, 50.0, 100.0)}
    assert sheets[0][-1][4:7] == (4, 200.0, 570.0)
    gym_days = sorted((row[0], row[5]) for row in sheets[1][1:] if row[1] == "健身房")
    assert [n for _day, n in gym_days] == [1, 2]
    assert name.endswith(".xlsx")
    assert AuditEntry.objects.filter(action="voucher_campaign.reconciliation").exists()


def test_staff_of_another_district_cannot_read_the_campaign(tree, redeemed):
    from sportsman.core.errors import DomainError
    from sportsman.regions.access import access_for_user

    with pytest.raises(DomainError) as info:
        reconciliation.campaign_reconciliation(
            access=access_for_user(tree.sibling_district_admin),
            campaign_id=redeemed["campaign"].pk)
    assert info.value.code == "campaign_not_found"


def test_merchant_workbook_holds_only_their_redemptions_across_campaigns(tree, redeemed,
                                                                          api_client):
    response = api_client.as_user(redeemed["pool"].owner).get(
        "/api/v1/merchant/reconciliation.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == xlsx.XLSX
    totals = _sheets(response.content)[0][2:]
    assert [row[0] for row in totals[:-1]] == ["游泳馆"]
    assert totals[-1][4:7] == (1, 50.0, 100.0)
