"""The one entry point: websockets → Channels; HTTP → Django's WSGI app via a one-hop bridge.

Django's own ASGIHandler costs five sync/async hops per request (~620 req/s on these machines);
this bridge reads the body on the event loop, runs the whole WSGI request in one worker thread
(one hop), and sends the buffered response back. Views never run on the event loop, so a slow
view cannot freeze the websockets. See docs/adr/0001-asgi-entry-with-wsgi-bridge.md.

Two exceptions keep large transfers out of memory (teaching videos, docs/instructor-videos.md):

- a body of type ``application/offset+octet-stream`` (a tus upload chunk) with a Content-Length
  is not read first: the view starts at once and reads it from the connection as it writes it
  to disk (``wsgi.input`` pulls the next ASGI message through the loop); the view bounds it;
- a response past ``STREAM_AFTER_BYTES`` (a file) is sent from the worker thread a block at a
  time through the loop as it is produced, with the connection's back-pressure, instead of
  being gathered whole.
"""

from __future__ import annotations

import asyncio
import collections
import io
import os
import queue
import sys
import threading
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402

# A body past this is refused here before Django sees it (Django's own limits apply below it).
MAX_BODY_BYTES = max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 4, 32 * 1024 * 1024)
# Bodies of this type are streamed to the view (tus chunks), not gathered first.
STREAMED_BODY_TYPE = b"application/offset+octet-stream"
# A response that grows past this is sent as it is produced rather than gathered.
STREAM_AFTER_BYTES = 512 * 1024
_SENT = -1  # the status a streamed response's future settles with: it has been sent already


class _StreamedInput:
    """``wsgi.input`` for a streamed body: read in the worker thread; each read that needs more
    bytes makes one trip to the loop, which receives ASGI messages until it has enough or the
    body ends (one hop per read, not per message; the thread waits for the network, never the
    loop). A client that goes away ends the body early: the view sees fewer bytes than
    announced."""

    def __init__(self, loop: asyncio.AbstractEventLoop, receive: Any, first: bytes,
                 more: bool) -> None:
        self.loop, self.receive = loop, receive
        self.parts: collections.deque[bytes] = collections.deque([first] if first else [])
        self.buffered, self.more = len(first), more

    async def _gather(self, wanted: int) -> list[bytes]:
        got: list[bytes] = []
        count = 0
        while self.more and count < wanted:
            message = await self.receive()  # a server's receive may be an awaitable only
            if message["type"] == "http.disconnect":
                self.more = False
                break
            body = message.get("body", b"")
            if body:
                got.append(body)
                count += len(body)
            self.more = bool(message.get("more_body", False))
        return got

    def _fill(self, wanted: int) -> None:
        got = asyncio.run_coroutine_threadsafe(self._gather(wanted), self.loop).result()
        self.parts.extend(got)
        self.buffered += sum(len(part) for part in got)

    def _take(self, size: int) -> bytes:
        out: list[bytes] = []
        left = size
        while left > 0 and self.parts:
            part = self.parts.popleft()
            if len(part) > left:
                self.parts.appendleft(part[left:])
                part = part[:left]
            out.append(part)
            left -= len(part)
        data = out[0] if len(out) == 1 else b"".join(out)
        self.buffered -= len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            while self.more:
                self._fill(1 << 30)
            return self._take(self.buffered)
        if self.buffered < size and self.more:
            self._fill(size - self.buffered)
        return self._take(min(size, self.buffered))

    def readline(self, size: int = -1) -> bytes:
        data = b"".join(self.parts)
        while self.more and b"\n" not in data and (size < 0 or len(data) < size):
            self._fill(64 * 1024)
            data = b"".join(self.parts)
        end = data.find(b"\n") + 1 or len(data)
        if size is not None and size >= 0:
            end = min(end, size)
        self.parts = collections.deque([data[end:]] if data[end:] else [])
        self.buffered = len(data) - end
        return data[:end]


class WsgiBridge:
    """The hop to a worker thread is a plain queue the threads take requests from and a
    ``call_soon_threadsafe`` back to the loop: ~14 µs on asyncio and ~4 µs on uvloop, against
    ~35 / 23 µs for ``run_in_executor`` and its two chained futures (docs/bench.md, "http")."""

    def __init__(self, wsgi_app: Any, threads: int) -> None:
        self.wsgi_app = wsgi_app
        self.threads = threads
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._started = False
        self._starting = threading.Lock()

    def _start(self) -> None:
        # Lazily, in the process that serves (a server may import the app, then fork).
        with self._starting:
            if not self._started:
                self._workers = [threading.Thread(target=self._work, name=f"wsgi-{i}",
                                                  daemon=True) for i in range(self.threads)]
                for worker in self._workers:
                    worker.start()
                self._started = True

    def shutdown(self) -> None:
        """Stop the threads once the requests queued before have run; each closes its
        database connections as it goes."""
        with self._starting:
            for _worker in self._workers:
                self.jobs.put(None)
            for worker in self._workers:
                worker.join(timeout=30)  # a view stuck past that does not hold the exit
            self._workers, self._started = [], False

    def _work(self) -> None:
        from django.db import connections

        while True:
            job = self.jobs.get()
            if job is None:
                connections.close_all()
                return
            loop, future, environ, send = job
            try:
                outcome: tuple[Any, BaseException | None] = (self._run(environ, loop, send), None)
            except BaseException as exc:  # handed to the request awaiting it
                outcome = (None, exc)
            loop.call_soon_threadsafe(self._settle, future, *outcome)

    @staticmethod
    def _settle(future: asyncio.Future, result: Any, exc: BaseException | None) -> None:
        if future.cancelled():  # the client went away while the view ran
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

    async def _in_thread(self, environ: dict, send: Any) -> tuple[int, list, list[bytes]]:
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.jobs.put((loop, future, environ, send))
        return await future

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        body = bytearray()
        streamed = _streams_body(scope)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if streamed:
                environ = self._environ(scope, b"")
                environ["wsgi.input"] = _StreamedInput(asyncio.get_running_loop(), receive,
                                                       bytes(body),
                                                       bool(message.get("more_body", False)))
                environ["CONTENT_LENGTH"] = streamed
                status, headers, chunks = await self._in_thread(environ, send)
                if status != _SENT:
                    await self._send(send, status, headers, chunks)
                return
            if len(body) > MAX_BODY_BYTES:
                await self._send(send, 413, [(b"content-type", b"application/json")],
                                 [b'{"code":"too_large","message":"Request body too large.",'
                                  b'"fields":{}}'])
                return
            if not message.get("more_body", False):
                break
        environ = self._environ(scope, bytes(body))
        status, headers, chunks = await self._in_thread(environ, send)
        if status != _SENT:
            await self._send(send, status, headers, chunks)

    @staticmethod
    async def _send(send: Any, status: int, headers: list, chunks: list[bytes]) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    def _run(self, environ: dict, loop: asyncio.AbstractEventLoop | None = None,
             send: Any = None) -> tuple[int, list, list[bytes]]:
        chunks: list[bytes] = []
        state: dict[str, Any] = {}
        gathered = 0

        def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            state["status"] = int(status.split(" ", 1)[0])
            state["headers"] = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                for k, v in headers]
            return chunks.append

        result = self.wsgi_app(environ, start_response)
        try:
            iterator = iter(result)
            for chunk in iterator:
                if chunk:
                    chunks.append(chunk)
                    gathered += len(chunk)
                    if gathered > STREAM_AFTER_BYTES and send is not None and loop is not None:
                        self._stream(loop, send, state, chunks, iterator)
                        return _SENT, [], []
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # fires request_finished: connections are released in this thread
        return state["status"], state["headers"], chunks

    @staticmethod
    def _stream(loop: asyncio.AbstractEventLoop, send: Any, state: dict, chunks: list[bytes],
                iterator: Any) -> None:
        """Send the response from this thread as it is produced: each message waits for the
        loop to hand it to the connection (its back-pressure paces the file reads). A client
        that went away ends the sending; the response is closed by the caller either way."""
        async def sending(message: dict) -> None:
            await send(message)  # a server's send may return an awaitable, not a coroutine

        def put(message: dict) -> bool:
            try:
                asyncio.run_coroutine_threadsafe(sending(message), loop).result()
            except (OSError, RuntimeError, ConnectionError):  # the client went away
                return False
            return True

        if not put({"type": "http.response.start", "status": state["status"],
                    "headers": state["headers"]}):
            return
        pending = b"".join(chunks)
        chunks.clear()
        for chunk in iterator:
            if chunk:
                if not put({"type": "http.response.body", "body": pending, "more_body": True}):
                    return
                pending = chunk
        put({"type": "http.response.body", "body": pending, "more_body": False})

    @staticmethod
    def _environ(scope: dict, body: bytes) -> dict:
        server = scope.get("server") or ("127.0.0.1", 80)
        client = scope.get("client") or ("127.0.0.1", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
            "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1] or 80),
            "REMOTE_ADDR": str(client[0]),
            "REMOTE_PORT": str(client[1]),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            if name == "CONTENT_LENGTH":
                continue
            key = "CONTENT_TYPE" if name == "CONTENT_TYPE" else f"HTTP_{name}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ


def _streams_body(scope: dict) -> str:
    """The Content-Length of a body to stream to the view (a tus chunk), else ""."""
    if scope.get("method") not in ("PATCH", "POST"):
        return ""
    length, kind = "", b""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            length = value.decode("latin-1").strip()
        elif name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
    return length if kind == STREAMED_BODY_TYPE and length.isdigit() else ""


http_application = WsgiBridge(get_wsgi_application(), threads=settings.WEB_THREADS)
# Sockets authenticate with the session cookie, so a page of another site must not open one in
# a visitor's name: the Origin must be one of ALLOWED_HOSTS.
websocket_application = AllowedHostsOriginValidator(
    AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))


async def application(scope: dict, receive: Any, send: Any) -> None:
    kind = scope["type"]
    if kind == "http":
        await http_application(scope, receive, send)
    elif kind == "websocket":
        await websocket_application(scope, receive, send)
    elif kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                http_application.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
