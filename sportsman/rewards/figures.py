"""Rewards' cockpit figures (see ``sportsman.core.figures``), by the resident's home community:
points earned and spent (corrections, which reverse an entry, are in neither), vouchers claimed
and redeemed with the face value redeemed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.rewards.models import PointEntry, Voucher

DOMAIN = "rewards"
HOME = "user__home_community_id"


@figures.metric("points_earned", label=_("points earned"), kind=Kind.FLOW, domain=DOMAIN,
                order=60)
def points_earned(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(PointEntry.objects.filter(amount__gt=0, reverses=None),
                           at="created_at", region=HOME, value=Sum("amount"), start=start, end=end)


@figures.metric("points_spent", label=_("points spent"), kind=Kind.FLOW, domain=DOMAIN, order=61)
def points_spent(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(PointEntry.objects.filter(amount__lt=0, reverses=None),
                           at="created_at", region=HOME, value=-Sum("amount"), start=start, end=end)


@figures.metric("vouchers_claimed", label=_("vouchers claimed"), kind=Kind.FLOW, domain=DOMAIN,
                order=62)
def vouchers_claimed(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Voucher.objects.all(), at="issued_at", region=HOME, value=Count("id"),
                           start=start, end=end)


@figures.metric("vouchers_redeemed", label=_("vouchers redeemed"), kind=Kind.FLOW, domain=DOMAIN,
                order=63)
def vouchers_redeemed(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Voucher.objects.all(), at="redeemed_at", region=HOME, value=Count("id"),
                           start=start, end=end)


@figures.metric("voucher_value_redeemed", label=_("voucher value redeemed"),
                kind=Kind.FLOW, domain=DOMAIN, unit=_("fen"), order=64)
def voucher_value_redeemed(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Voucher.objects.all(), at="redeemed_at", region=HOME,
                           value=Sum("face_value_cents"), start=start, end=end)


figures.ratio("voucher_redemption_rate", label=_("vouchers redeemed per voucher claimed"),
              numerator="vouchers_redeemed", denominator="vouchers_claimed", domain=DOMAIN,
              order=63)
