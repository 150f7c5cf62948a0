"""Live occupancy and the hourly rollup: the only code that writes ``Facility.occupancy`` and
``FacilityHour``, and the reads built on them (crowd level, busy curve).

Every write is one atomic UPDATE (``F()`` expressions, ``Greatest``), an upsert, or an insert that ignores
a conflict followed by such an UPDATE: concurrent visits and counter batches never lose an
increment, and occupancy never drops below zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db.models import F, Q, Value
from django.db.models.functions import Greatest

from sportsman.facilities.hours import LOCAL_TZ, aware
from sportsman.facilities.models import Facility, FacilityHour


def hour_of(when: dt.datetime) -> dt.datetime:
    """The start of ``when``'s hour, in UTC (the rollup's key)."""
    return when.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def adjust_occupancy(facility_id: int, delta: int, *, at: dt.datetime) -> None:
    """Add ``delta`` people (negative: people left), never going below zero."""
    if delta == 0:
        return
    Facility.objects.filter(pk=facility_id).update(
        occupancy=Greatest(F("occupancy") + delta, Value(0)), occupancy_at=at)


def count_in(facility_id: int, *, at: dt.datetime) -> None:
    """One person came in (a check-in): occupancy + 1, and in ``at``'s hour one more visit and
    the peak raised to the new occupancy. Two statements: the UPDATE returns the occupancy it
    set, and the hour row is upserted with both changes."""
    from django.db import connection

    qn = connection.ops.quote_name
    facilities, hours_ = qn(Facility._meta.db_table), qn(FacilityHour._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {facilities} SET occupancy = occupancy + 1, occupancy_at = %s "  # noqa: S608
            f"WHERE id = %s RETURNING occupancy", [stamp(at), facility_id])
        row = cursor.fetchone()
        if row is None:
            return
        cursor.execute(
            f"INSERT INTO {hours_} (facility_id, hour, visits, entries, peak, booked_minutes) "  # noqa: S608
            f"VALUES (%s, %s, 1, 0, %s, 0) ON CONFLICT (facility_id, hour) DO UPDATE SET "
            f"visits = {hours_}.visits + 1, peak = {greatest}({hours_}.peak, excluded.peak)",
            [facility_id, stamp(hour_of(at)), row[0]])


def set_occupancy(facility_id: int, present: int, *, at: dt.datetime) -> bool:
    """A counter's absolute reading: applied unless a newer reading is already there (devices
    deliver late and out of order). Returns whether it was applied."""
    return bool(Facility.objects.filter(pk=facility_id)
                .filter(Q(occupancy_at__isnull=True) | Q(occupancy_at__lte=at))
                .update(occupancy=max(present, 0), occupancy_at=at))


def current_occupancy(facility_id: int) -> int:
    value = Facility.objects.filter(pk=facility_id).values_list("occupancy", flat=True).first()
    return int(value or 0)


def bump_hours(facility_id: int, *, visits: Mapping[dt.datetime, int] | None = None,
               entries: Mapping[dt.datetime, int] | None = None,
               peaks: Mapping[dt.datetime, int] | None = None) -> None:
    """Add visits and entries to, and raise the peak of, the rollup rows of the given hours
    (keys: any datetime in the hour). Creates missing rows; never reads a counter back."""
    by_hour: dict[dt.datetime, dict[str, int]] = {}
    series: tuple[tuple[str, Mapping[dt.datetime, int]], ...] = (
        ("visits", visits or {}), ("entries", entries or {}), ("peak", peaks or {}))
    for name, values in series:
        for when, n in values.items():
            slot = by_hour.setdefault(hour_of(when), {})
            slot[name] = max(slot.get(name, 0), n) if name == "peak" else slot.get(name, 0) + n
    if not by_hour:
        return
    FacilityHour.objects.bulk_create(
        [FacilityHour(facility_id=facility_id, hour=h) for h in sorted(by_hour)],
        ignore_conflicts=True)
    for hour, totals in sorted(by_hour.items()):
        changes: dict = {}
        if totals.get("visits"):
            changes["visits"] = F("visits") + totals["visits"]
        if totals.get("entries"):
            changes["entries"] = F("entries") + totals["entries"]
        if totals.get("peak"):
            changes["peak"] = Greatest(F("peak"), Value(totals["peak"]))
        if changes:
            FacilityHour.objects.filter(facility_id=facility_id, hour=hour).update(**changes)


def record_peak(facility_id: int, *, at: dt.datetime) -> None:
    """Raise the peak of ``at``'s hour to the facility's occupancy now (after a change to it)."""
    bump_hours(facility_id, peaks={at: current_occupancy(facility_id)})


def crowd_level(facility: Facility) -> str:
    """"quiet" (< 30 % of capacity), "moderate" (< 70 %), "busy" (≥ 70 %), or "unknown" when the
    facility has no capacity or nobody has ever reported its occupancy."""
    return crowd_of(facility.capacity, facility.occupancy, facility.occupancy_at is not None)


def crowd_of(capacity: int, occupancy: int, reported: bool) -> str:
    """``crowd_level`` from the plain values (search reads rows, not models)."""
    if not capacity or not reported:
        return "unknown"
    # Integer arithmetic, as the search filter (selectors.CROWD_SQL) does: no rounding at 30 %.
    people10 = max(occupancy, 0) * 10
    if people10 < capacity * 3:
        return "quiet"
    if people10 < capacity * 7:
        return "moderate"
    return "busy"


def busy_curve(facility: Facility, day: dt.date) -> list[int]:
    """How busy ``facility`` was in each local hour (0–23) of ``day``: per hour the largest of
    the peak occupancy, the visits started and the people counted in (whichever the facility
    reports), from the rollup."""
    start = aware(day, dt.time(0))
    end = aware(day + dt.timedelta(days=1), dt.time(0))
    curve = [0] * 24
    rows = (FacilityHour.objects.filter(facility=facility, hour__gte=start, hour__lt=end)
            .values_list("hour", "visits", "entries", "peak"))
    for hour, visits, entries, peak in rows:
        curve[hour.astimezone(LOCAL_TZ).hour] = max(visits, entries, peak)
    return curve
