"""Inactivity warnings (健身预警): residents whose exercise dropped well below their own
baseline get a nudge with a concrete place to go near home; whether they came back is tracked.

Every Monday (the job runs daily at 09:00 and acts on Mondays), for each resident:

- baseline = their average verified minutes a week over the 8 full weeks before the last 2;
- recent = their average over the last 2 full weeks;
- a resident with a baseline of at least ``MIN_BASELINE`` minutes whose recent average fell
  below ``DROP`` × baseline is nudged — unless they were nudged in the previous 4 weeks, or
  switched every channel of the "activity reminders" notification category off (the opt-out
  residents already have in their notification settings).

A nudge is one ``InactivityNudge`` row (unique per person and week: a re-run sends nothing
twice) and one notification naming a facility in the resident's home community. A daily pass
marks ``came_back_at`` when the person exercises again within ``COME_BACK_DAYS``; the share of
nudged residents who came back is reported per region. Everything reads the ``UserDay``
rollup: one grouped query for the whole city, not a query per person.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from sportsman.activity.models import InactivityNudge, UserDay
from sportsman.regions.models import Region, subtree_q

BASELINE_WEEKS = 8
RECENT_WEEKS = 2
MIN_BASELINE = 60  # verified minutes a week
DROP = 0.5
QUIET_WEEKS = 4
COME_BACK_DAYS = 14
CATEGORY = "inactivity"


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Candidate:
    user_id: int
    region_id: int | None
    baseline: int
    recent: int


def candidates(today: dt.date) -> list[Candidate]:
    """Residents whose last two weeks fell below half their own baseline (see the module)."""
    this_week = week_start(today)
    recent_from = this_week - dt.timedelta(weeks=RECENT_WEEKS)
    baseline_from = recent_from - dt.timedelta(weeks=BASELINE_WEEKS)
    rows = (UserDay.objects.filter(day__gte=baseline_from, day__lt=this_week)
            .values("user_id")
            .annotate(base=Sum("verified_minutes", filter=Q(day__lt=recent_from)),
                      recent=Sum("verified_minutes", filter=Q(day__gte=recent_from)),
                      region=Min("region_id")))
    out = []
    for row in rows:
        baseline = (row["base"] or 0) / BASELINE_WEEKS
        recent = (row["recent"] or 0) / RECENT_WEEKS
        if baseline >= MIN_BASELINE and recent < DROP * baseline:
            out.append(Candidate(row["user_id"], row["region"], round(baseline), round(recent)))
    return out


def _opted_out(user_ids: list[int]) -> set[int]:
    from sportsman.notifications.services import enabled_channels

    channels = enabled_channels(user_ids, CATEGORY)
    return {uid for uid in user_ids if not channels.get(uid)}


def _suggestions(community_ids: set[int]) -> dict[int, tuple[str, str]]:
    """A facility to suggest per home community: its name and page (the most visited open
    facility of the community, through the facilities app's public selector)."""
    from sportsman.facilities.suggest import suggest_near_home

    return suggest_near_home(community_ids)


def send_nudges(*, today: dt.date | None = None) -> int:
    """Nudge this week's candidates (Mondays only; a re-run the same week sends nothing new).
    Returns the number of nudges sent. Side effect: one notification per nudge."""
    from sportsman.accounts.models import User
    from sportsman.notifications.services import notify

    today = today or timezone.localdate()
    if today.weekday() != 0:
        return 0
    week = week_start(today)
    found = candidates(today)
    if not found:
        return 0
    ids = [c.user_id for c in found]
    recently = set(InactivityNudge.objects.filter(
        user_id__in=ids, week__gte=week - dt.timedelta(weeks=QUIET_WEEKS))
        .values_list("user_id", flat=True))
    skip = recently | _opted_out(ids)
    chosen = [c for c in found if c.user_id not in skip]
    homes = dict(User.objects.filter(pk__in=[c.user_id for c in chosen], is_active=True)
                 .values_list("pk", "home_community_id"))
    chosen = [c for c in chosen if c.user_id in homes]
    places = _suggestions({h for h in homes.values() if h})
    now = timezone.now()
    sent = 0
    for c in chosen:
        place = places.get(homes[c.user_id] or 0)
        with transaction.atomic():
            _nudge, created = InactivityNudge.objects.get_or_create(
                user_id=c.user_id, week=week,
                defaults={"region_id": homes[c.user_id], "baseline_minutes": c.baseline,
                          "recent_minutes": c.recent, "sent_at": now,
                          "suggestion": place[0] if place else ""})
            if not created:
                continue
            with override("zh-hans"):
                title = _("We have not seen you exercise lately")
                body = _("You usually exercise about %(base)d minutes a week; the last two "
                         "weeks it was %(recent)d.") % {"base": c.baseline, "recent": c.recent}
                if place:
                    body += " " + _("How about %(place)s near your home?") % {"place": place[0]}
            notify(users=User.objects.filter(pk=c.user_id), category=CATEGORY, title=title, body=body,
                   link=place[1] if place else "", dedupe_key=f"inactivity:{week.isoformat()}")
            sent += 1
    return sent


def mark_returns(*, now: dt.datetime | None = None) -> int:
    """Set ``came_back_at`` on nudges whose resident exercised within COME_BACK_DAYS after the
    nudge (one UPDATE)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=2 * COME_BACK_DAYS)  # a few missed runs catch up
    first_day = (UserDay.objects.filter(user_id=OuterRef("user_id"),
                                        day__gt=OuterRef("sent_at__date"), verified_minutes__gt=0)
                 .order_by("day").values("day")[:1])
    pending = InactivityNudge.objects.filter(came_back_at__isnull=True, sent_at__gte=since)
    changed = 0
    for nudge in pending.annotate(back=Subquery(first_day)).filter(back__isnull=False):
        back = dt.datetime.combine(nudge.back, dt.time(12), tzinfo=timezone.get_current_timezone())
        if back - nudge.sent_at <= dt.timedelta(days=COME_BACK_DAYS):
            changed += InactivityNudge.objects.filter(pk=nudge.pk, came_back_at__isnull=True) \
                .update(came_back_at=back)
    return changed


def region_summary(region: Region, *, since: dt.date) -> dict[str, Any]:
    """Nudges sent to residents of ``region``'s subtree since ``since``, and how many came back
    within COME_BACK_DAYS (the share counts only nudges at least that old)."""
    qs = InactivityNudge.objects.filter(subtree_q(region.path, "region"), week__gte=since)
    cutoff = timezone.now() - dt.timedelta(days=COME_BACK_DAYS)
    totals = qs.aggregate(sent=Count("id"), back=Count("id", filter=Q(came_back_at__isnull=False)),
                          settled=Count("id", filter=Q(sent_at__lte=cutoff)),
                          settled_back=Count("id", filter=Q(sent_at__lte=cutoff,
                                                            came_back_at__isnull=False)))
    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in qs.values("week").annotate(n=Count("id"), back=Count(
            "id", filter=Q(came_back_at__isnull=False))).order_by("week"):
        weeks[row["week"].isoformat()] = [row["n"], row["back"]]
    share = totals["settled_back"] / totals["settled"] if totals["settled"] else None
    return {"sent": totals["sent"], "came_back": totals["back"],
            "came_back_share": None if share is None else round(share, 4),
            "weeks": [{"week": w, "sent": v[0], "came_back": v[1]} for w, v in weeks.items()]}

