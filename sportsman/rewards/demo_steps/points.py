"""Demo points, catalogue and merchants (step 60, after the exercise record's step 50).

- Jiaxing's earning rules: 10 points per 30 verified minutes (at most 60 a day, 5,000 a year),
  20 per event (40 a day), 15 per volunteer hour (60 a day).
- The demo merchant login (13800000006, 新嘉运动商户) owns an approved merchant in 新嘉街道; six
  more approved merchants (sports shops, gyms, a pool) in the demo city are owned by generated
  residents, who get the merchant role on the merchant's region; one application waits for
  review in 新嘉街道. Each approved merchant operates the first two venues (facilities, step 40)
  of its town, if it has any.
- A city catalogue of ten rewards with stock; some are collected at the demo merchant.
- Residents' points: every demo city resident's verified days (``UserDay`` rollups of the
  exercise record, if its step ran) turned into the ledger entries the daily job would have
  written under the rule and its caps, in bulk; then rewards redeemed through the service by the
  demo resident (if they can afford one) and by the five residents with the most points, so
  codes wait at the demo merchant's counter.

Everything random is drawn from ``city.rng("rewards-points")``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sportsman.core.demo import DEMO_STAFF
from sportsman.core.demo_city import BATCH, TZ, DemoCity, demo_step

CITY_CODE = "330400000000"
DEMO_MERCHANT_PHONE = "13800000006"
DEMO_MERCHANT_TOWN = "330402009000"  # 新嘉街道

RULES = [("per_30_minutes", 10, 60, 5000), ("per_event", 20, 40, None),
         ("per_volunteer_hour", 15, 60, None)]

# name, kind of business, sports
MERCHANTS = [
    ("禾兴体育用品店", ("badminton", "table-tennis", "running")),
    ("南湖游泳馆", ("swimming",)),
    ("力健健身中心", ("yoga", "aerobics")),
    ("秀洲羽毛球馆", ("badminton",)),
    ("嘉兴跑者装备", ("running", "walking", "hiking")),
    ("乒乓球俱乐部", ("table-tennis",)),
]
PENDING_MERCHANT = ("新嘉骑行工坊", ("cycling",))

# name, kind, points, stock, per-person limit, at the demo merchant
REWARDS = [
    ("运动水杯", "goods", 300, 200, 2, True),
    ("羽毛球(一筒)", "goods", 600, 120, 1, True),
    ("运动毛巾", "goods", 200, 300, 2, False),
    ("跳绳", "goods", 150, 250, 1, False),
    ("游泳体验券", "entry", 500, 100, 1, False),
    ("健身房单次体验", "service", 400, 80, 1, False),
    ("体质测试名额", "service", 250, 60, 1, False),
    ("乒乓球拍", "goods", 1200, 40, 1, True),
    ("马拉松报名名额", "entry", 2000, 10, 1, False),
    ("运动护膝", "goods", 800, 60, 1, False),
]


def _demo_user(phone: str) -> Any:
    from sportsman.accounts.models import User

    return User.objects.get_by_phone(phone)


def _owners(city: DemoCity, count: int) -> list[Any]:
    """Generated residents of the demo city, drawn by the step's rng."""
    from sportsman.accounts.models import User
    from sportsman.core import crypto

    staff = {crypto.keyed_hash(phone) for phone, *_ in DEMO_STAFF}
    pool = list(User.objects.filter(home_community__code__startswith=CITY_CODE[:4])
                .exclude(phone_hash__in=staff).order_by("pk").values_list("pk", flat=True)[:5000])
    rng = city.rng("rewards-points")
    chosen = rng.sample(pool, min(count, len(pool)))
    by_pk = User.objects.in_bulk(chosen)
    return [by_pk[pk] for pk in chosen]


def _activity_entries(user_id: int, days: list[tuple[dt.date, int]], rule: Any) -> list[Any]:
    """The entries the daily job would have written for ``days`` (verified minutes), capped."""
    from sportsman.rewards.models import PointEntry
    from sportsman.rewards.points import activity_key, capped_amount

    entries: list[PointEntry] = []
    balance = 0
    earned_by_year: dict[int, int] = {}
    for day, minutes in days:
        capped = capped_amount(rule, minutes // 30, earned_today=0,
                               earned_this_year=earned_by_year.get(day.year, 0))
        if capped.granted <= 0:
            continue
        balance += capped.granted
        earned_by_year[day.year] = earned_by_year.get(day.year, 0) + capped.granted
        entries.append(PointEntry(
            user_id=user_id, amount=capped.granted, reason=f"{day.isoformat()}: {minutes} min",
            source="activity", idempotency_key=activity_key(user_id, day),
            balance_after=balance,
            created_at=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(3, 30), TZ)))
    return entries


@demo_step("rewards-points", order=60)
def step_points(city: DemoCity) -> None:
    from sportsman.core.models import Sport
    from sportsman.facilities.models import Facility
    from sportsman.regions.models import RoleAssignment, subtree_q
    from sportsman.rewards.models import (
        Merchant,
        MerchantStatus,
        PointRule,
        Reward,
    )

    jx = city.regions.get(CITY_CODE)
    if jx is None:
        return
    rng = city.rng("rewards-points")
    now = timezone.now()
    rules = {kind: PointRule.objects.create(region=jx, kind=kind, points=p, daily_cap=day,
                                            yearly_cap=year)
             for kind, p, day, year in RULES}
    sports = dict(Sport.objects.values_list("slug", "pk"))

    # The demo merchant login's own shop, where the demo resident collects.
    town = city.regions[DEMO_MERCHANT_TOWN]
    demo_owner = _demo_user(DEMO_MERCHANT_PHONE)
    demo_merchant = Merchant.objects.create(
        name="新嘉运动商户", region=town, owner=demo_owner, address=f"{town.name}禾兴南路88号",
        contact_phone="0573-82000006", licence_no="91330402MA2DEMO06",
        status=MerchantStatus.APPROVED, review_note="演示商户", reviewed_at=now)
    demo_merchant.sports.set([sports[s] for s in ("badminton", "table-tennis", "running")
                              if s in sports])

    def venues_of(region: Any) -> list[int]:
        return list(Facility.objects.filter(subtree_q(region.path, "region"))
                    .order_by("pk").values_list("pk", flat=True)[:2])

    demo_merchant.facilities.set(venues_of(town))

    towns = [r for code, r in sorted(city.regions.items())
             if r.level == "town" and code.startswith(CITY_CODE[:4])]
    owners = _owners(city, len(MERCHANTS) + 1)
    for (name, slugs), owner in zip([*MERCHANTS, PENDING_MERCHANT], owners, strict=False):
        pending = name == PENDING_MERCHANT[0]
        region = town if pending else rng.choice(towns)
        merchant = Merchant.objects.create(
            name=name, region=region, owner=owner, address=f"{region.name}{rng.randint(1, 300)}号",
            contact_phone=f"0573-8{rng.randint(1000000, 9999999)}",
            licence_no=f"913304{rng.randint(10**11, 10**12 - 1)}",
            status=MerchantStatus.PENDING if pending else MerchantStatus.APPROVED,
            reviewed_at=None if pending else now)
        merchant.sports.set([sports[s] for s in slugs if s in sports])
        if not pending:
            RoleAssignment.objects.get_or_create(user=owner, role="merchant", region=region)
            merchant.facilities.set(venues_of(region))

    rewards = [Reward(region=jx, merchant=demo_merchant if at_demo else None, name=name,
                      kind=kind, points_cost=cost, stock=stock, per_person_limit=limit,
                      description="")
               for name, kind, cost, stock, limit, at_demo in REWARDS]
    Reward.objects.bulk_create(rewards)
    city.made["rewards"] = len(rewards)
    city.made["merchants"] = Merchant.objects.count()

    _activity_points(city, jx, rules["per_30_minutes"])
    _orders(city, jx)


def _activity_points(city: DemoCity, jx: Any, rule: Any) -> None:
    """Every demo city resident's verified days (``UserDay``, if the exercise record's step ran)
    become the ledger entries the daily job would have written, capped, in bulk."""
    from sportsman.activity.models import UserDay
    from sportsman.rewards.models import PointBalance

    rows = (UserDay.objects.filter(verified_minutes__gte=30,
                                   user__home_community__path__startswith=jx.path)
            .order_by("user_id", "day").values_list("user_id", "day", "verified_minutes"))
    balances: list[PointBalance] = []
    batch: list[Any] = []
    current: int | None = None
    days: list[tuple[dt.date, int]] = []

    def close_user() -> None:
        if current is None or not days:
            return
        entries = _activity_entries(current, days, rule)
        if entries:
            batch.extend(entries)
            balances.append(PointBalance(user_id=current, balance=entries[-1].balance_after))
        if len(batch) >= BATCH * 5:
            _insert_entries(batch)
            batch.clear()

    for user_id, day, minutes in rows.iterator(chunk_size=BATCH * 5):
        if user_id != current:
            close_user()
            current, days = user_id, []
        days.append((day, minutes))
    close_user()
    _insert_entries(batch)
    PointBalance.objects.bulk_create(balances, batch_size=BATCH)
    city.made["point_balances"] = len(balances)


def _insert_entries(entries: list[Any]) -> None:
    """Ledger rows with their historic ``created_at`` (the ORM would stamp "now" on them), with
    one prepared statement."""
    from django.db import connection

    from sportsman.rewards.models import PointEntry

    if not entries:
        return
    ops = connection.ops
    table = ops.quote_name(PointEntry._meta.db_table)
    columns = ["user_id", "amount", "reason", "source", "idempotency_key", "balance_after",
               "created_at"]
    sql = (f"INSERT INTO {table} ({', '.join(ops.quote_name(c) for c in columns)}) "  # noqa: S608 (names from the model)
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(e.user_id, e.amount, e.reason, e.source, e.idempotency_key,
                                  e.balance_after,
                                  ops.adapt_datetimefield_value(e.created_at))
                                 for e in entries])


def _orders(city: DemoCity, jx: Any) -> None:
    """Rewards redeemed through the service: the demo resident's (if they can afford one) and
    those of the five residents with the most points, to collect at the demo merchant's
    counter."""
    from sportsman.rewards import catalogue
    from sportsman.rewards.models import PointBalance, Reward

    at_counter = list(Reward.objects.filter(region=jx, merchant__isnull=False)
                      .order_by("points_cost"))
    resident = _demo_user(DEMO_STAFF[0][0])
    richest = list(PointBalance.objects.exclude(user=resident).order_by("-balance", "user_id")
                   .values_list("user_id", "balance")[:5])
    buyers = [(resident.pk, points_of(resident.pk)), *richest]
    from sportsman.accounts.models import User

    users = User.objects.in_bulk([pk for pk, _ in buyers])
    made = 0
    for pk, balance in buyers:
        affordable = [r for r in at_counter if r.points_cost <= balance]
        if affordable:
            catalogue.redeem(actor=users[pk], reward_id=affordable[-1].pk)
            made += 1
    city.made["reward_orders"] = made


def points_of(user_id: int) -> int:
    from sportsman.rewards.points import balance_of

    return balance_of(user_id)
