"""Availability, guidance sessions (约教), the residents' places in them, and session records.

A guidance session is what an instructor teaches at one time: one-to-one (capacity 1) or a small
group (capacity up to the instructor's ``max_group_size``). Residents hold places in it
(``GuidanceBooking``); the session's ``taken`` counter moves only by conditional UPDATEs and the
check constraint ``taken <= capacity`` backs them up (ADR 0004's pattern). A court booked in the
same step is a ``facilities.Booking`` of the resident who made the session, linked here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel

__all__ = [
    "LIVE_SESSION",
    "AvailabilityException",
    "AvailabilityWindow",
    "BookingState",
    "GuidanceBooking",
    "GuidanceSession",
    "SessionKind",
    "SessionPhoto",
    "SessionRecord",
    "SessionStatus",
]


class AvailabilityWindow(models.Model):
    """A weekly recurring window in which the instructor takes bookings (local time)."""

    instructor = models.ForeignKey("instructors.Instructor", on_delete=models.CASCADE,
                                   related_name="windows")
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    starts = models.TimeField()
    ends = models.TimeField()
    place = models.CharField(_("place"), max_length=100, blank=True)

    class Meta:
        ordering = ["weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="instr_window_weekday"),
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="instr_window_order"),
        ]

    def __str__(self) -> str:
        return f"{self.instructor_id} {self.weekday} {self.starts}-{self.ends}"


class AvailabilityException(models.Model):
    """A one-off change on one local date: away (``is_available`` false; the whole day when no
    times are given) or an extra window (``is_available`` true, with times)."""

    instructor = models.ForeignKey("instructors.Instructor", on_delete=models.CASCADE,
                                   related_name="exceptions")
    date = models.DateField()
    starts = models.TimeField(null=True, blank=True)
    ends = models.TimeField(null=True, blank=True)
    is_available = models.BooleanField(default=False)
    note = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date", "starts"]
        indexes = [models.Index(fields=["instructor", "date"], name="instr_exception_day")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(starts__isnull=True, ends__isnull=True, is_available=False)
                           | Q(starts__isnull=False, ends__isnull=False, ends__gt=F("starts"))),
                name="instr_exception_times"),
        ]

    def __str__(self) -> str:
        return f"{self.instructor_id} {self.date}"


class SessionKind(models.TextChoices):
    ONE_TO_ONE = "one_to_one", _("one-to-one")
    GROUP = "group", _("small group")


class SessionStatus(models.TextChoices):
    PENDING = "pending", _("awaiting the instructor")
    CONFIRMED = "confirmed", _("confirmed")
    DECLINED = "declined", _("declined")
    CANCELLED = "cancelled", _("cancelled")
    RECORDED = "recorded", _("recorded")


# Statuses in which a session holds the instructor's time.
LIVE_SESSION = (SessionStatus.PENDING, SessionStatus.CONFIRMED)


class GuidanceSession(TimeStampedModel):
    instructor = models.ForeignKey("instructors.Instructor", on_delete=models.CASCADE,
                                   related_name="guidance_sessions")
    kind = models.CharField(max_length=12, choices=SessionKind.choices,
                            default=SessionKind.ONE_TO_ONE)
    sport = models.ForeignKey("core.Sport", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    place = models.CharField(_("place"), max_length=100, blank=True)
    facility = models.ForeignKey("facilities.Facility", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    # The court booked with the session (a facilities booking of the resident who made it).
    facility_booking = models.ForeignKey("facilities.Booking", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    capacity = models.PositiveSmallIntegerField(default=1)
    taken = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=SessionStatus.choices,
                              default=SessionStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    note = models.CharField(max_length=200, blank=True)  # what the resident wants to learn

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(taken__lte=F("capacity")),
                                   name="guidance_taken_le_capacity"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                   name="guidance_time_order"),
        ]
        indexes = [models.Index(fields=["instructor", "status", "starts_at"],
                                name="guidance_instr_status_start"),
                   models.Index(fields=["status", "starts_at"], name="guidance_status_start")]

    def __str__(self) -> str:
        return f"session {self.pk} {self.status}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.taken, 0)


class BookingState(models.TextChoices):
    BOOKED = "booked", _("booked")
    CANCELLED = "cancelled", _("cancelled")
    ATTENDED = "attended", _("attended")
    ABSENT = "absent", _("absent")


class GuidanceBooking(TimeStampedModel):
    """A resident's place in a guidance session."""

    session = models.ForeignKey(GuidanceSession, on_delete=models.CASCADE,
                                related_name="bookings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="guidance_bookings")
    status = models.CharField(max_length=10, choices=BookingState.choices,
                              default=BookingState.BOOKED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"],
                                    condition=~Q(status="cancelled"),
                                    name="guidance_booking_once"),
            models.CheckConstraint(condition=Q(rating__isnull=True)
                                   | Q(rating__gte=1, rating__lte=5),
                                   name="guidance_rating_range"),
        ]
        indexes = [models.Index(fields=["user", "status"], name="guidance_booking_user")]

    def __str__(self) -> str:
        return f"guidance booking {self.pk} {self.status}"


class SessionRecord(TimeStampedModel):
    """What was taught: written once by the instructor after the session."""

    session = models.OneToOneField(GuidanceSession, on_delete=models.CASCADE,
                                   related_name="record")
    content = models.TextField(_("what was taught"), max_length=2000)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    minutes = models.PositiveIntegerField()
    attendees = models.PositiveSmallIntegerField(default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"record of session {self.session_id}"


class SessionPhoto(models.Model):
    record = models.ForeignKey(SessionRecord, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="instructors/sessions/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of record {self.record_id}"
