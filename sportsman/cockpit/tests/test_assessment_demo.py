"""The demo city's index and assessments: the suggested configuration, last month's assessments
of the districts (by the city) and of 南湖区's towns, published, and this quarter's draft."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sportsman.cockpit import index, periods
from sportsman.cockpit.models.assessment import Assessment
from sportsman.core import demo_city
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_demo_city_has_an_index_and_assessments():
    city = demo_city.generate(scale="small", seed=3, progress=False)
    jx, nanhu = city.regions["330400000000"], city.regions["330402000000"]
    today = timezone.localdate()
    last_month = periods.period_containing(periods.Grain.MONTH, today).previous()
    quarter = periods.period_containing(periods.Grain.QUARTER, today)

    config = index.current_config(jx)
    assert config is not None and [(i.figure, int(i.weight)) for i in config.indicators.all()] == [
        ("regular_share", 30), ("active_share_30d", 25), ("utilisation", 20),
        ("exercise_minutes_per_resident", 15), ("tickets_on_time_rate", 10)]
    found = {(a.region_id, a.period): a for a in Assessment.objects.all()}
    assert found[(jx.pk, last_month.key)].status == "published"
    assert found[(nanhu.pk, last_month.key)].status == "published"
    assert found[(jx.pk, quarter.key)].status == "draft"
    ranks = sorted(found[(jx.pk, last_month.key)].entries.values_list("rank", flat=True))
    assert ranks[0] == 1 and len(ranks) == 2
    assert Notification.objects.filter(dedupe_key__startswith="assessment:").exists()
    assert index.index_of(nanhu, last_month) is not None
