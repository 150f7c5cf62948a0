"""Scarce things in volunteering under concurrent requests (threads, each with its own
connection): racing sign-ups never overfill an opportunity, and the leader approving the same
hours twice at once awards the volunteer points once."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.core.errors import DomainError
from sportsman.core.events import dispatch
from sportsman.core.testing import race
from sportsman.governance import volunteering as vol
from sportsman.governance.models import Opportunity, VolunteerSignup
from sportsman.governance.tests.fixtures_volunteering import (
    attended,
    leader_of,
    make_opportunity,
    make_team,
    member,
    volunteer_rule,
)
from sportsman.rewards.models import PointEntry
from sportsman.rewards.points import balance_of

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_racing_sign_ups_never_overfill_an_opportunity(tree):
    team = make_team(tree)
    opp = make_opportunity(team, capacity=3)
    vol.sign_up(actor=member(tree, team), opportunity_id=opp.pk)
    racers = [member(tree, team) for _ in range(20)]

    outcomes = _codes(race(lambda i: vol.sign_up(actor=racers[i], opportunity_id=opp.pk),
                           len(racers)))

    assert outcomes == Counter({"ok": 2, "volunteer_opportunity_full": 18})
    opp.refresh_from_db()
    assert opp.taken == 3 == VolunteerSignup.objects.filter(opportunity=opp).count()


def test_one_persons_racing_sign_ups_take_one_place(tree):
    team = make_team(tree)
    opp = make_opportunity(team, capacity=5)
    me = member(tree, team)

    outcomes = _codes(race(lambda i: vol.sign_up(actor=me, opportunity_id=opp.pk), 6))

    assert outcomes["ok"] == 1 and outcomes["already_volunteering"] == 5
    assert Opportunity.objects.get(pk=opp.pk).taken == 1


def test_volunteer_points_awarded_once_when_the_leader_approves_twice_at_once(tree):
    volunteer_rule(tree, points=10)
    team = make_team(tree)
    signup = attended(tree, team, minutes=120)
    leader = leader_of(team)

    outcomes = _codes(race(lambda i: vol.decide_hours(actor=leader, signup_id=signup.pk,
                                                      approve=True), 2))
    race(lambda i: dispatch(), 2)  # two dispatchers on the one event
    dispatch()

    assert outcomes == Counter({"ok": 1, "volunteer_hours_decided": 1})
    entries = list(PointEntry.objects.filter(user_id=signup.user_id, source="volunteer"))
    assert [e.amount for e in entries] == [20]
    assert balance_of(signup.user_id) == 20
