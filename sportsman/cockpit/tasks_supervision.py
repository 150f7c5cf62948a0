"""The daily job of supervision tasks: remind units of tasks due within two days or overdue, and
tell issuers once when a unit becomes overdue. Idempotent per assignment and local day (see
``supervision.remind``)."""

from __future__ import annotations

from datetime import time

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def supervision_reminders() -> int:
    from sportsman.cockpit import supervision

    return supervision.remind()


# In the morning, when offices open (Asia/Shanghai).
register(Job("cockpit.supervision_reminders",
             "sportsman.cockpit.tasks_supervision.supervision_reminders", daily_at=time(8, 30)))
