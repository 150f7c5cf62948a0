"""Residents' reports of a problem (报事反馈): what, where, the photos, who handles it now, the
service levels it runs against, and its public timeline. Also the routing rules (who handles a
category in a region, and how fast) and the Open311 client keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sportsman.core.models import TimeStampedModel

__all__ = ["Category", "Handler", "Open311Client", "Report", "ReportEvent", "ReportPhoto",
           "ReportStatus", "RoutingRule", "Step"]


class Category(models.TextChoices):
    FACILITY_DAMAGE = "facility_damage", _("facility damage")
    SAFETY = "safety", _("safety hazard")
    LIGHTING = "lighting", _("lighting")
    HYGIENE = "hygiene", _("hygiene")
    NOISE = "noise", _("noise")
    OCCUPATION = "occupation", _("venue occupied or misused")
    SUGGESTION = "suggestion", _("suggestion")
    OTHER = "other", _("other")


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    IN_PROGRESS = "in_progress", _("in progress")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", pgettext_lazy("report status", "closed")
    REJECTED = "rejected", _("rejected")
    MERGED = "merged", _("merged into another report")


class Handler(models.TextChoices):
    """Who works a report routed to a region: its administrators, or the venue managers of the
    facility it names (they are the facility's maintenance queue)."""

    REGION_STAFF = "region_staff", _("region staff")
    VENUE_MANAGER = "venue_manager", _("venue manager")


class RoutingRule(models.Model):
    """How reports of ``category`` about places in ``region``'s subtree are handled: by whom, how
    many hours to accept and how many days to resolve. The nearest rule up the tree wins; without
    one, ``reports.DEFAULT_SLA`` applies and reports go to the community's staff."""

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=16, choices=Category.choices)
    handler = models.CharField(max_length=16, choices=Handler.choices,
                               default=Handler.REGION_STAFF)
    accept_hours = models.PositiveSmallIntegerField()
    resolve_days = models.PositiveSmallIntegerField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "category"], name="routing_rule_once"),
            models.CheckConstraint(condition=Q(accept_hours__gte=1, accept_hours__lte=720),
                                   name="routing_rule_accept_hours"),
            models.CheckConstraint(condition=Q(resolve_days__gte=1, resolve_days__lte=180),
                                   name="routing_rule_resolve_days"),
        ]

    def __str__(self) -> str:
        return f"{self.category}@{self.region_id}"


class Report(TimeStampedModel):
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="governance_reports")
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    open311_client = models.ForeignKey("governance.Open311Client", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="reports")
    # where: the community the place lies in, the facility when one is named, the point
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey("facilities.Facility", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    address = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    description = models.TextField()
    status = models.CharField(max_length=12, choices=ReportStatus.choices,
                              default=ReportStatus.SUBMITTED)
    # who handles it now: the region it is routed to (moves up one level on escalation)
    handler = models.CharField(max_length=16, choices=Handler.choices)
    handling_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                                        related_name="+")
    escalations = models.PositiveSmallIntegerField(default=0)
    accept_due = models.DateTimeField()
    resolve_due = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolved_on_time = models.BooleanField(null=True)
    reopened = models.PositiveSmallIntegerField(default=0)
    public_note = models.CharField(max_length=500, blank=True)  # the latest answer to residents
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=500, blank=True)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # an Open311 client's own contact fields, kept only when a client sends them
    contact = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["handling_region", "status"]),
            models.Index(fields=["region", "status"]),
            models.Index(fields=["status", "accept_due"]),
            models.Index(fields=["status", "resolve_due"]),
            models.Index(fields=["facility", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating=None) | Q(rating__gte=1, rating__lte=5),
                                   name="report_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category}"

    @property
    def is_open(self) -> bool:
        return self.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED,
                               ReportStatus.IN_PROGRESS)


class ReportPhoto(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="governance/reports/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)
    # from staff, showing the work done, or from the reporter
    by_staff = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.image.name or ""


class Step(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    IN_PROGRESS = "in_progress", _("work started")
    RESOLVED = "resolved", _("resolved")
    CONFIRMED = "confirmed", _("confirmed by the reporter")
    AUTO_CLOSED = "auto_closed", _("closed automatically")
    REJECTED = "rejected", _("rejected")
    REOPENED = "reopened", _("reopened by the reporter")
    ESCALATED = "escalated", _("escalated")
    MERGED = "merged", _("merged")
    RATED = "rated", _("rated")
    NOTE = "note", _("note")


class ReportEvent(models.Model):
    """One step of a report's public timeline: what happened, who and when. Append-only."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="timeline")
    step = models.CharField(max_length=12, choices=Step.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    region = models.ForeignKey("regions.Region", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.step}"


class Open311Client(TimeStampedModel):
    """A 311 application allowed to post reports in one city (its ``api_key``, stored hashed)."""

    city = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=64)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
