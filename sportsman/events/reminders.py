"""Reminders before an event starts, and closing events that have ended.

``send_reminders`` tells the registrants of every published event starting within
``REMIND_BEFORE`` (once per event: the conditional UPDATE on ``reminded_at``, and each person's
notification carries a dedupe key). ``finish_ended`` marks published events past their end as
finished (an online challenge's leaderboard is frozen into ranks). Both do "everything due now",
as scheduler jobs must."""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.events.models import HOLDS_PLACE, Event, EventStatus, Registration

REMIND_BEFORE = dt.timedelta(hours=24)
BATCH = 200


def due_reminders(now: dt.datetime) -> list[int]:
    return list(Event.objects.filter(status=EventStatus.PUBLISHED, reminded_at__isnull=True,
                                     starts_at__gt=now, starts_at__lte=now + REMIND_BEFORE)
                .order_by("starts_at", "id").values_list("pk", flat=True)[:BATCH])


def _send(event_id: int) -> None:
    from sportsman.events.services import local_text, where_text
    from sportsman.notifications.services import notify

    event = Event.objects.select_related("facility").get(pk=event_id)
    users = get_user_model().objects.filter(
        pk__in=Registration.objects.filter(event_id=event_id, status__in=HOLDS_PLACE)
        .values("user_id"))
    notify(users=users, category="event",
           title=(_("Reminder: %(title)s") % {"title": event.title})[:120],
           body=_("Starts %(when)s at %(where)s. Show your registration code at check-in.")
           % {"when": local_text(event.starts_at), "where": where_text(event)},
           link=reverse("events:mine"), dedupe_key=f"event:{event_id}:reminder",
           data={"event_id": event_id})


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind the registrants of events starting soon; returns how many events."""
    now = now or timezone.now()
    sent = 0
    for event_id in due_reminders(now):
        with transaction.atomic():
            if not Event.objects.filter(pk=event_id, reminded_at__isnull=True).update(
                    reminded_at=now):
                continue  # another run claimed it
            transaction.on_commit(partial(_send, event_id))
        sent += 1
    return sent


def finish_ended(*, now: dt.datetime | None = None) -> int:
    """Published events that have ended become finished; returns how many."""
    from sportsman.events.services import freeze_challenge

    now = now or timezone.now()
    done = 0
    for event in Event.objects.filter(status=EventStatus.PUBLISHED, ends_at__lte=now)[:BATCH]:
        with transaction.atomic():
            if not Event.objects.filter(pk=event.pk, status=EventStatus.PUBLISHED).update(
                    status=EventStatus.FINISHED, updated_at=now):
                continue
            if event.is_online:
                freeze_challenge(event)
        done += 1
    return done
