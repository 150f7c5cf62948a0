"""Webhook figures: ``python -m bench.webhooks PART [ARGS]`` prints one JSON line; run by
``python -m bench`` against a migrated scratch SQLite database named by DATABASE_URL.

- ``receive PORT``: a local receiver (``interfaces.tests.receiver``) answering 200, in a process
  of its own so that it does not share the sender's interpreter;
- ``run N``: N pending deliveries of one subscription to that receiver (real bodies: the
  envelope of a booking event), then, in the same process and the same run: one worker's
  ``send_due`` over all of them (lease, sign, POST, attempt log, status) against N bare POSTs of
  the same bodies through the same client (``webhooks.post``: a fresh connection each).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import run_part

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("webhook deliveries per second per worker / bare POSTs of the same bodies",
     ("webhooks", "ratio_to_bare_post"), "min", 0.3),
]

SIZE = 2000


def receive(port: int) -> dict:
    from sportsman.interfaces.tests.receiver import Receiver

    receiver = Receiver(port, keep=False)
    print("ready", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)
    receiver.stop()
    return {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(size: int) -> dict:
    from django.utils import timezone

    from sportsman.core import crypto
    from sportsman.interfaces import webhooks
    from sportsman.interfaces.models import WebhookDelivery, WebhookSubscription
    from sportsman.regions.models import Region

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.webhooks", "receive", str(port)],
                              stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        url = f"http://127.0.0.1:{port}/hooks/sportsman"
        region = Region.objects.create(code="330400000000", edition=2023, name="压测市",
                                       level="city", path="")
        Region.objects.filter(pk=region.pk).update(path=f"/{region.pk}/")
        sub = WebhookSubscription.objects.create(
            region_id=region.pk, name="压测", url=url, event_types=["booking.created"],
            secret_encrypted=crypto.encrypt(webhooks.new_secret()))
        now = timezone.now()
        bodies = [webhooks.envelope("booking.created", now, {
            "booking_id": i, "facility_id": 7, "slot_id": 1000 + i,
            "start": now.isoformat(), "end": now.isoformat(), "source": "direct",
            "region_code": "330402009034"}) for i in range(size)]
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(subscription=sub, msg_id=f"msg_bench{i:08d}", body=b,
                             event_type="booking.created", not_before=now)
             for i, b in enumerate(bodies)], batch_size=1000)
        headers = {"Content-Type": "application/json", "User-Agent": webhooks.USER_AGENT,
                   "webhook-id": "msg_bare", "webhook-timestamp": str(int(time.time())),
                   "webhook-signature": "v1,AAAA"}
        webhooks.post(url, bodies[0].encode(), headers, timeout=10)  # warm-up
        started = time.perf_counter()
        for b in bodies:
            answer = webhooks.post(url, b.encode(), headers, timeout=10)
            assert answer.status == 200, answer
        bare = time.perf_counter() - started
        started = time.perf_counter()
        report = webhooks.send_due(limit=size)
        sending = time.perf_counter() - started
        assert report.sent == size, report.as_dict()
    finally:
        server.terminate()
        server.wait(10)
    per_s, bare_per_s = size / sending, size / bare
    return {"deliveries": size, "deliveries_per_s": round(per_s, 1),
            "bare_posts_per_s": round(bare_per_s, 1),
            "ratio_to_bare_post": round(per_s / bare_per_s, 3),
            "note": ("one worker process, SQLite; each delivery: lease (one UPDATE per 20), "
                     "decrypt and sign, POST on a fresh connection to a local receiver in "
                     "another process, attempt row and status in one transaction")}


def _script(args: list[str], env: dict[str, str]) -> dict:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "bench.webhooks", *args], cwd=root, env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print,
                seconds: int | None = None, connections: int = 32) -> dict:
    import shutil

    database = Path(var_dir) / "webhooks.sqlite3"
    shutil.copyfile(template, database)
    env = {**env_for(database), "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1"}
    log(f"webhooks: {SIZE} deliveries to a local receiver, and as many bare POSTs")
    return _script(["run", str(SIZE)], env)


def main(argv: list[str]) -> int:
    return run_part(argv, {"receive": lambda a: receive(int(a[0])),
                           "run": lambda a: run(int(a[0]))})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
