"""Lottery slots: the draw is a pure function of a recorded seed (anyone can re-run it), and a
slot is drawn exactly once however many times — or how concurrently — the job runs."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sportsman.core import lottery
from sportsman.core.testing import failures, race
from sportsman.facilities import booking
from sportsman.facilities.models import (
    Booking,
    BookingMode,
    LotteryEntry,
    Slot,
    Unit,
)
from sportsman.facilities.tests.factories import make_facility
from sportsman.facilities.tests.test_booking import DAY, NOW, slot_at
from sportsman.notifications.models import Notification

LOTTERY_DAY = DAY + dt.timedelta(days=2)


def test_the_same_seed_and_entrants_give_the_same_winners():
    entrants = list(range(1, 41))
    first = lottery.draw("a1b2c3", entrants, 5)
    assert first == lottery.draw("a1b2c3", entrants, 5)
    assert len(set(first)) == 5 and set(first) <= set(entrants)
    assert lottery.draw("ffffff", entrants, 5) != first  # the seed matters
    assert lottery.draw("a1b2c3", entrants, 0) == [] and lottery.draw("x", [], 3) == []
    assert sorted(lottery.draw("a1b2c3", entrants, 99)) == entrants


def test_the_draw_depends_only_on_order_so_tokens_re_run_it():
    ids, tokens = [3, 8, 21, 40], ["q", "w", "e", "r"]
    winners = lottery.draw("seed", ids, 2)
    assert lottery.draw("seed", tokens, 2) == [tokens[ids.index(w)] for w in winners]


def _lottery_slot(tree, *, capacity: int = 2) -> Slot:
    venue = make_facility(tree.k2, opens=dt.time(8), closes=dt.time(12), unit_capacity=capacity)
    Unit.objects.filter(facility=venue).update(booking_mode=BookingMode.LOTTERY)
    return slot_at(venue, LOTTERY_DAY, 9)  # drawn a day before: after NOW


@pytest.mark.django_db
def test_winners_are_booked_losers_told_and_the_record_re_runs(tree,
                                                               django_capture_on_commit_callbacks):
    slot = _lottery_slot(tree, capacity=2)
    users = [tree.user() for _ in range(5)]
    for u in users:
        booking.enter_lottery(actor=u, slot_id=slot.pk, now=NOW)
    with pytest.raises(booking.AlreadyEntered):
        booking.enter_lottery(actor=users[0], slot_id=slot.pk, now=NOW)
    assert booking.draw_lottery(slot_id=slot.pk, now=NOW) is False  # not due yet
    with django_capture_on_commit_callbacks(execute=True):
        assert booking.draw_lottery(slot_id=slot.pk, now=slot.draw_at) is True

    slot.refresh_from_db()
    assert len(slot.lottery_seed) == 32 and slot.drawn_at == slot.draw_at
    expected = lottery.draw(slot.lottery_seed, sorted(u.pk for u in users), 2)
    winners = set(Booking.objects.filter(slot=slot, source="lottery")
                  .values_list("user_id", flat=True))
    assert winners == set(expected) and slot.booked == 2
    assert set(LotteryEntry.objects.filter(is_winner=True)
               .values_list("user_id", flat=True)) == winners
    assert LotteryEntry.objects.filter(is_winner=False).count() == 3
    assert Notification.objects.filter(category="booking").count() == 5

    record = booking.lottery_record(slot.pk)
    shuffled = list(record.entrants)
    random.Random(record.seed).shuffle(shuffled)
    assert shuffled[:record.places] == record.winners
    assert record.winners == [booking.entrant_token(slot.pk, uid) for uid in expected]
    assert str(users[0].pk) not in record.entrants

    assert booking.draw_lottery(slot_id=slot.pk, now=slot.draw_at) is False  # once
    assert Booking.objects.filter(slot=slot).count() == 2


@pytest.mark.django_db
def test_entries_close_at_the_draw_and_lottery_slots_cannot_be_booked(tree):
    slot = _lottery_slot(tree)
    user = tree.user()
    with pytest.raises(booking.LotterySlot):
        booking.book_slot(actor=user, slot_id=slot.pk, now=NOW)
    with pytest.raises(booking.LotteryClosed):
        booking.enter_lottery(actor=user, slot_id=slot.pk, now=slot.draw_at)
    with pytest.raises(booking.AccountInactive):
        booking.enter_lottery(actor=tree.user(is_active=False), slot_id=slot.pk, now=NOW)
    first_come = make_facility(tree.k1)
    with pytest.raises(booking.NotLottery):
        booking.enter_lottery(actor=user, slot_id=slot_at(first_come, DAY, 9).pk, now=NOW)
    assert not LotteryEntry.objects.exists()


@pytest.mark.django_db
def test_before_the_draw_the_record_shows_only_the_number_of_entries(tree):
    slot = _lottery_slot(tree)
    booking.enter_lottery(actor=tree.user(), slot_id=slot.pk, now=NOW)
    record = booking.lottery_record(slot.pk)
    assert record.entries == 1 and record.seed == "" and record.winners == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_draws_draw_once(tree):
    slot = _lottery_slot(tree, capacity=3)
    users = [tree.user() for _ in range(8)]
    for u in users:
        booking.enter_lottery(actor=u, slot_id=slot.pk, now=NOW)
    outcomes = race(lambda i: booking.draw_lottery(slot_id=slot.pk, now=slot.draw_at), 8)
    assert not failures(outcomes), failures(outcomes)
    assert outcomes.count(True) == 1
    slot.refresh_from_db()
    assert slot.booked == 3 == Booking.objects.filter(slot=slot).count()
    assert set(Booking.objects.values_list("user_id", flat=True)) == set(
        lottery.draw(slot.lottery_seed, sorted(u.pk for u in users), 3))
