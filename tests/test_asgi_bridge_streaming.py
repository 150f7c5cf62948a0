"""The bridge's two streamed paths (config/asgi.py): a tus chunk's body read by the view from the
connection as it arrives, and a large response sent as it is produced — neither gathered whole."""

from __future__ import annotations

import asyncio

from tests.test_asgi_bridge import _run_async, _scope


def _bridge(app):
    from config import asgi

    return asgi.WsgiBridge(app, threads=1)


def _awaitable(value):
    """What a server in Rust hands back (granian): awaitable, but not a coroutine."""
    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def _streamed_call(bridge, messages: list[dict], headers: list) -> tuple[list[dict], dict]:
    received = {"n": 0}
    sent: list[dict] = []

    def receive():
        received["n"] += 1
        return _awaitable(messages.pop(0) if messages else {"type": "http.disconnect"})

    def send(message):
        sent.append(message)
        return _awaitable(None)

    scope = _scope({"method": "PATCH", "path": "/u", "headers": headers})
    try:
        _run_async(bridge(scope, receive, send))
    finally:
        bridge.shutdown()
    return sent, received


def test_a_tus_chunk_reaches_the_view_before_it_has_all_arrived():
    seen: dict = {}

    def app(environ, start_response):
        seen["messages_before_start"] = state["n"]
        stream, parts = environ["wsgi.input"], []
        while block := stream.read(1000):
            parts.append(block)
        seen["body"] = b"".join(parts)
        seen["length"] = environ["CONTENT_LENGTH"]
        start_response("204 No Content", [])
        return []

    pieces = [bytes([i]) * 3000 for i in range(5)]
    messages = [{"type": "http.request", "body": p, "more_body": i < 4}
                for i, p in enumerate(pieces)]
    state: dict = {"n": 0}
    bridge = _bridge(app)
    received = {"n": 0}
    sent: list[dict] = []

    async def receive():
        received["n"] += 1
        state["n"] = received["n"]
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = _scope({"method": "PATCH", "path": "/u", "headers": [
        (b"content-type", b"application/offset+octet-stream"), (b"content-length", b"15000")]})
    try:
        _run_async(bridge(scope, receive, send))
    finally:
        bridge.shutdown()
    assert seen["messages_before_start"] == 1  # the view ran after the first piece only
    assert seen["body"] == b"".join(pieces) and seen["length"] == "15000"
    assert sent[0]["status"] == 204


def test_a_client_that_goes_away_mid_chunk_leaves_the_view_a_short_body():
    seen: dict = {}

    def app(environ, start_response):
        seen["body"] = environ["wsgi.input"].read(10_000)
        start_response("204 No Content", [])
        return []

    messages = [{"type": "http.request", "body": b"a" * 1000, "more_body": True},
                {"type": "http.request", "body": b"b" * 500, "more_body": True}]
    _streamed_call(_bridge(app), messages, [
        (b"content-type", b"application/offset+octet-stream"), (b"content-length", b"10000")])
    assert seen["body"] == b"a" * 1000 + b"b" * 500


def test_other_bodies_are_still_gathered_first():
    seen: dict = {}

    def app(environ, start_response):
        seen["input"] = type(environ["wsgi.input"]).__name__
        start_response("200 OK", [])
        return [b"ok"]

    messages = [{"type": "http.request", "body": b"{}", "more_body": False}]
    _streamed_call(_bridge(app), messages, [(b"content-type", b"application/json"),
                                            (b"content-length", b"2")])
    assert seen["input"] == "BytesIO"


def test_a_large_response_is_sent_in_pieces_as_it_is_produced():
    from config import asgi

    block = b"v" * (256 * 1024)
    blocks = 12  # 3 MiB, past STREAM_AFTER_BYTES

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "video/mp4"),
                                  ("Content-Length", str(len(block) * blocks))])
        return (block for _ in range(blocks))

    sent, _ = _streamed_call(_bridge(app), [{"type": "http.request", "body": b"",
                                             "more_body": False}], [])
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert len(bodies) > 2 and all(m["more_body"] for m in bodies[:-1])
    assert not bodies[-1]["more_body"]
    assert b"".join(m["body"] for m in bodies) == block * blocks
    assert max(len(m["body"]) for m in bodies) <= asgi.STREAM_AFTER_BYTES + len(block)


def test_a_small_response_is_still_one_message():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"a", b"b"]

    sent, _ = _streamed_call(_bridge(app), [{"type": "http.request", "body": b"",
                                             "more_body": False}], [])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"ab"
