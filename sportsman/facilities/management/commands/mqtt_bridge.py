"""Run the MQTT bridge for devices (``MQTT_URL``) until SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sportsman.facilities.mqtt import DEFAULT_PREFIX, Bridge


class Command(BaseCommand):
    help = "Bridge device event batches from MQTT into the platform and publish the acks."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="broker URL (default: the MQTT_URL setting)")
        parser.add_argument("--prefix", default=DEFAULT_PREFIX,
                            help=f"topic prefix (default {DEFAULT_PREFIX})")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"] or getattr(settings, "MQTT_URL", "")
        if not url:
            raise CommandError("MQTT_URL is not set: the bridge has no broker to connect to")
        try:
            bridge = Bridge(url, prefix=options["prefix"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()

        def on_signal(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write(f"MQTT bridge on {bridge.broker.host}:{bridge.broker.port}, "
                          f"topic {bridge.topic}")
        bridge.run(stop)
        self.stdout.write("MQTT bridge stopped")
