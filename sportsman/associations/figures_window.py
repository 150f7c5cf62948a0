"""The registry's and the one window's cockpit figures (see ``sportsman.core.figures``), by the
association's region: associations on the registry (not dissolved) and those registered or
filed among them, each day; applications decided, and decided within their handling time limit,
with the on-time rate made of them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from sportsman.associations.models import Application, Association, LegalStatus
from sportsman.core import figures
from sportsman.core.figures import Kind, Row

DOMAIN = "associations"


def _stock(rows: list[tuple[int, dt.datetime, dt.datetime | None]], start: dt.date,
           end: dt.date) -> Iterator[Row]:
    """A stock from (region, on the registry from, dissolved at) spans: counted on each day it
    was on the registry by the end of and not dissolved before."""
    since, _until = figures.utc_bounds(start, end)
    tz = figures.zone()
    before: dict[int, int] = defaultdict(int)
    changes: list[tuple[int, dt.date, int]] = []
    for region_id, began, ended in rows:
        if ended is not None and ended < since:
            continue
        if began < since:
            before[region_id] += 1
        else:
            changes.append((region_id, began.astimezone(tz).date(), 1))
        if ended is not None:
            changes.append((region_id, ended.astimezone(tz).date() + dt.timedelta(days=1), -1))
    return figures.stock_from_changes(before, [c for c in changes if c[1] <= end], start, end)


def _associations(start: dt.date, end: dt.date, legal_status: str | None) -> Iterator[Row]:
    _since, until = figures.utc_bounds(start, end)
    qs = Association.objects.filter(created_at__lt=until)
    if legal_status:
        qs = qs.filter(legal_status=legal_status)
    return _stock(list(qs.values_list("region_id", "created_at", "dissolved_at")), start, end)


@figures.metric("associations", label=_("sports associations on the registry"),
                kind=Kind.STOCK, domain=DOMAIN, order=80)
def associations(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _associations(start, end, None)


@figures.metric("associations_registered", label=_("registered associations"),
                kind=Kind.STOCK, domain=DOMAIN, order=81)
def associations_registered(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _associations(start, end, LegalStatus.REGISTERED)


@figures.metric("associations_filed", label=_("filed grassroots teams"), kind=Kind.STOCK,
                domain=DOMAIN, order=82)
def associations_filed(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _associations(start, end, LegalStatus.FILED)


@figures.metric("applications_decided", label=_("one-window applications decided"),
                kind=Kind.FLOW, domain=DOMAIN, order=83)
def applications_decided(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Application.objects.exclude(decided_at=None), at="decided_at",
                           region="region_id", value=Count("id"), start=start, end=end)


@figures.metric("applications_decided_on_time",
                label=_("one-window applications decided on time"), kind=Kind.FLOW,
                domain=DOMAIN, order=84)
def applications_decided_on_time(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Application.objects.filter(decided_on_time=True)
                           .exclude(decided_at=None), at="decided_at", region="region_id",
                           value=Count("id"), start=start, end=end)


figures.ratio("applications_on_time_rate", label=_("one-window applications decided on time"),
              numerator="applications_decided_on_time", denominator="applications_decided",
              domain=DOMAIN, order=85)
