"""Booking an instructor: free times from the calendar, one-to-one and group sessions, the court
booked in the same step (both or neither), the instructor's answer and cancelling."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core.errors import DomainError
from sportsman.facilities import booking as court
from sportsman.facilities.models import Booking, BookingStatus, Slot
from sportsman.facilities.tests.factories import make_facility
from sportsman.facilities.tests.test_booking import slot_at
from sportsman.instructors import booking, registry
from sportsman.instructors.models import (
    AvailabilityException,
    GuidanceBooking,
    GuidanceSession,
    SessionStatus,
)
from sportsman.instructors.registry import zone
from sportsman.instructors.tests.factories import make_instructor
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 10, tzinfo=zone())  # a Monday
DAY = dt.date(2026, 6, 2)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), zone())


def code(fn) -> str:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value.code


def test_a_one_to_one_booking_in_a_free_window_awaits_the_instructor(tree):
    teacher = make_instructor(tree)
    resident = tree.user(home_community=tree.k1, nickname="小李")

    made = booking.book(actor=resident, instructor_id=teacher.pk, starts_at=at(DAY, 9),
                        ends_at=at(DAY, 10), sport="badminton", now=NOW)

    session = made.session
    assert (session.status, session.capacity, session.taken) == ("pending", 1, 1)
    assert made.status == "booked"
    day = booking.availability(teacher, DAY, 1, now=NOW)[0]
    assert (at(DAY, 9), at(DAY, 10)) not in day.windows
    assert day.windows == [(at(DAY, 8), at(DAY, 9)), (at(DAY, 10), at(DAY, 20))]


def test_the_instructor_is_told_after_commit(tree, django_capture_on_commit_callbacks):
    teacher = make_instructor(tree)
    with django_capture_on_commit_callbacks(execute=True):
        booking.book(actor=tree.resident, instructor_id=teacher.pk, starts_at=at(DAY, 9),
                     ends_at=at(DAY, 10), now=NOW)
    assert Notification.objects.filter(user=teacher.user, category="instructor").count() == 1


def test_outside_the_windows_and_over_another_session_are_refused(tree):
    teacher = make_instructor(tree, windows=((8, 12),))
    assert code(lambda: booking.book(actor=tree.resident, instructor_id=teacher.pk,
                                     starts_at=at(DAY, 13), ends_at=at(DAY, 14),
                                     now=NOW)) == "instructor_unavailable"
    booking.book(actor=tree.resident, instructor_id=teacher.pk, starts_at=at(DAY, 9),
                 ends_at=at(DAY, 10), now=NOW)
    other = tree.user()
    assert code(lambda: booking.book(actor=other, instructor_id=teacher.pk,
                                     starts_at=at(DAY, 9, 30), ends_at=at(DAY, 10, 30),
                                     now=NOW)) == "instructor_busy"
    assert GuidanceSession.objects.count() == 1


def test_away_days_and_extra_windows_shape_the_calendar(tree):
    teacher = make_instructor(tree, windows=((8, 12),))
    AvailabilityException.objects.create(instructor=teacher, date=DAY)
    AvailabilityException.objects.create(instructor=teacher, date=DAY + dt.timedelta(days=1),
                                         starts=dt.time(9), ends=dt.time(10))
    AvailabilityException.objects.create(instructor=teacher, date=DAY + dt.timedelta(days=1),
                                         starts=dt.time(18), ends=dt.time(20), is_available=True)
    days = booking.availability(teacher, DAY, 2, now=NOW)
    assert days[0].windows == []
    nxt = DAY + dt.timedelta(days=1)
    assert days[1].windows == [(at(nxt, 8), at(nxt, 9)), (at(nxt, 10), at(nxt, 12)),
                               (at(nxt, 18), at(nxt, 20))]
    assert code(lambda: booking.book(actor=tree.resident, instructor_id=teacher.pk,
                                     starts_at=at(DAY, 9), ends_at=at(DAY, 10),
                                     now=NOW)) == "instructor_unavailable"
    assert booking.book(actor=tree.resident, instructor_id=teacher.pk, starts_at=at(nxt, 18),
                        ends_at=at(nxt, 19), now=NOW).session.status == "pending"


def test_the_past_of_today_is_not_free(tree):
    teacher = make_instructor(tree)
    today = NOW.astimezone(zone()).date()
    assert booking.availability(teacher, today, 1, now=NOW)[0].windows == [(NOW, at(today, 20))]


def test_others_join_a_group_session_until_it_is_full(tree):
    teacher = make_instructor(tree, max_group_size=4)
    first = booking.book(actor=tree.resident, instructor_id=teacher.pk, kind="group",
                         group_size=3, starts_at=at(DAY, 9), ends_at=at(DAY, 10), now=NOW)
    session_id = first.session.pk
    a, b, c = tree.user(), tree.user(), tree.user()
    booking.book(actor=a, instructor_id=teacher.pk, session_id=session_id, now=NOW)
    assert code(lambda: booking.book(actor=a, instructor_id=teacher.pk, session_id=session_id,
                                     now=NOW)) == "already_in_session"
    booking.book(actor=b, instructor_id=teacher.pk, session_id=session_id, now=NOW)
    assert code(lambda: booking.book(actor=c, instructor_id=teacher.pk, session_id=session_id,
                                     now=NOW)) == "session_full"
    assert GuidanceSession.objects.get(pk=session_id).taken == 3
    assert code(lambda: booking.book(actor=c, instructor_id=teacher.pk, kind="group",
                                     group_size=5, starts_at=at(DAY, 11), ends_at=at(DAY, 12),
                                     now=NOW)) == "group_size"


def test_a_one_to_one_session_cannot_be_joined(tree):
    teacher = make_instructor(tree)
    first = booking.book(actor=tree.resident, instructor_id=teacher.pk, starts_at=at(DAY, 9),
                         ends_at=at(DAY, 10), now=NOW)
    assert code(lambda: booking.book(actor=tree.user(), instructor_id=teacher.pk,
                                     session_id=first.session.pk, now=NOW)) == "session_full"


# --- the court in the same step ----------------------------------------------------------------


def test_a_court_is_booked_with_the_session(tree):
    teacher = make_instructor(tree)
    venue = make_facility(tree.k2, name="新南羽毛球馆")
    slot = slot_at(venue, DAY, 9)

    made = booking.book(actor=tree.resident, instructor_id=teacher.pk, starts_at=at(DAY, 9),
                        ends_at=at(DAY, 10), slot_id=slot.pk, now=NOW)

    held = Booking.objects.get(pk=made.session.facility_booking_id)
    assert (held.user_id, held.slot_id, held.status) == (tree.resident.pk, slot.pk, "booked")
    assert made.session.facility_id == venue.pk and made.session.place == "新南羽毛球馆"


def test_a_full_court_keeps_no_instructor_booking(tree):
    teacher = make_instructor(tree)
    venue = make_facility(tree.k2)
    slot = slot_at(venue, DAY, 9)
    court.book_slot(actor=tree.user(), slot_id=slot.pk, now=NOW)  # the only place

    assert code(lambda: booking.book(actor=tree.resident, instructor_id=teacher.pk,
                                     starts_at=at(DAY, 9), ends_at=at(DAY, 10), slot_id=slot.pk,
                                     now=NOW)) == "slot_full"
    assert not GuidanceSession.objects.exists() and not GuidanceBooking.objects.exists()
    # and the instructor's hour is still free
    assert (at(DAY, 8), at(DAY, 20)) in booking.availability(teacher, DAY, 1, now=NOW)[0].windows


def test_an_unavailable_instructor_keeps_no_court(tree):
    teacher = make_instructor(tree, windows=((14, 18),))
    venue = make_facility(tree.k2)
    slot = slot_at(venue, DAY, 9)

    assert code(lambda: booking.book(actor=tree.resident, instructor_id=teacher.pk,
                                     starts_at=at(DAY, 9), ends_at=at(DAY, 10), slot_id=slot.pk,
                                     now=NOW)) == "instructor_unavailable"
    slot.refresh_from_db()
    assert slot.booked == 0 and not Booking.objects.exists()


def test_a_failure_after_the_court_is_booked_gives_the_court_back(tree, monkeypatch):
    teacher = make_instructor(tree)
    venue = make_facility(tree.k2)
    slot = slot_at(venue, DAY, 9)
    original = court.book_slot

    def book_then_fail(**kwargs):
        original(**kwargs)
        raise booking.Busy()

    monkeypatch.setattr(court, "book_slot", book_then_fail)
    assert code(lambda: booking.book(actor=tree.resident, instructor_id=teacher.pk,
                                     starts_at=at(DAY, 9), ends_at=at(DAY, 10), slot_id=slot.pk,
                                     now=NOW)) == "instructor_busy"
    slot.refresh_from_db()
    assert slot.booked == 0 and not Booking.objects.exists()
    assert not GuidanceSession.objects.exists()


def test_a_slot_that_does_not_cover_the_session_is_refused(tree):
    teacher = make_instructor(tree)
    slot = slot_at(make_facility(tree.k2), DAY, 9)
    assert code(lambda: booking.book(actor=tree.resident, instructor_id=teacher.pk,
                                     starts_at=at(DAY, 9, 30), ends_at=at(DAY, 10, 30),
                                     slot_id=slot.pk, now=NOW)) == "slot_time_mismatch"
    assert Slot.objects.get(pk=slot.pk).booked == 0


# --- answers and cancelling ----------------------------------------------------------------------


def _booked_with_court(tree, teacher):
    slot = slot_at(make_facility(tree.k2), DAY, 9)
    made = booking.book(actor=tree.resident, instructor_id=teacher.pk, starts_at=at(DAY, 9),
                        ends_at=at(DAY, 10), slot_id=slot.pk, now=NOW)
    return made, slot


def test_the_resident_cancelling_a_one_to_one_cancels_session_and_court(tree):
    teacher = make_instructor(tree)
    made, slot = _booked_with_court(tree, teacher)

    booking.cancel_booking(actor=tree.resident, booking_id=made.pk, now=NOW)

    made.session.refresh_from_db()
    assert made.session.status == "cancelled" and made.session.taken == 0
    assert Booking.objects.get(pk=made.session.facility_booking_id).status == "cancelled"
    assert Slot.objects.get(pk=slot.pk).booked == 0
    assert booking.availability(teacher, DAY, 1, now=NOW)[0].windows == [(at(DAY, 8),
                                                                          at(DAY, 20))]


def test_the_instructor_declining_cancels_every_place_and_the_court(tree):
    teacher = make_instructor(tree)
    made, slot = _booked_with_court(tree, teacher)

    booking.decline(actor=teacher.user, session_id=made.session.pk, reason="临时有事", now=NOW)

    made.refresh_from_db()
    assert made.status == "cancelled" and made.cancelled_by_id == teacher.user_id
    assert Booking.objects.get(pk=made.session.facility_booking_id).status == BookingStatus.CANCELLED
    assert Slot.objects.get(pk=slot.pk).booked == 0
    assert code(lambda: booking.confirm(actor=teacher.user, session_id=made.session.pk)) \
        == "invalid_transition"


def test_only_the_sessions_instructor_answers_it(tree):
    teacher = make_instructor(tree)
    other = make_instructor(tree, name="李指导员")
    made = booking.book(actor=tree.resident, instructor_id=teacher.pk, starts_at=at(DAY, 9),
                        ends_at=at(DAY, 10), now=NOW)
    assert code(lambda: booking.confirm(actor=other.user, session_id=made.session.pk)) \
        == "session_not_found"
    assert code(lambda: booking.confirm(actor=tree.resident, session_id=made.session.pk)) \
        == "not_an_instructor"
    assert booking.confirm(actor=teacher.user, session_id=made.session.pk).status == "confirmed"
    assert code(lambda: booking.cancel_booking(actor=tree.user(), booking_id=made.pk,
                                               now=NOW)) == "guidance_booking_not_found"


def test_the_instructor_calls_off_a_confirmed_group_session(tree):
    teacher = make_instructor(tree)
    first = booking.book(actor=tree.resident, instructor_id=teacher.pk, kind="group",
                         group_size=3, starts_at=at(DAY, 9), ends_at=at(DAY, 10), now=NOW)
    joined = booking.book(actor=tree.user(), instructor_id=teacher.pk,
                          session_id=first.session.pk, now=NOW)
    booking.confirm(actor=teacher.user, session_id=first.session.pk)
    booking.cancel_session(actor=teacher.user, session_id=first.session.pk, now=NOW)
    assert set(GuidanceBooking.objects.values_list("status", flat=True)) == {"cancelled"}
    joined.refresh_from_db()
    assert joined.status == "cancelled"


def test_one_of_a_group_leaving_keeps_the_session(tree):
    teacher = make_instructor(tree)
    first = booking.book(actor=tree.resident, instructor_id=teacher.pk, kind="group",
                         group_size=3, starts_at=at(DAY, 9), ends_at=at(DAY, 10), now=NOW)
    other = tree.user()
    joined = booking.book(actor=other, instructor_id=teacher.pk, session_id=first.session.pk,
                          now=NOW)
    booking.cancel_booking(actor=other, booking_id=joined.pk, now=NOW)
    session = GuidanceSession.objects.get(pk=first.session.pk)
    assert (session.status, session.taken) == (SessionStatus.PENDING, 1)


def test_a_suspended_instructor_takes_no_bookings(tree):
    teacher = make_instructor(tree, region=tree.k2)
    registry.transition_instructor(access=_access(tree.town_admin), instructor_id=teacher.pk,
                                   to="suspended")
    assert code(lambda: booking.book(actor=tree.resident, instructor_id=teacher.pk,
                                     starts_at=at(DAY, 9), ends_at=at(DAY, 10),
                                     now=NOW)) == "instructor_not_found"


def _access(user):
    from sportsman.regions.access import access_for_user

    return access_for_user(user)
