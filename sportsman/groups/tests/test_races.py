"""Scarce things in groups under concurrent requests (threads, each with its own connection):
activity places and group seats never overfill, a waitlist promotion happens once, one person's
racing joins count once, a message resent in parallel is stored once."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.groups import activities, chat, services
from sportsman.groups.models import ChatMessage, Group, GroupActivity, Membership, Signup
from sportsman.groups.tests.fixtures import leader_of, make_activity, make_group, member, resident

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_racing_for_the_last_places_never_overfills(tree):
    group = make_group(tree)
    act = make_activity(group, capacity=3, waitlist=False)
    activities.sign_up(actor=member(tree, group), activity_id=act.pk)
    racers = [member(tree, group) for _ in range(30)]

    outcomes = _codes(race(lambda i: activities.sign_up(actor=racers[i], activity_id=act.pk),
                           len(racers)))

    assert outcomes == Counter({"ok": 2, "activity_full": 28})
    act.refresh_from_db()
    assert act.taken == 3 == Signup.objects.filter(activity=act, status="signed_up").count()


def test_racing_with_a_waitlist_gives_places_then_queue(tree):
    group = make_group(tree)
    act = make_activity(group, capacity=5)
    racers = [member(tree, group) for _ in range(25)]

    race(lambda i: activities.sign_up(actor=racers[i], activity_id=act.pk), len(racers))

    states = Counter(Signup.objects.filter(activity=act).values_list("status", flat=True))
    assert states == Counter({"signed_up": 5, "waiting": 20})
    act.refresh_from_db()
    assert act.taken == 5


def test_racing_cancellations_promote_each_waiting_person_once(tree):
    group = make_group(tree)
    act = make_activity(group, capacity=4)
    holders = [member(tree, group) for _ in range(4)]
    waiting = [member(tree, group) for _ in range(2)]
    for who in holders + waiting:
        activities.sign_up(actor=who, activity_id=act.pk)

    outcomes = _codes(race(lambda i: activities.cancel(actor=holders[i], activity_id=act.pk),
                           len(holders)))

    assert outcomes == Counter({"ok": 4})
    states = dict(Signup.objects.filter(activity=act, user__in=waiting)
                  .values_list("user_id", "status"))
    assert states == {w.pk: "signed_up" for w in waiting}
    act.refresh_from_db()
    assert act.taken == 2  # two places handed on, two given back


def test_the_same_cancellation_racing_promotes_once(tree):
    group = make_group(tree)
    act = make_activity(group, capacity=1)
    holder, first, second = member(tree, group), member(tree, group), member(tree, group)
    for who in (holder, first, second):
        activities.sign_up(actor=who, activity_id=act.pk)

    outcomes = _codes(race(lambda i: activities.cancel(actor=holder, activity_id=act.pk), 10))

    assert outcomes == Counter({"ok": 1, "not_signed_up": 9})
    states = dict(Signup.objects.filter(activity=act).values_list("user_id", "status"))
    assert states == {holder.pk: "cancelled", first.pk: "signed_up", second.pk: "waiting"}
    assert GroupActivity.objects.get(pk=act.pk).taken == 1


def test_racing_joins_never_pass_the_member_cap(tree):
    group = make_group(tree)
    Group.objects.filter(pk=group.pk).update(max_members=5)
    racers = [resident(tree) for _ in range(20)]

    outcomes = _codes(race(lambda i: services.join(actor=racers[i], group_id=group.pk),
                           len(racers)))

    assert outcomes == Counter({"ok": 4, "group_full": 16})
    group.refresh_from_db()
    assert group.members == 5 == Membership.objects.filter(group=group, status="active").count()


def test_one_persons_racing_joins_count_once(tree):
    group = make_group(tree)
    me = resident(tree)

    outcomes = _codes(race(lambda i: services.join(actor=me, group_id=group.pk), 8))

    assert outcomes["ok"] == 1 and outcomes["already_member"] == 7
    group.refresh_from_db()
    assert group.members == 2


def test_a_message_resent_in_parallel_is_stored_once(tree):
    group = make_group(tree)
    leader = leader_of(group)

    outcomes = race(lambda i: chat.send(actor=leader, group_id=group.pk, text="集合！",
                                        client_id="same-id"), 8)

    assert all(not isinstance(o, BaseException) for o in outcomes), outcomes
    assert sum(1 for _m, created in outcomes if created) == 1
    assert len({m.pk for m, _created in outcomes}) == 1
    assert ChatMessage.objects.count() == 1
