"""Residents' cockpit figures (see ``sportsman.core.figures``): registered residents per home
community, counted by the day they joined."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from sportsman.accounts.models import User
from sportsman.core import figures
from sportsman.core.figures import Kind, Row


@figures.metric("residents_registered", label=_("registered residents"), kind=Kind.STOCK,
                domain="accounts", order=10)
def residents_registered(start: dt.date, end: dt.date) -> Iterator[Row]:
    since, until = figures.utc_bounds(start, end)
    residents = User.objects.filter(is_active=True).exclude(home_community=None)
    before = dict(residents.filter(date_joined__lt=since).values("home_community_id")
                  .annotate(n=Count("id")).values_list("home_community_id", "n"))
    joined = (residents.filter(date_joined__gte=since, date_joined__lt=until)
              .values("home_community_id", day=figures.local_date("date_joined"))
              .annotate(n=Count("id")).values_list("home_community_id", "day", "n"))
    return figures.stock_from_changes(
        before, ((r, figures.as_date(d), n) for r, d, n in joined), start, end)
