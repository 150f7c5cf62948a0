"""The group chat socket: ``/ws/groups/<id>/chat/``.

Only active members of the group connect: others are closed at once with 4403, a visitor who is
not logged in with 4401 (after the handshake, so that a browser learns the code); they never
join the group's layer group. Frames are JSON:

- client → ``{"type": "send", "client_id": "...", "text": "..."}``: stored (``chat.send``), then
  ``{"type": "ack", "client_id", "message"}`` to the sender and ``{"type": "message", ...}`` to
  every connected member; a resend of a ``client_id`` already stored gets the ack with the
  stored message and is not fanned out again;
- client → ``{"type": "catch_up", "after": <last id seen>}``: ``{"type": "history", "messages"}``
  with everything since (up to 200; ask again with the last id for more);
- client → ``{"type": "read", "up_to": <id>}``: the read mark (unread counts);
- server → ``{"type": "error", "code", "message", "client_id"?}`` for a refused frame (``muted``,
  ``throttled``, ``sensitive_words``, ``not_member`` — the last closes the socket too).

Membership is checked again for every message sent, so a member removed or muted while
connected is refused from that moment. Each socket drops a frame whose message it has already
sent, so a message reaches a socket once whichever way it came.

With the in-memory layer and several worker processes (``make run`` without Redis), a message
stored by one process never reaches another's layer: the :class:`Relay` then polls the table once
a second for each group that has sockets in this process and hands the new messages to the local
layer. With Redis the layer reaches every process and no relay runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict, deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from sportsman.core.errors import DomainError
from sportsman.groups import chat, services

CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_NOT_MEMBER = 4403
CATCH_UP_LIMIT = 200
RELAY_SECONDS = 1.0
SEEN = 512  # message ids a socket remembers having sent


def relay_needed() -> bool:
    from channels.layers import InMemoryChannelLayer, get_channel_layer
    from django.conf import settings

    return settings.WEB_WORKERS > 1 and isinstance(get_channel_layer(), InMemoryChannelLayer)


class Relay:
    """One polling task per group with sockets in this process (see the module docstring)."""

    def __init__(self) -> None:
        self.watchers: dict[int, int] = defaultdict(int)
        self.tasks: dict[int, asyncio.Task] = {}

    async def watch(self, group_id: int) -> None:
        self.watchers[group_id] += 1
        if group_id not in self.tasks:
            last = await database_sync_to_async(_last_id)(group_id)
            if group_id not in self.tasks:
                self.tasks[group_id] = asyncio.ensure_future(self._poll(group_id, last))

    def unwatch(self, group_id: int) -> None:
        self.watchers[group_id] -= 1
        if self.watchers[group_id] <= 0:
            self.watchers.pop(group_id, None)
            task = self.tasks.pop(group_id, None)
            if task is not None:
                task.cancel()

    async def _poll(self, group_id: int, last: int) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        while True:
            await asyncio.sleep(RELAY_SECONDS)
            with contextlib.suppress(Exception):  # a failed poll is retried at the next tick
                for message in await database_sync_to_async(_after)(group_id, last):
                    last = max(last, message.pk)
                    await layer.group_send(chat.layer_group(group_id),
                                           {"type": "chat.frame", "id": message.pk,
                                            "text": chat.encoded(message)})


def _last_id(group_id: int) -> int:
    from django.db.models import Max

    from sportsman.groups.models import ChatMessage

    return ChatMessage.objects.filter(group_id=group_id).aggregate(m=Max("id"))["m"] or 0


def _after(group_id: int, last: int) -> list:
    from sportsman.groups.models import ChatMessage

    return list(ChatMessage.objects.filter(group_id=group_id, id__gt=last, deleted_at=None)
                .select_related("sender").order_by("id")[:CATCH_UP_LIMIT])


relay = Relay()


class ChatConsumer(AsyncWebsocketConsumer):
    group_id: int
    layer_group: str

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.group_id = int(self.scope["url_route"]["kwargs"]["group_id"])
        self.layer_group = chat.layer_group(self.group_id)
        # A refusal is an accept followed at once by a close with its code: a close before the
        # accept reaches a browser as a failed handshake (1006), without the reason.
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        if not await self._is_member(user):
            await self.accept()
            await self.close(code=CLOSE_NOT_MEMBER)
            return
        self.seen: deque[int] = deque(maxlen=SEEN)
        self.relayed = relay_needed()
        await self.channel_layer.group_add(self.layer_group, self.channel_name)
        if self.relayed:
            await relay.watch(self.group_id)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "seen", None) is None:
            return  # never accepted
        await self.channel_layer.group_discard(self.layer_group, self.channel_name)
        if self.relayed:
            relay.unwatch(self.group_id)

    @database_sync_to_async
    def _is_member(self, user: Any) -> bool:
        mine = services.membership_of(user, self.group_id)
        return mine is not None and mine.status == "active"

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None
                      ) -> None:
        try:
            frame = json.loads(text_data or "")
            kind = frame.get("type") if isinstance(frame, dict) else None
        except ValueError:
            kind, frame = None, {}
        if kind == "send":
            await self._send_message(frame)
        elif kind == "catch_up":
            await self._catch_up(frame)
        elif kind == "read":
            await self._read(frame)
        else:
            from django.utils import translation
            from django.utils.translation import gettext

            with translation.override(_language(self.scope)):
                message = gettext("This frame is not understood.")
            await self._error("invalid_frame", message, None)

    async def _error(self, code: str, message: str, client_id: Any) -> None:
        out: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if client_id is not None:
            out["client_id"] = client_id
        await self.send(text_data=json.dumps(out, ensure_ascii=False))

    @database_sync_to_async
    def _store(self, text: Any, client_id: Any) -> tuple[int, str, str, bool]:
        from django.utils import translation

        user = self.scope["user"]
        with translation.override(_language(self.scope)):
            try:
                message, created = chat.send(actor=user, group_id=self.group_id,
                                             text=str(text or ""), client_id=str(client_id or ""))
            except DomainError as exc:
                raise _Refused(exc.code, str(exc.message)) from None
        ack = json.dumps({"type": "ack", "client_id": message.client_id,
                          "message": chat.message_out(message)}, ensure_ascii=False)
        return message.pk, ack, chat.encoded(message), created

    async def _send_message(self, frame: dict) -> None:
        client_id = frame.get("client_id")
        try:
            message_id, ack, fanned, created = await self._store(frame.get("text"), client_id)
        except _Refused as refused:
            await self._error(refused.code, refused.message, client_id)
            if refused.code == "not_member":
                await self.close(code=CLOSE_NOT_MEMBER)
            return
        self.seen.append(message_id)
        await self.send(text_data=ack)
        if created:
            await self.channel_layer.group_send(self.layer_group,
                                                {"type": "chat.frame", "id": message_id,
                                                 "text": fanned})

    @database_sync_to_async
    def _history(self, after: int) -> str:
        rows = chat.history(actor=self.scope["user"], group_id=self.group_id, after=after,
                            limit=CATCH_UP_LIMIT)
        return json.dumps({"type": "history", "messages": [chat.message_out(m) for m in rows]},
                          ensure_ascii=False)

    async def _catch_up(self, frame: dict) -> None:
        after = frame.get("after")
        if not isinstance(after, int) or after < 0:
            after = 0
        try:
            await self.send(text_data=await self._history(after))
        except DomainError as exc:
            await self._error(exc.code, str(exc.message), None)
            await self.close(code=CLOSE_NOT_MEMBER)

    @database_sync_to_async
    def _mark(self, up_to: int) -> None:
        chat.mark_read(actor=self.scope["user"], group_id=self.group_id, up_to=up_to)

    async def _read(self, frame: dict) -> None:
        up_to = frame.get("up_to")
        if isinstance(up_to, int) and up_to >= 0:
            try:
                await self._mark(up_to)
            except DomainError as exc:
                await self._error(exc.code, str(exc.message), None)

    async def dispatch(self, message: dict) -> None:
        """A fanned-out frame touches no database: it skips Channels' closing of stale database
        connections, a hop to the database thread per frame — per member, per message."""
        if message["type"] == "chat.frame":
            await self.chat_frame(message)
        else:
            await super().dispatch(message)

    async def chat_frame(self, event: dict) -> None:
        """A message fanned out by the layer or the relay, sent once per socket (the sender
        already has it in its ack)."""
        message_id = int(event.get("id") or 0)
        if message_id in self.seen:
            return
        self.seen.append(message_id)
        await self.send(text_data=event["text"])


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _language(scope: dict) -> str:
    """The socket's language: the language cookie, then Accept-Language, then the default."""
    from django.conf import settings
    from django.utils.translation import get_supported_language_variant
    from django.utils.translation.trans_real import parse_accept_lang_header

    headers = {k.decode("latin-1").lower(): v.decode("latin-1")
               for k, v in scope.get("headers", [])}
    cookies = scope.get("cookies") or {}
    candidates = [cookies.get(settings.LANGUAGE_COOKIE_NAME, "")]
    candidates += [lang for lang, _q in parse_accept_lang_header(
        headers.get("accept-language", ""))]
    for lang in candidates:
        if lang and lang != "*":
            try:
                return get_supported_language_variant(lang)
            except LookupError:
                continue
    return settings.LANGUAGE_CODE
