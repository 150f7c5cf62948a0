"""The demo's exercise record: every visit of the demo year (and every attendance at a group
activity) recorded through the backfill path,
the rollups equal to a recomputation, and the demo resident's own manual and imported sessions."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from sportsman.activity import rollups
from sportsman.activity.models import ActivityRecord, RegionDay, Source, UserDay
from sportsman.core import demo_city
from sportsman.facilities.models import Visit

pytestmark = pytest.mark.django_db


def test_the_demo_year_of_visits_becomes_the_exercise_record():
    city = demo_city.generate(scale="small", seed=3, progress=False)
    visits = Visit.objects.filter(ended_at__isnull=False)
    # the visits and, in the same pass, the sessions earlier steps witnessed (group activities)
    witnessed = len(city.made.get("sessions", []))
    assert city.made["activity_records"] == visits.count() + witnessed and visits.count() > 0
    assert ActivityRecord.objects.filter(source=Source.GROUP).count() == witnessed > 0
    recorded = ActivityRecord.objects.filter(source=Source.VISIT)
    assert recorded.count() == visits.count()
    visit_minutes = sum(v.duration_minutes for v in visits)
    assert recorded.aggregate(n=Sum("duration_minutes"))["n"] == visit_minutes
    counted = recorded.aggregate(n=Sum("counted_minutes"))["n"]
    assert 0.9 * visit_minutes < counted <= visit_minutes  # overlaps counted once

    users, regions = rollups.expected_rollups(rollups._rows(None))
    assert {(u.user_id, u.day): [u.region_id, u.minutes, u.sessions, u.verified_minutes,
                                 u.verified_sessions] for u in UserDay.objects.all()} == users
    assert {(r.region_id, r.day): [r.minutes, r.sessions, r.verified_minutes, r.active_users]
            for r in RegionDay.objects.all()} == regions
    assert sum(v[0] for v in regions.values()) == ActivityRecord.objects.aggregate(
        n=Sum("counted_minutes"))["n"]

    mine = ActivityRecord.objects.filter(user__nickname="演示居民")
    assert mine.filter(source=Source.MANUAL, is_verified=False).count() == 3
    files = mine.filter(source=Source.FILE)
    assert sorted(files.values_list("sport__slug", flat=True)) == ["cycling", "running"]
    assert all(r.distance_m and not r.flags for r in files)
