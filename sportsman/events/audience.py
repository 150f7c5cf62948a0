"""The events' audience filter for staff campaigns (see ``notifications.audience``): those
holding a place in one event (registered or checked in; not the waitlist, not cancelled)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.events.models import HOLDS_PLACE, Event, Registration
from sportsman.notifications.audience import source


@source("event", label=_("registered for an event"))
def event_registrants(event_id: int) -> Q | None:
    if not Event.objects.filter(pk=event_id).exists():
        return None
    return Q(pk__in=Registration.objects.filter(event_id=event_id, status__in=HOLDS_PLACE)
             .values("user_id"))
