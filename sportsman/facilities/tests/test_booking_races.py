"""Scarce places under concurrent requests: racing threads, each with its own connection, never
overbook a slot, never pass a resident's limits, and promote a waitlist entry exactly once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.facilities import booking
from sportsman.facilities.models import Booking, BookingPolicy, BookingStatus, Slot, WaitlistEntry
from sportsman.facilities.tests.factories import make_facility
from sportsman.facilities.tests.test_booking import DAY, NOW, slot_at

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    """Outcomes by error code; "ok" for a result; any other exception by its repr (which no
    expectation below contains, so it fails the test)."""
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_racing_for_the_last_place_books_exactly_one(tree):
    venue = make_facility(tree.k2, unit_capacity=3)
    slot = slot_at(venue, DAY, 9)
    for _ in range(2):
        booking.book_slot(actor=tree.user(), slot_id=slot.pk, now=NOW)
    racers = [tree.user() for _ in range(55)]

    outcomes = _codes(race(lambda i: booking.book_slot(actor=racers[i], slot_id=slot.pk,
                                                       now=NOW), len(racers)))

    assert outcomes == Counter({"ok": 1, "slot_full": 54})
    slot.refresh_from_db()
    assert slot.booked == slot.capacity == 3
    assert Booking.objects.filter(slot=slot, status=BookingStatus.BOOKED).count() == 3


def test_one_residents_parallel_bookings_cannot_pass_the_active_limit(tree):
    venue = make_facility(tree.k2, opens=dt.time(6), closes=dt.time(22), units=2)
    BookingPolicy.objects.create(facility=venue, max_active=3, max_per_day=20)
    slots = [slot_at(venue, DAY, h, unit=u) for h in range(8, 14) for u in (0, 1)]
    me = tree.user()

    outcomes = _codes(race(lambda i: booking.book_slot(actor=me, slot_id=slots[i].pk, now=NOW),
                           len(slots)))

    assert outcomes == Counter({"ok": 3, "over_active_limit": len(slots) - 3})
    assert Booking.objects.filter(user=me).count() == 3


def test_one_residents_parallel_bookings_cannot_pass_the_daily_limit(tree):
    venue = make_facility(tree.k2, opens=dt.time(6), closes=dt.time(22))
    BookingPolicy.objects.create(facility=venue, max_active=20, max_per_day=2)
    slots = [slot_at(venue, DAY, h) for h in range(8, 18)]
    me = tree.user()

    outcomes = _codes(race(lambda i: booking.book_slot(actor=me, slot_id=slots[i].pk, now=NOW),
                           len(slots)))

    assert outcomes == Counter({"ok": 2, "over_daily_limit": 8})


def test_the_same_cancellation_racing_promotes_the_waitlist_once(tree):
    venue = make_facility(tree.k2)
    slot = slot_at(venue, DAY, 9)
    holder, first, second = tree.user(), tree.user(), tree.user()
    held = booking.book_slot(actor=holder, slot_id=slot.pk, now=NOW)
    booking.join_waitlist(actor=first, slot_id=slot.pk, now=NOW)
    booking.join_waitlist(actor=second, slot_id=slot.pk, now=NOW)

    outcomes = _codes(race(lambda i: booking.cancel_booking(actor=holder, booking_id=held.pk,
                                                            now=NOW), 12))

    assert outcomes == Counter({"ok": 1, "invalid_transition": 11})
    slot.refresh_from_db()
    assert slot.booked == 1
    assert list(Booking.objects.filter(slot=slot, status=BookingStatus.BOOKED)
                .values_list("user_id", "source")) == [(first.pk, "waitlist")]
    assert WaitlistEntry.objects.get(user=second).status == WaitlistEntry.Status.WAITING


def test_concurrent_cancellations_promote_each_waiting_resident_exactly_once(tree):
    venue = make_facility(tree.k2, unit_capacity=6)
    slot = slot_at(venue, DAY, 9)
    holders = [tree.user() for _ in range(6)]
    held = [booking.book_slot(actor=u, slot_id=slot.pk, now=NOW) for u in holders]
    waiting = [tree.user() for _ in range(2)]
    for u in waiting:
        booking.join_waitlist(actor=u, slot_id=slot.pk, now=NOW)
    late = [tree.user() for _ in range(4)]  # direct bookers racing for the freed places

    def act(i: int):
        if i < 6:
            return booking.cancel_booking(actor=holders[i], booking_id=held[i].pk, now=NOW)
        return booking.book_slot(actor=late[i - 6], slot_id=slot.pk, now=NOW)

    outcomes = _codes(race(act, 10))

    assert outcomes["ok"] >= 6 and set(outcomes) <= {"ok", "slot_full"}
    slot.refresh_from_db()
    live = Booking.objects.filter(slot=slot, status=BookingStatus.BOOKED)
    assert slot.booked == live.count() <= slot.capacity
    promoted = list(live.filter(source="waitlist").values_list("user_id", flat=True))
    assert len(promoted) == len(set(promoted))  # nobody promoted twice
    for entry in WaitlistEntry.objects.all():
        has = live.filter(user_id=entry.user_id).count()
        assert has == (1 if entry.status == WaitlistEntry.Status.PROMOTED else 0)
    # six places were freed and at most four direct bookers raced: both waiting got one
    assert sorted(promoted) == sorted(u.pk for u in waiting)
    assert Slot.objects.get(pk=slot.pk).booked == 2 + outcomes["ok"] - 6
