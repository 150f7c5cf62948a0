"""Precomputed recommendations (精准供给): the trained model's item factors, each resident's
candidates with the reason that explains them, and the non-personal choices per community
that residents who switched personalisation off see instead. Serving reads these rows only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    FACILITY = "facility", _("place")
    GROUP = "group", _("group")
    EVENT = "event", _("event")
    INSTRUCTOR = "instructor", _("instructor")


class ModelVersion(models.Model):
    """One training run: the item factors (float32, row-major) the per-resident recompute
    reuses, the item keys in factor order (``"facility:12"``) and what it was trained on."""

    trained_at = models.DateTimeField(auto_now_add=True)
    algorithm = models.CharField(max_length=32)
    factors = models.PositiveSmallIntegerField()
    users = models.PositiveIntegerField()
    items = models.PositiveIntegerField()
    interactions = models.PositiveIntegerField()
    seconds = models.FloatField(default=0)
    item_keys = models.JSONField(default=list)
    item_factors = models.BinaryField()
    settings = models.JSONField(default=dict)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.algorithm} v{self.pk}"


class Recommendation(models.Model):
    """A candidate for one resident. ``reason`` is a code and ``params`` its placeholders
    (plus ``used``: which of the resident's data went into it), rendered in the reader's
    language when served. ``title`` and ``link`` are copied at compute time so serving is one
    query."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="recommendations")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    reason = models.CharField(max_length=16)
    params = models.JSONField(default=dict)
    title = models.CharField(max_length=120)
    link = models.CharField(max_length=200)
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "object_id"],
                                    name="recommendation_once"),
            models.UniqueConstraint(fields=["user", "rank"], name="recommendation_rank_once"),
        ]
        indexes = [models.Index(fields=["user", "kind", "rank"], name="recommendation_serve")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} for {self.user_id}"


class PopularChoice(models.Model):
    """What is popular near a community (``community`` null: the whole platform): the
    non-personal suggestions, built from everyone's counts, never one resident's history."""

    community = models.ForeignKey("regions.Region", null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    params = models.JSONField(default=dict)
    title = models.CharField(max_length=120)
    link = models.CharField(max_length=200)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "kind", "object_id"],
                                    name="popular_choice_once"),
        ]
        indexes = [models.Index(fields=["community", "kind", "rank"], name="popular_serve")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} near {self.community_id}"
