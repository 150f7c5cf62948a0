"""Cockpit figures of deliberation (see ``sportsman.core.figures``), by the topic's region:
topics opened and votes cast per day, and the turnout of the votes closed that day (ballots
over the residents who were eligible when the vote closed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, F, Sum
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.governance.models import Topic, Vote

DOMAIN = "governance"


@figures.metric("deliberations_opened", label=_("deliberation topics opened"), kind=Kind.FLOW,
                domain=DOMAIN, order=92)
def deliberations_opened(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Topic.objects.exclude(opened_at=None), at="opened_at",
                           region="region_id", value=Count("id"), start=start, end=end)


@figures.metric("deliberation_votes", label=_("deliberation votes cast"), kind=Kind.FLOW,
                domain=DOMAIN, order=93)
def deliberation_votes(start: dt.date, end: dt.date) -> Iterator[Row]:
    """A vote counts on the day it was first cast (a change of mind is not a new vote)."""
    return figures.per_day(Vote.objects.all(), at="created_at", region="topic__region_id",
                           value=Count("id"), start=start, end=end)


@figures.metric("deliberation_ballots_closed", label=_("votes in deliberations closed"),
                kind=Kind.FLOW, domain=DOMAIN, order=94)
def ballots_closed(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Topic.objects.exclude(closed_at=None), at="closed_at",
                           region="region_id",
                           value=Sum(F("votes_support") + F("votes_oppose") + F("votes_abstain")),
                           start=start, end=end)


@figures.metric("deliberation_eligible_closed",
                label=_("residents eligible in deliberations closed"), kind=Kind.FLOW,
                domain=DOMAIN, order=95)
def eligible_closed(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Topic.objects.exclude(closed_at=None), at="closed_at",
                           region="region_id", value=Sum("eligible"), start=start, end=end)


figures.ratio("deliberation_turnout", label=_("deliberation turnout"),
              numerator="deliberation_ballots_closed",
              denominator="deliberation_eligible_closed", scale=100, unit="%", domain=DOMAIN,
              order=96)
