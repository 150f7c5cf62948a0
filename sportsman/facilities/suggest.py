"""A place to suggest near a resident's home: for other apps (inactivity nudges, later
recommendations) that must not reach into the facilities tables themselves."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from sportsman.facilities.models import Facility, FacilityStatus


def suggest_near_home(community_ids: set[int], *, days: int = 30) -> dict[int, tuple[str, str]]:
    """Per community, the open facility most visited in the last ``days`` days (ties: the
    lowest id): its name and page path. Communities without a facility are left out. One
    grouped query."""
    if not community_ids:
        return {}
    since = timezone.now() - dt.timedelta(days=days)
    rows = (Facility.objects.filter(region_id__in=community_ids, status=FacilityStatus.OPEN)
            .annotate(n=Count("visits", filter=Q(visits__started_at__gte=since)))
            .order_by("region_id", "-n", "pk").values_list("region_id", "pk", "name"))
    out: dict[int, tuple[str, str]] = {}
    for region_id, pk, name in rows:
        if region_id not in out:
            out[region_id] = (name, reverse("facilities:facility", args=[pk]))
    return out
