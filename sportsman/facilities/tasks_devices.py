"""Periodic jobs of visits and devices: close visits whose time is up, and find devices that
went silent. Imported by ``facilities.tasks`` so the scheduler registers them."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def close_due_visits() -> int:
    """Close open visits at their booking's end, the facility's closing time, or after 4 h."""
    from sportsman.facilities import visits

    return visits.close_due_visits()


@task()
def sweep_silent_devices() -> int:
    """Mark devices silent past twice their heartbeat and open one ticket each."""
    from sportsman.facilities import devices

    return devices.sweep_silent_devices()


register(Job("facilities.close_due_visits", "sportsman.facilities.tasks_devices.close_due_visits",
             every=timedelta(minutes=1)))
register(Job("facilities.sweep_silent_devices",
             "sportsman.facilities.tasks_devices.sweep_silent_devices",
             every=timedelta(minutes=1)))
