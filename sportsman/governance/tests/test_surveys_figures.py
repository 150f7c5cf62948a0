"""The surveys' cockpit figures: surveys opened by region and day, responses by the
respondent's home community and day (anonymous ones included)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.core import figures
from sportsman.governance import surveys
from sportsman.governance.tests.fixtures_surveys import good_answers, make_survey, resident

pytestmark = pytest.mark.django_db


def _values(key: str, start: dt.date, end: dt.date) -> dict:
    metric = figures.get(key)
    assert metric is not None
    return {(r, d): v for r, d, v in metric.compute(start, end)}


def test_surveys_opened_and_responses_per_community_and_day(tree):
    named = make_survey(tree)
    anonymous = make_survey(tree, anonymous=True)
    make_survey(tree, open_=False)  # a draft is not counted
    for region in (tree.k1, tree.k2, tree.k2):
        person = resident(tree, region)
        for s in (named, anonymous):
            surveys.respond(actor=person, survey_id=s.pk, answers=good_answers(s))
    today = timezone.localdate()
    week = (today - dt.timedelta(days=3), today + dt.timedelta(days=3))

    assert _values("surveys_opened", *week) == {(tree.t1.pk, today): 2}
    assert _values("survey_responses", *week) == {(tree.k1.pk, today): 2, (tree.k2.pk, today): 4}
    yesterday = today - dt.timedelta(days=1)
    assert _values("survey_responses", yesterday, yesterday) == {}
