"""Points API: my balance and statement; staff set a city's earning rules and reverse entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.errors import NotFound
from sportsman.core.schemas import In
from sportsman.regions.access import Perm, access_for, for_self, scoped
from sportsman.rewards import points
from sportsman.rewards.models import PointEntry, PointRule, RuleKind

router = Router(tags=["points"])


class EntryOut(Schema):
    id: int
    amount: int
    balance_after: int
    reason: str
    source: str
    source_label: str
    reverses_id: int | None
    created_at: dt.datetime


class StatementOut(Schema):
    balance: int
    items: list[EntryOut]
    next_cursor: int | None


class PageQuery(Schema):
    cursor: int | None = Field(None, ge=1, lt=2**63)
    limit: int = Field(20, ge=1, le=100)


class RuleIn(In):
    kind: RuleKind
    points: int = Field(..., ge=1, le=100_000)
    daily_cap: int | None = Field(None, ge=1, le=10_000_000)
    yearly_cap: int | None = Field(None, ge=1, le=100_000_000)
    is_active: bool = True


class RuleOut(Schema):
    id: int
    region_id: int
    kind: str
    points: int
    daily_cap: int | None
    yearly_cap: int | None
    is_active: bool


class ReverseIn(In):
    reason: str = Field(..., min_length=1, max_length=200)


def entry_out(e: PointEntry) -> dict[str, Any]:
    return {"id": e.pk, "amount": e.amount, "balance_after": e.balance_after,
            "reason": e.reason, "source": e.source,
            "source_label": str(points.SOURCE_LABELS.get(e.source, e.source)),
            "reverses_id": e.reverses_id, "created_at": e.created_at}


def _rule(r: PointRule) -> dict[str, Any]:
    return {"id": r.pk, "region_id": r.region_id, "kind": r.kind, "points": r.points,
            "daily_cap": r.daily_cap, "yearly_cap": r.yearly_cap, "is_active": r.is_active}


@router.get("/me/points", response=StatementOut)
@for_self
def my_points(request: HttpRequest, page: Query[PageQuery]):
    """My balance and my ledger, newest first; pass ``next_cursor`` back as ``cursor``."""
    user: Any = request.user
    rows = points.statement(user_id=user.pk, before=page.cursor, limit=page.limit + 1)
    next_cursor = rows[page.limit - 1].pk if len(rows) > page.limit else None
    return {"balance": points.balance_of(user.pk),
            "items": [entry_out(e) for e in rows[: page.limit]], "next_cursor": next_cursor}


@router.get("/regions/{region_id}/point-rules", response=list[RuleOut])
@scoped(Perm.REWARDS_MANAGE)
def point_rules(request: HttpRequest, region_id: int):
    """The earning rules of a city in my scope."""
    region = access_for(request).regions(Perm.REWARDS_MANAGE).filter(pk=region_id).first()
    if region is None:
        raise NotFound()
    return [_rule(r) for r in PointRule.objects.filter(region=region).order_by("kind")]


@router.put("/regions/{region_id}/point-rules", response=RuleOut)
@scoped(Perm.REWARDS_MANAGE)
def set_point_rule(request: HttpRequest, region_id: int, data: RuleIn):
    """Set one earning rule of a city (by ``kind``): points per unit, daily and yearly caps."""
    rule = points.set_point_rule(actor=access_for(request), region_id=region_id,
                                 kind=data.kind, points=data.points, daily_cap=data.daily_cap,
                                 yearly_cap=data.yearly_cap, is_active=data.is_active,
                                 request=request)
    return _rule(rule)


@router.post("/point-entries/{entry_id}/reverse", response={201: EntryOut})
@scoped(Perm.REWARDS_MANAGE)
def reverse_entry(request: HttpRequest, entry_id: int, data: ReverseIn):
    """Correct a resident's ledger entry by appending its reversal (once; audited)."""
    made = points.reverse_entry(actor=access_for(request), entry_id=entry_id,
                                reason=data.reason, request=request)
    return Status(201, entry_out(made))
