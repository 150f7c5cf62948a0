"""Accounts jobs: forget SMS-code and log-in rows that no throttle looks at any more."""

from __future__ import annotations

from datetime import time

from django.tasks import task

from sportsman.accounts import services
from sportsman.core.scheduler import Job, register


@task()
def purge_throttle_records() -> int:
    """Delete SMS-code and log-in rows older than a day (they feed only the rate limits and the
    export's recent log-in list). Idempotent."""
    return services.purge_throttle_records()


register(Job("accounts.purge_throttle_records",
             "sportsman.accounts.tasks.purge_throttle_records", daily_at=time(3, 40)))
