"""Voucher services: campaigns, eligibility, claims, lottery draws, redemption and expiry — every
refusal with its code and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.core import lottery
from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry
from sportsman.rewards import vouchers
from sportsman.rewards.models import Voucher, VoucherCampaign, VoucherEntry
from sportsman.rewards.tests.scope_cases_vouchers import make_campaign, make_merchant, make_voucher

pytestmark = pytest.mark.django_db


def _code(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value.code


def _minutes(user, minutes: int, day: dt.date | None = None) -> None:
    from sportsman.activity.models import UserDay

    first, _last = vouchers.last_month_bounds(timezone.now())
    UserDay.objects.create(user=user, day=day or first, verified_minutes=minutes,
                           minutes=minutes)


def _values(**over):
    now = timezone.now()
    return {"name": "春季消费券", "budget_cents": 100_000, "face_value_cents": 5_000,
            "claim_opens_at": now, "claim_closes_at": now + dt.timedelta(days=2), **over}


# --- campaigns -----------------------------------------------------------------------------


def test_district_admin_creates_a_draft_campaign_audited(tree):
    made = vouchers.create_campaign(actor=tree.district_admin, region_id=tree.d1.pk,
                                    values=_values(eligibility={"age_min": 60}))

    assert made.status == "draft" and made.region == tree.d1 and made.issued_cents == 0
    assert made.eligibility == {"age_min": 60}
    assert AuditEntry.objects.filter(action="voucher_campaign.create",
                                     object_id=str(made.pk)).exists()


@pytest.mark.parametrize(("over", "field"), [
    ({"budget_cents": 4_999}, "budget_cents"),
    ({"claim_closes_at": timezone.now() - dt.timedelta(days=1)}, "claim_closes_at"),
    ({"per_day_limit": 0}, "per_day_limit"),
    ({"per_campaign_limit": 0}, "per_campaign_limit"),
    ({"mode": "lottery"}, "draw_at"),
    ({"eligibility": {"favourite_colour": 3}}, "eligibility"),
    ({"eligibility": {"age_min": 70, "age_max": 60}}, "eligibility"),
    ({"name": "  "}, "name"),
])
def test_invalid_campaign_is_refused_and_nothing_written(tree, over, field):
    with pytest.raises(DomainError) as info:
        vouchers.create_campaign(actor=tree.district_admin, region_id=tree.d1.pk,
                                 values=_values(**over))

    assert info.value.code == "invalid" and field in info.value.fields
    assert not VoucherCampaign.objects.exists()


def test_campaign_must_sit_on_a_city_or_district_the_actor_manages(tree):
    assert _code(vouchers.create_campaign, actor=tree.district_admin, region_id=tree.d2.pk,
                 values=_values()) == "forbidden"
    assert _code(vouchers.create_campaign, actor=tree.district_admin, region_id=tree.t1.pk,
                 values=_values()) == "invalid"
    assert _code(vouchers.create_campaign, actor=tree.town_admin, region_id=tree.d1.pk,
                 values=_values()) == "forbidden"
    assert not VoucherCampaign.objects.exists()


def test_campaign_merchants_must_be_approved_and_inside_the_region(tree):
    inside = make_merchant(tree, tree.k2)
    outside = make_merchant(tree, tree.k4)
    pending = make_merchant(tree, tree.k1, status="pending")

    for bad in (outside, pending):
        assert _code(vouchers.create_campaign, actor=tree.district_admin, region_id=tree.d1.pk,
                     values=_values(), scope=vouchers.Scope(merchants=[bad.pk])) == "invalid"
    made = vouchers.create_campaign(actor=tree.district_admin, region_id=tree.d1.pk,
                                    values=_values(), scope=vouchers.Scope(merchants=[inside.pk]))
    assert list(made.merchants.all()) == [inside]


def test_active_campaign_keeps_its_terms_but_may_grow_its_budget(tree):
    campaign = make_campaign(tree.d1, issued_cents=20_000)

    assert _code(vouchers.update_campaign, actor=tree.district_admin, campaign_id=campaign.pk,
                 values={"face_value_cents": 1_000}) == "campaign_state"
    assert _code(vouchers.update_campaign, actor=tree.district_admin, campaign_id=campaign.pk,
                 values={"budget_cents": 15_000}) == "invalid"
    vouchers.update_campaign(actor=tree.district_admin, campaign_id=campaign.pk,
                             values={"budget_cents": 80_000})
    campaign.refresh_from_db()
    assert campaign.budget_cents == 80_000 and campaign.face_value_cents == 5_000


def test_activate_and_close_follow_the_status_order(tree):
    campaign = make_campaign(tree.d1, status="draft")

    assert _code(vouchers.update_campaign, actor=tree.sibling_district_admin,
                 campaign_id=campaign.pk, values={"name": "x"}) == "campaign_not_found"
    assert vouchers.activate_campaign(actor=tree.city_admin,
                                      campaign_id=campaign.pk).status == "active"
    assert _code(vouchers.activate_campaign, actor=tree.city_admin,
                 campaign_id=campaign.pk) == "campaign_state"
    assert vouchers.close_campaign(actor=tree.district_admin,
                                   campaign_id=campaign.pk).status == "closed"
    assert _code(vouchers.update_campaign, actor=tree.district_admin, campaign_id=campaign.pk,
                 values={"name": "x"}) == "campaign_state"
    assert AuditEntry.objects.filter(action__startswith="voucher_campaign.").count() == 2


# --- eligibility -----------------------------------------------------------------------------


def test_eligibility_needs_a_home_inside_the_region_and_last_months_minutes(tree):
    campaign = make_campaign(tree.d1, eligibility={"min_verified_minutes_last_month": 300})
    inside = tree.user(home_community=tree.k2)
    outside = tree.user(home_community=tree.k4)
    homeless = tree.user()
    _minutes(inside, 200)
    _minutes(inside, 99, day=timezone.localdate().replace(day=1))  # this month: not counted

    ok, reasons = vouchers.eligible(campaign, inside)
    assert not ok and [r["code"] for r in reasons] == ["not_enough_exercise"]
    _minutes(inside, 100, day=vouchers.last_month_bounds(timezone.now())[1])
    assert vouchers.eligible(campaign, inside) == (True, [])
    assert [r["code"] for r in vouchers.eligible(campaign, outside)[1]] == [
        "outside_region", "not_enough_exercise"]
    assert vouchers.eligible(campaign, homeless)[1][0]["code"] == "no_home_community"


def test_age_band_is_counted_from_the_birth_year(tree):
    campaign = make_campaign(tree.d1, eligibility={"age_min": 60})
    year = timezone.localdate().year
    senior = tree.user(home_community=tree.k1, birth_year=year - 60)
    young = tree.user(home_community=tree.k1, birth_year=year - 59)
    unknown = tree.user(home_community=tree.k1)

    assert vouchers.eligible(campaign, senior)[0]
    assert vouchers.eligible(campaign, young)[1][0]["code"] == "age_band"
    assert vouchers.eligible(campaign, unknown)[1][0]["code"] == "age_unknown"


def test_eligibility_sums_minutes_in_one_query(tree, django_assert_num_queries):
    campaign = make_campaign(tree.d1, eligibility={"min_verified_minutes_last_month": 10})
    person = tree.user(home_community=tree.k2)
    for day in range(1, 20):
        _minutes(person, 1, day=vouchers.last_month_bounds(timezone.now())[0].replace(day=day))
    person = type(person).objects.select_related("home_community").get(pk=person.pk)

    with django_assert_num_queries(1):
        assert vouchers.check_eligibility(campaign, person, timezone.now()).minutes_last_month \
            == 19


# --- claiming --------------------------------------------------------------------------------


def test_claim_issues_a_voucher_with_a_code_and_takes_the_budget(tree):
    campaign = make_campaign(tree.d1, valid_days=7)
    now = timezone.now()

    voucher = vouchers.claim(actor=tree.resident, campaign_id=campaign.pk, now=now)

    assert voucher.status == "issued" and len(voucher.code) == 12
    assert voucher.expires_at == now + dt.timedelta(days=7)
    assert voucher.face_value_cents == 5_000
    campaign.refresh_from_db()
    assert campaign.issued_cents == 5_000


def test_claim_refusals_carry_clear_codes_and_write_nothing(tree):
    now = timezone.now()
    early = make_campaign(tree.d1, claim_opens_at=now + dt.timedelta(hours=1),
                          claim_closes_at=now + dt.timedelta(days=1))
    late = make_campaign(tree.d1, claim_opens_at=now - dt.timedelta(days=2),
                         claim_closes_at=now - dt.timedelta(days=1))
    picky = make_campaign(tree.d1, eligibility={"min_verified_minutes_last_month": 300})
    draft = make_campaign(tree.d1, status="draft")
    closed = make_campaign(tree.d1, status="closed")
    lottery = make_campaign(tree.d1, mode="lottery", draw_at=now + dt.timedelta(days=2))
    empty = make_campaign(tree.d1, budget_cents=5_000, issued_cents=5_000)
    far = make_campaign(tree.d2)

    refused = {name: _code(vouchers.claim, actor=tree.resident, campaign_id=c.pk)
               for name, c in [("early", early), ("late", late), ("picky", picky),
                               ("draft", draft), ("closed", closed), ("lottery", lottery),
                               ("empty", empty), ("far", far)]}

    assert refused == {"early": "outside_window", "late": "outside_window",
                       "picky": "not_eligible", "draft": "campaign_not_found",
                       "closed": "campaign_closed", "lottery": "wrong_mode",
                       "empty": "campaign_exhausted", "far": "not_eligible"}
    assert not Voucher.objects.exists()
    assert VoucherCampaign.objects.get(pk=empty.pk).issued_cents == 5_000


def test_per_person_limits_per_campaign_day_and_week(tree):
    now = timezone.now()
    campaign = make_campaign(tree.d1, per_campaign_limit=3, per_day_limit=1, per_week_limit=2,
                             claim_closes_at=now + dt.timedelta(days=30))
    vouchers.claim(actor=tree.resident, campaign_id=campaign.pk, now=now)

    assert _code(vouchers.claim, actor=tree.resident, campaign_id=campaign.pk,
                 now=now) == "over_limit"
    Voucher.objects.update(issued_at=now - dt.timedelta(days=8))  # last week's
    vouchers.claim(actor=tree.resident, campaign_id=campaign.pk, now=now)
    assert _code(vouchers.claim, actor=tree.resident, campaign_id=campaign.pk,
                 now=now) == "over_limit"  # one a day
    Voucher.objects.filter(issued_at=now).update(issued_at=now - dt.timedelta(days=8))
    vouchers.claim(actor=tree.resident, campaign_id=campaign.pk, now=now)
    assert _code(vouchers.claim, actor=tree.resident, campaign_id=campaign.pk,
                 now=now + dt.timedelta(days=8)) == "over_limit"  # three: the campaign's cap
    assert Voucher.objects.filter(user=tree.resident).count() == 3


def test_claim_status_explains_why_not(tree):
    campaign = make_campaign(tree.d1, eligibility={"age_min": 60})

    status = vouchers.claim_status(campaign, tree.resident)

    assert not status.can_act and status.window == "open" and status.action == "claim"
    assert [r["code"] for r in status.reasons] == ["age_unknown"]


# --- lottery ---------------------------------------------------------------------------------


def _lottery(tree, budget_for: int = 2):
    now = timezone.now()
    return make_campaign(tree.d1, mode="lottery", budget_cents=budget_for * 3_000,
                         face_value_cents=3_000, claim_opens_at=now - dt.timedelta(days=1),
                         claim_closes_at=now + dt.timedelta(hours=1),
                         draw_at=now + dt.timedelta(hours=2))


def test_lottery_entry_once_per_eligible_person_inside_the_window(tree):
    campaign = _lottery(tree)
    vouchers.enter_draw(actor=tree.resident, campaign_id=campaign.pk)

    assert _code(vouchers.enter_draw, actor=tree.resident,
                 campaign_id=campaign.pk) == "already_entered"
    assert _code(vouchers.enter_draw, actor=tree.user(home_community=tree.k4),
                 campaign_id=campaign.pk) == "not_eligible"
    assert _code(vouchers.enter_draw, actor=tree.user(home_community=tree.k1),
                 campaign_id=campaign.pk,
                 now=timezone.now() + dt.timedelta(hours=1)) == "outside_window"
    assert VoucherEntry.objects.count() == 1


def test_draw_happens_once_and_is_reproducible_from_the_seed(tree,
                                                             django_capture_on_commit_callbacks):
    campaign = _lottery(tree, budget_for=2)
    people = [tree.user(home_community=tree.k1) for _ in range(6)]
    for person in people:
        vouchers.enter_draw(actor=person, campaign_id=campaign.pk)
    at = campaign.draw_at

    assert not vouchers.draw(campaign_id=campaign.pk, now=at - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert vouchers.draw(campaign_id=campaign.pk, now=at, seed="abc")
    assert not vouchers.draw(campaign_id=campaign.pk, now=at, seed="other")

    campaign.refresh_from_db()
    record = vouchers.draw_record(campaign)
    expected = lottery.shuffled("abc", sorted(p.pk for p in people))[:2]
    assert campaign.lottery_seed == "abc" and campaign.issued_cents == campaign.budget_cents
    assert set(record["winners"]) == set(expected)
    assert set(Voucher.objects.values_list("user_id", flat=True)) == set(expected)
    assert VoucherEntry.objects.filter(is_winner=False).count() == 4
    from sportsman.notifications.models import Notification

    assert set(Notification.objects.filter(category="reward")
               .values_list("user_id", flat=True)) == set(expected)


def test_draw_order_is_a_pure_function_of_seed_and_entrants():
    entrants = list(range(1, 40))
    assert lottery.shuffled("s1", entrants) == lottery.shuffled("s1", entrants)
    assert lottery.shuffled("s1", entrants) != lottery.shuffled("s2", entrants)
    assert sorted(lottery.shuffled("s1", entrants)) == entrants


def test_closed_lottery_is_never_drawn(tree):
    campaign = _lottery(tree)
    vouchers.enter_draw(actor=tree.resident, campaign_id=campaign.pk)
    VoucherCampaign.objects.filter(pk=campaign.pk).update(status="closed")

    assert vouchers.due_draw_ids(campaign.draw_at) == []
    assert not vouchers.draw(campaign_id=campaign.pk, now=campaign.draw_at)


def test_due_draw_job_draws_every_due_lottery(tree):
    from sportsman.rewards.tasks_vouchers import draw_due_voucher_lotteries

    campaign = _lottery(tree)
    vouchers.enter_draw(actor=tree.resident, campaign_id=campaign.pk)
    VoucherCampaign.objects.filter(pk=campaign.pk).update(
        draw_at=timezone.now() - dt.timedelta(minutes=1))

    assert draw_due_voucher_lotteries.call() == 1
    assert Voucher.objects.filter(user=tree.resident).count() == 1
    assert draw_due_voucher_lotteries.call() == 0


# --- redeeming -------------------------------------------------------------------------------


def test_merchant_redeems_a_voucher_once(tree):
    merchant = make_merchant(tree, tree.k2)
    campaign = make_campaign(tree.d1)
    voucher = make_voucher(campaign, tree.resident)

    done = vouchers.redeem(actor=merchant.owner, code=f"spv:{voucher.code.lower()}",
                           amount_cents=15_000)

    assert done.status == "redeemed" and done.merchant == merchant
    assert done.spend_cents == 15_000 and done.redeemed_by == merchant.owner
    assert _code(vouchers.redeem, actor=merchant.owner, code=voucher.code,
                 amount_cents=15_000) == "already_redeemed"
    assert AuditEntry.objects.filter(action="voucher.redeem").count() == 1


def test_redeem_refusals_carry_clear_codes_and_write_nothing(tree):
    from sportsman.core.models import Sport

    merchant = make_merchant(tree, tree.k2)
    elsewhere = make_merchant(tree, tree.k4, name="秀洲")
    swim = Sport.objects.create(slug="swim-t", name_zh="游泳", name_en="swimming")
    chess = Sport.objects.create(slug="chess-t", name_zh="象棋", name_en="chess")
    merchant.sports.set([chess])
    now = timezone.now()
    d1 = make_campaign(tree.d1)
    named = make_campaign(tree.d1, merchants=[elsewhere])
    swimming = make_campaign(tree.d1, sports=[swim])
    owner = tree.resident
    cases = {
        "expired": make_voucher(d1, owner, expires_at=now - dt.timedelta(seconds=1)),
        "below": make_voucher(d1, owner),
        "wrong_region": make_voucher(make_campaign(tree.d2), owner),
        "not_named": make_voucher(named, owner),
        "sport": make_voucher(swimming, owner),
    }
    amounts = {"below": 9_999}

    refused = {name: _code(vouchers.redeem, actor=merchant.owner, code=v.code,
                           amount_cents=amounts.get(name, 20_000))
               for name, v in cases.items()}

    assert refused == {"expired": "voucher_expired", "below": "below_min_spend",
                       "wrong_region": "wrong_merchant", "not_named": "wrong_merchant",
                       "sport": "sport_not_covered"}
    assert _code(vouchers.redeem, actor=merchant.owner, code="NOPE23456789",
                 amount_cents=20_000) == "unknown_code"
    assert _code(vouchers.redeem, actor=tree.resident, code=cases["below"].code,
                 amount_cents=20_000) == "forbidden"
    assert _code(vouchers.redeem, actor=merchant.owner, code=cases["below"].code,
                 amount_cents=0) == "invalid"
    assert not Voucher.objects.exclude(status="issued").exists()
    assert not AuditEntry.objects.filter(action="voucher.redeem").exists()


def test_a_merchant_of_several_must_choose_and_may_not_use_anothers(tree):
    first = make_merchant(tree, tree.k2)
    second = make_merchant(tree, tree.k1, owner=first.owner, name="第二家")
    stranger = make_merchant(tree, tree.k2, name="别人家")
    voucher = make_voucher(make_campaign(tree.d1), tree.resident)

    assert _code(vouchers.redeem, actor=first.owner, code=voucher.code,
                 amount_cents=20_000) == "choose_merchant"
    assert _code(vouchers.redeem, actor=first.owner, code=voucher.code, amount_cents=20_000,
                 merchant_id=stranger.pk) == "not_found"
    assert vouchers.redeem(actor=first.owner, code=voucher.code, amount_cents=20_000,
                           merchant_id=second.pk).merchant == second


def test_expire_job_expires_lapsed_vouchers_and_keeps_the_budget_spent(tree):
    campaign = make_campaign(tree.d1, issued_cents=10_000)
    now = timezone.now()
    lapsed = make_voucher(campaign, tree.resident, expires_at=now - dt.timedelta(minutes=1))
    fresh = make_voucher(campaign, tree.resident)

    assert vouchers.expire_vouchers(now) == 1

    assert Voucher.objects.get(pk=lapsed.pk).status == "expired"
    assert Voucher.objects.get(pk=fresh.pk).status == "issued"
    assert VoucherCampaign.objects.get(pk=campaign.pk).issued_cents == 10_000


@pytest.mark.parametrize(("text", "cents"), [("150", 15_000), ("99.5", 9_950),
                                              ("128.05", 12_805), ("0.01", 1)])
def test_yuan_amounts_parse_to_fen(text, cents):
    assert vouchers.parse_yuan(text, "amount") == cents


@pytest.mark.parametrize("text", ["", "-1", "1.234", "1e3", "¥5", "12,00", 150, None])
def test_bad_yuan_amounts_are_refused(text):
    assert _code(vouchers.parse_yuan, text, "amount") == "invalid"
