"""Scarce things under concurrent requests: a group session's places and an instructor's free
hour."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.instructors import booking
from sportsman.instructors.models import GuidanceBooking, GuidanceSession
from sportsman.instructors.tests.factories import make_instructor
from sportsman.instructors.tests.test_booking import DAY, NOW, at

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_racing_for_the_last_places_of_a_group_fills_it_exactly(tree):
    teacher = make_instructor(tree, max_group_size=4)
    first = booking.book(actor=tree.resident, instructor_id=teacher.pk, kind="group",
                         group_size=4, starts_at=at(DAY, 9), ends_at=at(DAY, 10), now=NOW)
    racers = [tree.user() for _ in range(12)]

    outcomes = _codes(race(lambda i: booking.book(actor=racers[i], instructor_id=teacher.pk,
                                                  session_id=first.session.pk, now=NOW),
                           len(racers)))

    assert outcomes == Counter({"ok": 3, "session_full": 9})
    session = GuidanceSession.objects.get(pk=first.session.pk)
    assert session.taken == session.capacity == 4
    assert GuidanceBooking.objects.filter(session=session, status="booked").count() == 4


def test_racing_for_one_free_hour_gives_it_to_one(tree):
    teacher = make_instructor(tree)
    racers = [tree.user() for _ in range(8)]

    outcomes = _codes(race(lambda i: booking.book(actor=racers[i], instructor_id=teacher.pk,
                                                  starts_at=at(DAY, 9), ends_at=at(DAY, 10),
                                                  now=NOW), len(racers)))

    assert outcomes == Counter({"ok": 1, "instructor_busy": 7})
    assert GuidanceSession.objects.filter(instructor=teacher).count() == 1
