"""Serving: the precomputed rows only — the resident's own (personalisation on) or their home
community's non-personal choices (off). Two queries: the consent, then one page of rows.
Nothing here trains or scores."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from sportsman.core.errors import InvalidInput
from sportsman.recommend.explain import reason_text, slot_text
from sportsman.recommend.models import Kind, PopularChoice, Recommendation
from sportsman.recommend.services import is_personalised

MAX_LIMIT = 50
FIELDS = ("kind", "object_id", "rank", "score", "params", "title", "link", "computed_at")


@dataclass
class Page:
    personal: bool
    items: list[dict[str, Any]]
    next_cursor: str | None


def _encode(rank: int) -> str:
    return base64.urlsafe_b64encode(f"r{rank}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("r") or not raw[1:].isdigit() or len(raw) > 8:
            raise ValueError
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(_("This cursor is not one we gave out."), code="bad_cursor",
                           fields={"cursor": [_("Not a cursor of this list.")]}) from None


def check_kind(kind: str | None) -> str | None:
    if kind in (None, ""):
        return None
    if kind not in Kind.values:
        raise InvalidInput(_("Unknown kind of recommendation."), code="unknown_kind",
                           fields={"kind": [_("Choose one of: %(kinds)s.")
                                            % {"kinds": ", ".join(Kind.values)}]})
    return kind


def for_you(user: Any, *, kind: str | None = None, limit: int = 10,
            cursor: str | None = None) -> Page:
    """One page of the resident's recommendations, best first."""
    kind = check_kind(kind)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(code="bad_limit", fields={"limit": [
            _("Give a number from 1 to %(max)s.") % {"max": MAX_LIMIT}]})
    after = _decode(cursor) if cursor else 0
    personal = is_personalised(user)
    rows = _rows(user, kind, after, limit, personal=personal)
    if personal and not rows and not after:
        # Not computed yet (just switched on, or a new resident): the next recompute fills
        # them; meanwhile the non-personal choices.
        personal = False
        rows = _rows(user, kind, after, limit, personal=False)
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for row in rows:
        reason = row.get("reason", "popular") if personal else "popular"
        items.append({**row, "reason": reason, "personal": personal,
                      "reason_text": reason_text(reason, row["params"]),
                      "slot_text": slot_text(row["params"]) if row["kind"] == Kind.FACILITY
                      else ""})
    return Page(personal, items, _encode(rows[-1]["rank"]) if more and rows else None)


def _rows(user: Any, kind: str | None, after: int, limit: int, *,
          personal: bool) -> list[dict[str, Any]]:
    if personal:
        qs: Any = Recommendation.objects.filter(user=user).values(*FIELDS, "reason")
    else:
        qs = PopularChoice.objects.filter(community_id=user.home_community_id).values(*FIELDS)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.filter(rank__gt=after).order_by("rank")[:limit + 1])
