"""Surveys' cockpit figures (see ``sportsman.core.figures``): surveys opened, by the survey's
region and the local day it opened; and responses, by the respondent's home community (when
they answered) and the local day — anonymous ones too, counted from the "has answered" rows,
which say nothing of the answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from sportsman.core import figures
from sportsman.core.figures import Kind, Row
from sportsman.governance.models import Survey, SurveyParticipation

DOMAIN = "governance"


@figures.metric("surveys_opened", label=_("surveys opened"), kind=Kind.FLOW, domain=DOMAIN,
                order=130)
def surveys_opened(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(Survey.objects.exclude(opened_at=None), at="opened_at",
                           region="region_id", value=Count("id"), start=start, end=end)


@figures.metric("survey_responses", label=_("survey responses"), kind=Kind.FLOW, domain=DOMAIN,
                order=131)
def survey_responses(start: dt.date, end: dt.date) -> Iterator[Row]:
    return figures.per_day(SurveyParticipation.objects.all(), at="created_at",
                           region="community_id", value=Count("id"), start=start, end=end)
