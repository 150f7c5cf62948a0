"""Demo index and assessments (step 96, after the figures at 95).

- 嘉兴市's index configuration: the suggested indicators (``index.DEFAULT_INDICATORS``, each
  min–max among the compared units): the share of regular exercisers 30, the share active in
  30 days 25, utilisation of bookable places 20, exercise minutes per resident 15, maintenance
  resolved on time 10.
- Last month's assessment of the districts by the city, with two manual items (组织保障 10,
  宣传推广 10) scored and published; and 南湖区's of its towns, published too, so the district,
  town and community administrators each have a ranking to open.
- This quarter's assessment of the districts, a draft with its manual scores still to enter.

Manual scores come from the step's own ``random.Random``: the same seed gives the same demo.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import DemoCity, demo_step

CITY_CODE = "330400000000"
NANHU_CODE = "330402000000"
CITY_ADMIN_PHONE = "13800000004"
DISTRICT_ADMIN_PHONE = "13800000003"
MANUAL = (("组织保障", Decimal(10)), ("宣传推广", Decimal(10)))
NOTES = ("按时报送材料", "组织了全民健身日活动", "宣传稿件较少", "")


def _admin(phone: str) -> Any:
    from sportsman.accounts.models import User
    from sportsman.core import crypto

    return User.objects.filter(phone_hash=crypto.keyed_hash(phone)).first()


def _scored_and_published(region: Any, period: Any, actor: Any, rng: Any) -> None:
    from sportsman.cockpit import assessment as svc

    a = svc.create_assessment(actor=actor, region=region, period=period,
                              manual_items=[svc.ManualItem(n, m) for n, m in MANUAL])
    sheet = svc.score_sheet(a)
    svc.enter_scores(actor=actor, assessment_id=a.pk, scores=[
        svc.ScoreInput(row.entry.region_id, item.pk,
                       Decimal(rng.randint(12, 20)) / 2 * item.max_score / 10,
                       rng.choice(NOTES))
        for row in sheet.rows for item in sheet.manual_items])
    svc.publish(actor=actor, assessment_id=a.pk)


@demo_step("cockpit assessments", order=96)
def assessments_step(city: DemoCity) -> None:
    from sportsman.cockpit import assessment as svc
    from sportsman.cockpit import index, periods
    from sportsman.cockpit.periods import Grain
    from sportsman.regions.access import access_for_user

    jx, nanhu = city.regions.get(CITY_CODE), city.regions.get(NANHU_CODE)
    city_admin, district_admin = _admin(CITY_ADMIN_PHONE), _admin(DISTRICT_ADMIN_PHONE)
    if jx is None or city_admin is None:
        return
    rng = city.rng("cockpit assessments")
    as_city = access_for_user(city_admin)
    index.save_config(actor=as_city, city=jx, indicators=index.default_indicators(),
                      note="建议指标（演示）")
    today = timezone.localdate()
    last_month = periods.period_containing(Grain.MONTH, today).previous()
    _scored_and_published(jx, last_month, as_city, rng)
    if nanhu is not None and district_admin is not None:
        _scored_and_published(nanhu, last_month, access_for_user(district_admin), rng)
    svc.create_assessment(actor=as_city, region=jx,
                          period=periods.period_containing(Grain.QUARTER, today),
                          manual_items=[svc.ManualItem(n, m) for n, m in MANUAL])
