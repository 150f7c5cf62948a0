"""The registry of social sports instructors (社会体育指导员, DOMAIN.md §3): level, certificate,
sports, region, and the yearly work registration (工作注册) that counts their service."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel

__all__ = ["Instructor", "InstructorLevel", "InstructorStatus", "WorkRegistration"]


class InstructorLevel(models.TextChoices):
    # Low to high; the order is the promotion path.
    THIRD = "third", _("third grade (三级)")
    SECOND = "second", _("second grade (二级)")
    FIRST = "first", _("first grade (一级)")
    NATIONAL = "national", _("national grade (国家级)")


class InstructorStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    SUSPENDED = "suspended", _("suspended")
    RETIRED = "retired", _("retired")


class Instructor(TimeStampedModel):
    """A resident certified as a social sports instructor, registered in a region (its level's
    approving region or below)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="instructor")
    name = models.CharField(_("name"), max_length=30)
    level = models.CharField(_("level"), max_length=10, choices=InstructorLevel.choices,
                             default=InstructorLevel.THIRD)
    certificate_number = models.CharField(_("certificate number"), max_length=40, unique=True)
    certified_on = models.DateField(_("certified on"), null=True, blank=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="instructors")
    sports = models.ManyToManyField("core.Sport", related_name="instructors", blank=True)
    bio = models.TextField(_("about me"), max_length=2000, blank=True)
    photo = models.ImageField(upload_to="instructors/photos/%Y/%m/", blank=True)
    status = models.CharField(max_length=10, choices=InstructorStatus.choices,
                              default=InstructorStatus.ACTIVE, db_index=True)
    accepts_bookings = models.BooleanField(_("accepts bookings"), default=True)
    max_group_size = models.PositiveSmallIntegerField(_("largest group"), default=6)
    # Ratings of finished sessions, moved by UPDATEs (the mean is sum / count).
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)  # recorded guidance sessions
    service_minutes = models.PositiveIntegerField(default=0)
    lat = models.FloatField(null=True, blank=True)  # where they usually teach (WGS-84)
    lng = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["region", "status"], name="instructor_region_status"),
                   models.Index(fields=["level", "status"], name="instructor_level_status")]

    def __str__(self) -> str:
        return self.name


class WorkRegistration(TimeStampedModel):
    """The yearly 工作注册: with which organisation the instructor served, and how many times."""

    instructor = models.ForeignKey(Instructor, on_delete=models.CASCADE,
                                   related_name="registrations")
    year = models.PositiveSmallIntegerField()
    org = models.CharField(_("organisation"), max_length=80)
    association = models.ForeignKey("associations.Association", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    service_count = models.PositiveIntegerField(default=0)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instructor", "year"], name="work_registration_yearly"),
            models.CheckConstraint(condition=Q(year__gte=1990), name="work_registration_year"),
        ]

    def __str__(self) -> str:
        return f"{self.instructor_id}/{self.year}"
