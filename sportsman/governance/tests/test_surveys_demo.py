"""The surveys of the small demo city: closed ones with responses, open ones the demo resident
can answer, anonymous answers without a name, counters agreeing with the rows."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_small_demo_city_has_answered_surveys():
    from django.db.models import Count

    from sportsman.accounts.models import User
    from sportsman.core import crypto, demo_city
    from sportsman.governance import surveys
    from sportsman.governance.models import Survey, SurveyParticipation, SurveyResponse

    city = demo_city.generate(scale="small", seed=3, progress=False)
    assert Survey.objects.count() == city.made["surveys"] >= 15
    assert Survey.objects.filter(status="closed").count() > Survey.objects.filter(
        status="open").count() > 0
    assert SurveyResponse.objects.count() == SurveyParticipation.objects.count() \
        == city.made["survey_responses"] > 100
    for s in Survey.objects.annotate(n=Count("participations")):
        assert s.responses == s.n
    assert not SurveyResponse.objects.filter(survey__is_anonymous=True, user__isnull=False
                                             ).exists()
    demo = User.objects.get(phone_hash=crypto.keyed_hash("13800000000"))
    mine = list(surveys.open_for(demo))
    assert mine and not any(s.answered for s in mine)
    closed = Survey.objects.filter(status="closed").exclude(responses=0).first()
    assert closed is not None and surveys.results(closed).responses == closed.responses
