"""``GET /api/v1/recommendations``: the resident's own recommendations (precomputed rows only),
with a kind filter and a cursor; ``PUT /api/v1/recommendations/personalisation`` switches
personalisation (the accounts ``recommend`` consent)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from sportsman.core.schemas import In
from sportsman.recommend import selectors, services
from sportsman.recommend.explain import data_used
from sportsman.regions.access import for_self

router = Router(tags=["recommendations"])


class ForYouQuery(Schema):
    kind: str | None = Field(None, max_length=12, description="facility, group, event or "
                                                               "instructor")
    limit: int = Field(10, ge=1, le=selectors.MAX_LIMIT)
    cursor: str | None = Field(None, max_length=64)


class RecommendationOut(Schema):
    kind: str
    object_id: int
    rank: int
    score: float
    title: str
    link: str
    reason: str
    reason_text: str
    personal: bool
    slot_id: int | None = None
    slot_start: dt.datetime | None = None
    data_used: list[str]
    computed_at: dt.datetime


class ForYouOut(Schema):
    personalised: bool
    items: list[RecommendationOut]
    next_cursor: str | None


class PersonalisationIn(In):
    on: bool


class PersonalisationOut(Schema):
    personalised: bool


def _out(row: dict[str, Any]) -> dict[str, Any]:
    params = row["params"] or {}
    return {**row, "slot_id": params.get("slot_id"), "slot_start": params.get("slot_start"),
            "data_used": data_used(params)}


@router.get("/recommendations", response=ForYouOut)
@for_self
def recommendations(request: HttpRequest, query: Query[ForYouQuery]):
    page = selectors.for_you(request.user, kind=query.kind, limit=query.limit,
                             cursor=query.cursor)
    return {"personalised": page.personal, "items": [_out(r) for r in page.items],
            "next_cursor": page.next_cursor}


@router.put("/recommendations/personalisation", response=PersonalisationOut)
@for_self
def set_personalisation(request: HttpRequest, data: PersonalisationIn):
    services.set_personalisation(user=request.user, on=data.on, request=request)
    return {"personalised": data.on}
