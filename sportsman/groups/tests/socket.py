"""A websocket client for tests that drives an ASGI app in-process (Channels' own communicator
imports daphne, which the project does not use)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from asgiref.testing import ApplicationCommunicator


class Socket(ApplicationCommunicator):
    def __init__(self, application: Any, path: str, headers: list | None = None) -> None:
        parsed = urlparse(path)
        super().__init__(application, {"type": "websocket", "path": parsed.path,
                                       "query_string": parsed.query.encode(),
                                       "headers": headers or [], "subprotocols": []})

    async def connect(self, timeout: float = 5) -> tuple[bool, Any]:
        """(True, subprotocol) when accepted, (False, close code) when refused."""
        await self.send_input({"type": "websocket.connect"})
        out = await self.receive_output(timeout)
        if out["type"] == "websocket.close":
            return False, out.get("code", 1000)
        assert out["type"] == "websocket.accept", out
        return True, out.get("subprotocol")

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json(self, data: Any) -> None:
        await self.send_to(json.dumps(data))

    async def receive_json(self, timeout: float = 5) -> Any:
        out = await self.receive_output(timeout)
        assert out["type"] == "websocket.send", out
        return json.loads(out["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 5) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
