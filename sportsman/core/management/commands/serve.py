"""Serve the platform: the web server (one ASGI entry), the task worker, the scheduler and, when
``MQTT_URL`` is set, the MQTT bridge of the smart devices.

Ctrl-C (or SIGTERM) stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from sportsman.core.demo import DEMO_LOGINS, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Serve HTTP and websockets, run the task worker and the scheduler."

    def add_arguments(self, parser):
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument("--no-scheduler", action="store_true", help="do not start the scheduler")

    def handle(self, *args, **options):
        python = sys.executable
        manage = os.path.join(settings.BASE_DIR, "manage.py")
        granian = os.path.join(os.path.dirname(python), "granian")
        commands = {
            "web": [granian, "--interface", "asgi", "--host", settings.HOST,
                    "--port", str(settings.PORT), "--workers", str(settings.WEB_WORKERS),
                    "config.asgi:application"],
        }
        if not options["no_worker"]:
            commands["worker"] = [python, manage, "db_worker", "--queue-name", "*"]
        if not options["no_scheduler"]:
            commands["scheduler"] = [python, manage, "scheduler"]
        if settings.MQTT_URL:
            # Devices that speak MQTT: their events go through the same ingestion as HTTP.
            commands["mqtt"] = [python, manage, "mqtt_bridge"]
        self.stdout.write(self._banner())
        procs = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR)  # noqa: S603 (our own argv)
                 for name, cmd in commands.items()}
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.stdout.write("Stopped.")

    def _banner(self) -> str:
        url = f"http://{settings.HOST}:{settings.PORT}"
        lines = [f"Sportsman is serving at {url}  (Ctrl-C stops it)", "",
                 f"Demo logins (password: {DEMO_PASSWORD}):"]
        lines += [f"  {phone}  {who}" for phone, who in DEMO_LOGINS]
        lines.append("  13900000000 and up: generated residents")
        return "\n".join(lines) + "\n"
