"""Sessions on smart fitness equipment: the resident's rotating exercise code, the ``session``
device event validated one by one, and the exercise record it makes (once, whatever is
replayed or raced)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.activity.models import ActivityRecord, Source, UserDay
from sportsman.core.events import dispatch
from sportsman.core.models import DomainEvent, Sport
from sportsman.core.testing import failures, race
from sportsman.facilities import devices, exercise_code, visits
from sportsman.facilities.models import Device, DeviceEvent, DeviceKind
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def facility(tree):
    return make_facility(tree.k2, name="新南社区智能健身驿站")


@pytest.fixture
def bike(facility):
    return Device.objects.create(facility=facility, kind=DeviceKind.EQUIPMENT, name="动感单车 1",
                                 serial="BIKE-1", secret_hash=devices._hash("s3cret"))


def session(event_id: str, user, *, start: dt.datetime, minutes: float = 30,
            code: str | None = None, sport: str | None = None, **data):
    end = start + dt.timedelta(minutes=minutes)
    body = {"member": code if code is not None else exercise_code.code_for(user, start),
            "started_at": start.isoformat(), "ended_at": end.isoformat(), **data}
    if sport is not None:
        body["sport"] = sport
    return {"id": event_id, "type": "session", "at": end.isoformat(), "data": body}


def records():
    return list(ActivityRecord.objects.values_list("user_id", "source", "source_key",
                                                   "facility_id", "sport_id", "duration_minutes",
                                                   "counted_minutes", "is_verified"))


# --- the exercise code -------------------------------------------------------------------------


def test_code_names_its_person_in_its_minute_and_the_next(tree):
    code = exercise_code.code_for(tree.resident, NOW)
    assert code.startswith("SPM:")
    for later in (0, 60, 119):
        scanned = NOW.replace(second=0) + dt.timedelta(seconds=later)
        assert exercise_code.user_id_of(code, scanned_at=scanned, now=NOW) == tree.resident.pk


def test_code_outside_its_minutes_and_the_tolerance_is_expired(tree):
    code = exercise_code.code_for(tree.resident, NOW)
    start = NOW.replace(second=0)
    inside = [start - exercise_code.SCAN_TOLERANCE,
              start + dt.timedelta(minutes=2) + exercise_code.SCAN_TOLERANCE]
    for scanned in inside:
        assert exercise_code.user_id_of(code, scanned_at=scanned, now=NOW + dt.timedelta(days=1))
    outside = [inside[0] - dt.timedelta(seconds=1), inside[1] + dt.timedelta(seconds=1)]
    for scanned in outside:
        with pytest.raises(exercise_code.ExerciseCodeExpired):
            exercise_code.user_id_of(code, scanned_at=scanned, now=NOW + dt.timedelta(days=1))


@pytest.mark.parametrize("mangle", [
    lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"),  # signature changed
    lambda c: c.replace("SPM:", "SPF:"),  # a facility's check-in code is not a person's
    lambda c: "SPM:99999:" + c.split(":", 2)[2],  # someone else's id
    lambda c: "garbage",
    lambda c: "",
])
def test_forged_code_is_invalid(tree, mangle):
    code = exercise_code.code_for(tree.resident, NOW)
    with pytest.raises(exercise_code.ExerciseCodeInvalid):
        exercise_code.user_id_of(mangle(code), scanned_at=NOW, now=NOW)


def test_code_from_after_now_is_invalid(tree):
    later = NOW + dt.timedelta(minutes=3)
    code = exercise_code.code_for(tree.resident, later)
    with pytest.raises(exercise_code.ExerciseCodeInvalid):
        exercise_code.user_id_of(code, scanned_at=later, now=NOW)


def test_facility_check_in_code_does_not_check_in_as_a_person(tree, facility):
    """The schemes share the signing: each still refuses the other's codes."""
    with pytest.raises(visits.QrInvalid):
        visits.verify_code(exercise_code.code_for(tree.resident, NOW), now=NOW)


# --- sessions --------------------------------------------------------------------------------


def test_a_session_makes_one_verified_device_record_and_its_rollups(tree, facility, bike):
    start = NOW - dt.timedelta(minutes=50)
    report = devices.ingest_events(device=bike, events=[
        session("s1", tree.resident, start=start, minutes=40, sport="running")], now=NOW)
    assert report.as_dict() == {"accepted": 1, "duplicates": 0, "rejected": []}
    event = DomainEvent.objects.get(name=devices.EQUIPMENT_SESSION)
    stored = DeviceEvent.objects.get(device=bike, event_id="s1")
    running = Sport.objects.get(slug="running").pk
    assert event.payload == {
        "device_event_id": stored.pk, "device_id": bike.pk, "user_id": tree.resident.pk,
        "facility_id": facility.pk, "region_id": tree.k2.pk, "sport_id": running,
        "started_at": start.astimezone(dt.UTC).isoformat(),
        "ended_at": (start + dt.timedelta(minutes=40)).astimezone(dt.UTC).isoformat()}
    dispatch()
    assert records() == [(tree.resident.pk, Source.DEVICE, f"device:{stored.pk}", facility.pk,
                          running, 40, 40, True)]
    day = UserDay.objects.get()
    assert (day.user_id, day.minutes, day.verified_minutes, day.sessions) == \
        (tree.resident.pk, 40, 40, 1)
    assert ActivityRecord.objects.get().region_id == tree.k1.pk  # where the resident lives


def test_replaying_the_batch_or_the_event_changes_nothing(tree, bike):
    batch = [session("s1", tree.resident, start=NOW - dt.timedelta(minutes=40))]
    devices.ingest_events(device=bike, events=batch, now=NOW)
    dispatch()
    before = (records(), list(UserDay.objects.values_list("minutes", "sessions")))
    again = devices.ingest_events(device=bike, events=batch, now=NOW + dt.timedelta(minutes=5))
    assert again.as_dict() == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert DomainEvent.objects.filter(name=devices.EQUIPMENT_SESSION).count() == 1
    # The event itself delivered again (a replay by hand): the record's key stops it.
    from sportsman.activity.consumers import record_equipment_session

    record_equipment_session(DomainEvent.objects.get(name=devices.EQUIPMENT_SESSION))
    dispatch()
    assert (records(), list(UserDay.objects.values_list("minutes", "sessions"))) == before


def test_a_session_overlapping_a_visit_is_not_counted_twice(tree, facility, bike):
    start = NOW - dt.timedelta(hours=1)
    visit = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                           user_id=tree.resident.pk, now=start)
    visits.check_out(actor=tree.resident, visit_id=visit.pk, now=start + dt.timedelta(minutes=60))
    devices.ingest_events(device=bike, events=[
        session("s1", tree.resident, start=start + dt.timedelta(minutes=10), minutes=30)],
        now=NOW)
    dispatch()
    assert ActivityRecord.objects.count() == 2
    assert UserDay.objects.get().minutes == 60
    assert UserDay.objects.get().sessions == 2


def test_a_batch_uploaded_hours_later_still_verifies_against_the_start(tree, bike):
    start = NOW - dt.timedelta(hours=20)
    report = devices.ingest_events(device=bike, events=[
        session("late", tree.resident, start=start, minutes=45)], now=NOW)
    assert report.accepted == 1
    dispatch()
    assert ActivityRecord.objects.get().duration_minutes == 45


def test_every_bad_session_is_rejected_with_its_reason_and_the_good_events_stay(tree, bike):
    resident, start = tree.resident, NOW - dt.timedelta(minutes=90)
    other_code = exercise_code.code_for(resident, start - dt.timedelta(minutes=30))
    gone = tree.user(home_community=tree.k1, is_active=False)
    events = [
        session("good", resident, start=start, minutes=20),
        session("forged", resident, start=start, code="SPM:1:2:3"),
        session("expired", resident, start=start, code=other_code),
        session("reversed", resident, start=start, minutes=-5),
        session("empty", resident, start=start, minutes=0),
        session("too-long", resident, start=NOW - dt.timedelta(hours=6), minutes=5 * 60),
        session("future", resident, start=NOW, minutes=30),
        session("no-sport", resident, start=start, sport="underwater-hockey"),
        session("inactive", gone, start=start),
        session("mismatch", resident, start=start,
                ended_at=(start + dt.timedelta(minutes=1)).isoformat()),
        {**session("naive", resident, start=start),
         "data": {"member": exercise_code.code_for(resident, start),
                  "started_at": start.replace(tzinfo=None).isoformat()}},
        session("no-code", resident, start=start, code=""),
        {"id": "count", "type": "usage", "at": NOW.isoformat(), "data": {"cycles": 3}},
    ]
    body = devices.ingest_events(device=bike, events=events, now=NOW).as_dict()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    codes = {r["event_id"]: r["code"] for r in body["rejected"]}
    assert codes == {
        "forged": "member_code_invalid", "expired": "member_code_expired",
        "reversed": "session_order", "empty": "session_order", "too-long": "session_too_long",
        "future": "time_in_future", "no-sport": "unknown_sport",
        "inactive": "member_code_invalid", "mismatch": "invalid_data", "naive": "naive_time",
        "no-code": "member_code_invalid"}
    assert [r["index"] for r in body["rejected"]] == list(range(1, 12))
    assert all(r["message"] for r in body["rejected"])
    assert set(DeviceEvent.objects.values_list("event_id", flat=True)) == {"good", "count"}
    bike.refresh_from_db()
    assert bike.usage_cycles == 3
    dispatch()
    assert [r[2] for r in records()] == [
        f"device:{DeviceEvent.objects.get(event_id='good').pk}"]


def test_only_fitness_equipment_may_send_sessions(tree, facility):
    gate = Device.objects.create(facility=facility, kind=DeviceKind.COUNTER, name="闸机",
                                 serial="GATE-9", secret_hash="-")
    body = devices.ingest_events(device=gate, events=[
        session("s1", tree.resident, start=NOW - dt.timedelta(minutes=40)),
        {"id": "h1", "type": "heartbeat", "at": NOW.isoformat(), "data": {}}], now=NOW)
    assert body.accepted == 1
    assert [(r.event_id, r.code) for r in body.rejected] == [("s1", "type_not_allowed")]
    assert not DomainEvent.objects.filter(name=devices.EQUIPMENT_SESSION).exists()


def test_sessions_arrive_over_http(api_client, tree, bike):
    response = api_client.json(
        "post", "/api/v1/devices/events",
        {"events": [session("s1", tree.resident, start=timezone.now() - dt.timedelta(minutes=30)),
                    session("bad", tree.resident, start=timezone.now() - dt.timedelta(minutes=30),
                            code="nope")]},
        HTTP_AUTHORIZATION="Device BIKE-1:s3cret")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 1
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "member_code_invalid")]
    dispatch()
    assert ActivityRecord.objects.get().source == Source.DEVICE


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_batches_record_the_session_once(tree, facility):
    device = Device.objects.create(facility=facility, kind=DeviceKind.EQUIPMENT, name="椭圆机",
                                   serial="RACE-EQ", secret_hash="-")
    start = timezone.now() - dt.timedelta(minutes=45)
    batch = [session(f"s{i}", tree.resident, start=start + dt.timedelta(minutes=i), minutes=10)
             for i in range(3)]

    def send(_i: int):
        return devices.ingest_events(device=Device.objects.get(pk=device.pk), events=batch)

    outcomes = race(send, 4)
    assert not failures(outcomes), failures(outcomes)
    assert sum(r.accepted for r in outcomes) == 3
    assert DomainEvent.objects.filter(name=devices.EQUIPMENT_SESSION).count() == 3
    dispatch()
    assert ActivityRecord.objects.filter(source=Source.DEVICE).count() == 3
    # (the sessions may straddle midnight: count them over the days they fell on)
    assert sum(UserDay.objects.values_list("sessions", flat=True)) == 3


# --- the resident's page -----------------------------------------------------------------------


def test_my_code_page_shows_a_qr_code_to_the_resident_only(client, tree):
    assert client.get("/me/code/").status_code in (302, 401, 403)
    client.force_login(tree.resident)
    page = client.get("/me/code/")
    assert page.status_code == 200
    assert b"<svg" in page.content and b'hx-get="/me/code/"' in page.content
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    part = client.get("/me/code/", HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and b"<svg" in part.content
    assert b"<html" not in part.content
