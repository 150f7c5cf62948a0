"""Monthly reports as tasks: one task per report (workers generate them side by side), and the
job that queues last month's reports.

The job runs every day at 06:00 (Asia/Shanghai), after the nightly recomputation of the last 35
days (02:30): on the 1st it queues last month's report of every city, district and town; on the
other days it finds them made and queues nothing — unless the scheduler was down on the 1st, or a
region was added since, whose report it then catches up. Once per region and month either way
(see ``monthly_reports.schedule_month``).
"""

from __future__ import annotations

from datetime import time

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def generate_monthly_report(report_id: int, generation: int) -> str:
    from sportsman.cockpit import monthly_reports

    return monthly_reports.generate(report_id, generation)


@task()
def schedule_monthly_reports() -> int:
    from sportsman.cockpit import monthly_reports

    return monthly_reports.schedule_month()


register(Job("cockpit.monthly_reports", "sportsman.cockpit.tasks_reports.schedule_monthly_reports",
             daily_at=time(6, 0)))
