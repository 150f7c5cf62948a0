"""Rewards tasks and periodic jobs (registered with the scheduler at import)."""

from __future__ import annotations

from sportsman.rewards import tasks_points, tasks_vouchers  # noqa: F401
