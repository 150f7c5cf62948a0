"""Scarce places under concurrent requests (threads, each with its own connection; run on SQLite
and PostgreSQL): the last place is never given twice, a freed place promotes the waitlist once,
a team is never registered twice."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.events import services
from sportsman.events.models import Event, Registration, RegStatus
from sportsman.events.tests.factories import make_event

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_racing_for_the_last_place_never_exceeds_capacity(tree):
    event = make_event(tree.k2, capacity=3, has_waitlist=False)
    for _ in range(2):
        services.register(actor=tree.user(), event_id=event.pk)
    racers = [tree.user() for _ in range(40)]

    outcomes = _codes(race(lambda i: services.register(actor=racers[i], event_id=event.pk),
                           len(racers)))

    assert outcomes == Counter({"ok": 1, "event_full": 39})
    event.refresh_from_db()
    assert event.registered == event.capacity == 3
    assert Registration.objects.filter(event=event, status=RegStatus.REGISTERED).count() == 3


def test_racing_with_a_waitlist_queues_everyone_beyond_the_places(tree):
    event = make_event(tree.k2, capacity=5)
    racers = [tree.user() for _ in range(30)]

    outcomes = race(lambda i: services.register(actor=racers[i], event_id=event.pk),
                    len(racers))

    assert Counter(o.status for o in outcomes) == Counter({"registered": 5, "waitlisted": 25})
    assert Event.objects.get(pk=event.pk).registered == 5


def test_the_same_person_racing_registers_once(tree):
    event = make_event(tree.k2, capacity=50)
    me = tree.user()

    outcomes = _codes(race(lambda i: services.register(actor=me, event_id=event.pk), 12))

    assert outcomes == Counter({"ok": 1, "already_registered": 11})
    assert Event.objects.get(pk=event.pk).registered == 1


def test_the_same_cancellation_racing_promotes_the_waitlist_once(tree):
    event = make_event(tree.k2, capacity=1)
    holder, first, second = tree.user(), tree.user(), tree.user()
    held = services.register(actor=holder, event_id=event.pk)
    services.register(actor=first, event_id=event.pk)
    services.register(actor=second, event_id=event.pk)

    outcomes = _codes(race(lambda i: services.cancel_registration(actor=holder,
                                                                  registration_id=held.pk), 10))

    assert outcomes == Counter({"ok": 1, "invalid_transition": 9})
    assert list(Registration.objects.filter(event=event, status=RegStatus.REGISTERED)
                .values_list("user_id", "from_waitlist")) == [(first.pk, True)]
    assert Registration.objects.get(user=second).status == RegStatus.WAITLISTED
    assert Event.objects.get(pk=event.pk).registered == 1


def test_concurrent_cancellations_promote_each_waiting_person_exactly_once(tree):
    event = make_event(tree.k2, capacity=6)
    holders = [tree.user() for _ in range(6)]
    held = [services.register(actor=u, event_id=event.pk) for u in holders]
    waiting = [tree.user() for _ in range(4)]
    for u in waiting:
        services.register(actor=u, event_id=event.pk)

    race(lambda i: services.cancel_registration(actor=holders[i], registration_id=held[i].pk),
         6)

    promoted = Registration.objects.filter(event=event, from_waitlist=True)
    assert sorted(promoted.values_list("user_id", flat=True)) == sorted(u.pk for u in waiting)
    assert Event.objects.get(pk=event.pk).registered == 4
    assert not Registration.objects.filter(event=event, status=RegStatus.WAITLISTED).exists()


def test_a_team_is_never_registered_twice(tree):
    event = make_event(tree.k2, capacity=20, entry="team", team_min=1, team_max=5)
    captains = [tree.user() for _ in range(10)]

    outcomes = _codes(race(lambda i: services.register(actor=captains[i], event_id=event.pk,
                                                       team_name="湘城龙舟队"), len(captains)))

    assert outcomes == Counter({"ok": 1, "team_already_registered": 9})
    assert Registration.objects.filter(event=event, team_name="湘城龙舟队").count() == 1
    assert Event.objects.get(pk=event.pk).registered == 1


def test_one_member_on_racing_rosters_is_on_one_team(tree):
    event = make_event(tree.k2, capacity=20, entry="team", team_min=2, team_max=5)
    star = tree.user()
    captains = [tree.user() for _ in range(8)]

    outcomes = _codes(race(lambda i: services.register(
        actor=captains[i], event_id=event.pk, team_name=f"队{i}",
        members=[{"name": "明星", "phone": star.phone}]), len(captains)))

    assert outcomes == Counter({"ok": 1, "member_already_registered": 7})
    assert Event.objects.get(pk=event.pk).registered == 1
