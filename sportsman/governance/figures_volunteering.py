"""Volunteering's cockpit figures (see ``sportsman.core.figures``), by the team's region: the
volunteer hours approved each day (credited hours, by the day of the decision), the volunteer
minutes behind them, and the volunteers active (with approved hours in the 30 days up to a day).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.governance.models import VolunteerSignup, VolunteerStatus

DOMAIN = "governance"
ACTIVE_WINDOW = 30  # days


def _approved():
    return VolunteerSignup.objects.filter(status=VolunteerStatus.APPROVED)


@figures.metric("volunteer_hours", label=_("volunteer hours approved"), kind=Kind.FLOW,
                domain=DOMAIN, unit=_("h"), order=120)
def volunteer_hours(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(_approved(), at="decided_at", region="opportunity__team__region_id",
                           value=Sum("hours"), start=start, end=end)


@figures.metric("volunteer_minutes", label=_("volunteer minutes approved"), kind=Kind.FLOW,
                domain=DOMAIN, unit=_("min"), order=121)
def volunteer_minutes(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(_approved(), at="decided_at", region="opportunity__team__region_id",
                           value=Sum("approved_minutes"), start=start, end=end)


@figures.metric("volunteers_active", label=_("volunteers active in the last 30 days"),
                kind=Kind.STOCK, domain=DOMAIN, order=122)
def volunteers_active(start: dt.date, end: dt.date) -> Iterator[Row]:
    """A volunteer is active on a day, in a team's region, when hours of theirs there were
    approved in the 30 days up to it."""
    lookback = start - dt.timedelta(days=ACTIVE_WINDOW - 1)
    since, until = figures.utc_bounds(lookback, end)
    tz = figures.zone()
    days: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    rows = (_approved().filter(decided_at__gte=since, decided_at__lt=until)
            .values_list("user_id", "opportunity__team__region_id", "decided_at"))
    for user_id, region_id, at in rows:
        days[(user_id, region_id)].append(at.astimezone(tz).date())
    spans: list[tuple[int, dt.date, dt.date]] = []
    for (_user, region_id), held in days.items():
        for span in figures.merge_spans(
                (d, d + dt.timedelta(days=ACTIVE_WINDOW - 1)) for d in sorted(held)):
            spans.append((region_id, *span))
    return figures.covered_days(spans, start, end)
