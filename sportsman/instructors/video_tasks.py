"""Teaching videos' periodic job: unfinished uploads past their expiry are dropped with their
bytes (registered with the scheduler at import; tasks take no arguments)."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def expire_video_uploads() -> int:
    from sportsman.instructors.videos import expire_uploads

    return expire_uploads()


register(Job("instructors.expire_video_uploads",
             "sportsman.instructors.video_tasks.expire_video_uploads", every=timedelta(hours=1)))
