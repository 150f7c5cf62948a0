"""With REDIS_URL set, the cache and the websocket channel layer live in Redis (several web
processes share them). These run against the real local Redis given by TEST_REDIS_URL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

def _run_async(coro):
    """Run in a fresh thread: a browser test's sync Playwright keeps a loop on the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set (CI sets it)"),
]


def test_settings_switch_cache_and_channel_layer_to_redis(tmp_path):
    code = ("from django.conf import settings as s; "
            "print(s.CACHES['default']['BACKEND']); print(s.CHANNEL_LAYERS['default']['BACKEND'])")
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**os.environ, "REDIS_URL": REDIS_URL, "VAR_DIR": str(tmp_path),
             "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()
    assert out == ["django.core.cache.backends.redis.RedisCache",
                   "channels_redis.core.RedisChannelLayer"]


def test_cache_values_are_shared_through_redis():
    from django.core.cache.backends.redis import RedisCache

    first = RedisCache(REDIS_URL, {})
    second = RedisCache(REDIS_URL, {})  # another process would hold its own client
    key = f"probe:{uuid.uuid4()}"
    first.set(key, {"n": 1}, 30)
    assert second.get(key) == {"n": 1}
    second.delete(key)
    assert first.get(key) is None


def test_group_messages_cross_channel_layer_instances():
    from channels_redis.core import RedisChannelLayer

    async def scenario():
        sender = RedisChannelLayer(hosts=[REDIS_URL])
        receiver = RedisChannelLayer(hosts=[REDIS_URL])
        group = f"g{uuid.uuid4().hex}"
        channel = await receiver.new_channel()
        await receiver.group_add(group, channel)
        await sender.group_send(group, {"type": "occupancy.update", "count": 7})
        message = await asyncio.wait_for(receiver.receive(channel), timeout=5)
        await receiver.group_discard(group, channel)
        await sender.flush()
        return message

    assert _run_async(scenario()) == {"type": "occupancy.update", "count": 7}
