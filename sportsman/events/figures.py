"""Events' cockpit figures (see ``sportsman.core.figures``), by the event's region (the region
it belongs to: a city event counts at the city, a community's at the community), per local day
of the event's start:

- ``events_held``: published or finished offline events and challenges that started that day;
- ``event_registrations``: registrations made that day (cancelled ones too: demand), by the
  day they were made;
- ``event_participants``: people who took part — checked in at an offline event, or holding a
  place in a challenge — on the day it started;

and the demand signals: ``events_full`` (events that filled every place) and
``event_waitlist`` (people left waiting), by the sport and time band of the start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from sportsman.core import figures
from sportsman.core.figures import Kind, Role, Row, SignalRow
from sportsman.events.models import HOLDS_PLACE, Event, EventStatus, Mode, Registration, RegStatus

DOMAIN = "events"
HELD = (EventStatus.PUBLISHED, EventStatus.FINISHED)


@figures.metric("events_held", label=_("events held"), kind=Kind.FLOW, domain=DOMAIN,
                order=70)
def events_held(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Event.objects.filter(status__in=HELD), at="starts_at",
                           region="region_id", value=Count("id"), start=start, end=end)


@figures.metric("event_registrations", label=_("event registrations"), kind=Kind.FLOW,
                domain=DOMAIN, order=71)
def event_registrations(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Registration.objects.all(), at="created_at",
                           region="event__region_id", value=Count("id"), start=start, end=end)


@figures.metric("event_participants", label=_("event participants"), kind=Kind.FLOW,
                domain=DOMAIN, order=72)
def event_participants(start: dt.date, end: dt.date) -> Iterator[Row]:
    took_part = (Q(event__mode=Mode.OFFLINE, status=RegStatus.CHECKED_IN)
                 | Q(event__mode=Mode.ONLINE, status__in=HOLDS_PLACE))
    return figures.per_day(Registration.objects.filter(took_part, event__status__in=HELD),
                           at="event__starts_at", region="event__region_id", value=Count("id"),
                           start=start, end=end)


def _held(start: dt.date, end: dt.date) -> Q:
    since, until = figures.utc_bounds(start, end)
    return Q(status__in=HELD, starts_at__gte=since, starts_at__lt=until)


@figures.signal("events_full", label=_("full events"), role=Role.SIGN, domain=DOMAIN, order=50,
                phrase=ngettext_lazy("%(count)d full event", "%(count)d full events", "count"))
def events_full(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    rows = (Event.objects.filter(_held(start, end), registered__gte=1)
            .values_list("region_id", "starts_at", "sport__slug", "registered", "capacity"))
    return figures.banded((r, at, sport, int(n >= cap)) for r, at, sport, n, cap in rows)


@figures.signal("event_waitlist", label=_("left on an event's waitlist"),
                role=Role.TURNED_AWAY, domain=DOMAIN, order=51,
                phrase=ngettext_lazy("%(count)d left on an event's waitlist",
                                     "%(count)d left on events' waitlists", "count"))
def event_waitlist(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    rows = (Event.objects.filter(_held(start, end))
            .annotate(n=Count("registrations",
                              filter=Q(registrations__status=RegStatus.WAITLISTED)))
            .filter(n__gt=0).values_list("region_id", "starts_at", "sport__slug", "n"))
    return figures.banded(rows)
