"""Deliberation under concurrent requests (threads, each with its own connection): one
resident voting from two sessions at once counts once, racing supporters move the counter
exactly, and closing while votes arrive freezes a result that matches the stored votes."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.governance import deliberation
from sportsman.governance.models import Topic, TopicSupport, Vote
from sportsman.governance.tests.fixtures_deliberation import open_topic, proposal, resident

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_one_resident_voting_from_two_sessions_at_once_counts_once(tree):
    topic = open_topic(tree)
    me = resident(tree)
    choices = ["support", "oppose"] * 4

    outcomes = _codes(race(lambda i: deliberation.vote(actor=me, topic_id=topic.pk,
                                                       choice=choices[i]), len(choices)))

    assert outcomes == Counter({"ok": len(choices)})
    assert Vote.objects.filter(topic=topic).count() == 1
    counts = deliberation.live_counts(topic.pk)
    assert sum(counts.values()) == 1


def test_racing_supporters_count_exactly_and_the_threshold_is_stamped_once(tree):
    topic = proposal(tree, threshold=5)
    fans = [resident(tree) for _ in range(12)]

    outcomes = _codes(race(lambda i: deliberation.support(actor=fans[i], topic_id=topic.pk),
                           len(fans)))

    assert outcomes == Counter({"ok": 12})
    topic.refresh_from_db()
    assert topic.supporters == 12 == TopicSupport.objects.filter(topic=topic).count()
    assert topic.threshold_reached_at is not None


def test_closing_while_votes_arrive_freezes_what_was_stored(tree):
    topic = open_topic(tree)
    voters = [resident(tree) for _ in range(10)]

    def act(i: int):
        if i == len(voters):
            return deliberation.close_topic(actor=tree.town_admin, topic_id=topic.pk)
        return deliberation.vote(actor=voters[i], topic_id=topic.pk, choice="support")

    outcomes = _codes(race(act, len(voters) + 1))

    assert set(outcomes) <= {"ok", "vote_closed"}
    topic = Topic.objects.get(pk=topic.pk)
    assert topic.status == "closed"
    assert topic.votes_support == Vote.objects.filter(topic=topic).count()
    assert topic.votes_support == outcomes["ok"] - 1  # the close itself is one "ok"
