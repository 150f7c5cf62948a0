"""Moderation of governance content (posts, post comments, topic comments, and whatever another
governance area registers): residents flag an item once each, staff of the item's region take it
down (hidden, with a reason and an audit entry) or restore it. See ``governance/moderation.py``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ContentFlag", "FlagStatus", "Moderated"]


class Moderated(models.Model):
    """Fields of content staff can take down: hidden from residents (never deleted), with why
    and by whom; a restore clears them."""

    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=200, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class FlagStatus(models.TextChoices):
    OPEN = "open", _("open")
    TAKEN_DOWN = "taken_down", _("taken down")
    DISMISSED = "dismissed", _("dismissed")


class ContentFlag(models.Model):
    """A resident flags one item (``kind`` + ``target_id``) once. ``region`` is the item's
    region, copied when flagged, so the staff queue is one scoped query."""

    kind = models.CharField(max_length=24)
    target_id = models.PositiveBigIntegerField()
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="governance_flags")
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "target_id", "user"],
                                               name="gov_content_flag_once")]
        indexes = [models.Index(fields=["kind", "target_id"], name="gov_content_flag_target"),
                   models.Index(fields=["status", "region"], name="gov_content_flag_queue",
                                condition=Q(status="open"))]

    def __str__(self) -> str:
        return f"{self.kind}:{self.target_id} by {self.user_id}"
