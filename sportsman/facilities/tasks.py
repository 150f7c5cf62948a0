"""Facility tasks and periodic jobs (registered with the scheduler at import).

Bookings: release no-shows and draw due lotteries every minute; make the slots of the coming
booking window daily. Tasks take no model instances; each re-reads what it needs.
"""

from __future__ import annotations

from datetime import time, timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def release_no_shows() -> int:
    """Bookings not checked in within the grace time become no-shows (and may suspend)."""
    from sportsman.facilities import booking

    return booking.release_no_shows()


@task()
def draw_due_lotteries() -> int:
    """Draw every lottery slot whose draw time has come; each is drawn exactly once however
    often this runs."""
    from sportsman.facilities import booking

    return sum(booking.draw_lottery(slot_id=slot_id) for slot_id in booking.due_lottery_ids())


@task()
def ensure_booking_window() -> int:
    """Make the slots of every bookable facility through the end of its booking window."""
    from sportsman.facilities import booking

    return booking.ensure_window()


register(Job("facilities.release_no_shows", "sportsman.facilities.tasks.release_no_shows",
             every=timedelta(minutes=1)))
register(Job("facilities.draw_due_lotteries", "sportsman.facilities.tasks.draw_due_lotteries",
             every=timedelta(minutes=1)))
# Before the usual 08:00 window opening, so the newly opening day's slots exist.
register(Job("facilities.ensure_booking_window",
             "sportsman.facilities.tasks.ensure_booking_window", daily_at=time(0, 30)))

from sportsman.facilities import tasks_devices  # noqa: F401, E402
