"""Physical fitness tests (国民体质监测): the stations that test residents, one record per person
and test day with its item results, item points, total and grade (docs/fitness.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel


class Edition(models.TextChoices):
    E2003 = "2003", _("2003 standard")
    E2023 = "2023", _("2023 revision")


class Grade(models.TextChoices):
    EXCELLENT = "1", _("grade 1, excellent")
    GOOD = "2", _("grade 2, good")
    PASS = "3", _("grade 3, pass")
    FAIL = "4", _("grade 4, fail")


# The grades at 合格 (pass) or better: the city's target counts these.
PASSING = (Grade.EXCELLENT, Grade.GOOD, Grade.PASS)


class NoGrade(models.TextChoices):
    """Why a record has no overall grade."""

    ZERO_ITEM = "zero_item", _("an item scored 0 (below the table)")
    MISSING_ITEM = "missing_item", _("an item of the age group was not tested")


class TestStation(TimeStampedModel):
    """A place where residents are tested (a 国民体质监测站 or a mobile testing point), owned by
    a region: its staff import what it exports. ``code`` is the station's own number as its
    files and the provincial system know it. A station housed in a facility may point at it."""

    __test__ = False  # not a pytest class, despite the name

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=80)
    code = models.CharField(max_length=40, unique=True)
    address = models.CharField(max_length=200, blank=True)
    facility = models.ForeignKey("facilities.Facility", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["region__path", "name", "id"]

    def __str__(self) -> str:
        return self.name


class FitnessTest(TimeStampedModel):
    """One person's test at one station on one day. The person is known by ``person_key``, the
    keyed hash of their ID number (else of their mobile number), as stations export them; the
    record is linked to a resident's account when the number finds one. ``region`` is the
    station's (for scope and the cockpit). Item points, total and grade are computed from the
    standard's tables at import (``scoring``) and kept, so a later table change is a re-score,
    not a silent drift."""

    __test__ = False  # not a pytest class, despite the name

    station = models.ForeignKey(TestStation, on_delete=models.PROTECT, related_name="tests")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="fitness_tests")
    person_key = models.CharField(max_length=64)
    name_encrypted = models.TextField(blank=True)
    id_number_encrypted = models.TextField(blank=True)
    phone_encrypted = models.TextField(blank=True)
    sex = models.CharField(max_length=1)  # accounts.Sex
    age = models.PositiveSmallIntegerField()
    tested_on = models.DateField()
    edition = models.CharField(max_length=4, choices=Edition.choices)
    age_group = models.CharField(max_length=20)
    total = models.PositiveSmallIntegerField(null=True, blank=True)
    grade = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    no_grade = models.CharField(max_length=20, choices=NoGrade.choices, blank=True)
    is_demonstration = models.BooleanField(default=True)  # scored with demonstration tables

    class Meta:
        ordering = ["-tested_on", "-id"]
        constraints = [
            # A station's file imported again finds its rows here: no duplicates.
            models.UniqueConstraint(fields=["station", "person_key", "tested_on"],
                                    name="fitness_test_once_per_station_day"),
        ]
        indexes = [models.Index(fields=["region", "tested_on"]),
                   models.Index(fields=["user", "tested_on"]),
                   models.Index(fields=["person_key"])]

    def __str__(self) -> str:
        return f"{self.station_id}:{self.tested_on}"

    @property
    def is_passing(self) -> bool:
        return self.grade in PASSING


class ItemResult(models.Model):
    """One measured item of a test: the raw value as the station measured it and its points
    (None for a value that is not scored by itself, such as height and weight)."""

    test = models.ForeignKey(FitnessTest, on_delete=models.CASCADE, related_name="items")
    item = models.CharField(max_length=20)  # scoring.ITEMS
    value = models.DecimalField(max_digits=9, decimal_places=3)
    points = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["test", "item"]
        constraints = [models.UniqueConstraint(fields=["test", "item"],
                                               name="fitness_item_once_per_test")]

    def __str__(self) -> str:
        return f"{self.item}={self.value}"
