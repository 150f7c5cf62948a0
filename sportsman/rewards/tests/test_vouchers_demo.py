"""The demo's voucher campaigns: a first-come city campaign with vouchers issued and redeemed at
the demo merchants within its budget, and an open lottery for 南湖区's seniors."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from sportsman.core import demo_city
from sportsman.rewards.models import Merchant, Voucher, VoucherCampaign, VoucherEntry

pytestmark = pytest.mark.django_db


def test_the_demo_city_has_two_voucher_campaigns_with_vouchers_in_use():
    demo_city.generate(scale="small", seed=3, progress=False)

    fitness = VoucherCampaign.objects.get(name="2026 全民健身消费券")
    seniors = VoucherCampaign.objects.get(name="南湖区银龄健身券")
    assert (fitness.region.name, fitness.mode, fitness.face_value_cents) == ("嘉兴市",
                                                                             "first_come", 5_000)
    assert (seniors.region.name, seniors.mode, seniors.eligibility) == ("南湖区", "lottery",
                                                                       {"age_min": 60})
    vouchers = Voucher.objects.filter(campaign=fitness)
    assert fitness.issued_cents == vouchers.aggregate(n=Sum("face_value_cents"))["n"] > 0
    assert fitness.issued_cents <= fitness.budget_cents
    redeemed = vouchers.filter(status="redeemed")
    assert redeemed.exists()
    assert all(v.merchant.status == "approved" and v.spend_cents >= fitness.min_spend_cents
               for v in redeemed.select_related("merchant"))
    assert vouchers.filter(user__nickname="演示居民", status="issued").count() == 1
    assert VoucherEntry.objects.filter(campaign=seniors).exists()
    # The seniors' vouchers are valid at the venues 南湖区's merchants run (the demo merchant's
    # among them), and only there.
    demo_merchant = Merchant.objects.get(name="新嘉运动商户")
    assert demo_merchant.facilities.exists()
    assert set(demo_merchant.facilities.all()) <= set(seniors.facilities.all())
    assert all(f.region.path.startswith(seniors.region.path)
               for f in seniors.facilities.select_related("region"))
    assert len(set(vouchers.values_list("code", flat=True))) == vouchers.count()
