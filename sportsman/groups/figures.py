"""Groups' cockpit figures (see ``sportsman.core.figures``), by the group's home region: groups
and members at the end of each day, groups active in the last 30 days, activities held and
attendances; and the demand signals of full activities and people left on their waitlists."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from sportsman.core import figures
from sportsman.core.figures import Kind, Role, Row, SignalRow
from sportsman.groups.models import (
    ActivityStatus,
    Group,
    GroupActivity,
    GroupStatus,
    Membership,
    MemberStatus,
    Signup,
    SignupStatus,
)

DOMAIN = "groups"
ACTIVE_WINDOW = 30  # days


def _stock(rows: list[tuple[int, dt.datetime | None, dt.datetime | None]], start: dt.date,
           end: dt.date) -> Iterator[Row]:
    """A stock from (region, from, until) spans: counted on each day it began on or before
    and had not ended by the end of."""
    since, _until = figures.utc_bounds(start, end)
    tz = figures.zone()
    before: dict[int, int] = defaultdict(int)
    changes: list[tuple[int, dt.date, int]] = []
    for region_id, began, ended in rows:
        if began is None:
            continue
        if ended is not None and ended < since:
            continue
        if began < since:
            before[region_id] += 1
        else:
            changes.append((region_id, began.astimezone(tz).date(), 1))
        if ended is not None:
            changes.append((region_id, ended.astimezone(tz).date() + dt.timedelta(days=1), -1))
    return figures.stock_from_changes(before, [c for c in changes if c[1] <= end], start, end)


@figures.metric("groups", label=_("sports groups"), kind=Kind.STOCK, domain=DOMAIN, order=70)
def groups(start: dt.date, end: dt.date) -> Iterator[Row]:
    _since, until = figures.utc_bounds(start, end)
    rows = (Group.objects.filter(created_at__lt=until)
            .exclude(status__in=[GroupStatus.PENDING, GroupStatus.REJECTED])
            .values_list("region_id", "created_at", "updated_at", "status"))
    return _stock([(r, c, u if s == GroupStatus.CLOSED else None) for r, c, u, s in rows],
                  start, end)


@figures.metric("group_members", label=_("group memberships"), kind=Kind.STOCK, domain=DOMAIN,
                order=71)
def group_members(start: dt.date, end: dt.date) -> Iterator[Row]:
    _since, until = figures.utc_bounds(start, end)
    rows = (Membership.objects.filter(status=MemberStatus.ACTIVE, joined_at__lt=until,
                                      group__status=GroupStatus.ACTIVE)
            .values_list("group__region_id", "joined_at"))
    return _stock([(r, j, None) for r, j in rows], start, end)


@figures.metric("active_groups", label=_("groups active in the last 30 days"), kind=Kind.STOCK,
                domain=DOMAIN, order=72)
def active_groups(start: dt.date, end: dt.date) -> Iterator[Row]:
    """A group is active on a day when it held an activity in the 30 days up to it."""
    lookback = start - dt.timedelta(days=ACTIVE_WINDOW - 1)
    since, until = figures.utc_bounds(lookback, end)
    tz = figures.zone()
    spans: list[tuple[int, dt.date, dt.date]] = []
    rows = (GroupActivity.objects.filter(status=ActivityStatus.FINISHED, starts_at__gte=since,
                                         starts_at__lt=until)
            .values_list("group_id", "group__region_id", "starts_at"))
    by_group: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    for group_id, region_id, at in rows:
        by_group[(group_id, region_id)].append(at.astimezone(tz).date())
    for (_group, region_id), held in by_group.items():
        for day in figures.merge_spans(
                (d, d + dt.timedelta(days=ACTIVE_WINDOW - 1)) for d in sorted(held)):
            spans.append((region_id, *day))
    return figures.covered_days(spans, start, end)


@figures.metric("group_activities", label=_("group activities held"), kind=Kind.FLOW,
                domain=DOMAIN, order=73)
def group_activities(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(GroupActivity.objects.filter(status=ActivityStatus.FINISHED),
                           at="starts_at", region="group__region_id", value=Count("id"),
                           start=start, end=end)


@figures.metric("group_attendance", label=_("attendances at group activities"), kind=Kind.FLOW,
                domain=DOMAIN, order=74)
def group_attendance(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Signup.objects.filter(status=SignupStatus.ATTENDED),
                           at="activity__starts_at", region="activity__group__region_id",
                           value=Count("id"), start=start, end=end)


figures.ratio("group_attendance_per_activity", label=_("attendances per group activity"),
              numerator="group_attendance", denominator="group_activities", scale=1,
              domain=DOMAIN, order=75)


def _activities(start: dt.date, end: dt.date):
    since, until = figures.utc_bounds(start, end)
    return GroupActivity.objects.filter(starts_at__gte=since, starts_at__lt=until).exclude(
        status=ActivityStatus.CANCELLED)


@figures.signal("group_activities_full", label=_("full group activities"), role=Role.SIGN,
                domain=DOMAIN, order=60,
                phrase=ngettext_lazy("%(count)d full group activity",
                                     "%(count)d full group activities", "count"))
def activities_full(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    rows = (_activities(start, end).values_list("group__region_id", "starts_at",
                                                "group__sport__slug", "taken", "capacity"))
    return figures.banded((r, at, sport, int(taken >= cap)) for r, at, sport, taken, cap in rows)


@figures.signal("group_waitlist", label=_("left on a group activity's waitlist"),
                role=Role.TURNED_AWAY, domain=DOMAIN, order=61,
                phrase=ngettext_lazy("%(count)d left on a group activity's waitlist",
                                     "%(count)d left on group activities' waitlists", "count"))
def waitlist(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    rows = (_activities(start, end)
            .annotate(n=Count("signups", filter=Q(signups__status=SignupStatus.WAITING)))
            .filter(n__gt=0)
            .values_list("group__region_id", "starts_at", "group__sport__slug", "n"))
    return figures.banded(rows)
