"""Open interfaces to other systems: webhook subscriptions, their deliveries and every attempt
(docs/interfaces.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    DISABLED = "disabled", _("disabled")


class WebhookSubscription(TimeStampedModel):
    """Another system (the city's government platform, a community platform) hearing of the
    events of one region's subtree, by HTTP POST to ``url``, signed with its secret (Standard
    Webhooks). The secret is kept encrypted (it must be read back to sign); after a rotation the
    previous one still signs alongside until ``previous_secret_expires_at``."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=80)
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)  # public type names (interfaces.catalogue)
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=SubscriptionStatus.choices,
                              default=SubscriptionStatus.ACTIVE)
    disabled_reason = models.CharField(max_length=20, blank=True)  # "staff" / "failures"
    consecutive_failures = models.PositiveIntegerField(default=0)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUCCEEDED = "succeeded", _("delivered")
    FAILED = "failed", _("failed")


class WebhookDelivery(models.Model):
    """One message (one domain event) for one subscription: the body is fixed when it is made,
    so every attempt and every replay sends the same bytes under the same ``msg_id`` (the
    ``webhook-id`` header receivers dedupe on). ``not_before`` is when it may next be sent; a
    sender leases the row by moving it ahead (the conditional UPDATE is the lock)."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    event = models.ForeignKey("core.DomainEvent", null=True, on_delete=models.SET_NULL,
                              related_name="+")
    msg_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField()
    claim = models.UUIDField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    is_replay = models.BooleanField(default=False)  # staff asked for it again
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"],
                                               name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["not_before"], condition=models.Q(status="pending"),
                         name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.msg_id} → {self.subscription_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what came back (or what went wrong) and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=40, blank=True)  # "timeout", "network", "refused_address"
    duration_ms = models.PositiveIntegerField(default=0)
    response_snippet = models.CharField(max_length=500, blank=True)
    is_replay = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["delivery", "-at"])]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%H:%M:%S} {self.status_code or self.error}"


# --- OpenActive open data (docs/openactive.md) -------------------------------------------------


class FeedKind(models.TextChoices):
    FACILITY_USES = "facility-uses", "FacilityUse"
    SLOTS = "slots", "Slot"
    SESSION_SERIES = "session-series", "SessionSeries"
    SCHEDULED_SESSIONS = "scheduled-sessions", "ScheduledSession"


class FeedItem(models.Model):
    """One item of one RPDE feed, as published: its JSON (fixed text, so a page is a
    concatenation), and ``modified``, a counter unique across the table that only the sync
    (one writer at a time, ``feeds.sync``) advances. A row is never removed: a source row that
    disappears or stops being public becomes ``deleted`` with no data, as RPDE wants."""

    kind = models.CharField(max_length=20, choices=FeedKind.choices)
    item_id = models.CharField(max_length=40)  # the RPDE id: "<source>-<pk>"
    modified = models.BigIntegerField(unique=True)
    is_deleted = models.BooleanField(default=False)
    data = models.TextField(blank=True)  # compact JSON of the item's data; "" when deleted
    digest = models.CharField(max_length=32, blank=True)  # of data: the sync's diff
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "item_id"],
                                               name="feed_item_once")]
        indexes = [models.Index(fields=["kind", "modified", "item_id"], name="feed_item_page")]

    def __str__(self) -> str:
        return f"{self.kind}/{self.item_id}@{self.modified}"
# --- bulk exchange (docs/exchange.md) ---------------------------------------------------------


class ExchangeKind(models.TextChoices):
    FACILITIES = "facilities", _("facilities")
    ASSOCIATIONS = "associations", _("associations")
    INSTRUCTORS = "instructors", _("instructors")
    RESIDENTS = "residents", _("residents")
    EVENTS = "events", _("events")


class ExchangeDirection(models.TextChoices):
    IMPORT = "import", _("import")
    EXPORT = "export", _("export")


class ExchangeStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    VALIDATING = "validating", _("checking")
    COMMITTING = "committing", _("loading")
    SUCCEEDED = "succeeded", _("done")
    FAILED = "failed", _("failed")


class ExchangeJob(TimeStampedModel):
    """One bulk import or export of one kind into or out of ``region``'s subtree. An import's
    file is kept until it ran; ``errors`` lists every bad row found (row, column, code,
    message) — a job with errors changed nothing. ``rows_done`` moves as chunks are checked."""

    kind = models.CharField(max_length=14, choices=ExchangeKind.choices)
    direction = models.CharField(max_length=6, choices=ExchangeDirection.choices)
    status = models.CharField(max_length=10, choices=ExchangeStatus.choices,
                              default=ExchangeStatus.QUEUED)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="interfaces/exchange/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_format = models.CharField(max_length=4, blank=True)  # csv / xlsx
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # created / updated / unchanged
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["region", "-id"], name="exchangejob_region_id")]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} #{self.pk}"

    @property
    def is_running(self) -> bool:
        return self.status in (ExchangeStatus.QUEUED, ExchangeStatus.VALIDATING,
                               ExchangeStatus.COMMITTING)

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
