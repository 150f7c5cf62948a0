"""信息发布 (the information board): notices from a region's staff to the associations of its
subtree (optionally of some kinds only) — venue rental, purchasing, training, policy — one
recipient row per targeted association, acknowledged once by one of its managers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sportsman.associations.models.registry import Association
from sportsman.core.models import TimeStampedModel

__all__ = ["Notice", "NoticeKind", "NoticeRecipient", "NoticeStatus"]


class NoticeKind(models.TextChoices):
    VENUE_RENTAL = "venue_rental", _("venue rental")  # 场地租赁
    PURCHASING = "purchasing", _("purchasing")  # 采购
    TRAINING = "training", _("training")  # 培训
    POLICY = "policy", _("policy")  # 政策


class NoticeStatus(models.TextChoices):
    PUBLISHED = "published", _("published")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Notice(TimeStampedModel):
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="association_notices")
    kind = models.CharField(max_length=14, choices=NoticeKind.choices)
    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("text"), max_length=4000)
    # Association kinds targeted (AssociationKind values); empty: every kind.
    target_kinds = models.JSONField(default=list, blank=True)
    attachment = models.FileField(upload_to="associations/notices/%Y/%m/", blank=True)
    attachment_name = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=NoticeStatus.choices,
                              default=NoticeStatus.PUBLISHED)
    published_at = models.DateTimeField(db_index=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # Counters moved by UPDATEs (F() + 1), never read-modify-write.
    recipients = models.PositiveIntegerField(default=0)
    acknowledged = models.PositiveIntegerField(default=0)
    reminders = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["region", "published_at"], name="notice_region_time")]

    def __str__(self) -> str:
        return self.title


class NoticeRecipient(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    association = models.ForeignKey(Association, on_delete=models.CASCADE,
                                    related_name="notices_received")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "association"],
                                               name="notice_recipient_once")]
        indexes = [models.Index(fields=["association", "acknowledged_at"],
                                name="notice_recipient_ack")]

    def __str__(self) -> str:
        return f"{self.notice_id}→{self.association_id}"
