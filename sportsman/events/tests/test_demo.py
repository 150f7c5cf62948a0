"""The demo's events: every level, a cascade whose qualifiers advanced, registrations with
results, counters that agree with the rows."""

from __future__ import annotations

import pytest
from django.db.models import Count, F, Q

from sportsman.core import demo_city
from sportsman.events.models import Event, Registration

pytestmark = pytest.mark.django_db


def test_the_demo_city_has_events_at_every_level_with_a_cascade():
    demo_city.generate(scale="small", seed=3, progress=False)

    levels = set(Event.objects.values_list("level", flat=True))
    assert levels == {"city", "district", "town", "community"}
    final = Event.objects.get(title__contains="总决赛")
    districts = Event.objects.filter(parent=final)
    assert districts.count() == 2 and Event.objects.filter(parent__in=districts).exists()
    advanced = Registration.objects.filter(advanced_from__isnull=False)
    assert advanced.filter(event=final).exists()
    assert advanced.filter(event__in=districts).exists()
    assert Registration.objects.filter(rank=1).exists()
    assert Event.objects.filter(mode="online").count() == 4
    assert Event.objects.filter(status="published", ends_at__gt=final.ends_at).exists()
    wrong = (Event.objects.annotate(n=Count("registrations", filter=Q(
        registrations__status__in=("registered", "checked_in")))).exclude(n=F("registered")))
    assert not wrong.exists()



