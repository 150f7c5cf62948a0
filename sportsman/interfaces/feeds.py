"""RPDE 1.0 feeds of the OpenActive items (docs/openactive.md), modified-id ordering.

``sync()`` is the only writer of ``FeedItem``: it builds every current item (openactive.py),
compares each with what is published by digest, and gives every new, changed or vanished item
the next value of one counter (``modified``, unique across the table). It runs in one
transaction under one lock, so values are committed in the order they were handed out: a reader
that has seen ``modified = n`` never later finds a committed item below ``n`` (the skipped-item
race of RPDE publishers that stamp rows in concurrent transactions). A page is one keyset range
of ``(kind, modified, item_id)``; items' JSON is stored as text, so a page is a concatenation.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from sportsman.interfaces.models import FeedItem, FeedKind
from sportsman.interfaces.openactive import BUILDERS

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
PAGE_SIZE = 500
LOCK_KEY = 7_100_117  # pg_advisory_xact_lock key of the one sync


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    per_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "deleted": self.deleted,
                "per_kind": self.per_kind}


def encode(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def sync(kinds: list[str] | None = None) -> SyncResult:
    """Bring the published feeds in line with the source records. Idempotent: a second run
    with nothing changed writes nothing. Public data only (the builders' contract)."""
    result = SyncResult()
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        top = FeedItem.objects.aggregate(m=Max("modified"))["m"] or 0
        for kind in kinds or list(BUILDERS):
            existing = {item_id: (pk, digest, deleted) for pk, item_id, digest, deleted in
                        FeedItem.objects.filter(kind=kind)
                        .values_list("pk", "item_id", "digest", "is_deleted")}
            seen: set[str] = set()
            new: list[FeedItem] = []
            changed: list[FeedItem] = []
            for item_id, data in BUILDERS[kind]():
                text = encode(data)
                digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
                seen.add(item_id)
                prev = existing.get(item_id)
                if prev is None:
                    top += 1
                    new.append(FeedItem(kind=kind, item_id=item_id, modified=top, data=text,
                                        digest=digest, changed_at=now))
                elif prev[1] != digest or prev[2]:
                    top += 1
                    changed.append(FeedItem(pk=prev[0], modified=top, data=text, digest=digest,
                                            is_deleted=False, changed_at=now))
            gone = 0
            for item_id, (pk, _digest, deleted) in existing.items():
                if item_id not in seen and not deleted:
                    top += 1
                    gone += 1
                    changed.append(FeedItem(pk=pk, modified=top, data="", digest="",
                                            is_deleted=True, changed_at=now))
            FeedItem.objects.bulk_create(new, batch_size=1000)
            FeedItem.objects.bulk_update(changed, ["modified", "data", "digest", "is_deleted",
                                                   "changed_at"], batch_size=500)
            result.created += len(new)
            result.updated += len(changed) - gone
            result.deleted += gone
            result.per_kind[kind] = len(new) + len(changed)
    return result


class BadCursor(ValueError):
    pass


def parse_cursor(after_timestamp: str | None, after_id: str | None) -> tuple[int, str] | None:
    """``afterTimestamp`` (an integer, our ``modified``) and ``afterId`` come together or not at
    all; anything else is refused (``invalid_cursor``)."""
    if after_timestamp is None and after_id is None:
        return None
    if after_timestamp is None or after_id is None or not after_timestamp.isdigit():
        raise BadCursor
    if len(after_timestamp) > 19 or len(after_id) > 40:
        raise BadCursor
    return int(after_timestamp), after_id


def page(kind: str, cursor: tuple[int, str] | None,
         limit: int = PAGE_SIZE) -> list[tuple[int, str, bool, str]]:
    qs = FeedItem.objects.filter(kind=kind)
    if cursor is not None:
        ts, after_id = cursor
        qs = qs.filter(Q(modified__gt=ts) | Q(modified=ts, item_id__gt=after_id))
    return list(qs.order_by("modified", "item_id")
                .values_list("modified", "item_id", "is_deleted", "data")[:limit])


def render(kind: str, rows: list[tuple[int, str, bool, str]], next_url: str) -> str:
    """The page's body: RPDE's envelope around the stored item texts."""
    rpde_kind = json.dumps(FeedKind(kind).label)
    parts = []
    for modified, item_id, deleted, data in rows:
        head = f'{{"state":"{"deleted" if deleted else "updated"}","kind":{rpde_kind},' \
               f'"id":{json.dumps(item_id)},"modified":{modified}'
        parts.append(head + "}" if deleted else f'{head},"data":{data}}}')
    return (f'{{"next":{json.dumps(next_url)},"items":[{",".join(parts)}],'
            f'"license":"{LICENSE}"}}')
