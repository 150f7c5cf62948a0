"""iCalendar (RFC 5545) documents: one event, and a person's feed of their registrations. Times
are written in Asia/Shanghai with its VTIMEZONE; UIDs are stable so calendar apps update an
event in place when it changes (SEQUENCE grows with each change, STATUS follows the event)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.events.models import LIVE, CalendarFeed, Event, EventStatus, Registration

PRODID = "-//Sportsman//Events//ZH"
CONTENT_TYPE = "text/calendar; charset=utf-8"


def _calendar(name: str) -> Any:
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    return cal


def _vevent(event: Event, *, host: str) -> Any:
    import icalendar

    tz = timezone.get_default_timezone()
    item = icalendar.Event()
    item.add("uid", f"event-{event.pk}@{host}")
    item.add("dtstamp", timezone.now().astimezone(dt.UTC))
    item.add("dtstart", event.starts_at.astimezone(tz))
    item.add("dtend", event.ends_at.astimezone(tz))
    item.add("summary", event.title)
    if event.description:
        item.add("description", event.description)
    where = (event.facility.name if event.facility_id and event.facility else event.place)
    if where:
        item.add("location", where)
    item.add("organizer", f"mailto:events@{host}", parameters={"CN": event.organiser_name})
    item.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    item.add("sequence", int(event.updated_at.timestamp()) // 60 % 2**31)
    item.add("last-modified", event.updated_at.astimezone(dt.UTC))
    item.add("url", f"https://{host}/events/{event.pk}/")
    return item


def document(events: Iterable[Event], *, name: str, host: str) -> bytes:
    cal = _calendar(name)
    for event in events:
        cal.add_component(_vevent(event, host=host))
    cal.add_missing_timezones()
    return cal.to_ical()


def event_ics(event: Event, *, host: str) -> bytes:
    return document([event], name=event.title, host=host)


def feed_token(user: Any) -> str:
    """The user's feed token, made on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(
        user_id=user.pk, defaults={"token": secrets.token_urlsafe(32)})
    return feed.token


def reset_feed_token(user: Any) -> str:
    """A new token: the old address stops working."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(user_id=user.pk, defaults={"token": token})
    return token


def feed_for_token(token: str, *, host: str) -> bytes | None:
    """The feed of the person holding ``token`` (None for an unknown one): their live
    registrations' events and those cancelled under them, one query."""
    if not 20 <= len(token) <= 64:
        return None
    feed = CalendarFeed.objects.filter(token=token).values_list("user_id", flat=True).first()
    if feed is None:
        return None
    events = (Event.objects.filter(registrations__user_id=feed,
                                   registrations__status__in=LIVE)
              .select_related("facility").distinct().order_by("starts_at", "id"))
    return document(events, name=str(_("Sportsman: my events")), host=host)


def registrations_count(user: Any) -> int:
    return Registration.objects.filter(user_id=user.pk, status__in=LIVE).count()
