"""A survey's responses as a spreadsheet: one row per response, one column per question.

A named survey's rows say who answered (and who acted for them) and when; an anonymous one's say
only the day, in the responses' random order, so the file cannot be matched to who answered.
Staff of the survey's subtree only; every export is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from sportsman.core import audit, xlsx
from sportsman.governance.models import Survey, SurveyResponse
from sportsman.governance.surveys import answer_text, staff_survey


def _anonymous_rows(survey: Survey, questions: list[Any]) -> Iterator[list[Any]]:
    # ordered by the random key: neither the order nor a time links a row to a participation
    rows = (SurveyResponse.objects.filter(survey=survey).order_by("id")
            .values_list("submitted_on", "answers"))
    for n, (day, answers) in enumerate(rows.iterator(chunk_size=2000), 1):
        yield [n, day, *_cells(questions, answers)]


def _named_rows(survey: Survey, questions: list[Any]) -> Iterator[list[Any]]:
    rows = (SurveyResponse.objects.filter(survey=survey).select_related("user", "acted_by")
            .order_by("submitted_at", "id"))
    for n, r in enumerate(rows.iterator(chunk_size=2000), 1):
        yield [n, r.submitted_at, r.user_id, r.user.nickname if r.user else "",
               r.acted_by.nickname if r.acted_by else "", *_cells(questions, r.answers)]


def _cells(questions: list[Any], answers: dict) -> list[Any]:
    return [answer_text(q, answers.get(str(q.pk))) for q in questions]


def export(*, actor: Any, survey_id: int, request: Any = None) -> bytes:
    """The workbook of a survey of the actor's subtree (audited)."""
    survey = staff_survey(actor, survey_id)
    questions = list(survey.questions.all())
    prompts = [f"{q.position}. {q.prompt}" for q in questions]
    if survey.is_anonymous:
        headers = [_("No."), _("Day"), *prompts]
        rows = _anonymous_rows(survey, questions)
    else:
        headers = [_("No."), _("Submitted"), _("Resident ID"), _("Nickname"), _("Answered by"),
                   *prompts]
        rows = _named_rows(survey, questions)
    content = xlsx.workbook([(survey.title or "survey", headers, rows)])
    audit.record(actor=actor, action="governance.survey.export", obj=survey,
                 region=survey.region, request=request,
                 data={"anonymous": survey.is_anonymous, "responses": survey.responses})
    return content
