"""Volunteering (志愿服务联盟): teams of a region, their members and leaders, opportunities with a
limited number of places, sign-ups (possibly made for an elderly resident), QR check-in and
check-out, and the hours a leader approves."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel

__all__ = ["MemberRole", "MemberStatus", "Opportunity", "OpportunityKind", "OpportunityStatus",
           "TeamMember", "TeamStatus", "VolunteerSignup", "VolunteerStatus", "VolunteerTeam"]


class TeamStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    CLOSED = "closed", _("closed")


class VolunteerTeam(TimeStampedModel):
    """A volunteer team of the alliance, belonging to a region (a town or a community)."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="volunteer_teams")
    name = models.CharField(_("name"), max_length=60)
    description = models.TextField(_("about the team"), blank=True, max_length=2000)
    status = models.CharField(max_length=8, choices=TeamStatus.choices, default=TeamStatus.ACTIVE)
    members = models.PositiveIntegerField(default=0)  # active members, moved by UPDATEs
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "name"],
                                               name="volunteer_team_name_in_region")]

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    LEADER = "leader", _("leader")
    MEMBER = "member", _("member")


class MemberStatus(models.TextChoices):
    PENDING = "pending", _("applied")
    ACTIVE = "active", _("member")
    REJECTED = "rejected", _("not accepted")
    LEFT = "left", _("left")


class TeamMember(TimeStampedModel):
    team = models.ForeignKey(VolunteerTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="volunteer_memberships")
    role = models.CharField(max_length=8, choices=MemberRole.choices, default=MemberRole.MEMBER)
    status = models.CharField(max_length=8, choices=MemberStatus.choices,
                              default=MemberStatus.PENDING)
    joined_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["team", "user"], condition=Q(status__in=["pending", "active"]),
            name="volunteer_member_once")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.team_id}"


class OpportunityKind(models.TextChoices):
    EVENT_SUPPORT = "event_support", _("event support")
    FACILITY_PATROL = "facility_patrol", _("facility patrol")
    TEACHING = "teaching", _("teaching")
    OTHER = "other", _("other")


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("open")
    CANCELLED = "cancelled", _("called off")


class Opportunity(TimeStampedModel):
    """A shift a team offers: ``capacity`` places, taken by conditional UPDATEs of ``taken``."""

    team = models.ForeignKey(VolunteerTeam, on_delete=models.CASCADE,
                             related_name="opportunities")
    kind = models.CharField(_("kind"), max_length=16, choices=OpportunityKind.choices)
    title = models.CharField(_("title"), max_length=60)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    place = models.CharField(_("place"), max_length=100)
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("places"))
    taken = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=OpportunityStatus.choices,
                              default=OpportunityStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(taken__lte=models.F("capacity")),
                                   name="volunteer_opportunity_not_overfilled"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="volunteer_opportunity_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.title


class VolunteerStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("signed up")
    CANCELLED = "cancelled", _("cancelled")
    CHECKED_IN = "checked_in", _("checked in")
    CHECKED_OUT = "checked_out", _("awaiting approval")
    APPROVED = "approved", _("hours approved")
    REJECTED = "rejected", _("hours not approved")


class VolunteerSignup(TimeStampedModel):
    """One volunteer's place on an opportunity, and then their attendance and approved hours.
    ``user`` is who volunteers; ``acted_by`` whoever signed them up for them (代办), if anyone."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE,
                                    related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="volunteer_signups")
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=VolunteerStatus.choices,
                              default=VolunteerStatus.SIGNED_UP)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(default=0)  # attended, capped to the window
    approved_minutes = models.PositiveIntegerField(null=True, blank=True)
    hours = models.PositiveIntegerField(default=0)  # credited: approved minutes, nearest hour
    decision_reason = models.CharField(max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["opportunity", "user"], condition=~Q(status="cancelled"),
            name="volunteer_signup_once")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.opportunity_id}"
