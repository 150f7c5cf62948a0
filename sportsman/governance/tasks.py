"""Governance's periodic jobs (registered with the scheduler at import): escalating overdue
reports one level up, and closing resolved reports their reporters did not confirm. Tasks take
no arguments."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register
from sportsman.governance import surveys_tasks  # noqa: F401 (the areas' own jobs register too)


@task()
def escalate_overdue_reports() -> int:
    from sportsman.governance.reports import escalate_overdue

    return escalate_overdue()


@task()
def close_resolved_reports() -> int:
    from sportsman.governance.reports import close_resolved

    return close_resolved()


register(Job("governance.escalate_reports", "sportsman.governance.tasks.escalate_overdue_reports",
             every=timedelta(minutes=10)))
register(Job("governance.close_reports", "sportsman.governance.tasks.close_resolved_reports",
             every=timedelta(hours=1)))
