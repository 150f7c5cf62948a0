"""Shared facilities: the registry, opening hours, bookable units and their slots, bookings with
waitlists and lotteries, visits (check-in/out), smart devices and their events, occupancy,
hourly rollups and maintenance tickets.

Scarce things are guarded by the database, not by Python: a slot's ``booked`` counter only moves
through one conditional UPDATE (``booked < capacity``), a resident holds at most one live booking
per slot (partial unique constraint), a device event id is unique per device, a lottery entry is
unique per (slot, user). See docs/facilities.md.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel


def new_secret() -> str:
    return secrets.token_urlsafe(24)


class OwnerKind(models.TextChoices):
    SCHOOL = "school", _("school")
    COMMUNITY = "community", _("community")
    PARK = "park", _("park")
    SPORTS_BUREAU = "sports_bureau", _("sports bureau")
    CULTURAL_HALL = "cultural_hall", _("rural cultural hall")
    ELDERLY_CENTRE = "elderly_centre", _("elderly-care centre")
    ENTERPRISE = "enterprise", _("enterprise")


class Category(models.TextChoices):
    """DOMAIN.md §2."""

    FITNESS_PATH = "fitness_path", _("fitness path equipment (全民健身路径)")
    CAGE_FOOTBALL = "cage_football", _("cage football pitch (笼式足球场)")
    FOOTBALL = "football", _("football pitch")
    MULTI_COURT = "multi_court", _("community multi-use court (社区多功能运动场)")
    COMMUNITY_GYM = "community_gym", _("community gym (百姓健身房)")
    TRAIL = "trail", _("fitness trail or greenway (健身步道)")
    SPORTS_PARK = "sports_park", _("sports park (体育公园)")
    SCHOOL_GROUND = "school_ground", _("school grounds open to the public (学校体育场地开放)")
    CULTURAL_HALL = "cultural_hall", _("rural cultural hall (文化礼堂)")
    VILLAGE_SQUARE = "village_square", _("village fitness square (村级全民健身广场)")
    FITNESS_CENTRE = "fitness_centre", _("national fitness centre (全民健身中心)")
    GATEBALL = "gateball", _("gateball court (门球场)")
    STATION = "station", _("运动家 smart fitness station (智能健身驿站)")
    ELDERLY_CENTRE = "elderly_centre", _("elderly-care centre activity room")


class FacilityStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")
    MAINTENANCE = "maintenance", _("under maintenance")


class HolidayHours(models.TextChoices):
    NORMAL = "normal", _("usual hours")
    WEEKEND = "weekend", _("Sunday hours")
    CLOSED = "closed", _("closed")


class Facility(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100)
    owner_kind = models.CharField(_("owner"), max_length=20, choices=OwnerKind.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="facilities", verbose_name=_("community"))
    address = models.CharField(_("address"), max_length=200)
    # WGS-84 as stored; geo.to_gcj02() converts for Chinese map tiles.
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    sports = models.ManyToManyField("core.Sport", blank=True, related_name="facilities",
                                    verbose_name=_("sports"))
    capacity = models.PositiveIntegerField(_("capacity (people at once)"), default=0)
    amenities = models.JSONField(_("amenities"), default=list, blank=True)
    accessibility = models.JSONField(_("accessibility"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    contact_name = models.CharField(_("contact"), max_length=32, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=FacilityStatus.choices,
                              default=FacilityStatus.OPEN)
    holiday_hours = models.CharField(_("on public holidays"), max_length=8,
                                     choices=HolidayHours.choices, default=HolidayHours.WEEKEND)
    is_free = models.BooleanField(_("free of charge"), default=True)  # no unit with a price
    is_bookable = models.BooleanField(default=False)  # has an active unit
    # Live occupancy: people there now, from counter events and open visits.
    occupancy = models.IntegerField(default=0)
    occupancy_at = models.DateTimeField(null=True, blank=True)
    # Signs the rotating check-in QR codes shown at the facility.
    qr_secret = models.CharField(max_length=64, default=new_secret, editable=False)
    external_ref = models.CharField(_("reference in the source register"), max_length=64,
                                    blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "facilities"
        indexes = [
            # Search near a point reads the bounding box from this index alone: the common
            # filters (category, free) and the id are in it, so no table row is read to measure.
            models.Index(fields=["lat", "lng", "category", "is_free", "id"],
                         name="facility_search_box"),
            models.Index(fields=["region", "status"]),
            # Lists without a point are ordered by name (keyset on name, id): with or without
            # a category filter, the index gives the order and no sort is needed.
            models.Index(fields=["name", "id"]),
            models.Index(fields=["category", "name", "id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180,
                                               lng__lte=180), name="facility_lat_lng_range"),
            models.UniqueConstraint(fields=["external_ref"], condition=~Q(external_ref=""),
                                    name="facility_external_ref_once"),
        ]

    def __str__(self) -> str:
        return self.name


class FacilityPhoto(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="facilities/%Y/%m/")
    caption = models.CharField(max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.facility_id}#{self.position}"


class OpeningRule(models.Model):
    """Weekly hours: on ``weekday`` (0 = Monday) open from ``opens`` to ``closes`` (local time).
    Several rules a day make split hours (a school ground: 06:00–07:30 and 17:30–21:00)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="opening_rules")
    weekday = models.PositiveSmallIntegerField()
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_weekday_range"),
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")),
                                   name="opening_closes_after_opens"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens:%H:%M}–{self.closes:%H:%M}"


class OpeningException(models.Model):
    """Dates that do not follow the weekly rules: closed (``is_closed``), or open from ``opens`` to
    ``closes`` instead (school holidays open the school ground all day)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE,
                                 related_name="opening_exceptions")
    start_date = models.DateField()
    end_date = models.DateField()
    is_closed = models.BooleanField(default=False)
    opens = models.TimeField(null=True, blank=True)
    closes = models.TimeField(null=True, blank=True)
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")),
                                   name="opening_exception_dates"),
            models.CheckConstraint(
                condition=Q(is_closed=True) | Q(opens__isnull=False, closes__isnull=False,
                                                closes__gt=models.F("opens")),
                name="opening_exception_hours"),
        ]

    def __str__(self) -> str:
        return f"{self.start_date}–{self.end_date} {self.reason}"


class PublicHoliday(models.Model):
    """The national holiday calendar (法定节假日); facilities follow ``holiday_hours`` on these."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=32)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class BookingMode(models.TextChoices):
    FIRST_COME = "first_come", _("first come, first served")
    LOTTERY = "lottery", _("lottery")


class Unit(models.Model):
    """A bookable part of a facility (court 1, the gym, lane 3): its slots follow the facility's
    hours in ``slot_minutes`` steps, each for ``capacity`` people (or parties)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="units")
    name = models.CharField(_("name"), max_length=50)
    sport = models.ForeignKey("core.Sport", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("sport"))
    capacity = models.PositiveIntegerField(_("places per slot"), default=1)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=60)
    price_cents = models.PositiveIntegerField(_("price shown (fen)"), default=0)
    booking_mode = models.CharField(_("booking mode"), max_length=12, choices=BookingMode.choices,
                                    default=BookingMode.FIRST_COME)
    is_active = models.BooleanField(_("bookable"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["facility", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="unit_name_once"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="unit_capacity_positive"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=15, slot_minutes__lte=480),
                                   name="unit_slot_minutes_range"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id}:{self.name}"


class BookingPolicy(models.Model):
    """Booking rules for a region's subtree, or for one facility (which overrides its region's).
    A blank field means "inherit": the nearest facility → region → ancestor value wins, then the
    built-in default (``booking.DEFAULT_POLICY``)."""

    region = models.OneToOneField("regions.Region", null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="booking_policy")
    facility = models.OneToOneField(Facility, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="booking_policy")
    window_days = models.PositiveSmallIntegerField(_("bookable days ahead"), null=True, blank=True)
    window_opens_at = models.TimeField(_("new day opens at"), null=True, blank=True)
    max_active = models.PositiveSmallIntegerField(_("active bookings at most"), null=True,
                                                  blank=True)
    max_per_day = models.PositiveSmallIntegerField(_("bookings per day at most"), null=True,
                                                   blank=True)
    cancel_minutes = models.PositiveIntegerField(_("cancel up to (minutes before start)"),
                                                 null=True, blank=True)
    checkin_grace_minutes = models.PositiveSmallIntegerField(
        _("check in within (minutes after start)"), null=True, blank=True)
    noshow_limit = models.PositiveSmallIntegerField(_("no-shows before suspension"), null=True,
                                                    blank=True)
    noshow_period_days = models.PositiveSmallIntegerField(_("counted over (days)"), null=True,
                                                          blank=True)
    suspension_days = models.PositiveSmallIntegerField(_("suspension (days)"), null=True,
                                                       blank=True)
    lottery_draw_hours = models.PositiveSmallIntegerField(
        _("lottery drawn (hours before start)"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(region__isnull=False, facility__isnull=True)
                           | Q(region__isnull=True, facility__isnull=False)),
                name="booking_policy_one_owner"),
        ]

    def __str__(self) -> str:
        return f"policy r{self.region_id} f{self.facility_id}"


class SlotStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed by the venue")


class Slot(models.Model):
    """One bookable time of a unit, made from the unit and the facility's hours (``booking.
    ensure_slots``). ``booked`` counts live bookings and moves only by conditional UPDATE."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="slots")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    booked = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=SlotStatus.choices, default=SlotStatus.OPEN)
    mode = models.CharField(max_length=12, choices=BookingMode.choices,
                            default=BookingMode.FIRST_COME)
    # Lottery: entries until draw_at; the seed is recorded so anyone can re-run the draw.
    draw_at = models.DateTimeField(null=True, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    lottery_seed = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["start", "unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "start"], name="slot_unit_start_once"),
            models.CheckConstraint(condition=Q(booked__lte=models.F("capacity")),
                                   name="slot_never_overbooked"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")),
                                   name="slot_end_after_start"),
        ]
        indexes = [models.Index(fields=["facility", "start"]),
                   models.Index(fields=["mode", "drawn_at", "draw_at"])]

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.start:%Y-%m-%d %H:%M}"


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("booked")
    CHECKED_IN = "checked_in", _("checked in")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")
    NO_SHOW = "no_show", _("no-show")


LIVE_BOOKING = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)


class Booking(TimeStampedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="bookings")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    # Denormalised from the slot: limits and staff lists filter on these without a join.
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=12, choices=BookingStatus.choices,
                              default=BookingStatus.BOOKED)
    source = models.CharField(max_length=12, default="direct")  # direct / waitlist / lottery
    # The booking pass: shown as a QR code, scanned by staff.
    pass_code = models.CharField(max_length=64, unique=True, default=new_secret, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "slot"],
                                    condition=Q(status__in=["booked", "checked_in"]),
                                    name="booking_one_live_per_user_slot"),
        ]
        indexes = [
            models.Index(fields=["user", "status", "start"]),
            models.Index(fields=["facility", "start"]),
            models.Index(fields=["status", "start"]),
        ]

    def __str__(self) -> str:
        return f"booking {self.pk} {self.status}"


class WaitlistEntry(TimeStampedModel):
    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        PROMOTED = "promoted", _("got a place")
        LEFT = "left", _("left the waitlist")
        EXPIRED = "expired", _("expired")

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="waitlist")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="waitlist_entries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    booking = models.OneToOneField(Booking, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="from_waitlist")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "user"], condition=Q(status="waiting"),
                                    name="waitlist_once_per_user_slot"),
        ]

    def __str__(self) -> str:
        return f"wait {self.slot_id}:{self.user_id} {self.status}"


class LotteryEntry(TimeStampedModel):
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="lottery_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="lottery_entries")
    is_winner = models.BooleanField(null=True)  # None until drawn
    booking = models.OneToOneField(Booking, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="from_lottery")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "user"], name="lottery_one_entry_per_user"),
        ]

    def __str__(self) -> str:
        return f"lottery {self.slot_id}:{self.user_id}"


class Suspension(TimeStampedModel):
    """A resident may not book until ``until`` after too many no-shows (across all venues)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="booking_suspensions")
    until = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    # The no-show that triggered it: at most one suspension per triggering no-show.
    trigger = models.OneToOneField(Booking, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-until"]
        indexes = [models.Index(fields=["user", "until"])]

    def __str__(self) -> str:
        return f"suspended {self.user_id} until {self.until:%Y-%m-%d}"


class VisitSource(models.TextChoices):
    FACILITY_QR = "facility_qr", _("scanned the facility's code")
    STAFF_SCAN = "staff_scan", _("pass scanned by staff")
    DEVICE = "device", _("turnstile or face recognition")
    WALK_IN = "walk_in", _("registered at the desk")


class Visit(models.Model):
    """One stay at a facility: checked in, then checked out (or closed automatically at the slot's
    end or closing time). A completed visit publishes ``facilities.visit_completed``: the exercise
    record is built from those events."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="visits")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="visits")
    booking = models.OneToOneField(Booking, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="visit")
    sport = models.ForeignKey("core.Sport", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    source = models.CharField(max_length=12, choices=VisitSource.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=12, blank=True)  # user / staff / auto
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One open visit per person at a time, anywhere.
            models.UniqueConstraint(fields=["user"], condition=Q(ended_at__isnull=True),
                                    name="visit_one_open_per_user"),
        ]
        indexes = [
            models.Index(fields=["facility", "started_at"]),
            models.Index(fields=["user", "started_at"]),
            models.Index(fields=["ended_at", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"visit {self.pk} {self.facility_id}"

    @property
    def duration_minutes(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() // 60)



class DeviceKind(models.TextChoices):
    COUNTER = "counter", _("turnstile or people counter")
    EQUIPMENT = "equipment", _("smart fitness equipment")
    SENSOR = "sensor", _("environment sensor")


class Device(TimeStampedModel):
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(_("kind"), max_length=10, choices=DeviceKind.choices)
    name = models.CharField(_("name"), max_length=60)
    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    # Only a keyed hash of the secret is kept; the secret is shown once when the device is added.
    secret_hash = models.CharField(max_length=64, editable=False)
    heartbeat_seconds = models.PositiveIntegerField(_("expected heartbeat (seconds)"),
                                                    default=300)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    is_silent = models.BooleanField(default=False)  # alerted as silent; cleared when heard
    usage_cycles = models.PositiveBigIntegerField(default=0)
    wear_threshold = models.PositiveIntegerField(_("cycles between services"), null=True,
                                                 blank=True)
    cycles_at_service = models.PositiveBigIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    last_reading = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["facility", "kind", "name"]
        indexes = [models.Index(fields=["is_active", "last_seen_at"])]

    def __str__(self) -> str:
        return self.serial


class DeviceEvent(models.Model):
    """One event a device sent, kept as received. ``(device, event_id)`` is unique: a replayed
    batch inserts nothing and changes nothing."""

    class Kind(models.TextChoices):
        COUNT = "count", _("people in/out")
        USAGE = "usage", _("equipment use")
        HEARTBEAT = "heartbeat", _("heartbeat")
        READING = "reading", _("environment reading")
        FAULT = "fault", _("fault")
        SESSION = "session", _("exercise session on equipment")

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "event_id"], name="device_event_once"),
        ]
        indexes = [models.Index(fields=["device", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.event_id}"


class FacilityHour(models.Model):
    """The hourly rollup per facility: visits started, people counted in, the peak occupancy.
    The busy curve, the heat map and utilisation read this, never the raw rows."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="hours")
    hour = models.DateTimeField()  # start of the hour, UTC
    visits = models.PositiveIntegerField(default=0)
    entries = models.PositiveIntegerField(default=0)
    peak = models.PositiveIntegerField(default=0)
    booked_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["facility", "hour"],
                                               name="facility_hour_once")]

    def __str__(self) -> str:
        return f"{self.facility_id}@{self.hour:%Y-%m-%d %H}"


class TicketStatus(models.TextChoices):
    OPEN = "open", _("open")
    ASSIGNED = "assigned", _("assigned")
    DONE = "done", _("done")


class TicketKind(models.TextChoices):
    WEAR = "wear", _("wear threshold reached")
    SILENT = "silent", _("device silent")
    FAULT = "fault", _("device fault")
    REPORT = "report", _("reported problem")


class MaintenanceTicket(TimeStampedModel):
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="tickets")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="tickets")
    kind = models.CharField(max_length=8, choices=TicketKind.choices)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=TicketStatus.choices,
                              default=TicketStatus.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # A resident's report about the facility (governance): the ticket follows the report, which
    # its handlers work; a plain id, the facilities app does not reach into governance.
    report_id = models.PositiveBigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one unfinished ticket of a kind per device: a device that stays silent or
            # keeps wearing does not flood the manager.
            models.UniqueConstraint(fields=["device", "kind"], condition=~Q(status="done"),
                                    name="ticket_one_open_per_device_kind"),
        ]
        indexes = [models.Index(fields=["facility", "status"])]

    def __str__(self) -> str:
        return self.title


class SearchMiss(models.Model):
    """How often a search near a place for a sport found nothing within the distance asked, per
    community (the searcher's home, or the community nearest the point) and local day: one
    counter row, raised by one UPSERT per such search (``search_misses.count_miss``). Who
    searched, and where exactly, is not kept."""

    day = models.DateField()
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    sport = models.ForeignKey("core.Sport", on_delete=models.CASCADE, related_name="+")
    misses = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "region", "sport"],
                                               name="search_miss_once")]

    def __str__(self) -> str:
        return f"{self.sport_id}@{self.region_id} {self.day}: {self.misses}"
