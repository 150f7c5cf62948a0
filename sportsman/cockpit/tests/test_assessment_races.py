"""Assessments under concurrent requests (racing threads, each with its own connection): a draft
is published once, a score racing a publication either lands before it or is refused, and two
assessors opening the same period make one assessment."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.cockpit import assessment as svc
from sportsman.cockpit.models.assessment import Assessment, ItemScore
from sportsman.cockpit.tests.scope_cases_assessment import (
    configure,
    put_figures,
    t1_assessment,
    this_month,
)
from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry, DomainEvent
from sportsman.core.testing import race
from sportsman.notifications.models import Notification
from sportsman.regions.access import access_for_user

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


def test_concurrent_publishes_publish_once(tree):
    a = t1_assessment(tree, scored={"k1": 8, "k2": 6})
    actors = [tree.town_admin, tree.district_admin, tree.city_admin]

    outcomes = _codes(race(lambda i: svc.publish(actor=access_for_user(actors[i % 3]),
                                                 assessment_id=a.pk), 4))

    assert outcomes == Counter({"ok": 1, "assessment_state": 3})
    assert Assessment.objects.get(pk=a.pk).status == "published"
    assert AuditEntry.objects.filter(action="assessment.publish").count() == 1
    assert DomainEvent.objects.filter(name="cockpit.assessment.published").count() == 1
    assert Notification.objects.filter(dedupe_key__startswith="assessment:").count() == 2


def test_a_score_racing_the_publication_lands_before_it_or_not_at_all(tree):
    a = t1_assessment(tree, scored={"k1": 8, "k2": 6})
    item = a.items.get(kind="manual")

    def act(i: int):
        actor = access_for_user(tree.town_admin)
        if i == 0:
            return svc.publish(actor=actor, assessment_id=a.pk)
        return svc.enter_scores(actor=actor, assessment_id=a.pk,
                                scores=[svc.ScoreInput(tree.k1.pk, item.pk, 2)])

    outcomes = race(act, 2)

    published = Assessment.objects.get(pk=a.pk)
    assert not isinstance(outcomes[0], BaseException) and published.status == "published"
    cell = ItemScore.objects.get(item=item, entry__region=tree.k1)
    entry = published.entries.get(region=tree.k1)
    if isinstance(outcomes[1], BaseException):
        assert isinstance(outcomes[1], svc.AssessmentState)
        assert cell.points == 8
    else:  # it came first: the publication includes it, totals and all
        assert cell.points == 2 and cell.entered_at <= published.published_at
    assert entry.total == sum(c.points or 0 for c in entry.scores.all())


def test_two_assessors_opening_the_same_period_make_one_assessment(tree):
    put_figures(tree)
    configure(tree)
    actors = [tree.town_admin, tree.district_admin, tree.city_admin]

    outcomes = _codes(race(lambda i: svc.create_assessment(
        actor=access_for_user(actors[i]), region=tree.t1, period=this_month(),
        manual_items=[]), 3))

    assert outcomes == Counter({"ok": 1, "assessment_exists": 2})
    assert Assessment.objects.filter(region=tree.t1).count() == 1
