"""The one window's jobs: telling every association due in an annual inspection season (queued
after the season is opened, by id; retry-safe)."""

from __future__ import annotations

from django.tasks import task


@task()
def notify_season(season_id: int) -> int:
    from sportsman.associations.window import notify_season_now

    return notify_season_now(season_id)
