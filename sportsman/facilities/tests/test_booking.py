"""Booking a slot: slots made from opening hours, every refusal with its code and no write,
cancelling with the waitlist moving up, no-shows and suspensions across venues."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core.errors import DomainError
from sportsman.facilities import booking, hours
from sportsman.facilities.models import (
    Booking,
    BookingMode,
    BookingPolicy,
    BookingStatus,
    OpeningException,
    Slot,
    SlotStatus,
    Suspension,
    Unit,
    WaitlistEntry,
)
from sportsman.facilities.tests.factories import make_facility
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db

# A Monday, 10:00 in Jiaxing. Slots on DAY (Tuesday) are inside the 7-day window.
NOW = hours.aware(dt.date(2026, 6, 1), dt.time(10))
DAY = dt.date(2026, 6, 2)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return hours.aware(day, dt.time(hour, minute))


def slot_at(facility, day: dt.date, hour: int, *, unit: int = 0) -> Slot:
    """The slot of ``facility``'s ``unit``-th unit starting at ``hour`` on ``day`` (made if
    needed)."""
    booking.ensure_slots(facility, day)
    units = list(facility.units.order_by("position", "id"))
    return Slot.objects.get(unit=units[unit], start=at(day, hour))


def counts() -> tuple[int, int, int]:
    return (Booking.objects.count(), sum(Slot.objects.values_list("booked", flat=True)),
            WaitlistEntry.objects.count())


@pytest.fixture
def venue(tree):
    return make_facility(tree.k2, opens=dt.time(8), closes=dt.time(12), units=2)


@pytest.fixture
def other_venue(tree):
    return make_facility(tree.k3, name="湘城笼式足球场", opens=dt.time(8), closes=dt.time(12))


# --- slots -------------------------------------------------------------------------------------


def test_slots_follow_opening_hours_per_unit_and_are_made_once(venue):
    assert booking.ensure_slots(venue, DAY) == 8  # 2 units x 08-12 hourly
    assert booking.ensure_slots(venue, DAY) == 0
    starts = sorted({s.start for s in Slot.objects.filter(facility=venue)})
    assert starts == [at(DAY, h) for h in (8, 9, 10, 11)]
    assert all(s.end - s.start == dt.timedelta(hours=1) for s in Slot.objects.all())


def test_split_hours_and_a_step_past_closing_make_no_slot(tree):
    facility = make_facility(tree.k2, opens=dt.time(6), closes=dt.time(7, 30), slot_minutes=60)
    facility.opening_rules.create(weekday=DAY.weekday(), opens=dt.time(17, 30),
                                  closes=dt.time(19))
    booking.ensure_slots(facility, DAY)
    assert [s.start for s in Slot.objects.order_by("start")] == [at(DAY, 6), at(DAY, 17, 30)]


def test_a_closed_day_and_an_inactive_unit_make_no_slots(venue):
    OpeningException.objects.create(facility=venue, start_date=DAY, end_date=DAY,
                                    is_closed=True, reason="校运会")
    assert booking.ensure_slots(venue, DAY) == 0
    Unit.objects.filter(facility=venue).update(is_active=False)
    assert booking.ensure_slots(venue, DAY + dt.timedelta(days=1)) == 0


def test_a_lottery_unit_makes_lottery_slots_drawn_before_the_start(venue):
    Unit.objects.filter(facility=venue, position=1).update(booking_mode=BookingMode.LOTTERY)
    BookingPolicy.objects.create(facility=venue, lottery_draw_hours=6)
    slot = slot_at(venue, DAY, 9, unit=1)
    assert slot.mode == BookingMode.LOTTERY
    assert slot.draw_at == at(DAY, 3)
    assert slot_at(venue, DAY, 9, unit=0).draw_at is None


def test_slot_statuses_tell_what_a_resident_can_do(venue, tree):
    BookingPolicy.objects.create(facility=venue, window_days=1, window_opens_at=dt.time(12))
    booking.ensure_slots(venue, DAY)
    full = slot_at(venue, DAY, 9)
    Slot.objects.filter(pk=full.pk).update(booked=1)
    Slot.objects.filter(pk=slot_at(venue, DAY, 10).pk).update(status=SlotStatus.CLOSED)

    before = {(v.unit_name, v.start.hour): v.status
              for v in booking.slots_for(venue, DAY, now=NOW)}  # window opens today 12:00
    assert set(before.values()) == {"not_yet_open", "closed"}
    later = {(v.unit_name, hours.local(v.start).hour): v.status
             for v in booking.slots_for(venue, DAY, now=at(DAY, 9, 30))}
    assert later[("1号场", 8)] == "past"
    assert later[("1号场", 9)] == "past"
    assert later[("1号场", 10)] == "closed"
    assert later[("1号场", 11)] == "open"
    during = {(v.unit_name, hours.local(v.start).hour): v
              for v in booking.slots_for(venue, DAY, now=at(dt.date(2026, 6, 1), 13))}
    assert during[("1号场", 9)].status == "full" and during[("1号场", 9)].places_left == 0
    assert during[("2号场", 9)].status == "open"


def test_slots_for_makes_the_slots_of_a_day_inside_the_window(venue):
    assert [v.start for v in booking.slots_for(venue, DAY, now=NOW)][:1] == [at(DAY, 8)]
    far = DAY + dt.timedelta(days=30)
    assert booking.slots_for(venue, far, now=NOW) == []
    assert not Slot.objects.filter(start__date__gte=far - dt.timedelta(days=1)).exists()


# --- policy in force ---------------------------------------------------------------------------


def test_window_opens_window_days_before_at_the_opening_time(venue):
    slot = slot_at(venue, DAY + dt.timedelta(days=7), 9)  # next Tuesday
    opens = at(DAY, 8)  # 7 days before, 08:00
    with pytest.raises(booking.OutsideWindow) as err:
        booking.book_slot(actor=_resident(), slot_id=slot.pk, now=opens - dt.timedelta(minutes=1))
    assert err.value.code == "outside_window"
    assert booking.book_slot(actor=_resident(), slot_id=slot.pk, now=opens).status == "booked"


def _resident(**extra):
    from sportsman.accounts.models import User

    n = User.objects.count()
    return User.objects.create_user(str(13900000000 + n), "pw-123456789", **extra)


# --- refusals: a clear code, nothing written ----------------------------------------------------


@pytest.fixture
def resident(tree):
    return tree.user(home_community=tree.k2, nickname="booker")


def test_unknown_slot_is_404_slot_not_found(resident):
    before = counts()
    with pytest.raises(booking.SlotNotFound) as err:
        booking.book_slot(actor=resident, slot_id=987654, now=NOW)
    assert err.value.status == 404 and err.value.code == "slot_not_found"
    assert counts() == before


@pytest.mark.parametrize("case", ["past", "closed", "outside_window", "lottery"])
def test_slot_that_cannot_be_booked_is_refused_with_its_code(venue, resident, case):
    slot = slot_at(venue, DAY, 9)
    now = NOW
    expected = {"past": "slot_past", "closed": "slot_closed", "outside_window": "outside_window",
                "lottery": "lottery_slot"}[case]
    if case == "past":
        now = at(DAY, 9, 5)
    elif case == "closed":
        Slot.objects.filter(pk=slot.pk).update(status=SlotStatus.CLOSED)
    elif case == "outside_window":
        slot = slot_at(venue, DAY + dt.timedelta(days=10), 9)
    else:
        Slot.objects.filter(pk=slot.pk).update(mode=BookingMode.LOTTERY)
    before = counts()
    with pytest.raises(DomainError) as err:
        booking.book_slot(actor=resident, slot_id=slot.pk, now=now)
    assert err.value.code == expected
    assert counts() == before


def _book_hours(resident, venue, hours_: list[int], day: dt.date = DAY) -> list[Booking]:
    return [booking.book_slot(actor=resident, slot_id=slot_at(venue, day, h).pk, now=NOW)
            for h in hours_]


def test_over_the_active_limit_is_refused_and_nothing_written(venue, other_venue, resident):
    BookingPolicy.objects.create(region=venue.region.parent, max_active=2, max_per_day=5)
    _book_hours(resident, venue, [8])
    _book_hours(resident, other_venue, [9])  # another venue counts too
    before = counts()
    with pytest.raises(booking.OverActiveLimit) as err:
        booking.book_slot(actor=resident, slot_id=slot_at(venue, DAY, 11).pk, now=NOW)
    assert err.value.code == "over_active_limit"
    assert counts() == before


def test_over_the_daily_limit_is_refused_and_another_day_is_fine(venue, resident):
    BookingPolicy.objects.create(facility=venue, max_per_day=2, max_active=10)
    _book_hours(resident, venue, [8, 9])
    before = counts()
    with pytest.raises(booking.OverDailyLimit) as err:
        booking.book_slot(actor=resident, slot_id=slot_at(venue, DAY, 11).pk, now=NOW)
    assert err.value.code == "over_daily_limit"
    assert counts() == before
    assert _book_hours(resident, venue, [8], day=DAY + dt.timedelta(days=1))


def test_a_suspended_resident_is_refused(venue, resident):
    Suspension.objects.create(user=resident, until=NOW + dt.timedelta(days=3))
    before = counts()
    with pytest.raises(booking.Suspended) as err:
        booking.book_slot(actor=resident, slot_id=slot_at(venue, DAY, 9).pk, now=NOW)
    assert err.value.code == "suspended" and "until" in err.value.fields
    assert counts() == before


def test_a_lifted_or_ended_suspension_does_not_block(venue, resident, tree):
    Suspension.objects.create(user=resident, until=NOW - dt.timedelta(minutes=1))
    Suspension.objects.create(user=resident, until=NOW + dt.timedelta(days=3), lifted_at=NOW)
    assert _book_hours(resident, venue, [9])


def test_booking_the_same_slot_twice_is_refused(venue, resident):
    _book_hours(resident, venue, [9])
    before = counts()
    with pytest.raises(booking.AlreadyBooked) as err:
        booking.book_slot(actor=resident, slot_id=slot_at(venue, DAY, 9).pk, now=NOW)
    assert err.value.status == 409 and err.value.code == "already_booked"
    assert counts() == before


def test_second_booking_of_full_slot_is_refused_with_a_waitlist_offer(venue, resident, tree):
    slot = slot_at(venue, DAY, 9)
    _book_hours(resident, venue, [9])
    other = tree.user()
    before = counts()
    with pytest.raises(booking.SlotFull) as err:
        booking.book_slot(actor=other, slot_id=slot.pk, now=NOW)
    assert err.value.status == 409 and err.value.code == "slot_full"
    assert err.value.fields == {"waitlist": f"POST /api/v1/slots/{slot.pk}/waitlist"}
    assert counts() == before
    slot.refresh_from_db()
    assert slot.booked == slot.capacity == 1


def test_an_inactive_account_cannot_book(venue, tree):
    user = tree.user(is_active=False)
    with pytest.raises(booking.AccountInactive):
        booking.book_slot(actor=user, slot_id=slot_at(venue, DAY, 9).pk, now=NOW)
    assert Booking.objects.count() == 0


# --- cancelling and the waitlist ---------------------------------------------------------------


def test_cancelling_frees_the_place_for_the_first_on_the_waitlist(venue, resident, tree):
    slot = slot_at(venue, DAY, 9)
    (mine,) = _book_hours(resident, venue, [9])
    first, second = tree.user(), tree.user()
    booking.join_waitlist(actor=first, slot_id=slot.pk, now=NOW)
    booking.join_waitlist(actor=second, slot_id=slot.pk, now=NOW)
    assert booking.waiting_position(second, slot.pk) == 2

    with pytest.raises(booking.AlreadyWaiting):
        booking.join_waitlist(actor=first, slot_id=slot.pk, now=NOW)

    booking.cancel_booking(actor=resident, booking_id=mine.pk, now=NOW)

    mine.refresh_from_db()
    slot.refresh_from_db()
    assert mine.status == BookingStatus.CANCELLED and mine.cancelled_at == NOW
    promoted = Booking.objects.get(user=first, slot=slot)
    assert promoted.status == BookingStatus.BOOKED and promoted.source == "waitlist"
    assert slot.booked == 1
    entry = WaitlistEntry.objects.get(user=first)
    assert entry.status == WaitlistEntry.Status.PROMOTED and entry.booking == promoted
    assert WaitlistEntry.objects.get(user=second).status == WaitlistEntry.Status.WAITING
    assert booking.waiting_position(second, slot.pk) == 1


def test_the_promoted_resident_is_notified_on_commit(venue, resident, tree,
                                                     django_capture_on_commit_callbacks):
    slot = slot_at(venue, DAY, 9)
    (mine,) = _book_hours(resident, venue, [9])
    waiting = tree.user()
    booking.join_waitlist(actor=waiting, slot_id=slot.pk, now=NOW)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        booking.cancel_booking(actor=resident, booking_id=mine.pk, now=NOW)
    assert not Notification.objects.filter(user=waiting).exists()  # not before commit
    for callback in callbacks:
        callback()
    note = Notification.objects.get(user=waiting)
    assert note.category == "booking" and note.link.startswith("/me/bookings/")


def test_cancelling_inside_the_cancel_window_is_refused(venue, resident):
    (mine,) = _book_hours(resident, venue, [9])
    with pytest.raises(booking.CancelWindowClosed) as err:
        booking.cancel_booking(actor=resident, booking_id=mine.pk, now=at(DAY, 7, 1))
    assert err.value.code == "cancel_window_closed"
    mine.refresh_from_db()
    assert mine.status == BookingStatus.BOOKED
    assert Slot.objects.get(pk=mine.slot_id).booked == 1


def test_cancelling_twice_or_anothers_booking_is_refused(venue, resident, tree):
    (mine,) = _book_hours(resident, venue, [9])
    with pytest.raises(booking.BookingNotFound):
        booking.cancel_booking(actor=tree.user(), booking_id=mine.pk, now=NOW)
    booking.cancel_booking(actor=resident, booking_id=mine.pk, now=NOW)
    with pytest.raises(booking.InvalidTransition):
        booking.cancel_booking(actor=resident, booking_id=mine.pk, now=NOW)
    assert Slot.objects.get(pk=mine.slot_id).booked == 0


def test_the_waitlist_is_only_for_full_first_come_slots(venue, resident):
    slot = slot_at(venue, DAY, 9)
    with pytest.raises(booking.SlotNotFull):
        booking.join_waitlist(actor=resident, slot_id=slot.pk, now=NOW)
    _book_hours(resident, venue, [9])
    with pytest.raises(booking.AlreadyBooked):
        booking.join_waitlist(actor=resident, slot_id=slot.pk, now=NOW)
    with pytest.raises(booking.NotWaiting):
        booking.leave_waitlist(actor=resident, slot_id=slot.pk)


# --- the workflow ------------------------------------------------------------------------------


def test_check_in_then_complete_follow_the_transition_table(venue, resident):
    (mine,) = _book_hours(resident, venue, [9])
    with pytest.raises(booking.InvalidTransition):
        booking.mark_completed(mine)
    booking.mark_checked_in(mine, at=at(DAY, 9, 2))
    booking.mark_checked_in(mine)  # harmless repeat
    booking.mark_completed(mine)
    mine.refresh_from_db()
    assert mine.status == BookingStatus.COMPLETED and mine.checked_in_at == at(DAY, 9, 2)
    with pytest.raises(booking.InvalidTransition):
        booking.transition_booking(mine, BookingStatus.CANCELLED)


def test_a_stale_copy_cannot_apply_a_second_transition(venue, resident):
    (mine,) = _book_hours(resident, venue, [9])
    stale = Booking.objects.get(pk=mine.pk)
    booking.transition_booking(mine, BookingStatus.CANCELLED)
    with pytest.raises(booking.InvalidTransition):
        booking.transition_booking(stale, BookingStatus.CHECKED_IN)
    assert Booking.objects.get(pk=mine.pk).status == BookingStatus.CANCELLED


# --- no-shows and suspensions ------------------------------------------------------------------


def test_a_booking_not_checked_in_after_the_grace_time_is_a_no_show(venue, resident, tree):
    slot = slot_at(venue, DAY, 9)
    (mine,) = _book_hours(resident, venue, [9])
    waiting = tree.user()
    booking.join_waitlist(actor=waiting, slot_id=slot.pk, now=NOW)

    assert booking.release_no_shows(at(DAY, 9, 14)) == 0  # grace is 15 minutes
    assert booking.release_no_shows(at(DAY, 9, 15)) == 1
    assert booking.release_no_shows(at(DAY, 9, 16)) == 0  # once; the promoted one has grace

    mine.refresh_from_db()
    assert mine.status == BookingStatus.NO_SHOW
    # the place went to the waitlist while the slot still runs
    assert Booking.objects.get(user=waiting, slot=slot).source == "waitlist"
    assert Slot.objects.get(pk=slot.pk).booked == 1
    assert not Suspension.objects.exists()
    # the promoted resident's grace time runs from the promotion
    assert booking.release_no_shows(at(DAY, 9, 30)) == 1
    assert Slot.objects.get(pk=slot.pk).booked == 0


def test_a_checked_in_booking_is_never_a_no_show(venue, resident):
    (mine,) = _book_hours(resident, venue, [9])
    booking.mark_checked_in(mine, at=at(DAY, 9, 1))
    assert booking.release_no_shows(at(DAY, 10)) == 0
    assert Booking.objects.get(pk=mine.pk).status == BookingStatus.CHECKED_IN


def test_k_no_shows_across_two_venues_suspend_once(venue, other_venue, resident,
                                                   django_capture_on_commit_callbacks):
    BookingPolicy.objects.create(region=venue.region.parent.parent, noshow_limit=3,
                                 max_per_day=5, max_active=5, suspension_days=14)
    made = (_book_hours(resident, venue, [8, 11]) + _book_hours(resident, other_venue, [9]))
    with django_capture_on_commit_callbacks(execute=True):
        released = booking.release_no_shows(at(DAY, 12))
    assert released == 3
    assert Booking.objects.filter(status=BookingStatus.NO_SHOW).count() == 3
    suspension = Suspension.objects.get(user=resident)
    assert suspension.until == at(DAY, 12) + dt.timedelta(days=14)
    assert suspension.trigger_id in {b.pk for b in made}
    assert Notification.objects.filter(user=resident, category="booking").count() == 1
    assert booking.release_no_shows(at(DAY, 13)) == 0
    assert Suspension.objects.count() == 1

    with pytest.raises(booking.Suspended):
        booking.book_slot(actor=resident, slot_id=slot_at(venue, DAY + dt.timedelta(days=1),
                                                          9).pk, now=at(DAY, 12, 30))


def test_old_no_shows_outside_the_period_do_not_count(venue, resident):
    BookingPolicy.objects.create(facility=venue, noshow_limit=2, noshow_period_days=30,
                                 max_per_day=5)
    old = _book_hours(resident, venue, [8])[0]
    Booking.objects.filter(pk=old.pk).update(status=BookingStatus.NO_SHOW,
                                             start=NOW - dt.timedelta(days=40))
    _book_hours(resident, venue, [9])
    booking.release_no_shows(at(DAY, 12))
    assert not Suspension.objects.exists()


# --- the periodic jobs -------------------------------------------------------------------------


def test_the_daily_job_makes_slots_through_the_window_once(venue, other_venue):
    BookingPolicy.objects.create(facility=other_venue, window_days=2)
    made = booking.ensure_window(NOW, batch=1)  # batches of one facility: paging is exercised
    days = {v: sorted({hours.local(s.start).date()
                       for s in Slot.objects.filter(facility=v)}) for v in (venue, other_venue)}
    # today (10:00, after the 08:00 opening) through window_days ahead, plus one day ready
    assert days[venue] == [NOW.date() + dt.timedelta(days=d) for d in range(9)]
    assert days[other_venue] == [NOW.date() + dt.timedelta(days=d) for d in range(4)]
    assert made == Slot.objects.count() == 9 * 8 + 4 * 4
    assert booking.ensure_window(NOW) == 0


def test_booking_jobs_are_scheduled_and_run(venue, resident):
    from sportsman.core.scheduler import SCHEDULE, problems
    from sportsman.facilities import tasks

    names = {job.name for job in SCHEDULE}
    assert {"facilities.release_no_shows", "facilities.draw_due_lotteries",
            "facilities.ensure_booking_window"} <= names
    assert not [p for p in problems() if p.startswith("facilities.")]
    assert tasks.draw_due_lotteries.call() == 0
    assert tasks.release_no_shows.call() == 0
    assert tasks.ensure_booking_window.call() > 0
