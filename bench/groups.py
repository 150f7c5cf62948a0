"""Group figures: ``python -m bench.groups chat`` prints one JSON line.

``chat``: a 500-member group with every member's socket connected to the real chat consumer
(``config.routing``: the router and ``sockets.ChatConsumer``, in this process, on its event loop).
MESSAGES members each send one message over their socket; the figure is frames delivered per
second — every message reaches all 500 sockets (the sender as its ack) — from the first send to
the last frame received. Each message is stored first (its transaction, the rate limit, the
sensitive-word check), then fanned out through the Channels layer. The in-memory layer, with the
relay of ``make run``'s two workers on (its re-sends are dropped by each socket).

The baseline, in the same process and run: the layer's own raw rate — ``group_send`` of the same
number of already-encoded messages to a group of 500 channels, each channel drained by its own
task with ``layer.receive``. Run by ``python -m bench`` in a process of its own against a
scratch copy of the migrated database. (The Redis layer is not measured yet: 500 consumers in
one process on channels_redis timed out connecting; see docs/groups.md.)
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from bench import run_part

MEMBERS = 500
MESSAGES = 80  # below the in-memory layer's per-channel capacity (100): nothing is dropped

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("chat messages delivered per second, 500-member group / the layer's raw send rate",
     ("groups", "chat", "ratio_to_layer_send"), "min", 0.5),
]


def _setup() -> tuple[int, list[Any]]:
    from sportsman.accounts.models import User
    from sportsman.core.models import Sport
    from sportsman.groups.models import Group, Membership
    from sportsman.regions.models import Region

    region = Region.objects.create(code="330402009034", edition=2023, name="花园社区",
                                   level="community", path="")
    region.path = f"/{region.pk}/"
    region.save(update_fields=["path"])
    sport, _ = Sport.objects.get_or_create(slug="walking", defaults={
        "name_zh": "健步走", "name_en": "Walking", "family": "endurance"})
    users = User.objects.bulk_create([
        User(phone_hash=f"bench-{i}", phone_encrypted="", nickname=f"队员{i}",
             home_community=region) for i in range(MEMBERS)])
    group = Group.objects.create(name="长纤塘健步走", sport=sport, region=region,
                                 invite_code="bench", members=MEMBERS, max_members=MEMBERS)
    Membership.objects.bulk_create([Membership(group=group, user=u, status="active",
                                               role="leader" if i == 0 else "member")
                                    for i, u in enumerate(users)])
    return group.pk, users


class _Socket:
    """One connected socket: the consumer runs on the loop; frames it sends are counted."""

    def __init__(self, app: Any, path: str, user: Any) -> None:
        self.input: asyncio.Queue = asyncio.Queue()
        self.frames = 0
        self.done = asyncio.Event()
        self.want = 0
        scope = {"type": "websocket", "path": path, "query_string": b"", "headers": [],
                 "subprotocols": [], "user": user, "cookies": {}}
        self.accepted = asyncio.Event()
        self.task = asyncio.ensure_future(app(scope, self.input.get, self._send))

    async def _send(self, message: dict) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted.set()
        elif kind == "websocket.send":
            self.frames += 1
            if self.frames >= self.want:
                self.done.set()
        elif kind == "websocket.close":
            raise RuntimeError(f"socket closed: {message}")


async def _ours(group_id: int, users: list[Any]) -> dict:
    from channels.routing import URLRouter

    from config.routing import websocket_urlpatterns

    app = URLRouter(websocket_urlpatterns)
    path = f"/ws/groups/{group_id}/chat/"
    sockets = [_Socket(app, path, u) for u in users]
    for s in sockets:
        await s.input.put({"type": "websocket.connect"})
    await asyncio.wait_for(asyncio.gather(*(s.accepted.wait() for s in sockets)), 120)
    for s in sockets:
        s.want = MESSAGES
    started = time.perf_counter()
    for i, s in enumerate(sockets[:MESSAGES]):
        await s.input.put({"type": "websocket.receive", "text": json.dumps(
            {"type": "send", "client_id": f"bench-{i}", "text": f"第{i}条：今晚七点老地方"},
            ensure_ascii=False)})
    await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in sockets)), 300)
    elapsed = time.perf_counter() - started
    delivered = sum(s.frames for s in sockets)
    for s in sockets:
        await s.input.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.gather(*(s.task for s in sockets), return_exceptions=True)
    return {"messages": MESSAGES, "members": MEMBERS, "frames_delivered": delivered,
            "seconds": round(elapsed, 3), "frames_per_s": round(delivered / elapsed),
            "messages_per_s": round(MESSAGES / elapsed, 1)}


async def _raw() -> dict:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert layer is not None
    channels = [await layer.new_channel() for _ in range(MEMBERS)]
    group = "bench.raw"
    for name in channels:
        await layer.group_add(group, name)
    text = json.dumps({"type": "message", "message": {"id": 1, "text": "今晚七点老地方"}},
                      ensure_ascii=False)

    async def drain(name: str) -> int:
        for _ in range(MESSAGES):
            await layer.receive(name)
        return MESSAGES

    started = time.perf_counter()
    drains = [asyncio.ensure_future(drain(name)) for name in channels]
    for i in range(MESSAGES):
        await layer.group_send(group, {"type": "chat.frame", "id": i, "text": text})
    counts = await asyncio.wait_for(asyncio.gather(*drains), 300)
    elapsed = time.perf_counter() - started
    for name in channels:
        await layer.group_discard(group, name)
    delivered = sum(counts)
    return {"frames_delivered": delivered, "seconds": round(elapsed, 3),
            "frames_per_s": round(delivered / elapsed)}


def chat(argv: list[str]) -> dict:
    from channels.layers import get_channel_layer
    from django.conf import settings
    from django.db import connection

    group_id, users = _setup()
    connection.close()

    async def both() -> tuple[dict, dict]:
        try:
            return await _raw(), await _ours(group_id, users)
        finally:
            layer = get_channel_layer()
            close = getattr(layer, "close_pools", None)
            if close is not None:
                await close()

    raw, ours = asyncio.run(both())

    return {"layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
            "raw_layer": raw, "chat_consumer": ours,
            "ratio_to_layer_send": round(ours["frames_per_s"] / raw["frames_per_s"], 3)}


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print) -> dict:
    """For ``python -m bench``: ``chat`` in a process of its own on a fresh copy of the migrated
    ``template``, on the in-memory layer."""
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent

    def run(label: str) -> dict:
        database = Path(var_dir) / f"groups-{label}.sqlite3"
        shutil.copyfile(template, database)
        env = dict(env_for(database))
        env["REDIS_URL"] = ""
        try:
            done = subprocess.run([sys.executable, "-m", "bench.groups", "chat"], cwd=root,
                                  env=env, check=True, capture_output=True, text=True)
            return json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            database.unlink(missing_ok=True)

    out: dict = {}
    log(f"groups: chat to a {MEMBERS}-member group, in-memory layer")
    out["chat"] = run("memory")
    return out


if __name__ == "__main__":
    raise SystemExit(run_part(sys.argv[1:], {"chat": chat}))
