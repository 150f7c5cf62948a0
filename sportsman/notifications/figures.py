"""Campaigns' cockpit figures (see ``sportsman.core.figures``): campaign messages sent, read
and clicked, by the resident's home community when sent and the local day it happened; and the
click rate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.notifications.models import CampaignRecipient, RecipientOutcome

DOMAIN = "notifications"


def _sent():
    return CampaignRecipient.objects.filter(outcome=RecipientOutcome.SENT)


@figures.metric("campaign_sent", label=_("campaign messages sent"), kind=Kind.FLOW,
                domain=DOMAIN, order=300)
def campaign_sent(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(_sent(), at="created_at", region="community_id", value=Count("id"),
                           start=start, end=end)


@figures.metric("campaign_read", label=_("campaign messages read"), kind=Kind.FLOW,
                domain=DOMAIN, order=301)
def campaign_read(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(_sent().exclude(notification__read_at=None),
                           at="notification__read_at", region="community_id",
                           value=Count("id"), start=start, end=end)


@figures.metric("campaign_clicked", label=_("campaign links opened"), kind=Kind.FLOW,
                domain=DOMAIN, order=302)
def campaign_clicked(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(_sent().exclude(clicked_at=None), at="clicked_at",
                           region="community_id", value=Count("id"), start=start, end=end)


figures.ratio("campaign_click_rate", label=_("campaign click rate"), numerator="campaign_clicked",
              denominator="campaign_sent", domain=DOMAIN, order=303)
