"""Activity tasks and periodic jobs (registered with the scheduler at import)."""

from __future__ import annotations

from sportsman.activity import tasks_inactivity  # noqa: F401
