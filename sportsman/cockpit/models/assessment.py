"""The composite sports index and the periodic assessments (考核). See docs/cockpit.md
("Assessments") and ``sportsman.cockpit.index`` / ``sportsman.cockpit.assessment``.

- ``IndexConfig``: one version of a city's index: weighted indicators (``IndexIndicator``), each a
  figure of the registry with a direction and a normalisation. Never edited: a change saves the
  next version, so an index or an assessment can always say what it was computed with.
- ``Assessment``: a region's assessment of its children for a month, quarter or year. Its items
  are copied in when it is created (the index's indicators as *data* items, plus *manual* items
  such as "组织保障" 10 分), so a later change of the index leaves it alone. A draft is scored
  and recomputed; publishing freezes it. A correction is a new *revision* (a draft copied from
  the published one); publishing the revision supersedes the old one, which stays as it was
  (ADR 0005).

The database holds what it can: one revision number per region and period, at most one draft
and one publication of a region and period at a time, a revision after the first names the one
it corrects, positive weights and maxima, non-negative points.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    HIGHER = "higher", _("higher is better")
    LOWER = "lower", _("lower is better")


class Normalisation(models.TextChoices):
    MINMAX = "minmax", _("between the lowest and the highest compared unit")
    TARGET = "target", _("against a target value")


class IndexConfig(models.Model):
    """One version of a city's composite sports index."""

    city = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["city", "version"], name="index_config_version_once"),
            models.CheckConstraint(condition=Q(version__gte=1), name="index_config_version_1_up"),
        ]

    def __str__(self) -> str:
        return f"index {self.city_id} v{self.version}"


class IndexIndicator(models.Model):
    """One weighted indicator. A version's weights sum to 100."""

    config = models.ForeignKey(IndexConfig, on_delete=models.CASCADE, related_name="indicators")
    position = models.PositiveSmallIntegerField()
    figure = models.CharField(_("figure"), max_length=64)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices,
                                 default=Direction.HIGHER)
    normalisation = models.CharField(_("normalisation"), max_length=8,
                                     choices=Normalisation.choices, default=Normalisation.MINMAX)
    target = models.DecimalField(_("target value"), max_digits=14, decimal_places=4, null=True,
                                 blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["config", "figure"], name="index_indicator_once"),
            models.UniqueConstraint(fields=["config", "position"],
                                    name="index_indicator_position_once"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="index_indicator_weight_gt_0"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values),
                                   name="index_indicator_direction_known"),
            models.CheckConstraint(condition=Q(normalisation__in=Normalisation.values),
                                   name="index_indicator_normalisation_known"),
            models.CheckConstraint(
                condition=~Q(normalisation=Normalisation.TARGET) | Q(target__gt=0),
                name="index_indicator_target_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.figure}×{self.weight}"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    SUPERSEDED = "superseded", _("superseded by a correction")


class Assessment(models.Model):
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("assessing region"))
    grain = models.CharField(_("kind"), max_length=8)  # periods.Grain: year, quarter, month
    period = models.CharField(_("period"), max_length=8)  # "2026", "2026-Q3", "2026-11"
    starts_on = models.DateField()  # the period's first day, for ordering and filtering
    revision = models.PositiveSmallIntegerField(default=1)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="correction")
    reason = models.CharField(_("reason for the correction"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=AssessmentStatus.choices,
                              default=AssessmentStatus.DRAFT)
    index_version = models.PositiveIntegerField(null=True, blank=True)
    figures_as_of = models.DateField(null=True, blank=True)  # the last day with figures
    computed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "period", "revision"],
                                    name="assessment_revision_once"),
            models.UniqueConstraint(fields=["region", "period"],
                                    condition=Q(status=AssessmentStatus.DRAFT),
                                    name="assessment_one_draft"),
            models.UniqueConstraint(fields=["region", "period"],
                                    condition=Q(status=AssessmentStatus.PUBLISHED),
                                    name="assessment_one_published"),
            models.CheckConstraint(condition=Q(status__in=AssessmentStatus.values),
                                   name="assessment_status_known"),
            models.CheckConstraint(condition=Q(grain__in=["year", "quarter", "month"]),
                                   name="assessment_grain_known"),
            models.CheckConstraint(
                condition=Q(status=AssessmentStatus.DRAFT) | Q(published_at__isnull=False),
                name="assessment_published_at"),
            models.CheckConstraint(
                condition=(Q(revision=1, supersedes__isnull=True)
                           | Q(revision__gt=1, supersedes__isnull=False)),
                name="assessment_revision_supersedes"),
        ]
        indexes = [models.Index(fields=["region", "starts_on"]),
                   models.Index(fields=["status", "starts_on"])]

    def __str__(self) -> str:
        return f"assessment {self.region_id} {self.period} r{self.revision}"


class ItemKind(models.TextChoices):
    DATA = "data", _("computed from the figures")
    MANUAL = "manual", _("scored by the assessors")


class AssessmentItem(models.Model):
    """One column of the score sheet: a data item (an indicator copied from the index, worth
    its share of the points the manual items leave) or a manual item."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=ItemKind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)  # manual items
    figure = models.CharField(max_length=64, blank=True)  # data items
    weight = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    direction = models.CharField(max_length=8, blank=True)
    normalisation = models.CharField(max_length=8, blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    max_score = models.DecimalField(_("maximum score"), max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "name"],
                                    condition=Q(kind=ItemKind.MANUAL),
                                    name="assessment_manual_item_name_once"),
            models.CheckConstraint(condition=Q(max_score__gt=0), name="assessment_item_max_gt_0"),
            models.CheckConstraint(
                condition=(Q(kind=ItemKind.DATA) & ~Q(figure="") & Q(weight__gt=0)
                           & Q(direction__in=Direction.values)
                           & Q(normalisation__in=Normalisation.values))
                | (Q(kind=ItemKind.MANUAL) & ~Q(name="")),
                name="assessment_item_kind_fields"),
        ]

    def __str__(self) -> str:
        return self.name or self.figure


class AssessmentEntry(models.Model):
    """One subunit's line of the sheet: its total and rank (1, 1, 3 on a tie)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="entries")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    rank = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "region"], name="assessment_entry_once"),
            models.CheckConstraint(condition=Q(total__gte=0), name="assessment_entry_total_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id}: {self.total} (#{self.rank})"


class ItemScore(models.Model):
    """One cell: a subunit's figure and points on a data item, or the points an assessor gave
    on a manual item (with a note). ``points`` is None while a manual item is not yet scored."""

    entry = models.ForeignKey(AssessmentEntry, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(AssessmentItem, on_delete=models.CASCADE, related_name="scores")
    value = models.FloatField(null=True, blank=True)
    points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "item"], name="assessment_score_once"),
            models.CheckConstraint(condition=Q(points__isnull=True) | Q(points__gte=0),
                                   name="assessment_score_points_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}/{self.item_id}={self.points}"
