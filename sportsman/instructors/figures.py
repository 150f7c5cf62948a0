"""Instructors' cockpit figures (see ``sportsman.core.figures``), by the instructor's region:
registered instructors at the end of each day (stock; one who was suspended or retired counts
up to the day before that change) and per 1,000 registered residents (Jiaxing's target is 3, DOMAIN.md
§3); guidance sessions recorded (flow, by the session's day), the minutes taught and the
attendances behind them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.instructors.models import (
    GuidanceSession,
    Instructor,
    InstructorStatus,
    SessionRecord,
    SessionStatus,
)

DOMAIN = "instructors"


@figures.metric("instructors", label=_("social sports instructors"), kind=Kind.STOCK,
                domain=DOMAIN, order=100)
def instructors(start: dt.date, end: dt.date) -> Iterator[Row]:
    """Counted on each day from the day of registration; one no longer active until the day
    before its last status change (``updated_at``)."""
    since, until = figures.utc_bounds(start, end)
    tz = figures.zone()
    before: dict[int, int] = defaultdict(int)
    changes: list[tuple[int, dt.date, int]] = []
    for region_id, created, updated, status in (
            Instructor.objects.filter(created_at__lt=until)
            .values_list("region_id", "created_at", "updated_at", "status")):
        ended = updated if status != InstructorStatus.ACTIVE else None
        if ended is not None and ended < since:
            continue
        if created < since:
            before[region_id] += 1
        else:
            changes.append((region_id, created.astimezone(tz).date(), 1))
        if ended is not None:
            changes.append((region_id, ended.astimezone(tz).date(), -1))
    return figures.stock_from_changes(before, [c for c in changes if c[1] <= end], start, end)


figures.ratio("instructors_per_1000", label=_("instructors per 1,000 residents"),
              numerator="instructors", denominator="residents_registered", scale=1000,
              unit="‰", domain=DOMAIN, order=101)


def _recorded():
    return GuidanceSession.objects.filter(status=SessionStatus.RECORDED)


@figures.metric("guidance_sessions", label=_("guidance sessions recorded"), kind=Kind.FLOW,
                domain=DOMAIN, order=102)
def guidance_sessions(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(_recorded(), at="starts_at", region="instructor__region_id",
                           value=Count("id"), start=start, end=end)


@figures.metric("guidance_minutes", label=_("guidance minutes"), kind=Kind.FLOW, domain=DOMAIN,
                unit=_("min"), order=103)
def guidance_minutes(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(SessionRecord.objects.filter(session__status=SessionStatus.RECORDED),
                           at="session__starts_at", region="session__instructor__region_id",
                           value=Sum("minutes"), start=start, end=end)


@figures.metric("guidance_attendances", label=_("residents guided"), kind=Kind.FLOW,
                domain=DOMAIN, order=104)
def guidance_attendances(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(SessionRecord.objects.filter(session__status=SessionStatus.RECORDED),
                           at="session__starts_at", region="session__instructor__region_id",
                           value=Sum("attendees"), start=start, end=end)
