"""The nightly job of assessments: open the drafts of the month, quarter and year that just ended
for every city, district and town, and bring recent drafts up to date with late figures.
Idempotent (see ``assessment.open_due_drafts``)."""

from __future__ import annotations

from datetime import time

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def assessment_drafts() -> int:
    from sportsman.cockpit import assessment

    return assessment.daily()


# After the nightly figure refresh (02:30), so the drafts see last month's late records.
register(Job("cockpit.assessment_drafts", "sportsman.cockpit.tasks_assessment.assessment_drafts",
             daily_at=time(3, 15)))
