"""Surveys' periodic job (registered with the scheduler at import): tell the audiences of
surveys whose opening time has come, and close those whose closing time has passed. Imported
by ``sportsman/governance/tasks.py``."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def sweep_surveys() -> int:
    from sportsman.governance import surveys

    return surveys.announce_due() + surveys.close_ended()


register(Job("governance.sweep_surveys", "sportsman.governance.surveys_tasks.sweep_surveys",
             every=timedelta(minutes=5)))
