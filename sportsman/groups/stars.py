"""The group activity index and the year's star groups (明星社群).

A group's month: activities held (finished), attendances at them, members who joined, posts
written. Its score weighs them (``WEIGHTS``); a year's score is the sum of its months. The job
``refresh_month`` recomputes one month for every group with grouped counts (a month's cost grows
with that month's records, not with history) and is run nightly for the current month and, on
the first days of a month, the one before. Top lists rank the groups of a city, district or town
subtree; the staff of that region confirm the year's star groups (audited), which residents see.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.core.audit import record
from sportsman.core.errors import InvalidInput, NotFound
from sportsman.groups.models import (
    ActivityStatus,
    Group,
    GroupActivity,
    GroupMonth,
    GroupStatus,
    Membership,
    Post,
    Signup,
    SignupStatus,
    StarGroup,
)
from sportsman.regions.access import Perm, access_for_user
from sportsman.regions.models import Level, Region, subtree_q

WEIGHTS = {"activities": 10.0, "attendance": 2.0, "member_growth": 1.0, "posts": 1.0}
STAR_LEVELS = (Level.CITY, Level.DISTRICT, Level.TOWN)
MAX_STARS = 20


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    from zoneinfo import ZoneInfo

    from django.conf import settings

    tz = ZoneInfo(settings.TIME_ZONE)
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return (dt.datetime.combine(first, dt.time(), tz), dt.datetime.combine(following, dt.time(), tz))


def score(activities: int, attendance: int, member_growth: int, posts: int) -> float:
    return round(WEIGHTS["activities"] * activities + WEIGHTS["attendance"] * attendance
                 + WEIGHTS["member_growth"] * member_growth + WEIGHTS["posts"] * posts, 1)


def refresh_month(month: dt.date) -> int:
    """Recompute every group's row of ``month`` (the first day). Returns the rows written."""
    month = month.replace(day=1)
    start, end = month_bounds(month)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(WEIGHTS, 0))
    held: Any = (GroupActivity.objects.filter(status=ActivityStatus.FINISHED, starts_at__gte=start,
                                         starts_at__lt=end)
            .values("group_id").annotate(n=Count("id")))
    for r in held:
        counts[r["group_id"]]["activities"] = r["n"]
    came: Any = (Signup.objects.filter(status=SignupStatus.ATTENDED,
                                  activity__status=ActivityStatus.FINISHED,
                                  activity__starts_at__gte=start, activity__starts_at__lt=end)
            .values("activity__group_id").annotate(n=Count("id")))
    for r in came:
        counts[r["activity__group_id"]]["attendance"] = r["n"]
    joined: Any = (Membership.objects.filter(joined_at__gte=start, joined_at__lt=end,
                                        role="member")
              .values("group_id").annotate(n=Count("id")))
    for r in joined:
        counts[r["group_id"]]["member_growth"] = r["n"]
    wrote: Any = (Post.objects.filter(created_at__gte=start, created_at__lt=end, deleted_at=None)
             .values("group_id").annotate(n=Count("id")))
    for r in wrote:
        counts[r["group_id"]]["posts"] = r["n"]
    rows = [GroupMonth(group_id=gid, month=month, score=score(**c), **c)
            for gid, c in counts.items()]
    with transaction.atomic():
        GroupMonth.objects.filter(month=month).delete()
        GroupMonth.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def refresh_due(now: dt.datetime | None = None) -> int:
    """The nightly job: this month, and last month during the first three days of a month (late
    check-ins and activities finished after midnight still count where they happened)."""
    from sportsman.facilities import hours

    today = hours.local(now or timezone.now()).date()
    done = refresh_month(today)
    if today.day <= 3:
        done += refresh_month(today.replace(day=1) - dt.timedelta(days=1))
    return done


def top_groups(region: Region, *, year: int, month: int | None = None,
               limit: int = 20) -> list[dict[str, Any]]:
    """The most active groups of ``region``'s subtree in a year (or one of its months)."""
    qs = GroupMonth.objects.filter(subtree_q(region.path, "group__region"),
                                   group__status=GroupStatus.ACTIVE)
    if month is not None:
        qs = qs.filter(month=dt.date(year, month, 1))
    else:
        qs = qs.filter(month__gte=dt.date(year, 1, 1), month__lt=dt.date(year + 1, 1, 1))
    rows = (qs.values("group_id", "group__name", "group__sport__name_zh", "group__region__name",
                      "group__members")
            .annotate(score=Sum("score"), activities=Sum("activities"),
                      attendance=Sum("attendance"), member_growth=Sum("member_growth"),
                      posts=Sum("posts"))
            .order_by("-score", "group_id")[:limit])
    return [{"group_id": r["group_id"], "name": r["group__name"],
             "sport": r["group__sport__name_zh"], "region": r["group__region__name"],
             "members": r["group__members"], "score": r["score"], "activities": r["activities"],
             "attendance": r["attendance"], "member_growth": r["member_growth"],
             "posts": r["posts"]} for r in rows]


def confirm_stars(*, actor: Any, region_id: int, year: int, group_ids: list[int],
                  request: Any = None) -> list[StarGroup]:
    """The staff of a city, district or town confirm its star groups of ``year`` (replacing an
    earlier choice): groups of its subtree, each with its year score. Audited."""
    access = access_for_user(actor)
    region = Region.objects.filter(pk=region_id).first()
    access.require(Perm.GROUP_MANAGE, region)
    assert region is not None
    if region.level not in STAR_LEVELS:
        raise InvalidInput(_("Star groups are chosen by a city, district or town."),
                           code="not_star_level")
    if not 1 <= len(set(group_ids)) <= MAX_STARS:
        raise InvalidInput(fields={"group_ids": [_("Choose between 1 and 20 groups.")]})
    if year > timezone.localdate().year:
        raise InvalidInput(fields={"year": [_("That year has not begun.")]})
    groups = {g.pk: g for g in Group.objects.filter(subtree_q(region.path, "region"),
                                                    pk__in=group_ids,
                                                    status=GroupStatus.ACTIVE)}
    if len(groups) != len(set(group_ids)):
        raise NotFound(_("A chosen group is not an active group of this region."),
                       code="group_not_found")
    scores = {r["group_id"]: r["score"] for r in top_groups(region, year=year, limit=10_000)}
    with transaction.atomic():
        StarGroup.objects.filter(year=year, region=region).delete()
        stars = StarGroup.objects.bulk_create([
            StarGroup(year=year, region=region, group=groups[gid], score=scores.get(gid, 0.0),
                      confirmed_by=actor) for gid in sorted(set(group_ids))])
        record(actor=actor, action="group.stars", region=region, object_type="groups.stargroup",
               object_id=f"{region.pk}:{year}", request=request,
               data={"year": year, "groups": sorted(set(group_ids))})
    return stars


def shown_year() -> int:
    """The year residents see by default: this one once any of its stars are chosen, else the
    latest year that has some (in January, last year's), else this one."""
    from sportsman.groups.models import FitnessStar

    this = timezone.localdate().year
    chosen = [qs.filter(year__lte=this).aggregate(y=Max("year"))["y"]
              for qs in (StarGroup.objects, FitnessStar.objects)]
    return max((y for y in chosen if y is not None), default=this)


def stars_of(year: int, region: Region | None = None) -> QuerySet[StarGroup]:
    qs = StarGroup.objects.filter(year=year).select_related("group", "group__sport", "region")
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    return qs.order_by("region__path", "-score")



# --- fitness stars (健身达人) -------------------------------------------------------------------


def fitness_candidates(region: Region, *, year: int, limit: int = 20) -> list[dict[str, Any]]:
    """The residents of ``region``'s subtree with the most verified minutes in ``year``, from
    the exercise record's rankings (people hidden from rankings are never listed)."""
    from sportsman.activity import rankings
    from sportsman.activity.selectors import Period

    if region.level not in STAR_LEVELS:
        return []
    today = timezone.localdate()
    on = today if year == today.year else dt.date(year, 12, 31)
    page = rankings.ranking_page_db(region, period=Period.YEAR, on=on,
                                    metric=rankings.Metric.MINUTES, limit=limit)
    return [{"user_id": r.user_id, "nickname": r.nickname, "verified_minutes": r.score,
             "rank": r.rank} for r in page.items]


def confirm_fitness_stars(*, actor: Any, region_id: int, year: int, user_ids: list[int],
                          request: Any = None) -> list[Any]:
    """The staff of a city, district or town confirm its fitness stars of ``year`` from the
    candidates (replacing an earlier choice; audited)."""
    from sportsman.groups.models import FitnessStar

    access = access_for_user(actor)
    region = Region.objects.filter(pk=region_id).first()
    access.require(Perm.GROUP_MANAGE, region)
    assert region is not None
    if region.level not in STAR_LEVELS:
        raise InvalidInput(_("Fitness stars are chosen by a city, district or town."),
                           code="not_star_level")
    if not 1 <= len(set(user_ids)) <= MAX_STARS:
        raise InvalidInput(fields={"user_ids": [_("Choose between 1 and 20 residents.")]})
    if year > timezone.localdate().year:
        raise InvalidInput(fields={"year": [_("That year has not begun.")]})
    minutes = {c["user_id"]: c["verified_minutes"]
               for c in fitness_candidates(region, year=year, limit=100)}
    if not set(user_ids) <= set(minutes):
        raise NotFound(_("A chosen resident is not among the year's most active here."),
                       code="not_a_candidate")
    with transaction.atomic():
        FitnessStar.objects.filter(year=year, region=region).delete()
        made = FitnessStar.objects.bulk_create([
            FitnessStar(year=year, region=region, user_id=uid, verified_minutes=minutes[uid],
                        confirmed_by=actor) for uid in sorted(set(user_ids))])
        record(actor=actor, action="group.fitness_stars", region=region,
               object_type="groups.fitnessstar", object_id=f"{region.pk}:{year}",
               request=request, data={"year": year, "users": sorted(set(user_ids))})
    return made


def fitness_stars_of(year: int, region: Region | None = None) -> QuerySet[Any]:
    from sportsman.groups.models import FitnessStar

    qs = (FitnessStar.objects.filter(year=year, user__hide_from_rankings=False)
          .select_related("user", "region"))
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    return qs.order_by("region__path", "-verified_minutes")
