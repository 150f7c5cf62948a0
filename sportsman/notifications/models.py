"""The inbox, what each user wants delivered where and when, and the record of every delivery.

``category`` and ``channel`` are plain strings validated by the services against
``categories.py`` (no DB ``choices``), so a later feature adding a category needs no migration.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.notifications.categories import Category, Channel


class Notification(models.Model):
    """One inbox item for one user. ``dedupe_key`` makes ``notify()`` safe to retry: a second
    call with the same key creates nothing for a user who already has it. ``batch`` names the
    ``notify()`` call that created the row (the delivery task finds its rows by it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    category = models.CharField(_("category"), max_length=32)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # False when the user switched the in-app channel off for this category: the row still
    # anchors the external deliveries, but the inbox and the unread count leave it out.
    in_inbox = models.BooleanField(default=True)
    dedupe_key = models.CharField(max_length=128, null=True, blank=True)
    batch = models.UUIDField(db_index=True)

    class Meta:
        constraints = [
            # NULL keys are distinct on SQLite and PostgreSQL: only keyed rows are deduplicated.
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_user_dedupe"),
        ]
        indexes = [
            models.Index(fields=["user", "id"], name="notification_user_id"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True, in_inbox=True),
                         name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def category_label(self) -> str:
        try:
            return str(Category(self.category).label)
        except ValueError:
            return self.category


class Delivery(models.Model):
    """One notification on one external channel. The table, not the task queue, is the truth:
    the sender claims due ``queued`` rows, so a lost task or a crashed worker loses nothing
    (the periodic sweep finds the row again) and a ``sent`` row is never sent twice."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE,
                                      related_name="deliveries")
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Not sent before this moment: the end of quiet hours, a retry's backoff, or a claim's lease.
    not_before = models.DateTimeField(default=timezone.now)
    claim = models.UUIDField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"],
                                    name="delivery_notification_channel"),
        ]
        indexes = [
            models.Index(fields=["status", "not_before"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.notification_id}:{self.status}"


class Preference(models.Model):
    """A user's choice for one category on one channel. No row: the category's default."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences")
    category = models.CharField(max_length=32)
    channel = models.CharField(max_length=16)
    enabled = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "category", "channel"],
                                    name="preference_user_category_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.category}/{self.channel}={'on' if self.enabled else 'off'}"


class QuietHours(models.Model):
    """Local (Asia/Shanghai) times between which non-urgent external deliveries wait.
    ``start`` after ``end`` spans midnight (22:00–07:00)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="quiet_hours")
    enabled = models.BooleanField(default=False)
    start = models.TimeField(default="22:00")
    end = models.TimeField(default="07:00")

    class Meta:
        verbose_name_plural = "quiet hours"
        constraints = [
            models.CheckConstraint(condition=~Q(start=models.F("end")),
                                   name="quiet_hours_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}" if self.enabled else "off"


class NotificationSettings(models.Model):
    """Per-user channel addresses that the account itself does not hold (an email address)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_settings")
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"notification settings of {self.user_id}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription (``PushSubscription.toJSON()``). An endpoint belongs to
    one browser profile, so it is unique: subscribing it again moves it to the current user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.endpoint


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SCHEDULED = "scheduled", _("scheduled")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("cancelled")


class Campaign(models.Model):
    """A staff message to the residents of a region's subtree who match ``audience`` (a JSON
    spec, see ``audience.py``). ``status`` follows ``campaigns.TRANSITIONS``. The counts are
    adjusted by the sending job, one chunk at a time, in the chunk's own transaction."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("region"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True, max_length=2000)
    link = models.CharField(_("link"), max_length=500, blank=True)
    category = models.CharField(_("category"), max_length=32, default=Category.CAMPAIGN)
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The highest user id materialised so far: a resumed job continues after it.
    cursor = models.BigIntegerField(default=0)
    audience_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    capped_count = models.PositiveIntegerField(default=0)
    opted_out_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["status", "send_at"], name="campaign_due"),
                   models.Index(fields=["region", "id"], name="campaign_region")]

    def __str__(self) -> str:
        return self.title


class RecipientOutcome(models.TextChoices):
    SENT = "sent", _("sent")
    CAPPED = "capped", _("over the frequency cap")
    OPTED_OUT = "opted_out", _("opted out of the category")


class CampaignRecipient(models.Model):
    """One resident of one campaign's audience and what became of them. Unique per
    (campaign, user): a resumed or repeated job adds nobody twice. ``sent`` rows of the last
    days are what the frequency cap counts. ``community_id`` is the resident's home community
    when it was sent (the cockpit's region of the row)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    outcome = models.CharField(max_length=10, choices=RecipientOutcome.choices)
    notification = models.ForeignKey(Notification, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    community_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"],
                                               name="campaign_recipient_once")]
        indexes = [models.Index(fields=["user", "created_at"], condition=Q(outcome="sent"),
                                name="campaign_recipient_cap")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.user_id}:{self.outcome}"


__all__ = ["Campaign", "CampaignRecipient", "CampaignStatus", "Category", "Channel", "Delivery",
           "Notification", "NotificationSettings", "Preference", "PushSubscription",
           "QuietHours", "RecipientOutcome"]
