"""Serving: the precomputed rows only — the resident's own (personalisation on) or their home
community's non-personal choices (off). One statement reads the newest consent with the page of
the resident's own rows; the non-personal page is a second one. Nothing here trains or
scores."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from sportsman.accounts.models import Consent
from sportsman.core.db import aware
from sportsman.core.errors import InvalidInput
from sportsman.recommend.explain import reason_text, slot_text
from sportsman.recommend.models import Kind, PopularChoice, Recommendation

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
    personal, rows = _own_rows(user, kind, after, limit)
    if personal and not rows and not after:
        # Not computed yet (just switched on, or a new resident): the next recompute fills
        # them; meanwhile the non-personal choices.
        personal = False
    if not personal:
        rows = _popular_rows(user, kind, after, limit)
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


def _own_rows(user: Any, kind: str | None, after: int,
              limit: int) -> tuple[bool, list[dict[str, Any]]]:
    """Whether the newest ``recommend`` consent is granted, and if so a page of the resident's
    own rows (limit + 1), in one statement: the consent drives a left join, so a resident
    without consent gets no row and one who consented but has none yet gets one empty row."""
    qn = connection.ops.quote_name
    columns = ", ".join(f"r.{qn(f)}" for f in (*FIELDS, "reason"))
    args: list[Any] = [user.pk, Consent.Purpose.RECOMMEND, user.pk, after]
    kind_sql = ""
    if kind:
        kind_sql = " AND r.kind = %s"
        args.append(kind)
    args.append(limit + 1)
    sql = (f"SELECT c.granted, {columns} FROM (SELECT granted FROM "  # noqa: S608
           f"{qn(Consent._meta.db_table)} WHERE user_id = %s AND purpose = %s "
           f"ORDER BY {qn('at')} DESC, id DESC LIMIT 1) c "
           f"LEFT JOIN {qn(Recommendation._meta.db_table)} r ON c.granted "
           f"AND r.user_id = %s AND r.{qn('rank')} > %s{kind_sql} "
           f"ORDER BY r.{qn('rank')} LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        fetched = cursor.fetchall()
    if not fetched or not fetched[0][0]:
        return False, []
    names = (*FIELDS, "reason")
    rows = []
    for raw in fetched:
        if raw[1] is None:  # consented, nothing (more) computed
            continue
        row = dict(zip(names, raw[1:], strict=True))
        if isinstance(row["params"], str):
            row["params"] = json.loads(row["params"])
        row["computed_at"] = aware(row["computed_at"])
        rows.append(row)
    return True, rows


def _popular_rows(user: Any, kind: str | None, after: int, limit: int) -> list[dict[str, Any]]:
    qs = PopularChoice.objects.filter(community_id=user.home_community_id).values(*FIELDS)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.filter(rank__gt=after).order_by("rank")[:limit + 1])
