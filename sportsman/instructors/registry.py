"""The instructor registry: staff of a subtree register, edit, suspend and reinstate instructors
and confirm their yearly work registrations (工作注册); an instructor edits their own profile and
availability. Every staff write requires ``Perm.INSTRUCTOR_MANAGE`` on the instructor's region
(and on the new region when one moves), is audited, and runs in one transaction.

Promotion progress (DOMAIN.md §3) is read by :func:`promotion_progress`: the conditions of the
next level, each "met" or "not yet", from the confirmed registrations and recorded sessions.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, NotFound, bad_field
from sportsman.core.models import Sport
from sportsman.instructors.models import (
    AvailabilityException,
    AvailabilityWindow,
    Instructor,
    InstructorLevel,
    InstructorStatus,
    SessionStatus,
    WorkRegistration,
)
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region

MAX_WINDOWS = 28
MAX_SPORTS = 8
LEVEL_ORDER = [InstructorLevel.THIRD, InstructorLevel.SECOND, InstructorLevel.FIRST,
               InstructorLevel.NATIONAL]
# Years of registered service (工作注册) at the current level before the next one (DOMAIN.md §3:
# 二级 after 2 years at 三级, 一级 after 3 at 二级; 国家级 from 一级, commonly 5 — to verify).
YEARS_FOR_NEXT = {InstructorLevel.THIRD: 2, InstructorLevel.SECOND: 3, InstructorLevel.FIRST: 5}
# Regular volunteer service: the 三级 condition of at least 30 sessions in the last year, kept
# as a condition of every promotion.
SESSIONS_LAST_YEAR = 30


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- errors ------------------------------------------------------------------------------------


class InstructorNotFound(NotFound):
    code = "instructor_not_found"
    default_message = _("This instructor does not exist.")


class NotAnInstructor(NotFound):
    code = "not_an_instructor"
    default_message = _("You are not registered as an instructor.")


class AlreadyInstructor(Conflict):
    code = "already_instructor"
    default_message = _("This person is already registered as an instructor.")


class CertificateTaken(Conflict):
    code = "certificate_taken"
    default_message = _("This certificate number is already registered.")


# --- reads used by the writes -------------------------------------------------------------------


def get_instructor(instructor_id: int, *, public: bool = False) -> Instructor:
    """One instructor (region and user loaded); ``public``: only an active one."""
    if not 0 < instructor_id < 2**63:
        raise InstructorNotFound()
    qs = Instructor.objects.select_related("region", "user")
    if public:
        qs = qs.filter(status=InstructorStatus.ACTIVE)
    found = qs.filter(pk=instructor_id).first()
    if found is None:
        raise InstructorNotFound()
    return found


def instructor_of(user: Any) -> Instructor:
    """The instructor row of ``user`` (``not_an_instructor`` otherwise)."""
    if user is None or not user.is_authenticated:
        raise NotAnInstructor()
    found = Instructor.objects.select_related("region").filter(user_id=user.pk).first()
    if found is None:
        raise NotAnInstructor()
    return found


def in_scope(access: Access, instructor_id: int) -> Instructor:
    """An instructor of ``access``'s INSTRUCTOR_MANAGE subtree; another region's looks missing."""
    found = get_instructor(instructor_id)
    if not access.can(Perm.INSTRUCTOR_MANAGE, found.region):
        raise InstructorNotFound()
    return found


def _sports(slugs: Iterable[str]) -> list[Sport]:
    wanted = list(dict.fromkeys(s for s in slugs if s))
    if len(wanted) > MAX_SPORTS:
        raise bad_field("sports", _("At most 8 sports."))
    found = list(Sport.objects.filter(slug__in=wanted))
    if len(found) != len(wanted):
        raise bad_field("sports", _("Unknown sport."))
    return found


def _level(value: str) -> str:
    if value not in InstructorLevel.values:
        raise bad_field("level", _("Unknown level."))
    return value


def _region(access: Access, region_id: int) -> Region:
    region = Region.objects.filter(pk=region_id).first() if 0 < region_id < 2**63 else None
    if region is None:
        raise bad_field("region_id", _("Unknown region."), code="region_not_found")
    access.require(Perm.INSTRUCTOR_MANAGE, region)
    return region


# --- staff writes --------------------------------------------------------------------------------


def register_instructor(*, access: Access, user_id: int, name: str, level: str,
                        certificate_number: str, region_id: int, sports: Sequence[str] = (),
                        certified_on: dt.date | None = None, request: Any = None) -> Instructor:
    """Register a resident as an instructor of a region in ``access``'s INSTRUCTOR_MANAGE
    subtree (403 elsewhere). Refuses ``already_instructor`` and ``certificate_taken``. Audited
    as ``instructor.registered``."""
    from django.contrib.auth import get_user_model

    region = _region(access, region_id)
    level = _level(level)
    if not name.strip():
        raise bad_field("name", _("Give the name."))
    if not certificate_number.strip():
        raise bad_field("certificate_number", _("Give the certificate number."))
    person = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if person is None:
        raise bad_field("user_id", _("Unknown person."), code="user_not_found")
    chosen = _sports(sports)
    if Instructor.objects.filter(user_id=user_id).exists():
        raise AlreadyInstructor()
    try:
        with transaction.atomic():
            made = Instructor.objects.create(
                user=person, name=name.strip(), level=level,
                certificate_number=certificate_number.strip(), region=region,
                certified_on=certified_on)
            made.sports.set(chosen)
            audit.record(actor=access.user, action="instructor.registered", obj=made,
                         region=region, request=request,
                         data={"level": level, "user": user_id})
    except IntegrityError:
        if Instructor.objects.filter(user_id=user_id).exists():
            raise AlreadyInstructor() from None
        raise CertificateTaken() from None
    return made


def update_instructor(*, access: Access, instructor_id: int, name: str | None = None,
                      level: str | None = None, certificate_number: str | None = None,
                      region_id: int | None = None, sports: Sequence[str] | None = None,
                      certified_on: dt.date | None = None, request: Any = None) -> Instructor:
    """Edit an instructor of the subtree (the given fields only). Moving them needs the
    permission on the new region too. Audited as ``instructor.updated`` with the changed
    fields."""
    found = in_scope(access, instructor_id)
    changes: dict[str, Any] = {}
    if name is not None and name.strip() and name.strip() != found.name:
        changes["name"] = name.strip()
    if level is not None and _level(level) != found.level:
        changes["level"] = level
    if certificate_number is not None and certificate_number.strip() \
            and certificate_number.strip() != found.certificate_number:
        changes["certificate_number"] = certificate_number.strip()
    if region_id is not None and region_id != found.region_id:
        changes["region"] = _region(access, region_id)
    if certified_on is not None and certified_on != found.certified_on:
        changes["certified_on"] = certified_on
    chosen = _sports(sports) if sports is not None else None
    try:
        with transaction.atomic():
            for key, value in changes.items():
                setattr(found, key, value)
            if changes:
                found.save(update_fields=[*changes, "updated_at"])
            if chosen is not None:
                found.sports.set(chosen)
            audit.record(actor=access.user, action="instructor.updated", obj=found,
                         region=found.region, request=request,
                         data={"fields": sorted([*changes, *(["sports"] if chosen is not None
                                                             else [])])})
    except IntegrityError:
        raise CertificateTaken() from None
    return found


STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    InstructorStatus.ACTIVE: frozenset({InstructorStatus.SUSPENDED, InstructorStatus.RETIRED}),
    InstructorStatus.SUSPENDED: frozenset({InstructorStatus.ACTIVE, InstructorStatus.RETIRED}),
    InstructorStatus.RETIRED: frozenset({InstructorStatus.ACTIVE}),
}


class InvalidStatusChange(Conflict):
    code = "invalid_status_change"
    default_message = _("The instructor cannot change to that status from here.")


def transition_instructor(*, access: Access, instructor_id: int, to: str, reason: str = "",
                          request: Any = None) -> Instructor:
    """Suspend, retire or reinstate an instructor of the subtree (the table above, by one
    conditional UPDATE on the old status). A suspended or retired instructor leaves the public
    search and takes no bookings; their sessions already booked stay for them to settle.
    Audited as ``instructor.<to>``."""
    from sportsman.core.db import transition

    found = in_scope(access, instructor_id)
    with transaction.atomic():
        transition(found, to, table=STATUS_TRANSITIONS, error=InvalidStatusChange, stamps={})
        audit.record(actor=access.user, action=f"instructor.{to}", obj=found,
                     region=found.region, request=request, data={"reason": reason[:200]})
    return found


def confirm_registration(*, access: Access, instructor_id: int, year: int, org: str,
                         service_count: int, association_id: int | None = None,
                         request: Any = None, today: dt.date | None = None) -> WorkRegistration:
    """Confirm (create or correct) an instructor's 工作注册 for ``year``: with which
    organisation they served and how many times. A year in the future is refused. Audited as
    ``instructor.registration_confirmed``."""
    found = in_scope(access, instructor_id)
    today = today or timezone.localdate()
    if not 1990 <= year <= today.year:
        raise bad_field("year", _("The year must not lie in the future."))
    if not org.strip():
        raise bad_field("org", _("Give the organisation."))
    if not 0 <= service_count <= 10_000:
        raise bad_field("service_count", _("The count must be between 0 and 10,000."))
    if association_id is not None:
        from sportsman.associations.models import Association

        if not Association.objects.filter(pk=association_id).exists():
            raise bad_field("association_id", _("Unknown association."))
    with transaction.atomic():
        made, _created = WorkRegistration.objects.update_or_create(
            instructor=found, year=year,
            defaults={"org": org.strip()[:80], "service_count": service_count,
                      "association_id": association_id, "confirmed_by": access.user})
        audit.record(actor=access.user, action="instructor.registration_confirmed", obj=made,
                     region=found.region, request=request,
                     data={"instructor": found.pk, "year": year, "service_count": service_count})
    return made


# --- the instructor's own profile and availability -----------------------------------------------


def update_profile(*, actor: Any, bio: str | None = None, sports: Sequence[str] | None = None,
                   accepts_bookings: bool | None = None, max_group_size: int | None = None,
                   lat: float | None = None, lng: float | None = None,
                   photo: bytes | None = None) -> Instructor:
    """The instructor edits their own profile (``not_an_instructor`` for anyone else). A photo
    is re-encoded without EXIF (``core.uploads.clean_photo``)."""
    from sportsman.core.uploads import clean_photo

    found = instructor_of(actor)
    changes: list[str] = []
    if bio is not None:
        found.bio = bio[:2000]
        changes.append("bio")
    if accepts_bookings is not None:
        found.accepts_bookings = accepts_bookings
        changes.append("accepts_bookings")
    if max_group_size is not None:
        if not 1 <= max_group_size <= 30:
            raise bad_field("max_group_size", _("A group is 1 to 30 people."))
        found.max_group_size = max_group_size
        changes.append("max_group_size")
    if (lat is None) != (lng is None):
        raise bad_field("lat", _("Give both latitude and longitude."))
    if lat is not None and lng is not None:
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise bad_field("lat", _("Not a place on Earth."))
        found.lat, found.lng = lat, lng
        changes += ["lat", "lng"]
    cleaned = clean_photo(photo, field="photo") if photo is not None else None
    chosen = _sports(sports) if sports is not None else None
    with transaction.atomic():
        if cleaned is not None:
            found.photo.save(f"instructor-{found.pk}.jpg", ContentFile(cleaned), save=False)
            changes.append("photo")
        if changes:
            found.save(update_fields=[*changes, "updated_at"])
        if chosen is not None:
            found.sports.set(chosen)
    return found


@dataclass(frozen=True)
class WindowIn:
    weekday: int
    starts: dt.time
    ends: dt.time
    place: str = ""


def set_weekly(*, actor: Any, windows: Sequence[WindowIn]) -> list[AvailabilityWindow]:
    """Replace the instructor's weekly windows (local time; at most 28; a window within a day,
    windows of one day not overlapping). Sessions already booked are kept."""
    found = instructor_of(actor)
    if len(windows) > MAX_WINDOWS:
        raise bad_field("windows", _("At most 28 windows a week."))
    by_day: dict[int, list[WindowIn]] = {}
    for w in windows:
        if not 0 <= w.weekday <= 6:
            raise bad_field("windows", _("A weekday is 0 (Monday) to 6 (Sunday)."))
        if w.ends <= w.starts:
            raise bad_field("windows", _("A window must end after it starts."))
        by_day.setdefault(w.weekday, []).append(w)
    for day in by_day.values():
        day.sort(key=lambda w: w.starts)
        if any(a.ends > b.starts for a, b in itertools.pairwise(day)):
            raise bad_field("windows", _("Windows of one day must not overlap."),
                       code="windows_overlap")
    with transaction.atomic():
        AvailabilityWindow.objects.filter(instructor=found).delete()
        return AvailabilityWindow.objects.bulk_create([
            AvailabilityWindow(instructor=found, weekday=w.weekday, starts=w.starts, ends=w.ends,
                               place=w.place[:100]) for w in windows])


def add_exception(*, actor: Any, date: dt.date, starts: dt.time | None = None,
                  ends: dt.time | None = None, is_available: bool = False,
                  note: str = "", today: dt.date | None = None) -> AvailabilityException:
    """A one-off change: away on ``date`` (all day without times) or an extra window."""
    found = instructor_of(actor)
    today = today or timezone.localdate()
    if date < today:
        raise bad_field("date", _("The date has passed."))
    if (starts is None) != (ends is None):
        raise bad_field("starts", _("Give both times, or neither for the whole day."))
    if starts is not None and ends is not None and ends <= starts:
        raise bad_field("ends", _("A window must end after it starts."))
    if is_available and starts is None:
        raise bad_field("starts", _("An extra window needs its times."))
    return AvailabilityException.objects.create(instructor=found, date=date, starts=starts,
                                                ends=ends, is_available=is_available,
                                                note=note[:100])


def remove_exception(*, actor: Any, exception_id: int) -> None:
    found = instructor_of(actor)
    if not 0 < exception_id < 2**63 or not AvailabilityException.objects.filter(
            pk=exception_id, instructor=found).delete()[0]:
        raise NotFound(code="exception_not_found")


# --- promotion progress ------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    key: str
    label: str
    required: int
    value: int

    @property
    def met(self) -> bool:
        return self.value >= self.required


@dataclass(frozen=True)
class YearFigures:
    year: int
    registered_service: int | None  # the confirmed 工作注册 count, None without one
    org: str
    sessions: int  # guidance sessions recorded on the platform
    minutes: int


@dataclass
class Progress:
    level: str
    next_level: str | None
    years: list[YearFigures] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)

    @property
    def all_met(self) -> bool:
        return bool(self.conditions) and all(c.met for c in self.conditions)


def promotion_progress(instructor: Instructor, *, today: dt.date | None = None) -> Progress:
    """Per year, the registered service and the recorded sessions; and the conditions of the
    next level (DOMAIN.md §3) as "met / not yet": regular service (at least 30 sessions in the
    last 365 days, counting recorded guidance sessions, or the last confirmed registration's
    count when larger) and years of confirmed registration with service after reaching the
    current level (``certified_on``; registration years after its year). Three queries."""
    from sportsman.instructors.models import SessionRecord

    today = today or timezone.localdate()
    tz = zone()
    level = instructor.level
    index = LEVEL_ORDER.index(InstructorLevel(level))
    next_level = LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None
    registrations = {r.year: r for r in WorkRegistration.objects.filter(instructor=instructor)}
    per_year: dict[int, list[int]] = {}
    records = (SessionRecord.objects
               .filter(session__instructor=instructor, session__status=SessionStatus.RECORDED)
               .values_list("session__starts_at", "minutes"))
    since = dt.datetime.combine(today - dt.timedelta(days=364), dt.time(), tz)
    last_365 = 0
    for starts_at, minutes in records:
        year = starts_at.astimezone(tz).year
        row = per_year.setdefault(year, [0, 0])
        row[0] += 1
        row[1] += minutes
        if starts_at >= since:
            last_365 += 1
    years = sorted(set(per_year) | set(registrations), reverse=True)
    progress = Progress(level=level, next_level=next_level, years=[
        YearFigures(year=y, registered_service=(registrations[y].service_count
                                                if y in registrations else None),
                    org=registrations[y].org if y in registrations else "",
                    sessions=per_year.get(y, [0, 0])[0], minutes=per_year.get(y, [0, 0])[1])
        for y in years])
    if next_level is None:
        return progress
    confirmed = [r for r in registrations.values() if r.confirmed_by_id is not None]
    last_registered = max((r.service_count for r in confirmed if r.year == today.year - 1),
                          default=0)
    since_year = instructor.certified_on.year if instructor.certified_on else None
    years_served = sum(1 for r in confirmed if r.service_count > 0
                       and (since_year is None or r.year > since_year))
    progress.conditions = [
        Condition("service_last_year", str(_("volunteer sessions in the last year")),
                  SESSIONS_LAST_YEAR, max(last_365, last_registered)),
        Condition("registered_years", str(_("years of registered service at this level")),
                  YEARS_FOR_NEXT[InstructorLevel(level)], years_served),
    ]
    return progress


def service_totals(instructor_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Registered service per instructor over all years (one query)."""
    rows = (WorkRegistration.objects.filter(instructor_id__in=list(instructor_ids))
            .values("instructor_id").annotate(years=Count("id"), service=Sum("service_count")))
    return {r["instructor_id"]: {"years": r["years"], "service": r["service"] or 0} for r in rows}
