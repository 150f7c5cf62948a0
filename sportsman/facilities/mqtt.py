"""The MQTT bridge: devices that speak MQTT publish their event batches to
``sportsman/devices/<serial>/events`` and read the answer on ``sportsman/devices/<serial>/acks``.

A message is JSON ``{"secret": "...", "events": [...]}`` (optionally ``"serial"``, which must
then equal the topic's serial, and ``"batch"``, a string echoed in the ack). It goes through
the same ``devices.ingest_events`` as HTTP, so replays are harmless and the ack has the same
report (``accepted``, ``duplicates``, ``rejected``), or ``{"code", "message"}`` when the whole
message is refused (``device_unauthorized``, ``malformed_batch``, ``batch_too_large``). Every
event type works alike here, ``session`` events of fitness equipment included.

The bridge reconnects with exponential backoff (1 s doubling to 60 s) and stops cleanly when its
stop event is set (``manage.py mqtt_bridge`` sets it on SIGTERM/SIGINT).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from django.db import close_old_connections, connections
from django.utils.translation import gettext as _
from paho.mqtt.enums import CallbackAPIVersion

from sportsman.core.errors import DomainError
from sportsman.facilities import devices

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "sportsman/devices"
BACKOFF_START, BACKOFF_MAX = 1.0, 60.0
MAX_PAYLOAD = 1024 * 1024


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_url(url: str) -> BrokerUrl:
    """``mqtt://[user:pass@]host[:port]`` (or ``mqtts://`` for TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"not an MQTT URL (mqtt://host:port): {url!r}")
    tls = parts.scheme == "mqtts"
    return BrokerUrl(host=parts.hostname, port=parts.port or (8883 if tls else 1883),
                     username=unquote(parts.username) if parts.username else None,
                     password=unquote(parts.password) if parts.password else None, tls=tls)


def handle_message(topic: str, payload: bytes | bytearray, *, prefix: str = DEFAULT_PREFIX) -> \
        tuple[str, dict[str, Any]] | None:
    """One message on ``<prefix>/<serial>/events`` → (ack topic, ack body); None for a topic
    that is not ours."""
    head = f"{prefix}/"
    if not topic.startswith(head) or not topic.endswith("/events"):
        return None
    serial = topic[len(head):-len("/events")]
    if not serial or "/" in serial:
        return None
    ack_topic = f"{head}{serial}/acks"
    try:
        body = json.loads(payload) if len(payload) <= MAX_PAYLOAD else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("secret"), str):
        return ack_topic, {"code": "malformed_batch",
                           "message": _("Send a JSON object with “secret” and “events”.")}
    batch = body.get("batch") if isinstance(body.get("batch"), str) else None
    echo = {"batch": batch[:64]} if batch else {}
    claimed = body.get("serial", serial)
    device = devices.authenticate_device(serial, body["secret"]) if claimed == serial else None
    if device is None:
        return ack_topic, {**echo, "code": devices.DeviceUnauthorized.code,
                           "message": str(devices.DeviceUnauthorized.default_message)}
    try:
        report = devices.ingest_events(device=device, events=body.get("events"))
    except DomainError as exc:
        return ack_topic, {**echo, "code": exc.code, "message": str(exc.message)}
    return ack_topic, {**echo, **report.as_dict()}


class Bridge:
    """Subscribes to the devices' event topics and answers on their ack topics."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX,
                 client_id: str | None = None) -> None:
        self.broker = parse_url(url)
        self.prefix = prefix.rstrip("/")
        self.ready = threading.Event()  # set while connected and subscribed
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"sportsman-bridge-{uuid.uuid4().hex[:8]}")
        if self.broker.username:
            self.client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    @property
    def topic(self) -> str:
        return f"{self.prefix}/+/events"

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_code.is_failure:
            logger.warning("MQTT broker refused the connection: %s", reason_code)
            return
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reason_codes: Any,
                      properties: Any) -> None:
        logger.info("MQTT bridge subscribed to %s", self.topic)
        self.ready.set()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self.ready.clear()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            answer = handle_message(message.topic, message.payload, prefix=self.prefix)
        except Exception:
            # One poisonous message must not stop the bridge; it is logged with its topic.
            logger.exception("MQTT message on %s failed", message.topic)
            return
        finally:
            close_old_connections()
        if answer is not None:
            ack_topic, body = answer
            client.publish(ack_topic, json.dumps(body, ensure_ascii=False), qos=1)

    def run(self, stop: threading.Event) -> None:
        """Connect, serve and reconnect until ``stop`` is set."""
        delay = BACKOFF_START
        while not stop.is_set():
            try:
                self.client.connect(self.broker.host, self.broker.port, keepalive=30)
            except OSError as exc:
                logger.warning("MQTT broker %s:%s unreachable (%s); retrying in %.0f s",
                               self.broker.host, self.broker.port, exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            while not stop.is_set():
                rc = self.client.loop(timeout=0.5)
                if rc != paho.MQTT_ERR_SUCCESS:
                    logger.warning("MQTT connection lost (%s); reconnecting in %.0f s", rc, delay)
                    break
                if self.ready.is_set():
                    delay = BACKOFF_START  # a healthy session resets the backoff
            self.ready.clear()
            if stop.is_set():
                break
            stop.wait(delay)
            delay = min(delay * 2, BACKOFF_MAX)
        self.client.disconnect()
        connections.close_all()  # this thread's connections: the process may go on without it
