"""The reports' cockpit figures (see ``sportsman.core.figures``), by the community the reported
place lies in: reports opened, resolved, resolved on time (within the resolve time they had when
resolved, escalations included), the residents' ratings, and the rates made of them. These are
the cockpit's "reports and on-time resolution" panel. Reports also count as a demand signal: a
community where residents keep reporting problems with its sports places is a hot spot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from sportsman.core import figures
from sportsman.core.figures import ANY_TIME, Kind, Role, Row, SignalRow
from sportsman.governance.models import Report, ReportEvent, Step

DOMAIN = "governance"


@figures.metric("reports_opened", label=_("reports made by residents"), kind=Kind.FLOW,
                domain=DOMAIN, order=10)
def reports_opened(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Report.objects.all(), at="created_at", region="region_id",
                           value=Count("id"), start=start, end=end)


@figures.metric("reports_resolved", label=_("reports resolved"), kind=Kind.FLOW, domain=DOMAIN,
                order=11)
def reports_resolved(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Report.objects.exclude(resolved_at=None), at="resolved_at",
                           region="region_id", value=Count("id"), start=start, end=end)


@figures.metric("reports_resolved_on_time", label=_("reports resolved on time"),
                kind=Kind.FLOW, domain=DOMAIN, order=12)
def reports_resolved_on_time(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Report.objects.filter(resolved_on_time=True), at="resolved_at",
                           region="region_id", value=Count("id"), start=start, end=end)


@figures.metric("reports_rated", label=_("reports rated by their reporters"), kind=Kind.FLOW,
                domain=DOMAIN, order=14)
def reports_rated(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(ReportEvent.objects.filter(step=Step.RATED), at="at",
                           region="report__region_id", value=Count("id"), start=start, end=end)


@figures.metric("report_rating_points", label=_("rating points given"), kind=Kind.FLOW,
                domain=DOMAIN, order=15)
def report_rating_points(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(ReportEvent.objects.filter(step=Step.RATED), at="at",
                           region="report__region_id", value=Sum("report__rating"), start=start,
                           end=end)


figures.ratio("reports_on_time_rate", label=_("reports resolved on time"),
              numerator="reports_resolved_on_time", denominator="reports_resolved",
              domain=DOMAIN, order=13)
figures.ratio("report_satisfaction", label=_("satisfaction with the handling (of 5)"),
              numerator="report_rating_points", denominator="reports_rated", scale=1, unit="/5",
              domain=DOMAIN, order=16)


HOT_SPOT_THRESHOLD = 5


@figures.signal(
    "reports_made", label=_("problems reported at sports places"), role=Role.SIGN,
    domain=DOMAIN, order=70,
    phrase=ngettext_lazy("%(count)d problem reported", "%(count)d problems reported", "count"),
    threshold=HOT_SPOT_THRESHOLD,
    sentence=_("%(period)s: residents reported %(count)d problems with sports places in "
               "%(region)s"),
    advice=_("inspect the places there, repair or replace what keeps breaking, and tell the "
             "residents what was done"))
def reports_made(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    since, until = figures.utc_bounds(start, end)
    rows = (Report.objects.filter(created_at__gte=since, created_at__lt=until)
            .exclude(category="suggestion").values_list("region_id", "created_at"))
    for region_id, day, count in figures.summed((r, at, 1) for r, at in rows):
        yield region_id, day, "", ANY_TIME, count
