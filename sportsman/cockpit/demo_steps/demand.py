"""Demand for the demo city's cockpit (step 90, before the figures at 95).

The facilities step books only the slots people came to, so every demo slot is full and nobody
was ever turned away: demand analysis would have nothing to say. This step adds, from
``city.rng("cockpit demand")``:

- at "hot" venues with badminton courts (two, or one per 20 communities, each in another
  community), the first court drawn by lottery: its full slots of the last ``PAST_DAYS`` days
  become draws (the booking's holder the winner, several losers), and the coming weekday
  evenings get lottery slots with many more entries than places (not drawn yet);
- the other courts of the hot venues fully booked on the coming weekday evenings, with people
  waiting;
- people who waited in vain (expired waitlist entries) for past full slots: many at the hot
  venues, a few at evening slots elsewhere;
- searches that found nothing nearby: steady for one or two sports in a third of the
  communities, now and then elsewhere.

Only residents without a staff role take part, never the demo resident (whose bookings the
resident pages show). Past bookings and visits are not touched, so the year's exercise minutes
stay the published total.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.db.models import F
from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

PAST_DAYS = 60
AHEAD_DAYS = 7
EVENING_HOURS = (18, 19, 20)
HOT_VENUES_PER_COMMUNITIES = 20  # one hot venue per 20 communities, at least two
MISSED_SPORTS = ("swimming", "tennis", "badminton", "table-tennis")


@demo_step("cockpit demand", order=90)
def demand_step(city: DemoCity) -> None:
    from sportsman.facilities.models import Unit

    rng = city.rng("cockpit demand")
    people = _people()
    if not people:
        return
    today = timezone.localdate()
    courts = list(Unit.objects.filter(sport__slug="badminton", is_active=True)
                  .order_by("facility_id", "position", "id"))
    hot = _hot_units(rng, courts, max(2, len(city.communities) // HOT_VENUES_PER_COMMUNITIES))
    made = {"lottery_slots": 0, "lottery_entries": 0, "waitlist_entries": 0,
            "search_misses": 0}
    for lottery_unit, others in hot:
        _lottery(rng, lottery_unit, people, today, made)
        for unit in others:
            _full_evenings(rng, unit, people, today, made)
    _waited_in_vain(rng, {u.facility_id for u, _others in hot}, people, today, made)
    _search_misses(rng, city, today, made)
    city.made["demand"] = made


def _people() -> list[int]:
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_STAFF

    demo = crypto.keyed_hash(DEMO_STAFF[0][0])
    return list(User.objects.filter(role_assignments__isnull=True, is_active=True)
                .exclude(phone_hash=demo).order_by("pk").values_list("pk", flat=True))


def _hot_units(rng: random.Random, courts: list[Any], wanted: int
               ) -> list[tuple[Any, list[Any]]]:
    """Up to ``wanted`` venues with badminton courts, in different communities: (the court to
    draw by lottery, the venue's other courts)."""
    from sportsman.facilities.models import Facility

    by_venue: dict[int, list[Any]] = defaultdict(list)
    for unit in courts:
        by_venue[unit.facility_id].append(unit)
    region = dict(Facility.objects.filter(pk__in=by_venue).values_list("pk", "region_id"))
    venues = sorted(by_venue)
    rng.shuffle(venues)
    chosen: list[tuple[Any, list[Any]]] = []
    seen: set[int] = set()
    for venue in venues:
        if region[venue] in seen:
            continue
        seen.add(region[venue])
        first, *others = by_venue[venue]
        chosen.append((first, others))
        if len(chosen) == wanted:
            break
    return chosen


def _evenings(unit: Any, today: dt.date) -> list[dt.datetime]:
    """The starts of the unit's weekday evening slots in the coming ``AHEAD_DAYS`` days that
    lie within its venue's opening hours."""
    from sportsman.facilities.hours import aware
    from sportsman.facilities.models import OpeningRule

    rules = list(OpeningRule.objects.filter(facility_id=unit.facility_id))
    out = []
    for ahead in range(1, AHEAD_DAYS + 1):
        day = today + dt.timedelta(days=ahead)
        if day.weekday() >= 5:
            continue
        for hour in EVENING_HOURS:
            start, end = dt.time(hour), dt.time(hour + 1)
            if any(r.weekday == day.weekday() and r.opens <= start and end <= r.closes
                   for r in rules):
                out.append(aware(day, start))
    return out


def _new_slot(unit: Any, start: dt.datetime, **fields: Any) -> Any:
    from sportsman.facilities.models import Slot

    slot, _created = Slot.objects.get_or_create(
        unit=unit, start=start,
        defaults={"facility_id": unit.facility_id, "capacity": unit.capacity,
                  "end": start + dt.timedelta(minutes=unit.slot_minutes), **fields})
    return slot


def _lottery(rng: random.Random, unit: Any, people: list[int], today: dt.date,
             made: dict[str, int]) -> None:
    """The court is drawn by lottery: its recent full slots were draws, the coming weekday
    evenings are open to entries."""
    from sportsman.facilities.hours import aware
    from sportsman.facilities.models import (
        Booking,
        BookingMode,
        BookingStatus,
        LotteryEntry,
        Slot,
        SlotStatus,
    )

    unit.booking_mode = BookingMode.LOTTERY
    unit.save(update_fields=["booking_mode"])
    now = timezone.now()
    since = aware(today - dt.timedelta(days=PAST_DAYS), dt.time())
    past = list(Slot.objects.filter(unit=unit, start__gte=since, start__lt=now,
                                    status=SlotStatus.OPEN, booked__gte=F("capacity"))
                .order_by("start", "pk"))
    holders: dict[int, list[Any]] = defaultdict(list)
    for booking in (Booking.objects.filter(slot__in=past).exclude(status=BookingStatus.CANCELLED)
                    .order_by("pk")):
        holders[booking.slot_id].append(booking)
    entries = []
    for slot in past:
        winners = holders.get(slot.pk, [])
        if not winners:
            continue
        drawn = slot.start - dt.timedelta(hours=24)
        Slot.objects.filter(pk=slot.pk).update(
            mode=BookingMode.LOTTERY, draw_at=drawn, drawn_at=drawn,
            lottery_seed=f"{rng.getrandbits(128):032x}")
        Booking.objects.filter(pk__in=[b.pk for b in winners]).update(source="lottery")
        taken = {b.user_id for b in winners}
        entries += [LotteryEntry(slot=slot, user_id=b.user_id, is_winner=True, booking=b)
                    for b in winners]
        losers = [p for p in rng.sample(people, min(len(people), rng.randint(4, 12)))
                  if p not in taken]
        entries += [LotteryEntry(slot=slot, user_id=p, is_winner=False) for p in losers]
        made["lottery_slots"] += 1
    for start in _evenings(unit, today):
        slot = _new_slot(unit, start, mode=BookingMode.LOTTERY,
                         draw_at=start - dt.timedelta(hours=24))
        if slot.mode != BookingMode.LOTTERY or slot.booked:
            continue
        wanted = slot.capacity * rng.randint(3, 7)
        entries += [LotteryEntry(slot=slot, user_id=p)
                    for p in rng.sample(people, min(len(people), wanted))]
        made["lottery_slots"] += 1
    LotteryEntry.objects.bulk_create(entries, batch_size=BATCH)
    made["lottery_entries"] += len(entries)


def _full_evenings(rng: random.Random, unit: Any, people: list[int], today: dt.date,
                   made: dict[str, int]) -> None:
    """The court is fully booked on the coming weekday evenings, with people waiting."""
    from sportsman.facilities.models import Booking, BookingMode, WaitlistEntry

    waiting = []
    for start in _evenings(unit, today):
        slot = _new_slot(unit, start, mode=BookingMode.FIRST_COME)
        if slot.booked or slot.mode != BookingMode.FIRST_COME:
            continue
        picked = rng.sample(people, min(len(people), slot.capacity + rng.randint(1, 5)))
        holders, queue = picked[:slot.capacity], picked[slot.capacity:]
        Booking.objects.bulk_create([Booking(user_id=p, slot=slot, facility_id=slot.facility_id,
                                             start=slot.start, end=slot.end) for p in holders])
        type(slot).objects.filter(pk=slot.pk).update(booked=len(holders))
        waiting += [WaitlistEntry(slot=slot, user_id=p) for p in queue]
    WaitlistEntry.objects.bulk_create(waiting, batch_size=BATCH)
    made["waitlist_entries"] += len(waiting)


def _waited_in_vain(rng: random.Random, hot: set[int], people: list[int], today: dt.date,
                    made: dict[str, int]) -> None:
    """People who joined the waitlist of a past full slot and never got a place: many at the
    hot venues, a few at evening slots elsewhere."""
    from sportsman.facilities.hours import aware, local
    from sportsman.facilities.models import (
        Booking,
        BookingMode,
        BookingStatus,
        Slot,
        SlotStatus,
        WaitlistEntry,
    )

    since = aware(today - dt.timedelta(days=PAST_DAYS), dt.time())
    slots = list(Slot.objects.filter(start__gte=since, start__lt=timezone.now(),
                                     status=SlotStatus.OPEN, mode=BookingMode.FIRST_COME,
                                     booked__gte=F("capacity"))
                 .order_by("start", "pk"))
    holders: dict[int, set[int]] = defaultdict(set)
    for slot_id, user_id in (Booking.objects.filter(slot__in=slots)
                             .exclude(status=BookingStatus.CANCELLED)
                             .values_list("slot_id", "user_id")):
        holders[slot_id].add(user_id)
    entries = []
    for slot in slots:
        if slot.facility_id in hot:
            n = rng.randint(3, 8)
        elif local(slot.start).hour >= EVENING_HOURS[0]:
            n = rng.randint(0, 3)
        else:
            continue
        queue = [p for p in rng.sample(people, min(len(people), n)) if p not in holders[slot.pk]]
        entries += [WaitlistEntry(slot=slot, user_id=p, status=WaitlistEntry.Status.EXPIRED)
                    for p in queue]
    WaitlistEntry.objects.bulk_create(entries, batch_size=BATCH)
    made["waitlist_entries"] += len(entries)


def _search_misses(rng: random.Random, city: DemoCity, today: dt.date,
                   made: dict[str, int]) -> None:
    """Steady misses for one or two sports in a third of the communities (enough to speak),
    now and then one elsewhere (below the threshold)."""
    from sportsman.core.models import Sport
    from sportsman.facilities.models import SearchMiss

    sports = list(Sport.objects.filter(slug__in=MISSED_SPORTS).order_by("slug")
                  .values_list("pk", flat=True))
    communities = sorted(city.communities, key=lambda c: c.code)
    if not sports or not communities:
        return
    steady = set(c.pk for c in rng.sample(communities, max(2, len(communities) // 3)))
    counts: dict[tuple[dt.date, int, int], int] = defaultdict(int)
    for community in communities:
        wanted = rng.sample(sports, min(len(sports), rng.randint(1, 2)))
        for ago in range(PAST_DAYS):
            day = today - dt.timedelta(days=ago)
            for sport in wanted:
                if community.pk in steady:
                    counts[(day, community.pk, sport)] += rng.choice((0, 0, 1, 1, 2))
                elif rng.random() < 0.05:
                    counts[(day, community.pk, sport)] += 1
    rows = [SearchMiss(day=day, region_id=region, sport_id=sport, misses=n)
            for (day, region, sport), n in sorted(counts.items()) if n]
    SearchMiss.objects.bulk_create(rows, batch_size=BATCH)
    made["search_misses"] += sum(r.misses for r in rows)
