"""Governance's periodic jobs (registered with the scheduler at import): escalating overdue
reports one level up, closing resolved reports their reporters did not confirm, and closing
deliberation votes at their closing time (the surveys' jobs live in ``surveys_tasks``). Tasks take
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


@task()
def close_due_topics() -> int:
    from sportsman.governance.deliberation import close_due

    return close_due()


register(Job("governance.close_topics", "sportsman.governance.tasks.close_due_topics",
             every=timedelta(minutes=5)))
register(Job("governance.escalate_reports", "sportsman.governance.tasks.escalate_overdue_reports",
             every=timedelta(minutes=10)))
register(Job("governance.close_reports", "sportsman.governance.tasks.close_resolved_reports",
             every=timedelta(hours=1)))
