"""Group chat through the real socket stack (origin check, session auth, router, consumer) and
the HTTP twin: members only, muted members refused, a resend neither loses nor doubles, catch-up
after a reconnect, unread counts."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from sportsman.groups import chat, services
from sportsman.groups.models import ChatMessage
from sportsman.groups.tests.fixtures import leader_of, make_group, member, resident
from sportsman.groups.tests.socket import Socket

pytestmark = pytest.mark.django_db(transaction=True)


def _cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _login(user=None, origin: bytes = b"http://testserver") -> list:
    """The headers of a browser of ``user`` (None: not logged in) on the page at ``origin``."""
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if user is not None:
        headers.append((b"cookie", _cookie(user)))
    return headers


def _socket(group, headers: list) -> Socket:
    from config.asgi import websocket_application

    return Socket(websocket_application, f"/ws/groups/{group.pk}/chat/", headers=headers)


async def _frame(ws) -> dict:
    return await ws.receive_json()


def test_a_message_reaches_the_other_connected_member_once(tree):
    group = make_group(tree)
    alice, bob = leader_of(group), member(tree, group)
    ha, hb = _login(alice), _login(bob)

    async def scenario():
        a, b = _socket(group, ha), _socket(group, hb)
        assert (await a.connect())[0] and (await b.connect())[0]
        await a.send_to(json.dumps({"type": "send", "client_id": "m1",
                                              "text": "今晚练吗？"}))
        ack = await _frame(a)
        got = await _frame(b)
        assert ack["type"] == "ack" and ack["client_id"] == "m1"
        assert got["type"] == "message" and got["message"]["text"] == "今晚练吗？"
        assert got["message"]["id"] == ack["message"]["id"]
        assert await a.receive_nothing(timeout=0.3)  # the sender gets no second copy
        assert await b.receive_nothing(timeout=0.3)
        await a.disconnect()
        await b.disconnect()

    async_to_sync(scenario)()
    assert ChatMessage.objects.count() == 1


def test_a_resend_after_a_dropped_connection_is_not_doubled_and_catch_up_fills_the_gap(tree):
    group = make_group(tree)
    alice, bob = leader_of(group), member(tree, group)
    ha, hb = _login(alice), _login(bob)

    async def scenario():
        b = _socket(group, hb)
        await b.connect()
        await b.send_to(json.dumps({"type": "send", "client_id": "x-1",
                                              "text": "第一条"}))
        first = await _frame(b)
        await b.disconnect()  # the phone loses its connection; its ack may have been lost too
        a = _socket(group, ha)
        await a.connect()
        await a.send_to(json.dumps({"type": "send", "client_id": "a-1",
                                              "text": "错过的一条"}))
        await _frame(a)
        b = _socket(group, hb)
        await b.connect()
        await b.send_to(json.dumps({"type": "send", "client_id": "x-1",
                                              "text": "第一条"}))  # resent
        again = await _frame(b)
        assert again["type"] == "ack" and again["message"]["id"] == first["message"]["id"]
        assert await a.receive_nothing(timeout=0.3)  # no second fan-out
        await b.send_to(json.dumps({"type": "catch_up",
                                              "after": first["message"]["id"]}))
        history = await _frame(b)
        assert [m["text"] for m in history["messages"]] == ["错过的一条"]
        await a.disconnect()
        await b.disconnect()

    async_to_sync(scenario)()
    assert sorted(ChatMessage.objects.values_list("text", flat=True)) == ["第一条", "错过的一条"]


def test_non_members_visitors_and_other_sites_cannot_connect(tree):
    group = make_group(tree)
    outsider, anonymous = _login(resident(tree)), _login()
    elsewhere = _login(leader_of(group), origin=b"https://evil.example")

    async def refused_with(headers) -> int:
        ws = _socket(group, headers)
        assert (await ws.connect())[0]
        closed = await ws.receive_output(timeout=5)
        assert closed["type"] == "websocket.close"
        assert await ws.receive_nothing(timeout=0.2)
        return closed["code"]

    async def scenario():
        assert await refused_with(outsider) == 4403
        assert await refused_with(anonymous) == 4401
        foreign = _socket(group, elsewhere)
        connected, _code = await foreign.connect()
        assert not connected

    async_to_sync(scenario)()


def test_a_muted_member_is_refused_and_nothing_is_stored(tree):
    group = make_group(tree)
    quiet, leader = member(tree, group), leader_of(group)
    headers = _login(quiet)

    async def scenario():
        ws = _socket(group, headers)
        await ws.connect()
        from channels.db import database_sync_to_async

        await database_sync_to_async(services.mute)(actor=leader, group_id=group.pk,
                                                    user_id=quiet.pk, minutes=30)
        await ws.send_to(json.dumps({"type": "send", "client_id": "q1", "text": "hi"}))
        refused = await _frame(ws)
        assert refused == {"type": "error", "code": "muted", "client_id": "q1",
                           "message": refused["message"]}
        await ws.disconnect()

    async_to_sync(scenario)()
    assert not ChatMessage.objects.exists()


def test_a_member_removed_while_connected_is_refused_and_disconnected(tree):
    group = make_group(tree)
    gone, leader = member(tree, group), leader_of(group)
    headers = _login(gone)

    async def scenario():
        ws = _socket(group, headers)
        await ws.connect()
        from channels.db import database_sync_to_async

        await database_sync_to_async(services.remove_member)(
            actor=leader, group_id=group.pk, user_id=gone.pk)
        await ws.send_to(json.dumps({"type": "send", "client_id": "g1", "text": "hi"}))
        assert (await _frame(ws))["code"] == "not_member"
        assert (await ws.receive_output(timeout=5))["type"] == "websocket.close"

    async_to_sync(scenario)()
    assert not ChatMessage.objects.exists()


def test_http_send_is_idempotent_by_client_id_and_pages_history(tree, api_client):
    group = make_group(tree)
    alice, bob = leader_of(group), member(tree, group)
    a = api_client.as_user(alice)
    first = a.json("post", f"/api/v1/groups/{group.pk}/messages",
                   {"text": "早上好", "client_id": "c-1"})
    again = a.json("post", f"/api/v1/groups/{group.pk}/messages",
                   {"text": "早上好", "client_id": "c-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    for i in range(5):
        a.json("post", f"/api/v1/groups/{group.pk}/messages", {"text": f"m{i}",
                                                               "client_id": f"c-{i + 2}"})
    b = api_client.as_user(bob)
    latest = b.get(f"/api/v1/groups/{group.pk}/messages?limit=3").json()
    assert [m["text"] for m in latest] == ["m2", "m3", "m4"]
    older = b.get(f"/api/v1/groups/{group.pk}/messages?limit=3&before={latest[0]['id']}").json()
    assert [m["text"] for m in older] == ["早上好", "m0", "m1"]
    since = b.get(f"/api/v1/groups/{group.pk}/messages?after={older[-1]['id']}").json()
    assert [m["text"] for m in since] == ["m2", "m3", "m4"]
    # unread: bob has read nothing, alice wrote everything
    mine = {g["id"]: g["unread"] for g in b.get("/api/v1/me/groups").json()}
    assert mine[group.pk] == 6
    b.json("post", f"/api/v1/groups/{group.pk}/messages/read", {"up_to": latest[-1]["id"]})
    assert chat.unread_counts(bob) == {}
    assert chat.unread_counts(alice) == {}
    outsider = api_client.as_user(resident(tree)).get(f"/api/v1/groups/{group.pk}/messages")
    assert outsider.status_code == 403


def test_chat_bursts_are_throttled(tree, api_client):
    group = make_group(tree)
    a = api_client.as_user(leader_of(group))
    codes = [a.json("post", f"/api/v1/groups/{group.pk}/messages",
                    {"text": f"刷屏{i}", "client_id": f"s{i}"}).status_code for i in range(22)]
    assert codes[:20] == [201] * 20 and codes[20:] == [429, 429]
    assert ChatMessage.objects.count() == 20


def test_bad_chat_input_is_refused(tree, api_client):
    group = make_group(tree)
    a = api_client.as_user(leader_of(group))
    for body, code in [({"text": "", "client_id": "e1"}, "invalid"),
                       ({"text": "x" * 1001, "client_id": "e2"}, "invalid"),
                       ({"text": "hi", "client_id": ""}, "invalid"),
                       ({"text": "hi"}, "invalid")]:
        r = a.json("post", f"/api/v1/groups/{group.pk}/messages", body)
        assert r.status_code == 400 and r.json()["code"] == code, (body, r.content)
    assert not ChatMessage.objects.exists()


def test_a_frame_that_is_not_understood_gets_an_error_and_changes_nothing(tree):
    group = make_group(tree)
    headers = _login(leader_of(group))

    async def scenario():
        ws = _socket(group, headers)
        await ws.connect()
        for junk in ("not json", json.dumps([1, 2]), json.dumps({"type": "shout"})):
            await ws.send_to(junk)
            frame = await _frame(ws)
            assert frame["type"] == "error" and frame["code"] == "invalid_frame"
        await ws.send_to(json.dumps({"type": "send", "client_id": "ok-1", "text": "还在吗"}))
        assert (await _frame(ws))["type"] == "ack"  # the socket is still usable
        await ws.disconnect()

    async_to_sync(scenario)()
    assert ChatMessage.objects.count() == 1


@pytest.mark.redis
def test_over_the_redis_layer_a_message_reaches_the_other_member(tree, settings):
    import os

    redis_url = os.environ.get("TEST_REDIS_URL", "")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL is not set (CI sets it)")
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [redis_url]}}}
    from sportsman.groups.sockets import relay_needed

    assert not relay_needed()  # Redis spans processes: no relay
    group = make_group(tree)
    ha, hb = _login(leader_of(group)), _login(member(tree, group))

    async def scenario():
        from channels.layers import get_channel_layer

        a, b = _socket(group, ha), _socket(group, hb)
        assert (await a.connect())[0] and (await b.connect())[0]
        await a.send_to(json.dumps({"type": "send", "client_id": "r1", "text": "经 Redis"}))
        assert (await _frame(a))["type"] == "ack"
        got = await _frame(b)
        assert got["message"]["text"] == "经 Redis"
        await a.disconnect()
        await b.disconnect()
        await get_channel_layer().close_pools()

    async_to_sync(scenario)()
