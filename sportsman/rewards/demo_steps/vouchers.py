"""Demo voucher campaigns (step 70, after merchants at step 60).

- "2026 全民健身消费券": the city's first-come campaign — ¥50 off a spend of ¥100, a budget of
  ¥500,000 (10,000 vouchers), residents with ≥ 300 verified minutes last month, one per person,
  valid 7 days; opened ten days ago, open for fifty more. 400 vouchers are already issued: first
  to residents who met the rule last month in the exercise record, then (a small demo has few)
  to residents drawn at random, as if they had met it in the month they claimed in. About half
  are redeemed at the demo city's approved merchants (none redeemed
  when there are no merchants), a few expired. The demo resident holds one ready to use.
- "南湖区银龄健身券": a lottery for residents of 南湖区 aged 60 or over — ¥30 off a spend of ¥60,
  a budget of ¥30,000 (1,000 vouchers); entries open, drawn by the scheduler one hour after the
  window closes; valid only at the venues the district's approved merchants operate. Some
  seniors have entered.

Codes come from the step's own ``random.Random`` so the demo is the same for the same seed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

CITY_CODE = "330400000000"
NANHU_CODE = "330402000000"
DEMO_RESIDENT_PHONE = "13800000000"
ISSUED = 400
ENTRIES = 300
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code(rng: Any, seen: set[str]) -> str:
    while True:
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(12))
        if code not in seen:
            seen.add(code)
            return code


def _candidates(city_path: str, now: dt.datetime, *, need_minutes: int) -> tuple[list[int],
                                                                                list[int]]:
    """(residents of the city who met the exercise rule last month — one aggregate query —, the
    city's other residents)."""
    from django.db.models import Sum

    from sportsman.accounts.models import User
    from sportsman.activity.models import UserDay
    from sportsman.regions.models import subtree_q
    from sportsman.rewards.vouchers import last_month_bounds

    first, last = last_month_bounds(now)
    active = list(UserDay.objects.filter(day__gte=first, day__lte=last)
                  .values("user_id").annotate(total=Sum("verified_minutes"))
                  .filter(total__gte=need_minutes).order_by("user_id")
                  .values_list("user_id", flat=True)[:20_000])
    chosen = set(active)
    others = [pk for pk in User.objects.filter(subtree_q(city_path, "home_community"))
              .order_by("pk").values_list("pk", flat=True)[:20_000] if pk not in chosen]
    return active, others


@demo_step("rewards-vouchers", order=70)
def step_vouchers(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.regions.models import subtree_q
    from sportsman.rewards.models import (
        Merchant,
        MerchantStatus,
        Voucher,
        VoucherCampaign,
        VoucherEntry,
    )

    jx, nanhu = city.regions.get(CITY_CODE), city.regions.get(NANHU_CODE)
    if jx is None or nanhu is None:
        return
    rng = city.rng("rewards-vouchers")
    now = timezone.now().replace(microsecond=0)
    admin = User.objects.filter(phone_hash=crypto.keyed_hash("13800000004")).first()

    fitness = VoucherCampaign.objects.create(
        region=jx, name="2026 全民健身消费券", budget_cents=500_000_00, face_value_cents=50_00,
        min_spend_cents=100_00, eligibility={"min_verified_minutes_last_month": 300},
        per_campaign_limit=1, claim_opens_at=now - dt.timedelta(days=10),
        claim_closes_at=now + dt.timedelta(days=50), valid_days=7, status="active",
        created_by=admin)
    closes = now + dt.timedelta(days=4)
    seniors = VoucherCampaign.objects.create(
        region=nanhu, name="南湖区银龄健身券", budget_cents=30_000_00, face_value_cents=30_00,
        min_spend_cents=60_00, eligibility={"age_min": 60}, per_campaign_limit=1,
        claim_opens_at=now - dt.timedelta(days=3), claim_closes_at=closes, mode="lottery",
        draw_at=closes + dt.timedelta(hours=1), valid_days=14, status="active",
        created_by=admin)

    # Issued and redeemed vouchers of the city campaign.
    merchants = list(Merchant.objects.filter(subtree_q(jx.path, "region"),
                                             status=MerchantStatus.APPROVED).order_by("pk"))
    demo_resident = User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_RESIDENT_PHONE)).first()
    skip = demo_resident.pk if demo_resident is not None else None
    active, others = (
        [pk for pk in group if pk != skip]
        for group in _candidates(jx.path, now, need_minutes=300))
    holders = rng.sample(active, min(ISSUED, len(active)))
    holders += rng.sample(others, min(ISSUED - len(holders), len(others)))
    seen: set[str] = set()
    rows: list[Voucher] = []
    for user_id in holders:
        issued_at = now - dt.timedelta(days=rng.uniform(0, 10))
        voucher = Voucher(campaign=fitness, user_id=user_id, code=_code(rng, seen),
                          face_value_cents=fitness.face_value_cents, issued_at=issued_at,
                          expires_at=issued_at + dt.timedelta(days=fitness.valid_days))
        if merchants and rng.random() < 0.5:
            voucher.status = "redeemed"
            voucher.merchant = rng.choice(merchants)
            voucher.redeemed_at = min(now, issued_at + dt.timedelta(hours=rng.uniform(1, 150)))
            voucher.spend_cents = 100_00 + rng.randrange(0, 400_00, 50)
            voucher.redeemed_by_id = voucher.merchant.owner_id
        elif voucher.expires_at <= now:
            voucher.status = "expired"
        rows.append(voucher)
    if demo_resident is not None:
        rows.append(Voucher(campaign=fitness, user=demo_resident, code=_code(rng, seen),
                            face_value_cents=fitness.face_value_cents, issued_at=now,
                            expires_at=now + dt.timedelta(days=fitness.valid_days)))
    Voucher.objects.bulk_create(rows, batch_size=BATCH)
    VoucherCampaign.objects.filter(pk=fitness.pk).update(
        issued_cents=len(rows) * fitness.face_value_cents)
    if merchants:
        fitness.merchants.set(merchants)
    seniors.facilities.set(sorted(set(
        Merchant.facilities.through.objects
        .filter(merchant__status=MerchantStatus.APPROVED,
                merchant__in=Merchant.objects.filter(subtree_q(nanhu.path, "region")))
        .values_list("facility_id", flat=True))))

    # Entries to the seniors' lottery.
    year = timezone.localtime(now).year
    elders = list(User.objects.filter(subtree_q(nanhu.path, "home_community"),
                                      birth_year__lte=year - 60)
                  .order_by("pk").values_list("pk", flat=True)[:20_000])
    VoucherEntry.objects.bulk_create(
        [VoucherEntry(campaign=seniors, user_id=pk)
         for pk in sorted(rng.sample(elders, min(ENTRIES, len(elders))))], batch_size=BATCH)
    city.made["voucher_campaigns"] = 2
    city.made["vouchers"] = len(rows)
