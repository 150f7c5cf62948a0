"""等级评估 (rating of sports associations, DOMAIN.md §5): a season opened by a region's staff,
its rubric (indicators under the four 社团 groups, 1,000 points), the evaluations (one per
association and season) with the association's self-assessment, the assigned third-party
evaluators and their scores, the association's service projects with milestones and progress
records, rectification requests and an append-only timeline of every step."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.associations.models.registry import Association, Grade
from sportsman.core.models import TimeStampedModel

__all__ = [
    "RUBRIC_TOTAL",
    "Evaluation",
    "EvaluationSeason",
    "EvaluationStatus",
    "EvaluationStep",
    "EvaluatorAssignment",
    "Indicator",
    "IndicatorGroup",
    "Milestone",
    "ProgressFile",
    "ProgressRecord",
    "Rectification",
    "RectificationStatus",
    "Score",
    "SeasonStatus",
    "SelfScore",
    "ServiceProject",
    "TimelineStep",
]

RUBRIC_TOTAL = 1000


class IndicatorGroup(models.TextChoices):
    BASIC = "basic", _("basic conditions")  # 基础条件
    GOVERNANCE = "governance", _("internal governance")  # 内部治理
    PERFORMANCE = "performance", _("work performance")  # 工作绩效
    REPUTATION = "reputation", _("public reputation")  # 社会评价


class SeasonStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class EvaluationSeason(TimeStampedModel):
    """One year's evaluation of the associations of a region's subtree."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="evaluation_seasons")
    year = models.PositiveSmallIntegerField()
    title = models.CharField(_("title"), max_length=80)
    status = models.CharField(max_length=8, choices=SeasonStatus.choices,
                              default=SeasonStatus.OPEN)
    applications_open_on = models.DateField(_("applications open on"))
    applications_close_on = models.DateField(_("applications close on"))
    # Set by the first score: from then on the rubric is fixed (one conditional UPDATE).
    scoring_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="evaluation_season_once"),
            models.CheckConstraint(
                condition=Q(applications_close_on__gte=models.F("applications_open_on")),
                name="evaluation_season_window"),
        ]

    def __str__(self) -> str:
        return self.title


class Indicator(models.Model):
    season = models.ForeignKey(EvaluationSeason, on_delete=models.CASCADE,
                               related_name="indicators")
    group = models.CharField(max_length=12, choices=IndicatorGroup.choices)
    code = models.CharField(max_length=12)
    name = models.CharField(_("indicator"), max_length=120)
    max_points = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["season", "code"],
                                               name="indicator_code_once")]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("self-assessing")  # 自评
    APPLIED = "applied", _("applied")  # 申报
    ELIGIBLE = "eligible", _("eligible")  # 资格审查通过
    INELIGIBLE = "ineligible", _("not eligible")
    WITHDRAWN = "withdrawn", _("withdrawn")
    UNDER_REVIEW = "under_review", _("under review")  # 实地评估
    SCORED = "scored", _("first rating done")  # 初评
    FINALISED = "finalised", _("final rating done")  # 终评
    PUBLISHED = "published", _("published")  # 公示


class Evaluation(TimeStampedModel):
    season = models.ForeignKey(EvaluationSeason, on_delete=models.PROTECT,
                               related_name="evaluations")
    association = models.ForeignKey(Association, on_delete=models.PROTECT,
                                    related_name="evaluations")
    status = models.CharField(max_length=12, choices=EvaluationStatus.choices,
                              default=EvaluationStatus.DRAFT, db_index=True)
    self_total = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(null=True, blank=True)  # the evaluators' score
    grade = models.CharField(max_length=2, choices=Grade.choices, blank=True)
    eligibility_note = models.CharField(max_length=300, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["season", "association"],
                                               name="evaluation_once_per_season")]
        indexes = [models.Index(fields=["season", "status"], name="evaluation_season_status")]

    def __str__(self) -> str:
        return f"{self.association_id}@{self.season_id}"


class EvaluatorAssignment(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE,
                                   related_name="assignments")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="evaluation_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "evaluator"],
                                               name="evaluator_assigned_once")]

    def __str__(self) -> str:
        return f"{self.evaluator_id}@{self.evaluation_id}"


class SelfScore(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE,
                                   related_name="self_scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    points = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "indicator"],
                                               name="self_score_once")]

    def __str__(self) -> str:
        return f"{self.indicator_id}={self.points}"


class Score(models.Model):
    """The evaluators' score of one indicator, with its evidence (a note, an attachment)."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    points = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=500, blank=True)
    evidence = models.FileField(upload_to="associations/evidence/%Y/%m/", blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "indicator"],
                                               name="score_once")]

    def __str__(self) -> str:
        return f"{self.indicator_id}={self.points}"


class ServiceProject(TimeStampedModel):
    """A service project (服务项目) the association runs during the season; evaluators follow it."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="projects")
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE,
                                related_name="milestones")
    title = models.CharField(_("title"), max_length=80)
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class ProgressRecord(models.Model):
    project = models.ForeignKey(ServiceProject, on_delete=models.CASCADE, related_name="records")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="records")
    text = models.TextField(max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.text[:40]


class ProgressFile(models.Model):
    record = models.ForeignKey(ProgressRecord, on_delete=models.CASCADE, related_name="files")
    is_photo = models.BooleanField(default=False)
    file = models.FileField(upload_to="associations/progress/%Y/%m/")
    name = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return self.name or str(self.file.name)


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("awaiting rectification")
    ANSWERED = "answered", _("awaiting re-check")
    CLOSED = "closed", _("re-checked")


class Rectification(TimeStampedModel):
    """整改: what must be put right by when; the association answers, an evaluator re-checks
    (confirms, or re-scores and confirms) or sends it back."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE,
                                   related_name="rectifications")
    request = models.TextField(max_length=2000)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=RectificationStatus.choices,
                              default=RectificationStatus.OPEN, db_index=True)
    answer = models.TextField(max_length=2000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.evaluation_id}: {self.status}"


class TimelineStep(models.TextChoices):
    CREATED = "created", _("self-assessment begun")
    SELF_ASSESSED = "self_assessed", _("self-assessment saved")
    APPLIED = "applied", _("applied")
    WITHDRAWN = "withdrawn", _("withdrawn")
    ELIGIBLE = "eligible", _("found eligible")
    INELIGIBLE = "ineligible", _("found not eligible")
    ASSIGNED = "assigned", _("evaluator assigned")
    PROJECT = "project", _("service project added")
    RECORD = "record", _("progress recorded")
    MILESTONE_DONE = "milestone_done", _("milestone reached")
    SCORED = "scored", _("indicator scored")
    SUBMITTED = "submitted", _("first rating submitted")
    RETURNED = "returned", _("returned to the evaluators")
    FINALISED = "finalised", _("final rating")
    PUBLISHED = "published", _("published")
    RECTIFY = "rectify", _("rectification requested")
    RECTIFY_ANSWERED = "rectify_answered", _("rectification answered")
    RECHECKED = "rechecked", _("rectification re-checked")
    RECTIFY_REOPENED = "rectify_reopened", _("rectification sent back")


class EvaluationStep(models.Model):
    """The timeline: append-only, one row per step (no service updates or deletes them)."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=20, choices=TimelineStep.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField(db_index=True)
    note = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.evaluation_id}: {self.step}"
