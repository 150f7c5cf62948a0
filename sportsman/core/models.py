"""Cross-cutting records: the audit log, idempotency keys, domain events and scheduled runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """One staff write or one staff view of personal data. Append-only: the database refuses
    UPDATE and DELETE on this table (triggers in migration 0002)."""

    class Kind(models.TextChoices):
        WRITE = "write", _("change")
        VIEW = "view", _("view of personal data")
        AUTH = "auth", _("sign-in event")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # DO_NOTHING, no DB constraint: the log keeps the id of a deleted user or region (SET_NULL
    # would UPDATE the entry, which the database refuses).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    actor_label = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    region = models.ForeignKey(
        "regions.Region", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
        db_constraint=False,
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-at"]),
            models.Index(fields=["region", "-at"]),
            # Keyset pagination walks (at, id) downwards.
            models.Index(fields=["-at", "-id"], name="audit_at_id_desc"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} by {self.actor_label or '-'}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)


class IdempotencyKey(models.Model):
    """The stored answer to a write that a phone or a device may retry with the same key."""

    owner = models.CharField(max_length=64)  # "user:<id>", "device:<id>", "ip:<addr>"
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_once")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class DomainEvent(models.Model):
    """A fact recorded in the same transaction as the change it describes.

    ``settled_at`` is set once every consumer registered for ``name`` has handled the event;
    until then the event is pending and every dispatch (and the periodic sweep) retries it."""

    name = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The dispatcher's candidate query: pending events in id order, kept small.
            models.Index(fields=["id"], condition=models.Q(settled_at__isnull=True),
                         name="domainevent_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.name}#{self.pk}"


class EventDelivery(models.Model):
    """Marks that one consumer has handled one event; written in the consumer's transaction so a
    replay is a no-op and a crash before commit leaves the event pending."""

    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="deliveries")
    consumer = models.CharField(max_length=128)
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "consumer"], name="event_delivered_once")
        ]

    def __str__(self) -> str:
        return f"{self.consumer} ← event #{self.event_id}"


class ScheduledRun(models.Model):
    """One due run of a periodic job; the unique key makes two schedulers enqueue it once."""

    job = models.CharField(max_length=128)
    due_at = models.DateTimeField()
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "due_at"], name="scheduled_run_once")]
        indexes = [models.Index(fields=["due_at"], name="scheduledrun_due_at")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.due_at.isoformat()}"


class Sport(models.Model):
    """The sports catalogue (DOMAIN.md §6), shared by profiles, facilities, groups and events."""

    class Family(models.TextChoices):
        DANCE = "dance", _("dance and fitness")
        TRADITIONAL = "traditional", _("traditional")
        BALL = "ball", _("ball sports")
        ENDURANCE = "endurance", _("endurance")
        MIND = "mind", _("mind sports")
        OTHER = "other", _("other")

    slug = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=32)
    name_en = models.CharField(max_length=64)
    family = models.CharField(max_length=16, choices=Family.choices)
    skews_older = models.BooleanField(default=False)
    openactive_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["family", "slug"]

    def __str__(self) -> str:
        return self.name_zh

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "zh").startswith("zh") else self.name_en


class SensitiveWord(models.Model):
    """A word or phrase residents' writing may not contain (posts, comments, chat, names …),
    kept by a city's staff (``region``: their city); matched case-insensitively anywhere in the
    text (``core.wording``)."""

    word = models.CharField(max_length=40)
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "word"],
                                               name="sensitive_word_once")]

    def __str__(self) -> str:
        return self.word
