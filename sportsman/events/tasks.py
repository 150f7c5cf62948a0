"""Events' periodic jobs (registered with the scheduler at import): reminders before events
start and finishing events that have ended, every five minutes. Tasks take no arguments."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def send_event_reminders() -> int:
    from sportsman.events.reminders import send_reminders

    return send_reminders()


@task()
def finish_ended_events() -> int:
    from sportsman.events.reminders import finish_ended

    return finish_ended()


register(Job("events.send_reminders", "sportsman.events.tasks.send_event_reminders",
             every=timedelta(minutes=5)))
register(Job("events.finish_ended", "sportsman.events.tasks.finish_ended_events",
             every=timedelta(minutes=5)))
