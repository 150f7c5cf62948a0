"""Inactivity warnings for staff: how many residents of a region were nudged and how many
came back."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from sportsman.activity import inactivity
from sportsman.core.errors import NotFound
from sportsman.regions.access import Perm, access_for, scoped
from sportsman.regions.models import Region

router = Router(tags=["activity"])


class SummaryQuery(Schema):
    weeks: int = Field(12, ge=1, le=104, description="how many weeks back")


class WeekOut(Schema):
    week: str
    sent: int
    came_back: int


class SummaryOut(Schema):
    region_id: int
    since: dt.date
    sent: int
    came_back: int
    came_back_share: float | None = Field(..., description="of nudges at least 14 days old")
    weeks: list[WeekOut]


@router.get("/regions/{region_id}/inactivity", response=SummaryOut)
@scoped(Perm.ACTIVITY_VIEW)
def region_inactivity(request: HttpRequest, region_id: int, query: Query[SummaryQuery]):
    """Nudges sent to residents of the region's subtree in the last ``weeks`` weeks and the
    share who came back within 14 days."""
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not access_for(request).can(Perm.ACTIVITY_VIEW, region):
        raise NotFound()
    since = inactivity.week_start(timezone.localdate()) - dt.timedelta(weeks=query.weeks)
    return {"region_id": region.pk, "since": since,
            **inactivity.region_summary(region, since=since)}
