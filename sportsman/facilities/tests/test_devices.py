"""Devices: registering and authenticating them, ingesting event batches (validated one by one,
replays harmless, effects once even under a race), wear/fault/silent tickets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.core.errors import InvalidInput, NotFound
from sportsman.core.models import AuditEntry
from sportsman.core.testing import failures, race
from sportsman.facilities import devices
from sportsman.facilities.models import (
    Device,
    DeviceEvent,
    Facility,
    FacilityHour,
    MaintenanceTicket,
    TicketKind,
)
from sportsman.facilities.tests.factories import make_facility
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def facility(tree):
    return make_facility(tree.k2, name="新南社区百姓健身房", capacity=20)


@pytest.fixture
def registered(tree, facility):
    return devices.register_device(actor=tree.town_admin, facility_id=facility.pk,
                                   kind="counter", name="大门闸机", serial="GATE-001",
                                   heartbeat_seconds=60, wear_threshold=100)


def at(minutes_ago: float = 0) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes_ago)).isoformat()


def ev(event_id: str, kind: str = "heartbeat", data: dict | None = None, when: str | None = None):
    return {"id": event_id, "type": kind, "at": when or at(), "data": data or {}}


def state(device: Device, facility: Facility) -> tuple:
    device.refresh_from_db()
    facility.refresh_from_db()
    hours = sorted(FacilityHour.objects.filter(facility=facility)
                   .values_list("hour", "visits", "entries", "peak"))
    return (DeviceEvent.objects.count(), device.usage_cycles, facility.occupancy, hours,
            MaintenanceTicket.objects.count())


# --- registry and authentication -------------------------------------------------------------


def test_secret_is_returned_once_and_only_its_hash_is_kept(registered):
    device, secret = registered
    assert secret not in device.secret_hash and len(device.secret_hash) == 64
    assert devices.authenticate_device("GATE-001", secret) == device
    assert devices.authenticate_device("GATE-001", secret + "x") is None
    assert devices.authenticate_device("NOPE", secret) is None
    assert AuditEntry.objects.filter(action="facilities.device.register").exists()


def test_rotated_secret_replaces_the_old_one(tree, registered):
    device, old = registered
    _device, new = devices.rotate_secret(actor=tree.district_admin, device_id=device.pk)
    assert devices.authenticate_device("GATE-001", old) is None
    assert devices.authenticate_device("GATE-001", new) == device


def test_deactivated_device_cannot_authenticate(tree, registered):
    device, secret = registered
    devices.deactivate(actor=tree.town_admin, device_id=device.pk)
    assert devices.authenticate_device("GATE-001", secret) is None


def test_staff_outside_the_region_cannot_register_or_rotate(tree, facility, registered):
    with pytest.raises(NotFound):
        devices.register_device(actor=tree.community_admin, facility_id=facility.pk,
                                kind="counter", name="x", serial="X-1")
    with pytest.raises(NotFound):
        devices.rotate_secret(actor=tree.sibling_town_admin, device_id=registered[0].pk)


def test_duplicate_serial_is_refused(tree, facility, registered):
    with pytest.raises(devices.SerialTaken):
        devices.register_device(actor=tree.town_admin, facility_id=facility.pk,
                                kind="counter", name="另一个", serial="GATE-001")


@pytest.mark.parametrize("header", [
    None, "", "Bearer x", "Device GATE-001", "Device GATE-001:wrong", "Device NOPE:{secret}",
])
def test_unknown_device_or_bad_secret_is_401_and_writes_nothing(api_client, registered, facility,
                                                                 header):
    device, secret = registered
    before = state(device, facility)
    extra = {"HTTP_AUTHORIZATION": header.format(secret=secret)} if header is not None else {}
    response = api_client.json("post", "/api/v1/devices/events",
                               {"events": [ev("e1", "count", {"in": 3})]}, **extra)
    assert response.status_code == 401
    assert response.json()["code"] == "device_unauthorized"
    assert state(device, facility) == before
    device.refresh_from_db()
    assert device.last_seen_at is None


# --- ingest ------------------------------------------------------------------------------------


def post(api_client, registered, body):
    device, secret = registered
    return api_client.json("post", "/api/v1/devices/events", body,
                           HTTP_AUTHORIZATION=f"Device {device.serial}:{secret}")


def test_counts_move_occupancy_and_the_rollup(api_client, registered, facility):
    device, _secret = registered
    response = post(api_client, registered, {"events": [
        ev("c1", "count", {"in": 5}, at(3)), ev("c2", "count", {"in": 2, "out": 3}, at(2))]})
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    facility.refresh_from_db()
    assert facility.occupancy == 4
    assert sum(FacilityHour.objects.filter(facility=facility).values_list("entries", flat=True)) \
        == 7
    assert max(FacilityHour.objects.filter(facility=facility).values_list("peak", flat=True)) == 4
    device.refresh_from_db()
    assert device.last_seen_at is not None and not device.is_silent


def test_replayed_batch_is_a_no_op(api_client, registered, facility):
    device, _secret = registered
    batch = {"events": [ev("c1", "count", {"in": 5}), ev("u1", "usage", {"cycles": 7}),
                        ev("r1", "reading", {"pm25": 12})]}
    assert post(api_client, registered, batch).json()["accepted"] == 3
    after_first = state(device, facility)
    replay = post(api_client, registered, batch)
    assert replay.json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert state(device, facility) == after_first
    assert after_first[1:3] == (7, 5)


def test_mixed_batch_keeps_the_good_events_and_reports_each_bad_one(api_client, registered,
                                                                   facility):
    device, _secret = registered
    events = [
        ev("good-1", "count", {"in": 2}),
        {"type": "count", "at": at(), "data": {"in": 1}},  # no id
        ev("bad-type", "explode"),
        {"id": "naive", "type": "heartbeat", "at": "2026-11-29T08:00:00", "data": {}},
        ev("future", when=(timezone.now() + dt.timedelta(minutes=10)).isoformat()),
        ev("old", when=(timezone.now() - dt.timedelta(days=8)).isoformat()),
        {"id": "data-list", "type": "heartbeat", "at": at(), "data": [1, 2]},
        ev("neg", "count", {"in": -1}),
        ev("bool", "usage", {"cycles": True}),
        "not an object",
        {"id": "x" * 65, "type": "heartbeat", "at": at(), "data": {}},
        ev("good-2", "usage", {"cycles": 3}),
        ev("month-13", when="2026-13-01T00:00:00+08:00"),
        ev("nul", "reading", {"note": "a\x00b"}),
        ev("ctl\x00id"),
    ]
    body = post(api_client, registered, {"events": events}).json()
    assert body["accepted"] == 2 and body["duplicates"] == 0
    rejected = {r["index"]: r for r in body["rejected"]}
    assert sorted(rejected) == [*range(1, 11), 12, 13, 14]
    codes = {i: r["code"] for i, r in rejected.items()}
    assert codes == {1: "invalid_id", 2: "invalid_type", 3: "naive_time", 4: "time_in_future",
                     5: "time_too_old", 6: "invalid_data", 7: "invalid_data",
                     8: "invalid_data", 9: "invalid_event", 10: "invalid_id",
                     12: "invalid_time", 13: "invalid_data", 14: "invalid_id"}
    assert all(r["message"] for r in body["rejected"])
    assert rejected[2]["event_id"] == "bad-type"
    assert set(DeviceEvent.objects.values_list("event_id", flat=True)) == {"good-1", "good-2"}
    device.refresh_from_db()
    facility.refresh_from_db()
    assert (device.usage_cycles, facility.occupancy) == (3, 2)


@pytest.mark.parametrize("body", [
    None, [], {"events": "nope"}, {"events": [], "extra": 1}, {"batch": []},
])
def test_malformed_body_is_400(api_client, registered, body):
    response = post(api_client, registered, body)
    assert response.status_code == 400
    assert not DeviceEvent.objects.exists()


def test_body_that_is_not_json_is_400(api_client, registered):
    device, secret = registered
    response = api_client.post("/api/v1/devices/events", data=b"{nope",
                               content_type="application/json",
                               HTTP_AUTHORIZATION=f"Device {device.serial}:{secret}")
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"


def test_oversized_batch_is_refused_whole(api_client, registered):
    response = post(api_client, registered,
                    {"events": [ev(f"e{i}") for i in range(devices.MAX_BATCH + 1)]})
    assert response.status_code == 400 and response.json()["code"] == "batch_too_large"
    assert not DeviceEvent.objects.exists()
    ok = post(api_client, registered, {"events": [ev(f"e{i}") for i in range(devices.MAX_BATCH)]})
    assert ok.json()["accepted"] == devices.MAX_BATCH


def test_present_count_sets_occupancy_and_an_older_one_does_not_override(registered, facility):
    device, _secret = registered
    devices.ingest_events(device=device, events=[ev("p2", "count", {"present": 9}, at(1))])
    devices.ingest_events(device=device, events=[ev("p1", "count", {"present": 3}, at(5))])
    facility.refresh_from_db()
    assert facility.occupancy == 9


def test_reading_is_kept_as_the_latest(registered):
    device, _secret = registered
    devices.ingest_events(device=device, events=[ev("r1", "reading", {"pm25": 30}, at(5)),
                                                 ev("r2", "reading", {"pm25": 12}, at(1))])
    device.refresh_from_db()
    assert device.last_reading["pm25"] == 12


# --- tickets -----------------------------------------------------------------------------------


def test_crossing_the_wear_threshold_opens_exactly_one_ticket(tree, registered):
    device, _secret = registered
    devices.ingest_events(device=device, events=[ev("u1", "usage", {"cycles": 60})])
    assert not MaintenanceTicket.objects.exists()
    devices.ingest_events(device=device, events=[ev("u2", "usage", {"cycles": 50})])
    devices.ingest_events(device=device, events=[ev("u3", "usage", {"cycles": 50})])
    ticket = MaintenanceTicket.objects.get()
    assert (ticket.kind, ticket.device_id, ticket.status) == (TicketKind.WEAR, device.pk, "open")
    # The facility's managers (k2's town, district and city admins) were told, once each.
    told = set(Notification.objects.values_list("user_id", flat=True))
    assert {tree.town_admin.pk, tree.district_admin.pk, tree.city_admin.pk} <= told
    assert tree.community_admin.pk not in told and tree.sibling_town_admin.pk not in told
    assert Notification.objects.filter(user=tree.town_admin).count() == 1


def test_fault_event_opens_a_fault_ticket(registered):
    device, _secret = registered
    devices.ingest_events(device=device, events=[ev("f1", "fault", {"code": "E42",
                                                                    "message": "motor jam"})])
    devices.ingest_events(device=device, events=[ev("f2", "fault", {"code": "E42"})])
    ticket = MaintenanceTicket.objects.get()
    assert ticket.kind == TicketKind.FAULT and ticket.note == "motor jam"


def test_silent_device_gets_one_ticket_until_heard_again(tree, registered):
    device, _secret = registered
    now = timezone.now()
    devices.ingest_events(device=device, events=[ev("h1")], now=now)
    assert devices.sweep_silent_devices(now=now + dt.timedelta(seconds=119)) == 0
    assert devices.sweep_silent_devices(now=now + dt.timedelta(seconds=121)) == 1
    assert devices.sweep_silent_devices(now=now + dt.timedelta(seconds=600)) == 0
    device.refresh_from_db()
    assert device.is_silent
    ticket = MaintenanceTicket.objects.get()
    assert ticket.kind == TicketKind.SILENT
    assert Notification.objects.filter(user=tree.town_admin).count() == 1
    # Heard again: no longer silent, and the open ticket stays for the manager.
    devices.ingest_events(device=device, events=[ev("h2")], now=now + dt.timedelta(seconds=700))
    device.refresh_from_db()
    assert not device.is_silent
    assert MaintenanceTicket.objects.get().status == "open"


def test_a_device_never_heard_goes_silent_from_registration(registered):
    device, _secret = registered
    later = device.created_at + dt.timedelta(seconds=121)
    assert devices.sweep_silent_devices(now=later) == 1


def test_inactive_devices_are_not_watched(tree, registered):
    device, _secret = registered
    devices.deactivate(actor=tree.town_admin, device_id=device.pk)
    assert devices.sweep_silent_devices(now=timezone.now() + dt.timedelta(days=1)) == 0


def test_ingest_refuses_a_batch_that_is_not_a_list(registered):
    with pytest.raises(InvalidInput):
        devices.ingest_events(device=registered[0], events={"id": "x"})


# --- the race ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_batches_apply_once(tree, facility):
    device = Device.objects.create(facility=facility, kind="counter", name="闸机", serial="RACE-1",
                                   secret_hash="-", wear_threshold=100)
    batch = [ev(f"c{i}", "count", {"in": 1}) for i in range(20)]
    batch += [ev("u1", "usage", {"cycles": 150})]

    def send(_i: int):
        return devices.ingest_events(device=Device.objects.get(pk=device.pk), events=batch)

    outcomes = race(send, 4)
    assert not failures(outcomes), failures(outcomes)
    assert sum(r.accepted for r in outcomes) == 21
    assert sum(r.duplicates for r in outcomes) == 21 * 3
    device.refresh_from_db()
    facility.refresh_from_db()
    assert DeviceEvent.objects.count() == 21
    assert (device.usage_cycles, facility.occupancy) == (150, 20)
    assert MaintenanceTicket.objects.filter(kind=TicketKind.WEAR).count() == 1


# --- staff API -------------------------------------------------------------------------------


def test_api_register_list_and_rotate(tree, facility, api_client):
    client = api_client.as_user(tree.town_admin)
    created = client.json("post", f"/api/v1/facilities/{facility.pk}/devices", {
        "kind": "equipment", "name": "椭圆机", "serial": "EQ-7", "wear_threshold": 1000})
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    listed = client.get(f"/api/v1/facilities/{facility.pk}/devices").json()
    assert [d["serial"] for d in listed] == ["EQ-7"] and "secret" not in listed[0]
    rotated = client.post(f"/api/v1/devices/{created.json()['id']}/rotate-secret").json()
    assert rotated["secret"] != secret
    assert devices.authenticate_device("EQ-7", rotated["secret"]) is not None
