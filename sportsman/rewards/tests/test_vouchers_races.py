"""Scarce things under concurrent requests: racing threads, each with its own connection, never
take a campaign over its budget, never pass a person's limits, and redeem a voucher once."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.core import lottery
from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.rewards import vouchers
from sportsman.rewards.models import Voucher, VoucherCampaign
from sportsman.rewards.tests.scope_cases_vouchers import make_campaign, make_merchant, make_voucher

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    """Outcomes by error code; "ok" for a result; any other exception by its repr (which no
    expectation below contains, so it fails the test)."""
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_fifty_claims_for_ten_vouchers_issue_exactly_ten(tree):
    campaign = make_campaign(tree.d1, budget_cents=10 * 5_000, face_value_cents=5_000)
    people = [tree.user(home_community=tree.k1) for _ in range(50)]

    outcomes = _codes(race(lambda i: vouchers.claim(actor=people[i], campaign_id=campaign.pk),
                           len(people)))

    assert outcomes == Counter({"ok": 10, "campaign_exhausted": 40})
    campaign.refresh_from_db()
    assert campaign.issued_cents == campaign.budget_cents == 50_000
    assert Voucher.objects.filter(campaign=campaign).count() == 10


def test_one_persons_concurrent_claims_stay_within_their_limit(tree):
    campaign = make_campaign(tree.d1, per_campaign_limit=2)
    person = tree.user(home_community=tree.k1)

    outcomes = _codes(race(lambda i: vouchers.claim(actor=person, campaign_id=campaign.pk), 20))

    assert outcomes == Counter({"ok": 2, "over_limit": 18})
    assert Voucher.objects.filter(user=person).count() == 2
    assert VoucherCampaign.objects.get(pk=campaign.pk).issued_cents == 2 * 5_000


def test_concurrent_redemptions_of_one_voucher_redeem_it_once(tree):
    merchants = [make_merchant(tree, tree.k2, name=f"商户{i}") for i in range(4)]
    voucher = make_voucher(make_campaign(tree.d1), tree.resident)

    outcomes = _codes(race(
        lambda i: vouchers.redeem(actor=merchants[i % 4].owner, code=voucher.code,
                                  amount_cents=20_000 + i), 24))

    assert outcomes == Counter({"ok": 1, "already_redeemed": 23})
    voucher.refresh_from_db()
    assert voucher.status == "redeemed" and voucher.spend_cents is not None


def test_concurrent_draws_of_one_lottery_draw_it_once(tree):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    campaign = make_campaign(tree.d1, mode="lottery", budget_cents=3 * 3_000,
                             face_value_cents=3_000, claim_opens_at=now - dt.timedelta(days=1),
                             claim_closes_at=now + dt.timedelta(hours=1),
                             draw_at=now + dt.timedelta(hours=2))
    for _ in range(8):
        vouchers.enter_draw(actor=tree.user(home_community=tree.k3), campaign_id=campaign.pk)

    outcomes = race(lambda i: vouchers.draw(campaign_id=campaign.pk, now=campaign.draw_at,
                                            seed=f"seed-{i}"), 6)

    assert sorted(map(repr, outcomes)) == ["False"] * 5 + ["True"]
    campaign.refresh_from_db()
    winners = lottery.shuffled(campaign.lottery_seed, sorted(
        campaign.entries.values_list("user_id", flat=True)))[:3]
    assert set(Voucher.objects.values_list("user_id", flat=True)) == set(winners)
    assert campaign.issued_cents == campaign.budget_cents
