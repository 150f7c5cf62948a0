"""The activity audience filter for staff campaigns (see ``notifications.audience``): how many
of the last 30 local days a resident exercised on, from the (user, day) rollups."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.activity.models import UserDay
from sportsman.notifications.audience import source

WINDOW_DAYS = 30
# level -> (fewest, most) active days of the last 30; None: no upper bound.
LEVELS: dict[str, tuple[int, int | None]] = {
    "inactive": (0, 0),
    "occasional": (1, 7),
    "regular": (8, None),
}


def active_days(today: dt.date | None = None):
    """(user_id, days) of residents with at least one active day in the window."""
    today = today or timezone.localdate()
    return (UserDay.objects.filter(day__gt=today - dt.timedelta(days=WINDOW_DAYS),
                                   day__lte=today, minutes__gt=0)
            .values("user_id").annotate(days=Count("day")))


@source("activity", label=_("activity in the last 30 days"), choices=(
    ("inactive", _("no active day")),
    ("occasional", _("1 to 7 active days")),
    ("regular", _("8 or more active days")),
))
def activity_level(level: str) -> Q | None:
    bounds = LEVELS.get(level)
    if bounds is None:
        return None
    low, high = bounds
    days = active_days()
    if low == 0:
        return ~Q(pk__in=days.values("user_id"))
    days = days.filter(days__gte=low)
    if high is not None:
        days = days.filter(days__lte=high)
    return Q(pk__in=days.values("user_id"))
