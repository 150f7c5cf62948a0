"""A local webhook receiver on a server thread: what the tests and the bench send to. It keeps
every request (headers lower-cased, body bytes) and answers with the next status of ``plan``
(then 200); ``stop()`` takes it down, ``start()`` brings it back on the same port."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, port: int = 0, *, plan: list[int] | None = None, keep: bool = True,
                 start: bool = True) -> None:
        self.port = port
        self.plan = list(plan or [])
        self.keep = keep
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.count = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/sportsman"

    def start(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with owner._lock:
                    owner.count += 1
                    if owner.keep:
                        owner.received.append(
                            ({k.lower(): v for k, v in self.headers.items()}, body))
                    status = owner.plan.pop(0) if owner.plan else 200
                reply = b'{"ok":true}' if status < 300 else b'{"error":"refused"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
