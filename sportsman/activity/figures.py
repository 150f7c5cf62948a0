"""The exercise record's cockpit figures (see ``sportsman.core.figures``).

Minutes and sessions come from the daily rollup per community (RegionDay). The residents active
in the last 7 / 30 days and the regular exercisers (≥ 3 sessions of ≥ 30 minutes in the last 7
days, the national standard's "经常参加体育锻炼") are counted from the records of the window before
each day, by the community the record was made in: refreshing a day reads a month of records, never
the whole history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from sportsman.activity.models import ActivityRecord, RegionDay
from sportsman.core import figures
from sportsman.core.figures import Kind, Row

DOMAIN = "activity"
REGULAR_SESSIONS = 3
REGULAR_MINUTES = 30
REGULAR_WINDOW = 7
REGION_BATCH = 200


def _region_day_sums(field: str, start: dt.date, end: dt.date) -> Iterator[Row]:
    rows = (RegionDay.objects.filter(day__range=(start, end)).values("region_id", "day")
            .annotate(v=Sum(field)).values_list("region_id", "day", "v"))
    for region_id, day, value in rows:
        if value:
            yield region_id, day, int(value)


@figures.metric("exercise_minutes", label=_("exercise minutes"), kind=Kind.FLOW, domain=DOMAIN,
                unit=_("minutes"), order=20)
def exercise_minutes(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _region_day_sums("minutes", start, end)


@figures.metric("exercise_sessions", label=_("exercise sessions"), kind=Kind.FLOW, domain=DOMAIN,
                order=21)
def exercise_sessions(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _region_day_sums("sessions", start, end)


@figures.metric("verified_minutes", label=_("verified exercise minutes"), kind=Kind.FLOW,
                domain=DOMAIN, unit=_("minutes"), order=22)
def verified_minutes(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _region_day_sums("verified_minutes", start, end)


def _sessions(start: dt.date, end: dt.date, region_ids: list[int],
              min_minutes: int = 0) -> dict[tuple[int, int], list[dt.date]]:
    """(region, user) → the local days of their sessions started in [start, end]."""
    since, until = figures.utc_bounds(start, end)
    tz = figures.zone()
    qs = ActivityRecord.objects.filter(region_id__in=region_ids, started_at__gte=since,
                                       started_at__lt=until)
    if min_minutes:
        qs = qs.filter(counted_minutes__gte=min_minutes)
    out: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    for region_id, user_id, started_at in qs.values_list("region_id", "user_id", "started_at"):
        out[(region_id, user_id)].append(started_at.astimezone(tz).date())
    return out


def _region_batches() -> Iterator[list[int]]:
    ids = sorted(ActivityRecord.objects.filter(region__isnull=False).order_by()
                 .values_list("region_id", flat=True).distinct())
    for i in range(0, len(ids), REGION_BATCH):
        yield ids[i:i + REGION_BATCH]


def _active(window: int, start: dt.date, end: dt.date) -> Iterator[Row]:
    """People with a session in the ``window`` days ending each day, per community."""
    reach = dt.timedelta(days=window - 1)
    for batch in _region_batches():
        spans = []
        for (region_id, _user), days in _sessions(start - reach, end, batch).items():
            for first, last in figures.merge_spans((d, d + reach) for d in days):
                spans.append((region_id, first, last))
        yield from figures.covered_days(spans, start, end)


@figures.metric("residents_active_7d", label=_("residents active in the last 7 days"),
                kind=Kind.STOCK, domain=DOMAIN, order=11)
def residents_active_7d(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _active(7, start, end)


@figures.metric("residents_active_30d", label=_("residents active in the last 30 days"),
                kind=Kind.STOCK, domain=DOMAIN, order=12)
def residents_active_30d(start: dt.date, end: dt.date) -> Iterator[Row]:
    return _active(30, start, end)


@figures.metric("regular_exercisers",
                label=_("regular exercisers (≥ 3 sessions of ≥ 30 minutes in 7 days)"),
                kind=Kind.STOCK, domain=DOMAIN, order=13)
def regular_exercisers(start: dt.date, end: dt.date) -> Iterator[Row]:
    reach = dt.timedelta(days=REGULAR_WINDOW - 1)
    for batch in _region_batches():
        spans = []
        for (region_id, _user), days in _sessions(start - reach, end, batch,
                                                   REGULAR_MINUTES).items():
            days.sort()
            # Regular on day d when REGULAR_SESSIONS sessions fall in [d - 6, d]: the sessions
            # i … i+2 make the person regular from the third one's day to the first one + 6.
            k = REGULAR_SESSIONS - 1
            runs = ((days[i + k], days[i] + reach) for i in range(len(days) - k)
                    if days[i + k] - days[i] <= reach)
            for first, last in figures.merge_spans(runs):
                spans.append((region_id, first, last))
        yield from figures.covered_days(spans, start, end)


figures.ratio("active_share_30d", label=_("share of residents active in 30 days"),
              numerator="residents_active_30d", denominator="residents_registered",
              domain=DOMAIN, order=12)
figures.ratio("regular_share", label=_("share of regular exercisers"),
              numerator="regular_exercisers", denominator="residents_registered",
              domain=DOMAIN, order=13)
