"""Compute the cockpit's tallies for the demo city's history (step 95, after every domain)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sportsman.core.demo_city import DemoCity, demo_step

HISTORY_DAYS = 400


@demo_step("cockpit figures", order=95)
def figures_step(city: DemoCity) -> None:
    from sportsman.cockpit import tallies

    today = timezone.localdate()
    tallies.refresh(today - dt.timedelta(days=HISTORY_DAYS), today)
