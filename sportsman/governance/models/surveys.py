"""Surveys (问卷调查): staff of a region build a questionnaire, target it (region subtree, age
band, sex, sport interest), open it for a time window and read the results.

One response per person per survey, for named and anonymous surveys alike, is held by
:class:`SurveyParticipation` ("has answered", unique per survey and user). The answers live in
:class:`SurveyResponse`: for a named survey it names the respondent (and who acted for them);
for an anonymous one it names nobody, carries only the day it came in, and has a random key, so
neither its order nor its time links it back to a participation row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel

__all__ = ["QuestionKind", "Survey", "SurveyParticipation", "SurveyQuestion", "SurveyResponse",
           "SurveyStatus"]


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("single choice")
    MULTIPLE = "multiple", _("multiple choice")
    TEXT = "text", _("text")
    RATING = "rating", _("rating")
    NUMBER = "number", _("number")
    MATRIX = "matrix", _("matrix")


class Survey(TimeStampedModel):
    """A questionnaire of ``region`` (its subtree's residents are the audience, narrowed by the
    targeting fields; an empty one does not narrow). Answerable while open and
    ``opens_at <= now < closes_at``."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    status = models.CharField(max_length=8, choices=SurveyStatus.choices,
                              default=SurveyStatus.DRAFT, db_index=True)
    target_sex = models.CharField(_("sex"), max_length=1, blank=True)
    target_age_min = models.PositiveSmallIntegerField(_("youngest age"), null=True, blank=True)
    target_age_max = models.PositiveSmallIntegerField(_("oldest age"), null=True, blank=True)
    target_sports = models.ManyToManyField("core.Sport", blank=True, related_name="+")
    responses = models.PositiveIntegerField(default=0)  # moved by one UPDATE per response
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(null=True, blank=True)  # its audience was told

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")),
                                   name="survey_closes_after_opening"),
        ]
        indexes = [models.Index(fields=["status", "closes_at"], name="survey_status_closes")]

    def __str__(self) -> str:
        return self.title


class SurveyQuestion(models.Model):
    """One question. ``choices``: the options of a choice question, the columns of a matrix;
    ``rows``: a matrix's rows; ``scale``: a rating's top (5 or 10); ``min_value``/``max_value``:
    a number's bounds (either may be open)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=QuestionKind.choices)
    prompt = models.CharField(max_length=200)
    is_required = models.BooleanField(default=True)
    choices = models.JSONField(default=list, blank=True)
    rows = models.JSONField(default=list, blank=True)
    scale = models.PositiveSmallIntegerField(null=True, blank=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["survey", "position"],
                                               name="survey_question_position")]

    def __str__(self) -> str:
        return self.prompt


class SurveyParticipation(models.Model):
    """Who has answered (one row per person and survey: the one-response rule), for whom
    someone acted, and the respondent's home community then (the cockpit counts by it)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    community = models.ForeignKey("regions.Region", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "user"],
                                               name="survey_one_response_per_person")]

    def __str__(self) -> str:
        return f"{self.user_id} answered {self.survey_id}"


class SurveyResponse(models.Model):
    """The answers, keyed by question id (``{"12": 0, "13": [1, 2], "14": {"0": 3}}``). Named
    surveys: ``user``, ``acted_by`` and ``submitted_at`` are set; anonymous: all three are
    empty and only ``submitted_on`` (a day) remains."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="answer_sets")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    answers = models.JSONField(default=dict)
    submitted_on = models.DateField()
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "user"],
                                               condition=Q(user__isnull=False),
                                               name="survey_response_one_named")]

    def __str__(self) -> str:
        return str(self.id)
