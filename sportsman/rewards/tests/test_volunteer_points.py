"""Volunteer points: the rewards consumer of ``governance.volunteer_hours_approved`` awards the
city's per-hour rule once per key, whatever the number of deliveries."""

from __future__ import annotations

import pytest
from django.db import transaction

from sportsman.core.events import dispatch, publish
from sportsman.core.models import EventDelivery
from sportsman.rewards.models import PointEntry, PointRule
from sportsman.rewards.points import balance_of

pytestmark = pytest.mark.django_db


def _approved(user_id: int, hours: int, key: str) -> int:
    with transaction.atomic():
        event = publish("governance.volunteer_hours_approved",
                        {"user_id": user_id, "hours": hours, "key": key})
    return event.pk


def test_approved_hours_earn_points_once_per_key(tree):
    PointRule.objects.create(region=tree.city, kind="per_volunteer_hour", points=15)
    person = tree.user(home_community=tree.k2)

    _approved(person.pk, 2, "volunteer:901")
    _approved(person.pk, 2, "volunteer:901")  # the same hours published again
    dispatch()
    dispatch()

    assert list(PointEntry.objects.filter(user=person).values_list("amount", "source")) == [
        (30, "volunteer")]
    assert balance_of(person.pk) == 30
    assert EventDelivery.objects.filter(consumer="rewards.volunteer_points").count() == 2


def test_without_a_rule_or_hours_nothing_is_awarded(tree):
    person = tree.user(home_community=tree.k2)
    _approved(person.pk, 3, "volunteer:902")
    dispatch()  # no rule yet: delivered, nothing to pay
    PointRule.objects.create(region=tree.city, kind="per_volunteer_hour", points=15)
    _approved(person.pk, 0, "volunteer:903")
    dispatch()
    assert balance_of(person.pk) == 0
    assert not PointEntry.objects.filter(user=person).exists()
