"""Group chat: messages stored first, then fanned out to the members connected at that moment.

- ``send`` stores a message once per (group, sender, client id): a resend after a dropped
  connection gets the stored message back (``created`` False) and nothing is fanned out twice.
- ``history`` pages by id: ``before`` for scrolling back, ``after`` for catching up after a
  reconnect (everything since the last id the phone saw, oldest first).
- Unread counts are ids above the member's ``last_read_message_id``.
- Members only; muted members are refused (``muted``); rate limits from the rows written.

The realtime half is ``sockets.ChatConsumer`` at ``/ws/groups/<id>/chat/``; the HTTP API offers
the same operations for clients without a socket. Fan-out goes through the Channels layer
(Redis when ``REDIS_URL`` is set, in-memory otherwise) to the group ``chat.<group id>``; the
message goes out already encoded as the JSON text each socket sends, so a 500-member group costs
one encoding, not 500.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core.errors import InvalidInput
from sportsman.core.throttle import Limit, refuse_over
from sportsman.core.wording import check_text
from sportsman.groups import services
from sportsman.groups.models import ChatMessage, Membership, MemberStatus

MESSAGE_LIMITS = (Limit(20, timedelta(seconds=10)), Limit(600, timedelta(hours=1)))
PAGE = 50
SLOW_DOWN = gettext_lazy("You are sending messages very fast. Please wait a moment.")


def layer_group(group_id: int) -> str:
    return f"chat.{group_id}"


def message_out(m: ChatMessage, nickname: str | None = None) -> dict[str, Any]:
    return {"id": m.pk, "group_id": m.group_id, "sender_id": m.sender_id,
            "sender": nickname if nickname is not None else (m.sender.nickname or ""),
            "client_id": m.client_id, "text": m.text, "created_at": m.created_at.isoformat()}


def _clean_client_id(client_id: str) -> str:
    value = (client_id or "").strip()
    if not value or len(value) > 64 or not value.isprintable():
        raise InvalidInput(_("Each message needs a client id (1–64 characters)."),
                           code="client_id_invalid", fields={"client_id": [_("Not valid.")]})
    return value


def send(*, actor: Any, group_id: int, text: str, client_id: str
         ) -> tuple[ChatMessage, bool]:
    """Store a message from ``actor`` in their group. Returns (message, created): a resend with
    the same ``client_id`` gets the first message back. Refusals: ``not_member``, ``muted``,
    ``throttled``, ``sensitive_words``, ``client_id_invalid``, ``invalid``."""
    client_id = _clean_client_id(client_id)
    mine = services.require_member(actor, group_id)
    existing = (ChatMessage.objects.filter(group_id=group_id, sender_id=actor.pk,
                                           client_id=client_id).first())
    if existing is not None:
        return existing, False
    if services.is_muted(mine):
        raise services.Muted()
    text = check_text(text, field="text", max_length=1000)
    now = timezone.now()
    try:
        with transaction.atomic():
            refuse_over(ChatMessage.objects.filter(sender_id=actor.pk), "created_at",
                        MESSAGE_LIMITS, now, SLOW_DOWN)
            message = ChatMessage.objects.create(group_id=group_id, sender_id=actor.pk,
                                                 client_id=client_id, text=text)
            Membership.objects.filter(pk=mine.pk).update(last_read_message_id=message.pk)
            services.touch(group_id)
    except IntegrityError:  # the same resend raced itself
        return ChatMessage.objects.get(group_id=group_id, sender_id=actor.pk,
                                       client_id=client_id), False
    message.sender = actor
    return message, True


def encoded(message: ChatMessage) -> str:
    """The socket frame of a new message, as every connected member receives it."""
    return json.dumps({"type": "message", "message": message_out(message)}, ensure_ascii=False)


def broadcast(message: ChatMessage) -> None:
    """Fan a stored message out to the connected members (from sync code: the HTTP API)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from sportsman.groups.sockets import relay_needed

    layer = get_channel_layer()
    if layer is not None and not relay_needed():  # else the relay of each process delivers it
        async_to_sync(layer.group_send)(layer_group(message.group_id),
                                        {"type": "chat.frame", "id": message.pk,
                                         "text": encoded(message)})


def history(*, actor: Any, group_id: int, before: int | None = None, after: int | None = None,
            limit: int = PAGE) -> list[ChatMessage]:
    """Messages of my group, oldest first: the latest ``limit`` (before ``before``), or the
    first ``limit`` after ``after`` (catch-up)."""
    services.require_member(actor, group_id)
    qs = (ChatMessage.objects.filter(group_id=group_id, deleted_at=None)
          .select_related("sender"))
    if after is not None:
        return list(qs.filter(id__gt=after).order_by("id")[:limit])
    if before is not None:
        qs = qs.filter(id__lt=before)
    return list(reversed(qs.order_by("-id")[:limit]))


def mark_read(*, actor: Any, group_id: int, up_to: int) -> None:
    mine = services.require_member(actor, group_id)
    Membership.objects.filter(pk=mine.pk, last_read_message_id__lt=up_to).update(
        last_read_message_id=up_to)


def unread_counts(user: Any) -> dict[int, int]:
    """Per group I am in: messages since the last one I read (capped at 99 by the caller)."""
    last_read = Membership.objects.filter(group_id=OuterRef("group_id"), user_id=user.pk
                                          ).values("last_read_message_id")[:1]
    rows = (ChatMessage.objects
            .filter(group__memberships__user_id=user.pk,
                    group__memberships__status=MemberStatus.ACTIVE, deleted_at=None)
            .filter(id__gt=Subquery(last_read))
            .exclude(sender_id=user.pk)
            .values("group_id").annotate(n=Count("id")))
    return {r["group_id"]: r["n"] for r in rows}


def last_message_ids(group_ids: list[int]) -> dict[int, int]:
    return dict(ChatMessage.objects.filter(group_id__in=group_ids)
                .values("group_id").annotate(m=Max("id")).values_list("group_id", "m"))

