"""Who hears of a new event: the residents of its eligible region (else its own region's
subtree) whose age (from the birth year), sex and — when the organiser asks for it — sports
interests match. ``announce`` runs after the publishing transaction has committed. Also the
events' audience filter for staff campaigns (``notifications.audience``): those holding a place
in one event (registered or checked in; not the waitlist, not cancelled)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.events.models import HOLDS_PLACE, Event, Registration
from sportsman.notifications.audience import source
from sportsman.regions.models import Region, subtree_q


def audience(event: Event) -> QuerySet[Any]:
    """The active residents the event is for (one query when evaluated)."""
    User = get_user_model()
    region_id = event.eligible_region_id or event.region_id
    path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first() or "-"
    qs = User.objects.filter(is_active=True).filter(subtree_q(path, "home_community"))
    year = event.starts_at.year
    if event.age_min is not None:
        qs = qs.filter(birth_year__lte=year - event.age_min)
    if event.age_max is not None:
        qs = qs.filter(birth_year__gte=year - event.age_max)
    if event.sex:
        qs = qs.filter(sex=event.sex)
    if event.target_interested and event.sport_id is not None:
        qs = qs.filter(interests=event.sport_id)
    return qs.order_by("pk")


def announce(event_id: int) -> int:
    """Tell the event's audience it is open (once per person: the dedupe key). Returns how
    many were told."""
    from sportsman.events.services import local_text
    from sportsman.notifications.services import notify

    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.qualifiers_only:
        return 0
    return notify(users=audience(event), category="event",
                  title=(_("New event: %(title)s") % {"title": event.title})[:120],
                  body=_("%(when)s · registration until %(closes)s")
                  % {"when": local_text(event.starts_at),
                     "closes": local_text(event.registration_closes_at)},
                  link=reverse("events:detail", args=[event.pk]),
                  dedupe_key=f"event:{event.pk}:announced", data={"event_id": event.pk})


@source("event", label=gettext_lazy("registered for an event"))
def event_registrants(event_id: int) -> Q | None:
    if not Event.objects.filter(pk=event_id).exists():
        return None
    return Q(pk__in=Registration.objects.filter(event_id=event_id, status__in=HOLDS_PLACE)
             .values("user_id"))
