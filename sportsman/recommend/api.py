"""``GET /api/v1/recommendations``: the resident's own recommendations (precomputed rows only),
with a kind filter and a cursor; ``PUT /api/v1/recommendations/personalisation`` switches
personalisation (the accounts ``recommend`` consent)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
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


OUT_FIELDS = tuple(RecommendationOut.model_fields)


def _out(row: dict[str, Any]) -> dict[str, Any]:
    """A row as ``RecommendationOut`` makes it (a test holds the two equal)."""
    params = row["params"] or {}
    raw_start = params.get("slot_start")
    slot_id = params.get("slot_id")
    out = {**row, "slot_id": slot_id if isinstance(slot_id, int) else None,
           "slot_start": parse_datetime(raw_start) if isinstance(raw_start, str) else None,
           "data_used": data_used(params), "score": float(row["score"])}
    return {k: out[k] for k in OUT_FIELDS}


@router.get("/recommendations", response=ForYouOut)
@for_self
def recommendations(request: HttpRequest, query: Query[ForYouQuery]):
    page = selectors.for_you(request.user, kind=query.kind, limit=query.limit,
                             cursor=query.cursor)
    # written as the schema would write it, without validating our own rows again: the
    # page is the platform's most frequent read
    body = {"personalised": page.personal, "items": [_out(r) for r in page.items],
            "next_cursor": page.next_cursor}
    return HttpResponse(json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
                        content_type="application/json; charset=utf-8")


@router.put("/recommendations/personalisation", response=PersonalisationOut)
@for_self
def set_personalisation(request: HttpRequest, data: PersonalisationIn):
    services.set_personalisation(user=request.user, on=data.on, request=request)
    return {"personalised": data.on}
