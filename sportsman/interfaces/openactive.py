"""OpenActive items from our public records (docs/openactive.md): facilities as ``FacilityUse``
(their bookable units embedded as ``IndividualFacilityUse``) and their ``Slot``s; sports groups
and public events as ``SessionSeries`` with their ``ScheduledSession``s.

Only what a resident sees on a public page goes out: names, descriptions, places, times,
capacities and prices. Never a person: no contact names or phone numbers, no members, no
leaders, no sign-ups (PIPL). Each builder reads one page of source rows with their relations in
a fixed number of queries and yields ``(item_id, data)``; ``feeds.sync`` diffs them against what
is published.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

CONTEXT = "https://openactive.io/"
ACTIVITY_LIST = "https://openactive.io/activity-list"
FACILITY_TYPES = "https://openactive.io/facility-types"
DATA_DIR = Path(__file__).resolve().parent / "data" / "openactive"
SHANGHAI = timezone.get_fixed_timezone(8 * 60)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Slots and sessions stay in the feeds until a day after they end; then they become deleted.
KEEP_AFTER_END = timedelta(days=1)

Item = tuple[str, dict[str, Any]]


@cache
def mapping() -> dict[str, Any]:
    with open(DATA_DIR / "mapping.json", encoding="utf-8") as f:
        return json.load(f)


def base() -> str:
    return str(settings.OPENACTIVE_BASE_URL)


def absolute(path: str) -> str:
    return base() + path


def item_url(kind: str, item_id: str) -> str:
    """The ``@id`` of an item: where it is described (its feed, keyed by id)."""
    return absolute(f"/openactive/{kind}/#{item_id}")


def publisher() -> dict[str, Any]:
    return {"@type": "Organization", "@id": absolute("/openactive/#publisher"),
            "name": str(settings.OPENACTIVE_PUBLISHER), "url": absolute("/")}


def when(dt: datetime) -> str:
    return dt.astimezone(SHANGHAI).isoformat(timespec="seconds")


def duration(start: datetime, end: datetime) -> str:
    minutes = max(0, int((end - start).total_seconds() // 60))
    return f"PT{minutes // 60}H{minutes % 60}M" if minutes % 60 else f"PT{minutes // 60}H"


def activity_concept(sport: Any) -> dict[str, Any] | None:
    """Our sport as an Activity List concept with its Chinese name; None when the sport has no
    physical-activity concept (mind sports)."""
    if sport is None:
        return None
    entry = mapping()["sports"].get(sport.slug)
    if not entry:
        return None
    return {"@type": "Concept", "@id": f"{ACTIVITY_LIST}#{entry[0]}", "prefLabel": sport.name_zh,
            "inScheme": ACTIVITY_LIST}


def _concept(entry: list[str], scheme: str, label: str) -> dict[str, Any]:
    return {"@type": "Concept", "@id": f"{scheme}#{entry[0]}", "prefLabel": label,
            "inScheme": scheme}


def facility_place(facility: Any) -> dict[str, Any]:
    # OpenActive's PostalAddress requires a postal code we do not keep: the place is given by
    # its coordinates, the Chinese address (in Chinese order) as the place's description.
    place = {"@type": "Place", "@id": absolute(reverse("facilities:facility", args=[facility.pk])),
             "name": facility.name,
             "geo": {"@type": "GeoCoordinates", "latitude": facility.lat,
                     "longitude": facility.lng}}
    if facility.address:
        place["description"] = facility.address
    return place


# --- facilities -------------------------------------------------------------------------------


def facility_uses(ids: list[int] | None = None) -> Iterator[Item]:
    """Every open or temporarily closed facility (a closed one is still a place to know of;
    its slots say whether it can be used)."""
    from sportsman.facilities.models import Facility, Unit

    qs = (Facility.objects.select_related("region")
          .prefetch_related("sports", "opening_rules",
                            Prefetch("units", Unit.objects.filter(is_active=True)
                                     .select_related("sport").order_by("position", "id")))
          .order_by("id"))
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    for facility in qs.iterator(chunk_size=500):
        yield f"facility-{facility.pk}", facility_use(facility)


def facility_use(facility: Any) -> dict[str, Any]:
    category = mapping()["categories"].get(facility.category, {})
    label = facility.get_category_display()
    activities = [c for c in (activity_concept(s) for s in facility.sports.all()) if c]
    if not activities and category.get("activity"):
        activities = [_concept(category["activity"], ACTIVITY_LIST, str(label))]
    url = absolute(reverse("facilities:facility", args=[facility.pk]))
    own_id = item_url("facility-uses", f"facility-{facility.pk}")
    data: dict[str, Any] = {
        "@context": CONTEXT, "@type": "FacilityUse", "@id": own_id,
        "identifier": f"facility-{facility.pk}", "url": url, "name": facility.name,
        "provider": publisher(), "location": facility_place(facility),
        "activity": activities,
    }
    if facility.description:
        data["description"] = facility.description
    if category.get("facility_type"):
        data["facilityType"] = [_concept(category["facility_type"], FACILITY_TYPES, str(label))]
    hours = [{"@type": "OpeningHoursSpecification",
              "dayOfWeek": [f"https://schema.org/{WEEKDAYS[rule.weekday]}"],
              "opens": rule.opens.strftime("%H:%M"), "closes": rule.closes.strftime("%H:%M")}
             for rule in facility.opening_rules.all()]
    if hours:
        data["hoursAvailable"] = hours
    units = []
    for unit in facility.units.all():
        unit_data: dict[str, Any] = {
            "@type": "IndividualFacilityUse", "@id": unit_url(facility.pk, unit.pk),
            "identifier": f"unit-{unit.pk}", "url": url, "name": unit.name,
            "provider": publisher(), "location": facility_place(facility),
            "activity": [c for c in [activity_concept(unit.sport)] if c] or activities,
        }
        if "facilityType" in data:
            unit_data["facilityType"] = data["facilityType"]
        units.append(unit_data)
    if units:
        data["individualFacilityUse"] = units
    return data


def unit_url(facility_id: int, unit_id: int) -> str:
    return item_url("facility-uses", f"facility-{facility_id}") + f"/unit-{unit_id}"


def slots(ids: list[int] | None = None) -> Iterator[Item]:
    """Slots of active units from a day ago to ``OPENACTIVE_SLOT_DAYS`` ahead."""
    from sportsman.facilities.models import Slot

    now = timezone.now()
    qs = (Slot.objects.filter(end__gte=now - KEEP_AFTER_END,
                              start__lt=now + timedelta(days=settings.OPENACTIVE_SLOT_DAYS),
                              unit__is_active=True)
          .select_related("unit").order_by("id"))
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    for slot in qs.iterator(chunk_size=2000):
        yield f"slot-{slot.pk}", slot_item(slot)


def slot_item(slot: Any) -> dict[str, Any]:
    remaining = 0 if slot.status == "closed" else max(0, slot.capacity - slot.booked)
    price = slot.unit.price_cents
    return {
        "@context": CONTEXT, "@type": "Slot", "@id": item_url("slots", f"slot-{slot.pk}"),
        "identifier": f"slot-{slot.pk}",
        "facilityUse": unit_url(slot.facility_id, slot.unit_id),
        "startDate": when(slot.start), "endDate": when(slot.end),
        "duration": duration(slot.start, slot.end),
        "maximumUses": slot.capacity, "remainingUses": remaining,
        "offers": [{"@type": "Offer", "@id": item_url("slots", f"slot-{slot.pk}") + "/offer",
                    "price": price / 100, "priceCurrency": "CNY"}],
    }


# --- sessions: groups and events --------------------------------------------------------------


def _free_offer(series_id: str) -> list[dict[str, Any]]:
    return [{"@type": "Offer", "@id": series_id + "/offer", "price": 0, "priceCurrency": "CNY"}]


def session_series(ids: list[str] | None = None) -> Iterator[Item]:
    """Active groups whose sport is a physical activity, and published offline events (the
    cancelled and finished ones too, as residents see them) of such a sport."""
    from sportsman.events.models import VISIBLE, Event
    from sportsman.groups.models import Group, GroupActivity

    since = timezone.now() - KEEP_AFTER_END
    groups = (Group.objects.filter(status="active").select_related("sport")
              .prefetch_related(Prefetch("activities", GroupActivity.objects
                                         .filter(ends_at__gte=since).order_by("starts_at", "id"),
                                         to_attr="feed_acts"))
              .order_by("id"))
    events = (Event.objects.filter(status__in=VISIBLE, mode="offline")
              .select_related("sport", "region", "facility__region").order_by("id"))
    if ids is not None:
        groups = groups.filter(pk__in=_pks(ids, "group"))
        events = events.filter(pk__in=_pks(ids, "event"))
    for group in groups.iterator(chunk_size=1000):
        activity = activity_concept(group.sport)
        # a series needs a place (coordinates) and something scheduled to be an opportunity
        if activity and group.lat is not None and group.lng is not None and group.feed_acts:
            yield f"group-{group.pk}", group_series(group, activity)
    for event in events.iterator(chunk_size=1000):
        activity = activity_concept(event.sport)
        if activity and event.facility_id:  # a place with coordinates
            yield f"event-{event.pk}", event_series(event, activity)


def _pks(ids: list[str], prefix: str) -> list[int]:
    return [int(i.split("-", 1)[1]) for i in ids if i.startswith(prefix + "-")]


def group_series(group: Any, activity: dict[str, Any]) -> dict[str, Any]:
    url = absolute(reverse("groups:detail", args=[group.pk]))
    own_id = item_url("session-series", f"group-{group.pk}")
    place: dict[str, Any] = {"@type": "Place", "name": group.name,
                             "geo": {"@type": "GeoCoordinates", "latitude": group.lat,
                                     "longitude": group.lng}}
    data: dict[str, Any] = {
        "@context": CONTEXT, "@type": "SessionSeries", "@id": own_id,
        "identifier": f"group-{group.pk}", "url": url, "name": group.name,
        "activity": [activity], "location": place,
        "organizer": {"@type": "Organization", "@id": url, "name": group.name, "url": url},
        "offers": _free_offer(own_id), "isAccessibleForFree": True,
        "subEvent": [_sub_event("scheduled-sessions", f"activity-{a.pk}", a.starts_at, a.ends_at)
                     for a in group.feed_acts],
    }
    if group.description:
        data["description"] = group.description
    return data


def _sub_event(kind: str, item_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """A session of a series, by reference: its full item is in the sessions feed."""
    return {"@type": "ScheduledSession", "@id": item_url(kind, item_id),
            "startDate": when(start), "endDate": when(end), "duration": duration(start, end)}


def event_place(event: Any) -> dict[str, Any]:
    return facility_place(event.facility)


def event_series(event: Any, activity: dict[str, Any]) -> dict[str, Any]:
    url = absolute(reverse("events:detail", args=[event.pk]))
    own_id = item_url("session-series", f"event-{event.pk}")
    organiser = (f"{event.organiser_kind}-{event.organiser_id}" if event.organiser_id
                 else f"event-{event.pk}")
    data: dict[str, Any] = {
        "@context": CONTEXT, "@type": "SessionSeries", "@id": own_id,
        "identifier": f"event-{event.pk}", "url": url, "name": event.title,
        "activity": [activity], "location": event_place(event),
        "organizer": {"@type": "Organization",
                      "@id": absolute(f"/openactive/#organizer-{organiser}"),
                      "name": event.organiser_name},
        "offers": _free_offer(own_id), "isAccessibleForFree": True,
        "subEvent": [_sub_event("scheduled-sessions", f"event-{event.pk}", event.starts_at,
                                event.ends_at)],
    }
    if event.description:
        data["description"] = event.description
    if event.age_min or event.age_max:
        data["ageRange"] = {"@type": "QuantitativeValue",
                            **({"minValue": event.age_min} if event.age_min else {}),
                            **({"maxValue": event.age_max} if event.age_max else {})}
    if event.sex in ("m", "f"):
        data["genderRestriction"] = ("https://openactive.io/MaleOnly" if event.sex == "m"
                                     else "https://openactive.io/FemaleOnly")
    return data


STATUS = {"cancelled": "https://schema.org/EventCancelled"}


def scheduled_sessions(ids: list[str] | None = None) -> Iterator[Item]:
    """Each group activity of a published group series, and each published event's one
    occurrence, until a day after it ends."""
    from sportsman.events.models import VISIBLE, Event
    from sportsman.groups.models import GroupActivity

    since = timezone.now() - KEEP_AFTER_END
    acts = (GroupActivity.objects.filter(ends_at__gte=since, group__status="active",
                                         group__lat__isnull=False, group__lng__isnull=False)
            .select_related("group__sport").order_by("id"))
    events = (Event.objects.filter(status__in=VISIBLE, mode="offline", ends_at__gte=since,
                                   facility__isnull=False)
              .select_related("sport").order_by("id"))
    if ids is not None:
        acts = acts.filter(pk__in=_pks(ids, "activity"))
        events = events.filter(pk__in=_pks(ids, "event"))
    for act in acts.iterator(chunk_size=2000):
        if activity_concept(act.group.sport):
            yield f"activity-{act.pk}", activity_session(act)
    for event in events.iterator(chunk_size=1000):
        if activity_concept(event.sport):
            yield f"event-{event.pk}", event_session(event)


def activity_session(act: Any) -> dict[str, Any]:
    own_id = item_url("scheduled-sessions", f"activity-{act.pk}")
    return {
        "@context": CONTEXT, "@type": "ScheduledSession", "@id": own_id,
        "identifier": f"activity-{act.pk}",
        "superEvent": item_url("session-series", f"group-{act.group_id}"),
        "url": absolute(reverse("groups:activity", args=[act.pk])), "name": act.title,
        "startDate": when(act.starts_at), "endDate": when(act.ends_at),
        "duration": duration(act.starts_at, act.ends_at),
        "eventStatus": STATUS.get(act.status, "https://schema.org/EventScheduled"),
        "maximumAttendeeCapacity": act.capacity,
        "remainingAttendeeCapacity": max(0, act.capacity - act.taken),
    }


def event_session(event: Any) -> dict[str, Any]:
    return {
        "@context": CONTEXT, "@type": "ScheduledSession",
        "@id": item_url("scheduled-sessions", f"event-{event.pk}"),
        "identifier": f"event-{event.pk}",
        "superEvent": item_url("session-series", f"event-{event.pk}"),
        "url": absolute(reverse("events:detail", args=[event.pk])), "name": event.title,
        "startDate": when(event.starts_at), "endDate": when(event.ends_at),
        "duration": duration(event.starts_at, event.ends_at),
        "eventStatus": STATUS.get(event.status, "https://schema.org/EventScheduled"),
        "maximumAttendeeCapacity": event.capacity,
        "remainingAttendeeCapacity": max(0, event.capacity - event.registered),
    }


BUILDERS: dict[str, Callable[[], Iterator[Item]]] = {
    "facility-uses": facility_uses,
    "slots": slots,
    "session-series": session_series,
    "scheduled-sessions": scheduled_sessions,
}
