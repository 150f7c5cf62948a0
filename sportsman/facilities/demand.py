"""Facilities' demand signals (``sportsman.core.figures``, "demand signals"), per facility's
community, local day, sport of the unit and time band of the slot's start, for the slots the
venue kept open (a slot closed by the venue offers nothing and is left out):

- ``places_offered``: the places of the open slots;
- ``places_taken``: their bookings that were not cancelled (no-shows took a place too);
- ``waitlist_unmet``: per slot, the people who joined its waitlist and hold no booking of it
  (still waiting, gave up, or expired when the slot began);
- ``lottery_unmet``: per lottery slot, the entrants who got no place — after the draw the
  losers, before it the entries beyond the places left;
- ``slots_full``: slots with no place left (or, before a draw, with as many entries as places);
- ``search_misses``: searches for the sport near the community that found nothing within the
  distance asked (``search_misses``); not tied to a time of the week.

A ``POST /bookings`` refused with ``slot_full`` is not recorded: the waitlist it offers is the
record of that demand (a refused request may be retried many times; a waitlist entry is a
person). Imported by ``figures`` so the cockpit finds the signals with the metrics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from sportsman.core import figures
from sportsman.core.figures import ANY_TIME, Role, SignalRow
from sportsman.facilities.models import (
    Booking,
    BookingMode,
    BookingStatus,
    PublicHoliday,
    SearchMiss,
    Slot,
    SlotStatus,
    WaitlistEntry,
)

DOMAIN = "facilities"
SEARCH_MISS_THRESHOLD = 10  # searches in a region, for a sport, over the period


def _holidays(start: dt.date, end: dt.date) -> set[dt.date]:
    return set(PublicHoliday.objects.filter(date__range=(start, end))
               .values_list("date", flat=True))


def _open_slots(start: dt.date, end: dt.date, prefix: str = "") -> Q:
    since, until = figures.utc_bounds(start, end)
    return Q(**{f"{prefix}status": SlotStatus.OPEN, f"{prefix}start__gte": since,
                f"{prefix}start__lt": until})


SlotState = tuple[int, dt.datetime, str | None, int, int, str, dt.datetime | None, int, int]


def _slots(start: dt.date, end: dt.date) -> Iterator[SlotState]:
    """(region, start, sport, capacity, booked, mode, drawn at, lottery entries, winners) of
    the open slots of the range."""
    return iter(Slot.objects.filter(_open_slots(start, end))
                .annotate(entries=Count("lottery_entries"),
                          winners=Count("lottery_entries",
                                        filter=Q(lottery_entries__is_winner=True)))
                .values_list("facility__region_id", "start", "unit__sport__slug", "capacity",
                             "booked", "mode", "drawn_at", "entries", "winners"))


def lottery_unmet_of(*, capacity: int, booked: int, drawn: bool, entries: int,
                     winners: int) -> int:
    """Entrants of a lottery slot left without a place: the losers once drawn, else the entries
    beyond the places left."""
    return entries - winners if drawn else max(0, entries - (capacity - booked))


def is_full(*, capacity: int, booked: int, lottery: bool, drawn: bool, entries: int) -> bool:
    return booked >= capacity or (lottery and not drawn and entries >= capacity - booked)


@figures.signal("places_offered", label=_("places offered"), role=Role.OFFERED, domain=DOMAIN,
                order=10)
def places_offered(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    rows = (Slot.objects.filter(_open_slots(start, end))
            .values_list("facility__region_id", "start", "unit__sport__slug", "capacity"))
    return figures.banded(rows, holidays=_holidays(start, end))


@figures.signal("places_taken", label=_("places taken"), role=Role.TAKEN, domain=DOMAIN,
                order=11)
def places_taken(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    rows = (Booking.objects.filter(_open_slots(start, end, "slot__"))
            .exclude(status=BookingStatus.CANCELLED)
            .values("slot_id").annotate(n=Count("id"))
            .values_list("slot__facility__region_id", "slot__start", "slot__unit__sport__slug",
                         "n"))
    return figures.banded(rows, holidays=_holidays(start, end))


@figures.signal("waitlist_unmet", label=_("left on the waitlist"), role=Role.TURNED_AWAY,
                domain=DOMAIN, order=20,
                phrase=ngettext_lazy("%(count)d left on the waitlist",
                                     "%(count)d left on the waitlist", "count"))
def waitlist_unmet(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    holds = (Booking.objects.filter(slot_id=OuterRef("slot_id"), user_id=OuterRef("user_id"))
             .exclude(status=BookingStatus.CANCELLED))
    rows = (WaitlistEntry.objects.filter(_open_slots(start, end, "slot__"))
            .exclude(Exists(holds))
            .values("slot_id").annotate(n=Count("user_id", distinct=True))
            .values_list("slot__facility__region_id", "slot__start", "slot__unit__sport__slug",
                         "n"))
    return figures.banded(rows, holidays=_holidays(start, end))


@figures.signal("lottery_unmet", label=_("lottery entrants without a place"),
                role=Role.TURNED_AWAY, domain=DOMAIN, order=21,
                phrase=ngettext_lazy("%(count)d lottery entrant without a place",
                                     "%(count)d lottery entrants without a place", "count"))
def lottery_unmet(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    return figures.banded(
        ((region, at, sport, lottery_unmet_of(capacity=capacity, booked=booked,
                                              drawn=drawn_at is not None, entries=entries,
                                              winners=winners))
         for region, at, sport, capacity, booked, mode, drawn_at, entries, winners
         in _slots(start, end) if mode == BookingMode.LOTTERY),
        holidays=_holidays(start, end))


@figures.signal("slots_full", label=_("full slots"), role=Role.SIGN, domain=DOMAIN, order=15,
                phrase=ngettext_lazy("%(count)d full slot", "%(count)d full slots", "count"))
def slots_full(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    return figures.banded(
        ((region, at, sport, int(is_full(capacity=capacity, booked=booked,
                                         lottery=mode == BookingMode.LOTTERY,
                                         drawn=drawn_at is not None, entries=entries)))
         for region, at, sport, capacity, booked, mode, drawn_at, entries, _winners
         in _slots(start, end)),
        holidays=_holidays(start, end))


@figures.signal(
    "search_misses", label=_("searches that found nothing nearby"), role=Role.SIGN,
    domain=DOMAIN, order=40,
    phrase=ngettext_lazy("%(count)d search found nothing nearby",
                         "%(count)d searches found nothing nearby", "count"),
    threshold=SEARCH_MISS_THRESHOLD,
    sentence=_("%(period)s: %(count)d searches near %(region)s for a place to play %(sport)s "
               "found nothing within the distance asked"),
    advice=_("consider opening school sports grounds to residents or adding a place for it "
             "nearby"))
def search_misses(start: dt.date, end: dt.date) -> Iterator[SignalRow]:
    rows = (SearchMiss.objects.filter(day__range=(start, end), misses__gt=0)
            .values_list("region_id", "day", "sport__slug", "misses"))
    for region_id, day, sport, misses in rows:
        yield region_id, day, sport, ANY_TIME, misses
