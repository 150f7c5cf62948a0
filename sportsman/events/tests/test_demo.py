"""The demo's events: every level, a cascade whose qualifiers advanced, registrations with
results, counters that agree with the rows, and check-ins that became exercise records with
the live consumer's keys (a replay of a check-in records nothing twice)."""

from __future__ import annotations

import pytest
from django.db.models import Count, F, Q

from sportsman.activity.consumers import record_event
from sportsman.activity.models import ActivityRecord, Source
from sportsman.core import demo_city
from sportsman.core.models import DomainEvent
from sportsman.events.models import Event, Registration
from sportsman.events.services import ATTENDED, SESSION_CAP

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


def test_the_demo_check_ins_are_exercise_records_a_replay_does_not_double():
    demo_city.generate(scale="small", seed=3, progress=False)

    checked_in = list(Registration.objects.filter(status="checked_in")
                      .select_related("event").order_by("pk"))
    assert checked_in and all(r.event.mode == "offline" for r in checked_in)
    records = {r.source_key: r for r in ActivityRecord.objects.filter(source=Source.EVENT)}
    assert set(records) == {f"event:{r.pk}" for r in checked_in}  # no rosters in the demo
    for reg in checked_in:
        record = records[f"event:{reg.pk}"]
        assert record.user_id == reg.user_id and record.is_verified
        assert record.sport_id == reg.event.sport_id
        assert record.started_at == reg.event.starts_at
        assert record.ended_at == min(reg.event.ends_at, reg.event.starts_at + SESSION_CAP)

    # the live consumer, fed the check-in as services.check_in publishes it, finds the key
    reg = checked_in[0]
    before = ActivityRecord.objects.count()
    record_event(DomainEvent(name=ATTENDED, payload={
        "registration_id": reg.pk, "event_id": reg.event_id, "user_id": reg.user_id,
        "user_ids": [reg.user_id], "sport_id": reg.event.sport_id,
        "facility_id": reg.event.facility_id, "started_at": reg.event.starts_at.isoformat(),
        "ended_at": min(reg.event.ends_at, reg.event.starts_at + SESSION_CAP).isoformat()}))
    assert ActivityRecord.objects.count() == before
