"""One response per person, under concurrent submissions: the same resident answering from two
sessions at once stores one response, the other gets the stable conflict code."""

from __future__ import annotations

from collections import Counter

import pytest

from sportsman.core.errors import DomainError
from sportsman.core.testing import race
from sportsman.governance import surveys
from sportsman.governance.models import Survey, SurveyParticipation, SurveyResponse
from sportsman.governance.tests.fixtures_surveys import good_answers, make_survey, resident

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(outcomes: list) -> Counter:
    return Counter(o.code if isinstance(o, DomainError) else repr(o)
                   if isinstance(o, BaseException) else "ok" for o in outcomes)


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_same_resident_answering_twice_at_once_stores_one_response(tree, anonymous):
    person = resident(tree)
    survey = make_survey(tree, anonymous=anonymous)
    answers = good_answers(survey)

    outcomes = _codes(race(lambda i: surveys.respond(actor=person, survey_id=survey.pk,
                                                     answers=answers), 4))

    assert outcomes == Counter({"ok": 1, "survey_already_answered": 3})
    assert SurveyParticipation.objects.filter(user=person).count() == 1
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
    assert Survey.objects.get(pk=survey.pk).responses == 1


def test_many_residents_answering_at_once_are_all_counted(tree):
    people = [resident(tree) for _ in range(8)]
    survey = make_survey(tree)
    answers = good_answers(survey)

    outcomes = _codes(race(lambda i: surveys.respond(actor=people[i], survey_id=survey.pk,
                                                     answers=answers), len(people)))

    assert outcomes == Counter({"ok": 8})
    assert Survey.objects.get(pk=survey.pk).responses == 8 == SurveyResponse.objects.count()
