"""Completed facility visits become exercise records: live through the visit_completed event,
and in bulk through the backfill (the same result, idempotent)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from sportsman.activity import records, rollups
from sportsman.activity.models import ActivityRecord, RegionDay, Source, UserDay
from sportsman.core.events import dispatch
from sportsman.facilities import visits
from sportsman.facilities.models import Visit, VisitSource
from sportsman.facilities.selectors import completed_visits
from sportsman.facilities.tests.factories import make_facility

T = dt.datetime(2024, 11, 3, 10, 0, tzinfo=rollups.LOCAL_TZ)


@pytest.fixture
def facility(tree):
    return make_facility(tree.k2, name="新南社区百姓健身房")


def a_visit(user, facility, start, minutes):
    return Visit.objects.create(user=user, facility=facility, source=VisitSource.FACILITY_QR,
                                started_at=start,
                                ended_at=start + dt.timedelta(minutes=minutes))


def tables():
    return (sorted(ActivityRecord.objects.values_list("user_id", "source", "source_key",
                                                      "region_id", "facility_id", "started_at",
                                                      "duration_minutes", "counted_minutes",
                                                      "is_verified")),
            sorted(UserDay.objects.values_list("user_id", "day", "region_id", "minutes",
                                               "sessions", "verified_minutes",
                                               "verified_sessions")),
            sorted(RegionDay.objects.values_list("region_id", "day", "minutes", "sessions",
                                                 "verified_minutes", "active_users")))


def test_a_checked_out_visit_becomes_a_verified_record_once(tree, facility):
    visit = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                           user_id=tree.resident.pk, now=T)
    visits.check_out(actor=tree.resident, visit_id=visit.pk, now=T + dt.timedelta(minutes=47))
    dispatch()
    record = ActivityRecord.objects.get()
    assert (record.source, record.source_key) == (Source.VISIT, f"visit:{visit.pk}")
    assert (record.duration_minutes, record.counted_minutes, record.is_verified) == (47, 47, True)
    # Ranked where the resident lives (k1), not where the facility is (k2).
    assert (record.region_id, record.facility_id) == (tree.k1.pk, facility.pk)
    assert UserDay.objects.get().verified_minutes == 47
    dispatch()  # a replay of the event: nothing more
    assert ActivityRecord.objects.count() == 1 and UserDay.objects.get().minutes == 47


def test_completed_visits_yields_the_event_payload_shape(tree, facility):
    v = a_visit(tree.resident, facility, T, 30)
    Visit.objects.create(user=tree.community_admin, facility=facility,
                         source=VisitSource.WALK_IN, started_at=T)  # still open: not yielded
    assert list(completed_visits()) == [{
        "visit_id": v.pk, "user_id": tree.resident.pk, "facility_id": facility.pk,
        "region_id": tree.k2.pk, "sport_id": None, "source": "facility_qr",
        "started_at": "2024-11-03T02:00:00+00:00", "ended_at": "2024-11-03T02:30:00+00:00",
        "duration_minutes": 30}]
    assert list(completed_visits(since_id=v.pk)) == []


def test_completed_visits_reads_in_batches(tree, facility):
    made = [a_visit(tree.resident, facility, T + dt.timedelta(hours=i), 30).pk for i in range(5)]
    assert [p["visit_id"] for p in completed_visits(batch=2)] == made


def test_backfill_equals_recording_one_by_one_and_is_idempotent(tree, facility):
    # Overlapping visits of one person, another person's, and one already recorded live.
    vs = [a_visit(tree.resident, facility, T, 60),
          a_visit(tree.resident, facility, T + dt.timedelta(minutes=30), 60),
          a_visit(tree.resident, facility, T + dt.timedelta(days=1), 45),
          a_visit(tree.community_admin, facility, T, 20)]
    from sportsman.activity.consumers import session_from_visit

    # One by one, latest first (late arrivals), as the reference:
    for payload in reversed(list(completed_visits())):
        records.record_session(**session_from_visit(payload))
    one_by_one = tables()
    ActivityRecord.objects.all().delete()
    UserDay.objects.all().delete()
    RegionDay.objects.all().delete()

    records.record_session(**session_from_visit(next(completed_visits(since_id=vs[2].pk - 1))))
    call_command("backfill_activity", verbosity=0)
    assert tables() == one_by_one
    assert sum(r[7] for r in one_by_one[0]) == 60 + 30 + 45 + 20  # the overlap counted once
    call_command("backfill_activity", verbosity=0)
    assert tables() == one_by_one


def test_backfill_recounts_a_recorded_session_a_new_earlier_one_overlaps(tree, facility):
    later = a_visit(tree.resident, facility, T + dt.timedelta(minutes=30), 60)
    from sportsman.activity.consumers import session_from_visit

    records.record_session(**session_from_visit(next(completed_visits(since_id=later.pk - 1))))
    a_visit(tree.resident, facility, T, 60)
    call_command("backfill_activity", verbosity=0)
    assert sorted(ActivityRecord.objects.values_list("counted_minutes", flat=True)) == [30, 60]
    assert UserDay.objects.get().minutes == 90


def test_rebuild_command_restores_damaged_rollups(tree, facility):
    a_visit(tree.resident, facility, T, 60)
    call_command("backfill_activity", verbosity=0)
    good = tables()
    UserDay.objects.update(minutes=1)
    RegionDay.objects.update(active_users=9)
    ActivityRecord.objects.update(counted_minutes=0)
    call_command("rebuild_activity_rollups", verbosity=0)
    assert tables() == good


def test_opting_out_of_rankings_publishes_the_event_that_rankings_consume(tree):
    from sportsman.accounts.services import update_profile
    from sportsman.core.events import consumers_for
    from sportsman.core.models import DomainEvent

    update_profile(user=tree.resident, hide_from_rankings=True)
    event = DomainEvent.objects.get(name="accounts.rankings_opt_out")
    assert event.payload == {"user_id": tree.resident.pk}
    assert "activity.forget_in_rankings" in {c.name for c in consumers_for(event.name)}
    update_profile(user=tree.resident, hide_from_rankings=True)  # already out: nothing new
    assert DomainEvent.objects.filter(name="accounts.rankings_opt_out").count() == 1
