"""Health services (体医融合): partner clinics, their staff, residents' consents to a named
clinic, and the exercise prescriptions a clinic issues (docs/health.md)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Bounds of a prescription, shared by the service, the API schemas and the form.
MAX_SESSIONS_PER_WEEK = 14
MIN_MINUTES, MAX_MINUTES = 5, 240
MAX_WEEKS = 52
MAX_NOTES = 1000


class Clinic(models.Model):
    """A partner clinic (community health centre, hospital department) located in a region."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "name"],
                                               name="clinic_name_once_per_region")]

    def __str__(self) -> str:
        return self.name


class ClinicStaff(models.Model):
    """A user working for one clinic: the object grant behind ``Perm.CLINIC_PRACTISE``."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="clinic_posts")
    appointed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "user"],
                                               name="clinic_staff_once")]

    def __str__(self) -> str:
        return f"{self.user_id}@clinic{self.clinic_id}"


class ConsentPurpose(models.TextChoices):
    PRESCRIPTION = "exercise_prescription", _("exercise prescriptions and their follow-up")


class ConsentScope(models.TextChoices):
    # Weekly sessions and minutes from the exercise record, over each prescription's weeks.
    WEEKLY_TOTALS = "weekly_totals", _("weekly exercise sessions and minutes")


class ClinicConsent(models.Model):
    """A resident's consent (PIPL) that one named clinic may prescribe exercise and see their
    weekly totals for it. Withdrawn by stamping ``withdrawn_at``; the row stays as the record.
    At most one live consent per (resident, clinic)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="clinic_consents")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices,
                               default=ConsentPurpose.PRESCRIPTION)
    scope = models.CharField(max_length=32, choices=ConsentScope.choices,
                             default=ConsentScope.WEEKLY_TOTALS)
    version = models.CharField(max_length=16)
    granted_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "clinic"],
                                               condition=Q(withdrawn_at__isnull=True),
                                               name="clinic_consent_live_once")]
        indexes = [models.Index(fields=["clinic", "user"])]

    def __str__(self) -> str:
        return f"{self.user_id}→clinic{self.clinic_id}"

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None


class Intensity(models.TextChoices):
    LOW = "low", _("low")
    MODERATE = "moderate", _("moderate")
    VIGOROUS = "vigorous", _("vigorous")
    HEART_RATE = "heart_rate", _("heart-rate zone")


class Prescription(models.Model):
    """An exercise prescription: a sport at an intensity, so many sessions a week of so many
    minutes, for so many weeks from ``starts_on`` (week n covers the 7 local days from
    ``starts_on + 7(n-1)``)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="prescriptions")
    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="prescriptions")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                  related_name="+")
    sport = models.ForeignKey("core.Sport", on_delete=models.PROTECT, related_name="+")
    intensity = models.CharField(_("intensity"), max_length=16, choices=Intensity.choices)
    heart_rate_low = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_high = models.PositiveSmallIntegerField(null=True, blank=True)
    sessions_per_week = models.PositiveSmallIntegerField(_("sessions per week"))
    minutes_per_session = models.PositiveSmallIntegerField(_("minutes per session"))
    weeks = models.PositiveSmallIntegerField(_("weeks"))
    starts_on = models.DateField(_("start date"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "resident"]),
                   models.Index(fields=["resident", "starts_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(sessions_per_week__gte=1,
                                               sessions_per_week__lte=MAX_SESSIONS_PER_WEEK),
                                   name="prescription_sessions_range"),
            models.CheckConstraint(condition=Q(weeks__gte=1, weeks__lte=MAX_WEEKS),
                                   name="prescription_weeks_range"),
        ]

    def __str__(self) -> str:
        return f"prescription {self.pk}"

    @property
    def ends_on(self) -> dt.date:
        """The last local day of the last week (inclusive)."""
        return self.starts_on + dt.timedelta(days=7 * self.weeks - 1)
