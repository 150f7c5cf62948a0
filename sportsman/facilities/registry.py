"""Writing the facility registry: facilities, their weekly hours and date exceptions, bookable
units and photos.

Every service takes an explicit ``actor`` who must hold ``Perm.FACILITY_MANAGE`` on the
facility's community (a region outside the actor's scope answers NotFound, exactly like a missing
facility). Input is validated completely before anything is written: a refusal carries every bad
field and leaves the database untouched. Each write is one transaction with its audit entry.

``Facility.is_free`` and ``Facility.is_bookable`` are derived from the active units and are
refreshed by the unit services in the same transaction (``sync_unit_flags``).

School grounds open to the public follow one pattern: weekday rules *outside* school hours
(06:00–07:30 and 17:30–21:00 on school days, all day at the weekend) plus date exceptions for
school holidays with their own hours (see ``imports`` for the file format).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from sportsman.core.audit import record
from sportsman.core.errors import InvalidInput, NotFound
from sportsman.core.models import Sport
from sportsman.core.uploads import PHOTO_MAX_BYTES as PHOTO_MAX_BYTES  # the views' read cap
from sportsman.core.uploads import clean_photo
from sportsman.facilities.models import (
    BookingMode,
    Category,
    Facility,
    FacilityPhoto,
    FacilityStatus,
    HolidayHours,
    OpeningException,
    OpeningRule,
    OwnerKind,
    Unit,
)
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Level, Region

SLOT_MINUTES_MIN, SLOT_MINUTES_MAX = 15, 480
LIST_ITEMS_MAX = 30
_PHONE = re.compile(r"^[0-9+\- ]{3,20}$")

# The fields a facility form or the API may set, in the order they are validated.
FACILITY_FIELDS = ("name", "owner_kind", "category", "region", "address", "lat", "lng", "sports",
                   "capacity", "amenities", "accessibility", "description", "contact_name",
                   "contact_phone", "status", "holiday_hours", "external_ref")
REQUIRED_FIELDS = ("name", "owner_kind", "category", "region", "address", "lat", "lng")


class FieldErrors:
    """Collects every problem of one input before refusing it."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self, message: str | None = None) -> None:
        if self.fields:
            raise InvalidInput(message or _("Some fields are not valid."), fields=self.fields)


# --- lookups in scope -------------------------------------------------------------------------

def access_of(actor: Any) -> Access:
    """The actor's access, refusing anyone who manages no facility anywhere."""
    access = access_for_user(actor)
    access.require_anywhere(Perm.FACILITY_MANAGE)
    return access


def facilities_in_scope(access: Access):
    return access.scope(Facility.objects.all(), Perm.FACILITY_MANAGE)


def facility_for(access: Access, facility_id: int, *, lock: bool = False) -> Facility:
    """The facility if it lies in ``access``'s FACILITY_MANAGE scope, else NotFound."""
    qs = facilities_in_scope(access).select_related("region")
    if lock:
        qs = qs.select_for_update(of=("self",))
    facility = qs.filter(pk=facility_id).first()
    if facility is None:
        raise NotFound(_("No such facility in your scope."))
    return facility


def community_for(access: Access, region: Any) -> Region | None:
    """A community (by id or instance) inside the actor's scope, or None."""
    region_id = region.pk if isinstance(region, Region) else region
    try:
        region_id = int(region_id)
    except (TypeError, ValueError):
        return None
    found = access.regions(Perm.FACILITY_MANAGE).filter(pk=region_id).first()
    if found is None or found.level != Level.COMMUNITY:
        return None
    return found


def _community_in_scope(access: Access, value: Any, errors: FieldErrors) -> Region | None:
    """A region outside the actor's scope is NotFound (as if it did not exist: the answer must
    not tell another region's staff what is there); one in scope that is not a community is a
    field error."""
    try:
        region_id = int(value.pk if isinstance(value, Region) else value)
    except (TypeError, ValueError):
        errors.add("region", _("Choose a community in your scope."))
        return None
    region = access.regions(Perm.FACILITY_MANAGE).filter(pk=region_id).first()
    if region is None:
        raise NotFound(_("No such community in your scope."))
    if region.level != Level.COMMUNITY:
        errors.add("region", _("Choose a community, not a town or district."))
    return region


# --- field cleaning ---------------------------------------------------------------------------

def _text(errors: FieldErrors, field: str, value: Any, max_length: int, *,
          required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors.add(field, _("This field is required."))
    elif len(text) > max_length:
        errors.add(field, _("At most %(n)d characters.") % {"n": max_length})
    return text


def _choice(errors: FieldErrors, field: str, value: Any, choices: Any) -> str:
    text = "" if value is None else str(value).strip()
    if text not in choices.values:
        errors.add(field, _("Not one of the allowed values."))
    return text


def _number(errors: FieldErrors, field: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.add(field, _("Enter a number."))
        return 0.0
    if not math.isfinite(number) or not low <= number <= high:
        errors.add(field, _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})
    return number


def _integer(errors: FieldErrors, field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        errors.add(field, _("Enter a whole number."))
        return 0
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(field, _("Enter a whole number."))
        return 0
    if not low <= number <= high:
        errors.add(field, _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})
    return number


def _strings(errors: FieldErrors, field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[,，、;；]", value)]
    if not isinstance(value, list | tuple):
        errors.add(field, _("Enter a list."))
        return []
    items = [str(v).strip() for v in value if str(v).strip()]
    if len(items) > LIST_ITEMS_MAX or any(len(v) > 50 for v in items):
        errors.add(field, _("At most %(n)d items of 50 characters.") % {"n": LIST_ITEMS_MAX})
    return items


def sports_by_key(keys: Iterable[str]) -> tuple[list[Sport], list[str]]:
    """Sports named by slug or Chinese name; returns (found, unknown keys)."""
    wanted = [k.strip() for k in keys if k and k.strip()]
    found = {s.slug: s for s in Sport.objects.filter(Q(slug__in=wanted) | Q(name_zh__in=wanted))}
    by_zh = {s.name_zh: s for s in found.values()}
    out: list[Sport] = []
    unknown: list[str] = []
    for key in wanted:
        sport = found.get(key) or by_zh.get(key)
        if sport is None:
            unknown.append(key)
        elif sport not in out:
            out.append(sport)
    return out, unknown


def clean_facility_fields(access: Access, data: Mapping[str, Any], *,
                          partial: bool) -> dict[str, Any]:
    """Validated values for the facility fields present in ``data`` (all required ones unless
    ``partial``). Raises InvalidInput naming every bad field; nothing is written."""
    errors = FieldErrors()
    unknown = set(data) - set(FACILITY_FIELDS)
    for field in sorted(unknown):
        errors.add(field, _("Unknown field."))
    if not partial:
        for field in REQUIRED_FIELDS:
            if data.get(field) in (None, ""):
                errors.add(field, _("This field is required."))
    out: dict[str, Any] = {}
    for field in FACILITY_FIELDS:
        if field not in data or field in errors.fields:
            continue
        value = data[field]
        if field == "name":
            out[field] = _text(errors, field, value, 100, required=True)
        elif field == "address":
            out[field] = _text(errors, field, value, 200, required=True)
        elif field == "owner_kind":
            out[field] = _choice(errors, field, value, OwnerKind)
        elif field == "category":
            out[field] = _choice(errors, field, value, Category)
        elif field == "status":
            out[field] = _choice(errors, field, value, FacilityStatus)
        elif field == "holiday_hours":
            out[field] = _choice(errors, field, value, HolidayHours)
        elif field == "lat":
            out[field] = _number(errors, field, value, -90, 90)
        elif field == "lng":
            out[field] = _number(errors, field, value, -180, 180)
        elif field == "capacity":
            out[field] = _integer(errors, field, value, 0, 1_000_000)
        elif field in ("amenities", "accessibility"):
            out[field] = _strings(errors, field, value)
        elif field == "description":
            out[field] = _text(errors, field, value, 2000)
        elif field == "contact_name":
            out[field] = _text(errors, field, value, 32)
        elif field == "contact_phone":
            phone = _text(errors, field, value, 20)
            if phone and not _PHONE.match(phone):
                errors.add(field, _("Enter a phone number."))
            out[field] = phone
        elif field == "external_ref":
            out[field] = _text(errors, field, value, 64)
        elif field == "region":
            out[field] = _community_in_scope(access, value, errors)
        elif field == "sports":
            keys = _strings(errors, field, value)
            sports, missing = sports_by_key(keys)
            if missing:
                errors.add(field, _("Unknown sports: %(names)s") % {"names": ", ".join(missing)})
            out[field] = sports
    errors.raise_if_any()
    return out


def apply_changes(facility: Facility, values: Mapping[str, Any]) -> list[str]:
    """Set changed scalar fields on ``facility``; returns the names of those that changed."""
    changed = []
    for field, value in values.items():
        if field == "sports":
            continue
        if getattr(facility, field) != value:
            setattr(facility, field, value)
            changed.append(field)
    return changed


def _audit_values(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in values.items():
        if isinstance(value, Region):
            out[field] = value.pk
        elif field == "sports":
            out[field] = sorted(s.slug for s in value)
        else:
            out[field] = value
    return out


def _external_ref_taken(external_ref: str, exclude_pk: int | None = None) -> bool:
    if not external_ref:
        return False
    qs = Facility.objects.filter(external_ref=external_ref)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


# --- facilities -------------------------------------------------------------------------------

def create_facility(*, actor: Any, data: Mapping[str, Any], request: Any = None) -> Facility:
    """Register a facility from ``data`` (the fields of ``FACILITY_FIELDS``; the required ones
    must be present). The actor needs FACILITY_MANAGE on the chosen community. Audited as
    ``facility.create``. A new facility has no hours and no units: it is neither open nor
    bookable until they are set."""
    access = access_of(actor)
    values = clean_facility_fields(access, data, partial=False)
    if _external_ref_taken(values.get("external_ref", "")):
        raise InvalidInput(_("Another facility has this reference."),
                           fields={"external_ref": [_("Another facility has this reference.")]})
    with transaction.atomic():
        facility = Facility(**{k: v for k, v in values.items() if k != "sports"})
        facility.save()
        facility.sports.set(values.get("sports", []))
        record(actor=actor, action="facility.create", obj=facility, region=facility.region,
               request=request, data=_audit_values(values))
    return facility


def update_facility(*, actor: Any, facility_id: int, changes: Mapping[str, Any],
                    request: Any = None) -> Facility:
    """Change the given fields of a facility. Moving it to another community needs the
    permission on both. Audited as ``facility.update`` with the changed fields only; a change
    that changes nothing writes nothing."""
    access = access_of(actor)
    facility = facility_for(access, facility_id)
    values = clean_facility_fields(access, changes, partial=True)
    if _external_ref_taken(values.get("external_ref", ""), exclude_pk=facility.pk):
        raise InvalidInput(_("Another facility has this reference."),
                           fields={"external_ref": [_("Another facility has this reference.")]})
    with transaction.atomic():
        facility = facility_for(access, facility_id, lock=True)
        changed = apply_changes(facility, values)
        sports_changed = False
        if "sports" in values:
            new = {s.pk for s in values["sports"]}
            sports_changed = new != set(facility.sports.values_list("pk", flat=True))
            if sports_changed:
                facility.sports.set(values["sports"])
        if changed:
            facility.save(update_fields=[*changed, "updated_at"])
        if changed or sports_changed:
            shown = {k: values[k] for k in changed}
            if sports_changed:
                shown["sports"] = values["sports"]
            record(actor=actor, action="facility.update", obj=facility,
                   region=facility.region, request=request, data=_audit_values(shown))
    return facility


# --- hours ------------------------------------------------------------------------------------

def parse_time(value: Any) -> dt.time | None:
    """A wall-clock time from "HH:MM" (or a time); "24:00" means the end of the day (23:59:59)."""
    if isinstance(value, dt.time):
        return value
    text = str(value or "").strip().replace("：", ":")
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        return dt.time(23, 59, 59)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def clean_opening_rules(rules: Sequence[Mapping[str, Any]]) -> list[tuple[int, dt.time, dt.time]]:
    """Validated (weekday, opens, closes) triples: closes after opens, no overlap within a day.
    Problems are reported per rule as ``rules.<index>``."""
    errors = FieldErrors()
    out: list[tuple[int, dt.time, dt.time]] = []
    for i, rule in enumerate(rules):
        key = f"rules.{i}"
        weekday = rule.get("weekday")
        opens, closes = parse_time(rule.get("opens")), parse_time(rule.get("closes"))
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            errors.add(key, _("The weekday must be 0 (Monday) to 6 (Sunday)."))
            continue
        if opens is None or closes is None:
            errors.add(key, _("Times are written HH:MM."))
            continue
        if closes <= opens:
            errors.add(key, _("Closing time must be after opening time."))
            continue
        out.append((weekday, opens, closes))
    by_day: dict[int, list[tuple[dt.time, dt.time, int]]] = {}
    for i, (weekday, opens, closes) in enumerate(out):
        by_day.setdefault(weekday, []).append((opens, closes, i))
    for day_rules in by_day.values():
        day_rules.sort()
        for (_o1, c1, _i1), (o2, _c2, i2) in itertools.pairwise(day_rules):
            if o2 < c1:
                errors.add(f"rules.{i2}", _("Overlaps another period of the same day."))
    errors.raise_if_any(_("The opening hours are not valid."))
    return sorted(out)


def set_opening_rules(*, actor: Any, facility_id: int, rules: Sequence[Mapping[str, Any]],
                      request: Any = None) -> list[OpeningRule]:
    """Replace the facility's whole week with ``rules`` (each ``{weekday, opens, closes}``;
    several per day make split hours; an empty list closes every day). Audited as
    ``facility.hours``; unchanged rules write nothing."""
    access = access_of(actor)
    facility_for(access, facility_id)
    cleaned = clean_opening_rules(rules)
    with transaction.atomic():
        facility = facility_for(access, facility_id, lock=True)
        current = sorted(facility.opening_rules.values_list("weekday", "opens", "closes"))
        if current != cleaned:
            facility.opening_rules.all().delete()
            OpeningRule.objects.bulk_create(
                [OpeningRule(facility=facility, weekday=w, opens=o, closes=c)
                 for w, o, c in cleaned])
            record(actor=actor, action="facility.hours", obj=facility, region=facility.region,
                   request=request,
                   data={"rules": [[w, o.strftime("%H:%M"), c.strftime("%H:%M")]
                                   for w, o, c in cleaned]})
    return list(facility.opening_rules.all())


def clean_exception(data: Mapping[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    dates: dict[str, dt.date | None] = {}
    for field in ("start_date", "end_date"):
        value = data.get(field)
        if isinstance(value, dt.date):
            dates[field] = value
            continue
        try:
            dates[field] = dt.date.fromisoformat(str(value or "").strip())
        except ValueError:
            errors.add(field, _("Enter a date (YYYY-MM-DD)."))
            dates[field] = None
    start, end = dates["start_date"], dates["end_date"]
    if start and end and end < start:
        errors.add("end_date", _("The end date is before the start date."))
    if start and end and (end - start).days > 366:
        errors.add("end_date", _("An exception lasts at most a year."))
    is_closed = bool(data.get("is_closed"))
    opens = closes = None
    if not is_closed:
        opens, closes = parse_time(data.get("opens")), parse_time(data.get("closes"))
        if opens is None or closes is None:
            errors.add("opens", _("Give the hours, or mark the dates closed."))
        elif closes <= opens:
            errors.add("closes", _("Closing time must be after opening time."))
    reason = _text(errors, "reason", data.get("reason"), 100)
    errors.raise_if_any()
    return {"start_date": start, "end_date": end, "is_closed": is_closed, "opens": opens,
            "closes": closes, "reason": reason}


def add_opening_exception(*, actor: Any, facility_id: int, data: Mapping[str, Any],
                          request: Any = None) -> OpeningException:
    """Add dates that do not follow the week: closed (``is_closed``) or open ``opens``–``closes``
    (school holidays). Dates may not overlap another exception of the facility. Audited."""
    access = access_of(actor)
    facility_for(access, facility_id)
    values = clean_exception(data)
    with transaction.atomic():
        facility = facility_for(access, facility_id, lock=True)
        clash = facility.opening_exceptions.filter(start_date__lte=values["end_date"],
                                                   end_date__gte=values["start_date"])
        if clash.exists():
            msg = _("These dates overlap another exception.")
            raise InvalidInput(msg, fields={"start_date": [msg]})
        exc = OpeningException.objects.create(facility=facility, **values)
        record(actor=actor, action="facility.exception.add", obj=facility,
               region=facility.region, request=request,
               data={"exception": exc.pk, "start": str(exc.start_date),
                     "end": str(exc.end_date), "closed": exc.is_closed})
    return exc


def remove_opening_exception(*, actor: Any, exception_id: int, request: Any = None) -> None:
    """Delete one exception of a facility in scope (NotFound otherwise). Audited."""
    access = access_of(actor)
    with transaction.atomic():
        exc = (OpeningException.objects.select_related("facility__region")
               .filter(pk=exception_id,
                       facility__in=facilities_in_scope(access)).first())
        if exc is None:
            raise NotFound(_("No such exception in your scope."))
        facility = exc.facility
        record(actor=actor, action="facility.exception.remove", obj=facility,
               region=facility.region, request=request,
               data={"exception": exc.pk, "start": str(exc.start_date),
                     "end": str(exc.end_date)})
        exc.delete()


# --- units ------------------------------------------------------------------------------------

UNIT_FIELDS = ("name", "sport", "capacity", "slot_minutes", "price_cents", "booking_mode",
               "is_active", "position")


def clean_unit_fields(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors = FieldErrors()
    for field in sorted(set(data) - set(UNIT_FIELDS)):
        errors.add(field, _("Unknown field."))
    if not partial and not data.get("name"):
        errors.add("name", _("This field is required."))
    out: dict[str, Any] = {}
    for field in UNIT_FIELDS:
        if field not in data or field in errors.fields:
            continue
        value = data[field]
        if field == "name":
            out[field] = _text(errors, field, value, 50, required=True)
        elif field == "sport":
            if value in (None, ""):
                out[field] = None
            else:
                sports, missing = sports_by_key([str(value)])
                if missing:
                    errors.add(field, _("Unknown sports: %(names)s") % {"names": value})
                out[field] = sports[0] if sports else None
        elif field == "capacity":
            out[field] = _integer(errors, field, value, 1, 10_000)
        elif field == "slot_minutes":
            out[field] = _integer(errors, field, value, SLOT_MINUTES_MIN, SLOT_MINUTES_MAX)
        elif field == "price_cents":
            out[field] = _integer(errors, field, value, 0, 10_000_000)
        elif field == "booking_mode":
            out[field] = _choice(errors, field, value, BookingMode)
        elif field == "is_active":
            out[field] = bool(value)
        elif field == "position":
            out[field] = _integer(errors, field, value, 0, 32_000)
    errors.raise_if_any()
    return out


def sync_unit_flags(facility_id: int) -> None:
    """Recompute ``is_bookable`` (an active unit exists) and ``is_free`` (no active unit has a
    price) in one UPDATE; call inside the transaction that changed the units."""
    active = Unit.objects.filter(facility_id=OuterRef("pk"), is_active=True)
    Facility.objects.filter(pk=facility_id).update(
        is_bookable=Exists(active), is_free=~Exists(active.filter(price_cents__gt=0)))


def _unit_name_taken(facility: Facility, name: str, exclude_pk: int | None = None) -> bool:
    qs = facility.units.filter(name=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def add_unit(*, actor: Any, facility_id: int, data: Mapping[str, Any],
             request: Any = None) -> Unit:
    """Add a bookable unit (name unique within the facility; slot 15–480 minutes). Refreshes the
    facility's free/bookable flags. Audited as ``facility.unit.add``."""
    access = access_of(actor)
    facility_for(access, facility_id)
    values = clean_unit_fields(data, partial=False)
    with transaction.atomic():
        facility = facility_for(access, facility_id, lock=True)
        if _unit_name_taken(facility, values["name"]):
            msg = _("This facility already has a unit of this name.")
            raise InvalidInput(msg, fields={"name": [msg]})
        values.setdefault("position", facility.units.count())
        unit = Unit.objects.create(facility=facility, **values)
        sync_unit_flags(facility.pk)
        record(actor=actor, action="facility.unit.add", obj=unit, region=facility.region,
               request=request, data={"facility": facility.pk, "name": unit.name})
    return unit


def update_unit(*, actor: Any, unit_id: int, changes: Mapping[str, Any],
                request: Any = None) -> Unit:
    """Change a unit's fields (``is_active=False`` deactivates it: no new slots; existing
    bookings stay). Refreshes the facility's flags. Audited as ``facility.unit.update``."""
    access = access_of(actor)
    values = clean_unit_fields(changes, partial=True)
    with transaction.atomic():
        unit = (Unit.objects.select_for_update(of=("self",)).select_related("facility__region")
                .filter(pk=unit_id, facility__in=facilities_in_scope(access)).first())
        if unit is None:
            raise NotFound(_("No such unit in your scope."))
        if "name" in values and _unit_name_taken(unit.facility, values["name"], unit.pk):
            msg = _("This facility already has a unit of this name.")
            raise InvalidInput(msg, fields={"name": [msg]})
        changed = [f for f, v in values.items() if getattr(unit, f) != v]
        for field in changed:
            setattr(unit, field, values[field])
        if changed:
            unit.save(update_fields=changed)
            sync_unit_flags(unit.facility_id)
            record(actor=actor, action="facility.unit.update", obj=unit,
                   region=unit.facility.region, request=request,
                   data={"facility": unit.facility_id, "changed": sorted(changed)})
    return unit


def deactivate_unit(*, actor: Any, unit_id: int, request: Any = None) -> Unit:
    """Stop a unit taking bookings (kept for its history)."""
    return update_unit(actor=actor, unit_id=unit_id, changes={"is_active": False},
                       request=request)


# --- photos -----------------------------------------------------------------------------------

def add_photo(*, actor: Any, facility_id: int, content: bytes, caption: str = "",
              request: Any = None) -> FacilityPhoto:
    """Add a photo (sniffed, re-encoded to JPEG, EXIF stripped) at the end of the gallery."""
    access = access_of(actor)
    facility_for(access, facility_id)
    errors = FieldErrors()
    caption = _text(errors, "caption", caption, 100)
    errors.raise_if_any()
    jpeg = clean_photo(content)
    with transaction.atomic():
        facility = facility_for(access, facility_id, lock=True)
        photo = FacilityPhoto(facility=facility, caption=caption,
                              position=facility.photos.count())
        photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=False)
        photo.save()
        record(actor=actor, action="facility.photo.add", obj=facility, region=facility.region,
               request=request, data={"photo": photo.pk})
    return photo


def remove_photo(*, actor: Any, photo_id: int, request: Any = None) -> None:
    access = access_of(actor)
    with transaction.atomic():
        photo = (FacilityPhoto.objects.select_related("facility__region")
                 .filter(pk=photo_id, facility__in=facilities_in_scope(access)).first())
        if photo is None:
            raise NotFound(_("No such photo in your scope."))
        facility = photo.facility
        record(actor=actor, action="facility.photo.remove", obj=facility,
               region=facility.region, request=request, data={"photo": photo.pk})
        name = photo.image.name or ""
        storage = photo.image.storage
        photo.delete()
        if name:
            transaction.on_commit(lambda: storage.delete(name))
