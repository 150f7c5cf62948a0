"""Events (赛事活动): offline competitions and online challenges, their registrations (individual
or team), waitlists, check-ins, results and the rounds of a cascade.

Concurrency (see docs/events.md): ``Event.registered`` is a place counter moved only by
conditional UPDATEs (``registered < capacity`` to take a place, ``registered > 0`` to give one
back), backed by a check constraint, as the slots of facilities are (ADR 0004). A person holds at
most one live registration per event and a team name, like a team member, appears once per event
(partial unique constraints), so a retried or racing registration cannot be counted twice.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel


class OrganiserKind(models.TextChoices):
    GOVERNMENT = "government", _("government")
    ASSOCIATION = "association", _("association")
    GROUP = "group", _("sports group")


class Mode(models.TextChoices):
    OFFLINE = "offline", _("offline")
    ONLINE = "online", _("online challenge")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PENDING = "pending", _("filed, pending review")
    PUBLISHED = "published", _("published")
    CANCELLED = "cancelled", _("cancelled")
    FINISHED = "finished", _("finished")


# What residents see: published events, and the cancelled and finished ones they knew.
VISIBLE = (EventStatus.PUBLISHED.value, EventStatus.CANCELLED.value, EventStatus.FINISHED.value)


class Entry(models.TextChoices):
    INDIVIDUAL = "individual", _("individual")
    TEAM = "team", _("team")


class ChallengeMetric(models.TextChoices):
    MINUTES = "minutes", _("minutes of exercise")
    DISTANCE = "distance", _("distance (km)")
    SESSIONS = "sessions", _("sessions")


class ResultOrder(models.TextChoices):
    HIGHER = "higher", _("higher is better (points)")
    LOWER = "lower", _("lower is better (time)")


def cover_path(instance: Event, filename: str) -> str:
    return f"events/covers/{secrets.token_hex(8)}.jpg"


class Event(TimeStampedModel):
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    sport = models.ForeignKey("core.Sport", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("sport"))
    # The region the event belongs to decides its level and who governs it (Perm.EVENT_MANAGE).
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("region"))
    level = models.CharField(_("level"), max_length=12)
    # The organiser: a government level, an association or a group, by kind, id and name (no
    # foreign key: feature apps do not reach into each other's tables).
    organiser_kind = models.CharField(_("organiser"), max_length=12,
                                      choices=OrganiserKind.choices,
                                      default=OrganiserKind.GOVERNMENT)
    organiser_id = models.PositiveBigIntegerField(null=True, blank=True)
    organiser_name = models.CharField(_("organiser name"), max_length=100)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.OFFLINE)
    status = models.CharField(_("status"), max_length=10, choices=EventStatus.choices,
                              default=EventStatus.DRAFT)
    # A round of a cascade: its qualifiers advance into the parent (the next round up).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="rounds", verbose_name=_("next round"))
    facility = models.ForeignKey("facilities.Facility", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("venue"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    registration_opens_at = models.DateTimeField(_("registration opens"))
    registration_closes_at = models.DateTimeField(_("registration closes"))
    capacity = models.PositiveIntegerField(_("places"))
    registered = models.PositiveIntegerField(default=0)
    has_waitlist = models.BooleanField(_("waitlist when full"), default=True)
    entry = models.CharField(_("entry"), max_length=10, choices=Entry.choices,
                             default=Entry.INDIVIDUAL)
    team_min = models.PositiveSmallIntegerField(default=2)
    team_max = models.PositiveSmallIntegerField(default=10)
    # Questions the organiser asks at registration: [{"key", "label", "type", "required",
    # "choices"}]; answers are validated against them (services.clean_answers).
    form_fields = models.JSONField(default=list, blank=True)
    # Who may register: an age range (from the birth year), a sex, a region subtree (the home
    # community); the same decide who is told when the event is published.
    age_min = models.PositiveSmallIntegerField(null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    eligible_region = models.ForeignKey("regions.Region", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    # Announce only to residents interested in the event's sport.
    target_interested = models.BooleanField(default=False)
    qualifiers_only = models.BooleanField(default=False)
    challenge_metric = models.CharField(max_length=10, choices=ChallengeMetric.choices,
                                        blank=True)
    challenge_goal = models.PositiveIntegerField(null=True, blank=True)
    result_order = models.CharField(max_length=6, choices=ResultOrder.choices,
                                    default=ResultOrder.HIGHER)
    cover = models.FileField(upload_to=cover_path, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(registered__lte=F("capacity")),
                                   name="event_registered_within_capacity"),
            models.CheckConstraint(condition=Q(ends_at__gte=F("starts_at")),
                                   name="event_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="event_status_start"),
            models.Index(fields=["region", "starts_at"], name="event_region_start"),
            # The list's order: a page walks it and stops after the page (selectors.list_events)
            models.Index(fields=["starts_at", "id"], name="event_start_id"),
            # Where the coming events begin (selectors.list_events, upcoming): covering
            models.Index(fields=["ends_at", "starts_at"], name="event_end_start"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.registered, 0)

    @property
    def is_online(self) -> bool:
        return self.mode == Mode.ONLINE


class RegStatus(models.TextChoices):
    REGISTERED = "registered", _("registered")
    WAITLISTED = "waitlisted", _("on the waitlist")
    CHECKED_IN = "checked_in", _("checked in")
    CANCELLED = "cancelled", _("cancelled")


# Statuses that hold a place; LIVE adds the waitlist (a person may hold one live registration).
HOLDS_PLACE = (RegStatus.REGISTERED, RegStatus.CHECKED_IN)
LIVE = (*HOLDS_PLACE, RegStatus.WAITLISTED)


def new_code() -> str:
    return secrets.token_urlsafe(12)


class Registration(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    # The registrant; for a team, its captain.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="event_registrations")
    status = models.CharField(max_length=10, choices=RegStatus.choices,
                              default=RegStatus.REGISTERED)
    team_name = models.CharField(max_length=40, blank=True)
    # The roster as entered: [{"name", "user_id"}] (the captain first).
    roster = models.JSONField(default=list, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    # What the QR code carries; the staff scanner sends it back.
    code = models.CharField(max_length=24, unique=True, default=new_code)
    from_waitlist = models.BooleanField(default=False)
    advanced_from = models.OneToOneField("self", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="advanced_to")
    score = models.FloatField(null=True, blank=True)
    result_note = models.CharField(max_length=60, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    is_qualifier = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], condition=Q(status__in=LIVE),
                                    name="registration_one_live_per_person"),
            models.UniqueConstraint(fields=["event", "team_name"],
                                    condition=Q(status__in=LIVE) & ~Q(team_name=""),
                                    name="registration_one_live_per_team"),
        ]
        indexes = [
            models.Index(fields=["event", "status", "created_at"], name="registration_queue"),
            models.Index(fields=["user", "created_at"], name="registration_mine"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.user_id}:{self.status}"


class TeamMember(models.Model):
    """A user on a live team's roster: one team per person per event (the unique pair). Rows go
    when the team's registration is cancelled."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE,
                                     related_name="members")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user"],
                                               name="team_member_once_per_event")]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.user_id}"


class CalendarFeed(models.Model):
    """The unguessable address of a person's calendar of registrations (calendar apps cannot log
    in). The token itself is kept, since the page shows the address again; resetting it makes the
    old address stop working."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="event_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"feed:{self.user_id}"
