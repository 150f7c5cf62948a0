"""Cockpit figures of residents' posts (see ``sportsman.core.figures``), by the post's
community: posts published per day, and those answered by staff (on the day of the answer)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.governance.models import CommunityPost

DOMAIN = "governance"


@figures.metric("posts_published", label=_("residents' posts published"), kind=Kind.FLOW,
                domain=DOMAIN, order=97)
def posts_published(start: dt.date, end: dt.date) -> Iterator[Row]:
    """Posts taken down by staff or withdrawn by their author do not count."""
    return figures.per_day(CommunityPost.objects.filter(hidden_at=None, deleted_at=None),
                           at="created_at", region="region_id", value=Count("id"),
                           start=start, end=end)


@figures.metric("posts_answered", label=_("residents' posts answered by staff"),
                kind=Kind.FLOW, domain=DOMAIN, order=98)
def posts_answered(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(CommunityPost.objects.exclude(answered_at=None), at="answered_at",
                           region="region_id", value=Count("id"), start=start, end=end)
