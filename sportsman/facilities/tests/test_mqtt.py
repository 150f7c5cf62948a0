"""The MQTT bridge, end to end against a real broker (local Mosquitto; ``TEST_MQTT_URL``,
default mqtt://127.0.0.1:1883). Skipped only when no broker answers."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import queue
import socket
import threading
import uuid
from collections.abc import Callable, Iterator

import paho.mqtt.client as paho
import pytest
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from sportsman.activity.models import ActivityRecord, Source
from sportsman.core.events import dispatch
from sportsman.core.models import Sport
from sportsman.facilities import devices, exercise_code, mqtt
from sportsman.facilities.models import Device, DeviceEvent
from sportsman.facilities.tests.factories import make_facility

URL = os.environ.get("TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def _broker_up() -> bool:
    broker = mqtt.parse_url(URL)
    try:
        with socket.create_connection((broker.host, broker.port), timeout=1):
            return True
    except OSError:
        return False


needs_broker = pytest.mark.skipif(not _broker_up(), reason=f"no MQTT broker at {URL}")


def test_parse_url():
    assert mqtt.parse_url("mqtt://u:p%40ss@broker:1884") == mqtt.BrokerUrl(
        "broker", 1884, "u", "p@ss", False)
    assert mqtt.parse_url("mqtts://broker").port == 8883
    with pytest.raises(ValueError):
        mqtt.parse_url("http://broker")


@pytest.mark.django_db
def test_handle_message_refuses_a_wrong_secret_and_a_foreign_serial(tree):
    facility = make_facility(tree.k2)
    Device.objects.create(facility=facility, kind="counter", name="闸机", serial="S1",
                          secret_hash=devices._hash("right"))
    body = {"secret": "wrong", "events": []}
    topic, ack = mqtt.handle_message("sportsman/devices/S1/events", json.dumps(body).encode())
    assert topic == "sportsman/devices/S1/acks" and ack["code"] == "device_unauthorized"
    body = {"serial": "S2", "secret": "right", "events": []}
    assert mqtt.handle_message("sportsman/devices/S1/events",
                               json.dumps(body).encode())[1]["code"] == "device_unauthorized"
    assert mqtt.handle_message("sportsman/devices/S1/events", b"{nope")[1]["code"] == \
        "malformed_batch"
    assert mqtt.handle_message("elsewhere/S1/events", b"{}") is None


@contextlib.contextmanager
def running_bridge(serial: str) -> Iterator[tuple[Callable[[dict], None], queue.Queue]]:
    """A bridge on a private topic tree (other test runs may share the broker) and a client
    subscribed to ``serial``'s acks: yields (send a message as ``serial``, the acks received)."""
    prefix = f"test-{uuid.uuid4().hex[:12]}/sportsman/devices"
    bridge = mqtt.Bridge(URL, prefix=prefix)
    stop = threading.Event()
    runner = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
    runner.start()
    acks: queue.Queue = queue.Queue()
    broker = mqtt.parse_url(URL)
    client = paho.Client(CallbackAPIVersion.VERSION2)
    subscribed = threading.Event()
    client.on_message = lambda c, u, m: acks.put(json.loads(m.payload))
    client.on_subscribe = lambda *a: subscribed.set()

    def send(body: dict) -> None:
        client.publish(f"{prefix}/{serial}/events", json.dumps(body), qos=1).wait_for_publish(5)

    try:
        assert bridge.ready.wait(10), "the bridge did not subscribe"
        client.connect(broker.host, broker.port)
        client.loop_start()
        client.subscribe(f"{prefix}/{serial}/acks", qos=1)
        assert subscribed.wait(10)
        yield send, acks
    finally:
        client.loop_stop()
        client.disconnect()
        stop.set()
        runner.join(10)
    assert not runner.is_alive(), "the bridge did not stop"


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_bridge_ingests_a_batch_and_publishes_the_ack(tree) -> None:
    facility = make_facility(tree.k2)
    serial = f"MQ-{uuid.uuid4().hex[:8]}"
    device = Device.objects.create(facility=facility, kind="counter", name="闸机", serial=serial,
                                   secret_hash=devices._hash("s3cret"))
    with running_bridge(serial) as (send, acks):
        now = timezone.now().isoformat()
        batch = {"secret": "s3cret", "batch": "b-1", "events": [
            {"id": "e1", "type": "count", "at": now, "data": {"in": 4}},
            {"id": "e2", "type": "explode", "at": now, "data": {}},
        ]}
        send(batch)
        ack = acks.get(timeout=10)
        assert ack["batch"] == "b-1"
        assert (ack["accepted"], ack["duplicates"]) == (1, 0)
        assert [(r["index"], r["code"]) for r in ack["rejected"]] == [(1, "invalid_type")]
        assert list(DeviceEvent.objects.filter(device=device).values_list("event_id", flat=True)) \
            == ["e1"]
        facility.refresh_from_db()
        assert facility.occupancy == 4
        # The same batch again: acknowledged as duplicates, nothing applied twice.
        send(batch)
        again = acks.get(timeout=10)
        assert (again["accepted"], again["duplicates"]) == (0, 1)
        facility.refresh_from_db()
        assert facility.occupancy == 4


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_a_session_sent_over_mqtt_becomes_one_exercise_record(tree) -> None:
    facility = make_facility(tree.k2)
    serial = f"MQ-{uuid.uuid4().hex[:8]}"
    Device.objects.create(facility=facility, kind="equipment", name="跑步机", serial=serial,
                          secret_hash=devices._hash("s3cret"))
    # A transactional test's flush empties the seeded catalogue: a sport of its own.
    sport = Sport.objects.create(slug="t-treadmill", name_zh="跑步机", name_en="Treadmill",
                                 family="endurance")
    start = timezone.now() - dt.timedelta(minutes=30)
    end = start + dt.timedelta(minutes=25)
    batch = {"secret": "s3cret", "events": [{"id": "run-1", "type": "session",
                                             "at": end.isoformat(), "data": {
        "member": exercise_code.code_for(tree.resident, start),
        "started_at": start.isoformat(), "ended_at": end.isoformat(), "sport": sport.slug}}]}
    with running_bridge(serial) as (send, acks):
        send(batch)
        assert acks.get(timeout=10) == {"accepted": 1, "duplicates": 0, "rejected": []}
        send(batch)
        assert acks.get(timeout=10)["duplicates"] == 1
    dispatch()
    record = ActivityRecord.objects.get()
    assert (record.user_id, record.source, record.sport_id, record.duration_minutes,
            record.is_verified) == (tree.resident.pk, Source.DEVICE, sport.pk, 25, True)


def test_bridge_retries_an_unreachable_broker_until_stopped():
    bridge = mqtt.Bridge("mqtt://127.0.0.1:9")  # the discard port: nothing listens
    stop = threading.Event()
    runner = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
    runner.start()
    assert runner.is_alive() and not bridge.ready.wait(0.5)
    stop.set()
    runner.join(5)
    assert not runner.is_alive()


def test_command_refuses_to_start_without_a_broker(settings):
    from django.core.management import CommandError, call_command

    settings.MQTT_URL = ""
    with pytest.raises(CommandError, match="MQTT_URL"):
        call_command("mqtt_bridge")


@needs_broker
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_command_stops_cleanly_on_a_signal(signum):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings

    prefix = f"test-{uuid.uuid4().hex[:12]}/sportsman/devices"
    process = subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "mqtt_bridge", "--url", URL,
         "--prefix", prefix], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert "MQTT bridge on" in process.stdout.readline()
        process.send_signal(getattr(signal, signum))
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out
