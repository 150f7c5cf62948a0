"""The one ASGI entry point: HTTP through the one-hop WSGI bridge, lifespan, body limits."""

from __future__ import annotations

import asyncio
import json

import pytest

# The bridge runs requests in its own threads; Django checks their connections at request start.
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_thread_bridge(monkeypatch):
    """A bridge with one worker thread for each test, whose database connection is closed at the
    end (a kept-alive connection would stop the test database from being dropped)."""
    from django.core.wsgi import get_wsgi_application

    from config import asgi

    bridge = asgi.WsgiBridge(get_wsgi_application(), threads=1)
    monkeypatch.setattr(asgi, "http_application", bridge)
    yield
    bridge.shutdown()  # its thread closes its database connections


def _run_async(coro):
    """Run in a fresh thread: a browser test's sync Playwright keeps a loop on the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _scope(extra: dict) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "headers": [],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "root_path": "",
            **extra}


def _call(scope_extra: dict, body_chunks: list[bytes]) -> tuple[int, dict, bytes]:
    from config.asgi import application

    scope = _scope(scope_extra)
    incoming = [{"type": "http.request", "body": chunk, "more_body": i < len(body_chunks) - 1}
                for i, chunk in enumerate(body_chunks or [b""])]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    _run_async(application(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_http_goes_through_the_bridge_to_django():
    status, headers, body = _call({"path": "/api/v1/health"}, [])
    assert status == 200
    assert json.loads(body) == {"ok": True}
    assert headers["content-type"].startswith("application/json")


@pytest.mark.django_db(transaction=True)
def test_a_chunked_post_body_reaches_the_view_whole():
    payload = json.dumps({"phone": "13812345678", "password": "not-the-password"}).encode()
    status, _, body = _call(
        {"method": "POST", "path": "/api/v1/auth/login",
         "headers": [(b"content-type", b"application/json"), (b"accept-language", b"en")]},
        [payload[:10], payload[10:]],
    )
    assert status == 401
    assert json.loads(body)["code"] == "bad_credentials"


def test_query_string_and_non_ascii_path_survive_the_bridge():
    status, _, _body = _call({"path": "/api/v1/nowhere/花园",
                              "query_string": b"a=1&b=%E4%B8%AD"}, [])
    assert status == 404


def test_an_oversized_body_is_refused_before_django(settings):
    from config import asgi

    big = b"x" * (asgi.MAX_BODY_BYTES + 1)
    status, _, body = _call({"method": "POST", "path": "/api/v1/auth/login"}, [big])
    assert status == 413
    assert json.loads(body)["code"] == "too_large"


def test_lifespan_startup_and_shutdown_complete():
    from config.asgi import application

    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    _run_async(application({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_concurrent_requests_share_the_threads_and_each_gets_its_own_answer():
    from config import asgi

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["QUERY_STRING"].encode()]

    bridge = asgi.WsgiBridge(app, threads=2)

    async def one(i: int) -> bytes:
        sent: list[dict] = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await bridge(_scope({"path": "/", "query_string": f"n={i}".encode()}), receive, send)
        return sent[-1]["body"]

    async def many():
        return await asyncio.gather(*[one(i) for i in range(50)])

    try:
        assert _run_async(many()) == [f"n={i}".encode() for i in range(50)]
        assert len(bridge._workers) == 2
    finally:
        bridge.shutdown()
    assert not bridge._workers
    # started again by the next request after a shutdown
    assert _run_async(one(7)) == b"n=7"
    bridge.shutdown()


def test_an_error_in_the_thread_reaches_the_request_that_waits_for_it():
    from config import asgi

    def broken(environ, start_response):
        raise RuntimeError("the app broke")

    bridge = asgi.WsgiBridge(broken, threads=1)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        raise AssertionError("nothing is sent for a request that failed")

    try:
        with pytest.raises(RuntimeError, match="the app broke"):
            _run_async(bridge(_scope({"path": "/"}), receive, send))
    finally:
        bridge.shutdown()
