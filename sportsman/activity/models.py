"""The exercise record: one row per exercise session whatever its source, and the daily rollups
(per user and per community) that my data, rankings and the cockpit read.

A record is derived idempotently from its source: ``(source, source_key)`` is unique, so
replaying a source event or re-importing a file changes nothing. Overlapping sessions of one
person are never double counted: ``counted_minutes`` is the part of the session not already
covered by another counted session of that person, and the rollups add ``counted_minutes``.
See docs/activity.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    VISIT = "visit", _("facility visit")
    GROUP = "group", _("group activity")
    EVENT = "event", _("event")
    INSTRUCTOR = "instructor", _("instructor session")
    DEVICE = "device", _("smart equipment")
    FILE = "file", _("imported recording")
    MANUAL = "manual", _("entered by hand")


# Sources whose sessions a venue, an organiser or a device witnessed.
VERIFIED_SOURCES = frozenset({Source.VISIT, Source.GROUP, Source.EVENT, Source.INSTRUCTOR,
                              Source.DEVICE})


class ActivityRecord(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="activity_records")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    # Identifies the source thing: "visit:123", "file:<sha256>:<track>", "manual:<uuid>" …
    source_key = models.CharField(max_length=128)
    sport = models.ForeignKey("core.Sport", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("sport"))
    # The person's home community when the session happened: rankings and rollups by region.
    region = models.ForeignKey("regions.Region", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    # Where, when a facility is known (an id, not a foreign key: apps do not reach into each
    # other's tables).
    facility_id = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(_("start"))
    ended_at = models.DateTimeField(_("end"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    counted_minutes = models.PositiveIntegerField(default=0)
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)
    elevation_gain_m = models.PositiveIntegerField(_("elevation gain (m)"), null=True, blank=True)
    avg_heart_rate = models.PositiveSmallIntegerField(_("average heart rate"), null=True,
                                                      blank=True)
    max_heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    is_verified = models.BooleanField(default=False)
    # Implausible speed or duration, overlap …: flagged records are kept but not rewarded.
    flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_key"], name="activity_source_once"),
            models.CheckConstraint(condition=Q(ended_at__gte=models.F("started_at")),
                                   name="activity_end_after_start"),
        ]
        indexes = [
            models.Index(fields=["user", "started_at"]),
            models.Index(fields=["region", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.source} {self.started_at:%Y-%m-%d %H:%M}"


class UserDay(models.Model):
    """One person's exercise on one local day: the rollup behind my data and rankings."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="activity_days")
    day = models.DateField()
    region = models.ForeignKey("regions.Region", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    minutes = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)
    verified_minutes = models.PositiveIntegerField(default=0)
    verified_sessions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="user_day_once")]
        indexes = [models.Index(fields=["day", "region"]), models.Index(fields=["region", "day"])]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.day}"


class RegionDay(models.Model):
    """One community's exercise on one local day (residents of the community)."""

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    minutes = models.PositiveBigIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)
    verified_minutes = models.PositiveBigIntegerField(default=0)
    active_users = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "day"],
                                               name="region_day_once")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.region_id}@{self.day}"


class InactivityNudge(models.Model):
    """A resident whose exercise dropped well below their own baseline was nudged in ``week``
    (its Monday). ``came_back_at`` is set when they exercise again within 14 days."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="inactivity_nudges")
    region = models.ForeignKey("regions.Region", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    week = models.DateField()
    baseline_minutes = models.PositiveIntegerField()  # weekly average, the 8 weeks before
    recent_minutes = models.PositiveIntegerField()  # weekly average, the last 2 weeks
    suggestion = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField()
    came_back_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "week"],
                                               name="inactivity_nudge_once_a_week")]
        indexes = [models.Index(fields=["region", "sent_at"]),
                   models.Index(fields=["came_back_at", "sent_at"])]

    def __str__(self) -> str:
        return f"nudge {self.user_id}@{self.week}"


class RankEntry(models.Model):
    """One resident's verified score in one ranking board: a period (its key, "2026-W24",
    "2026-06", "2026") and a region (the community of each of their days and every town,
    district and city above it). Kept with the rollups by ``ranktables``; only residents who
    take part (not hidden), only positive scores (a row has at least one). A top list is a range
    scan of one of the two score indexes (docs/adr/0006-rank-tables.md)."""

    pk = models.CompositePrimaryKey("user", "period", "region")
    # No foreign-key constraint and no cascade: a deleted account's rows are taken out (with
    # their counts) by the opt-out event its deletion publishes, never silently.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING,
                             db_constraint=False, db_index=False, related_name="+")
    period = models.CharField(max_length=8)
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, db_index=False,
                               related_name="+")
    minutes = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["period", "region", "-minutes", "user"],
                                name="rank_entry_by_minutes"),
                   models.Index(fields=["period", "region", "-sessions", "user"],
                                name="rank_entry_by_sessions")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.period}/{self.region_id}"


class RankCount(models.Model):
    """How many residents of a board hold a score: per exact score (``width`` 1, ``value`` =
    the score) and per bucket of ``ranktables.BUCKET`` scores (``width`` = BUCKET, ``value`` =
    score // BUCKET). A rank is 1 + the counts above my bucket + the exact counts above me in
    it: bounded by the range of scores, not by the residents. Counts that fall to zero stay."""

    pk = models.CompositePrimaryKey("metric", "period", "region", "width", "value")
    metric = models.CharField(max_length=8)
    period = models.CharField(max_length=8)
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, db_index=False,
                               related_name="+")
    width = models.PositiveSmallIntegerField()
    value = models.PositiveIntegerField()
    # Moved by signed deltas in one upsert (a CHECK would refuse the proposed row of a
    # decrement before the conflict turns it into an update).
    count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.metric}@{self.period}/{self.region_id}: {self.value}×{self.width}"
