"""Facility figures: ``python -m bench.facilities PART [SIZE]`` prints one JSON line.

Run by ``python -m bench`` in a process of its own against a migrated scratch database named by
DATABASE_URL (the HTTP parts are served by the parent; this module prepares data and measures
in-process parts):

- ``load-search SIZE``: a synthetic province with SIZE facilities (hours, sports, a third with
  units) for the search figures; prints a point inside the city to search around;
- ``load-booking``: one facility with slots of large capacity, a policy without limits, and
  2,000 residents with API tokens for the booking figures (written to a file for wrk);
- ``load-checkin``: one venue with a slot around now, 20,000 bookings for staff pass scans,
  20,000 for the bare check-in and 5,000 residents with tokens who scan the venue's screen;
  ``screen-code FACILITY`` prints the code the screen shows now;
- ``ingest``: device events per second through ``devices.ingest_events`` in batches of 100,
  against a raw bulk insert of the same rows into the same table in the same run.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench import run_part

BATCH = 5000


def _regions(size: int, rng: random.Random) -> list:
    """Enough communities for SIZE facilities at about 15 a community."""
    from sportsman.core.demo_city import OTHER_CITIES, synthetic_city_rows
    from sportsman.regions.models import Level, Region
    from sportsman.regions.services import bulk_load_tree

    communities_needed = max(10, size // 15)
    per_city = (8, 10, 10)  # districts, towns, communities per town → 800 communities a city
    cities = max(1, -(-communities_needed // (per_city[0] * per_city[1] * per_city[2])))
    rows = [{"code12": "330000000000", "name": "浙江省", "level": "province", "parent_code": ""}]
    for code, name in [("3304", "嘉兴市"), *OTHER_CITIES][:cities]:
        rows += synthetic_city_rows(rng, city_code=code, city_name=name, province_code="33",
                                    districts=per_city[0], towns=per_city[1],
                                    communities=per_city[2])
    bulk_load_tree(rows, edition=2023)
    return list(Region.objects.filter(level=Level.COMMUNITY).order_by("code"))


def load_search(size: int) -> dict:
    from django.db import connection

    from sportsman.core.models import Sport
    from sportsman.facilities.demo_steps import CATEGORIES, HOURS
    from sportsman.facilities.models import Facility, OpeningRule, Unit

    rng = random.Random(size)
    start = time.perf_counter()
    communities = _regions(size, rng)
    sports = list(Sport.objects.values_list("pk", flat=True))
    through = Facility.sports.through
    # Cities side by side, 0.6° apart, the first (Jiaxing) centred on the search point: a
    # city's facilities within ~25 km of its centre.
    city_order: dict[str, int] = {}
    facilities, kinds = [], []
    for i in range(size):
        community = communities[i % len(communities)]
        city_index = city_order.setdefault(community.code[:4], len(city_order))
        lat0, lng0 = 30.75 + (city_index // 3) * 0.6, 120.75 + (city_index % 3) * 0.6
        spec = rng.choices(CATEGORIES, [c[1] for c in CATEGORIES])[0]
        kinds.append(spec[5])
        facilities.append(Facility(
            name=f"{community.name}{spec[3][0]}{i}", owner_kind=spec[2], category=spec[0],
            region=community, address=f"{community.name}{i}号", lat=lat0 + rng.gauss(0, 0.08),
            lng=lng0 + rng.gauss(0, 0.09), capacity=rng.choice((20, 40, 60, 100)),
            is_free=rng.random() < 0.8, is_bookable=bool(spec[6]),
            occupancy=rng.randint(0, 30)))
    Facility.objects.bulk_create(facilities, batch_size=BATCH)
    rules, links, units = [], [], []
    for f, kind in zip(facilities, kinds, strict=True):
        for weekday, intervals in HOURS[kind].items():
            rules += [OpeningRule(facility=f, weekday=weekday, opens=o, closes=c)
                      for o, c in intervals]
        links += [through(facility_id=f.pk, sport_id=s) for s in rng.sample(sports, 2)]
        if f.is_bookable:
            units.append(Unit(facility=f, name="1号场", capacity=1))
        if len(rules) > BATCH * 4:
            OpeningRule.objects.bulk_create(rules, batch_size=BATCH)
            rules.clear()
    OpeningRule.objects.bulk_create(rules, batch_size=BATCH)
    through.objects.bulk_create(links, batch_size=BATCH)
    Unit.objects.bulk_create(units, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"facilities": size, "communities": len(communities),
            "load_seconds": round(time.perf_counter() - start, 1),
            "point": {"lat": 30.75, "lng": 120.75}, "first_id": facilities[0].pk}


def _bench_community() -> Any:
    """The one community of the booking and check-in figures (made once per database)."""
    from sportsman.regions.models import Region

    found = Region.objects.filter(code="330402009034").first()
    if found is not None:
        return found
    city = Region.objects.create(code="330400000000", edition=2023, name="嘉兴市", level="city",
                                 path="")
    city.path = f"/{city.pk}/"
    city.save(update_fields=["path"])
    community = Region.objects.create(code="330402009034", edition=2023, name="花园社区",
                                      level="community", parent=city, path="")
    community.path = f"{city.path}{community.pk}/"
    community.save(update_fields=["path"])
    return community


def load_booking(tokens_file: Path, *, users: int = 2000, slots: int = 50) -> dict:
    from sportsman.accounts.auth import issue_token
    from sportsman.accounts.models import User
    from sportsman.facilities import booking
    from sportsman.facilities.models import BookingPolicy, Facility, Slot
    from sportsman.facilities.tests.factories import make_facility

    rng = random.Random(7)
    community = _bench_community()
    facility = make_facility(community, name="压力测试运动场", opens=dt.time(0),
                             closes=dt.time(23, 59), units=slots, unit_capacity=100_000,
                             slot_minutes=60)
    BookingPolicy.objects.create(facility=facility, max_active=10_000, max_per_day=10_000,
                                 window_days=14)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date()
    booking.ensure_slots(facility, tomorrow)
    slot_ids = list(Slot.objects.filter(facility=facility).values_list("pk", flat=True))
    rng.shuffle(slot_ids)
    slot_ids = slot_ids[:slots]
    people = User.objects.bulk_create(
        [User(phone_hash=f"bench-{i}", phone_encrypted="", nickname=f"b{i}")
         for i in range(users)])
    tokens = [issue_token(u) for u in people]
    tokens_file.write_text(json.dumps({"tokens": tokens, "slots": slot_ids,
                                       "users": [u.pk for u in people]}))
    return {"facility": Facility.objects.get(pk=facility.pk).pk, "users": users,
            "slots": len(slot_ids)}


def load_checkin(out_file: Path, *, passes: int = 20_000, residents: int = 5_000) -> dict:
    """Check-in figures: a venue open all day with one slot around now; ``passes`` bookings in
    it for staff to scan (``POST /api/v1/check-ins/pass``), as many again for the bare check-in,
    and ``residents`` with tokens who scan the venue's screen (``POST /api/v1/check-ins``)."""
    from django.utils import timezone

    from sportsman.accounts.auth import issue_token
    from sportsman.accounts.models import User
    from sportsman.facilities.models import Booking, Slot
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.regions.models import RoleAssignment

    community = _bench_community()
    facility = make_facility(community, name="签到压力测试场", opens=dt.time(0),
                             closes=dt.time(23, 59), units=1, unit_capacity=1_000_000)
    now = timezone.now()
    unit = facility.units.get()
    slot = Slot.objects.create(unit=unit, facility=facility, start=now - dt.timedelta(hours=1),
                               end=now + dt.timedelta(hours=3), capacity=1_000_000,
                               booked=2 * passes)
    people = User.objects.bulk_create(
        [User(phone_hash=f"bench-c{i}", phone_encrypted="", nickname=f"c{i}")
         for i in range(2 * passes + residents)])
    bookings = Booking.objects.bulk_create(
        [Booking(user=u, slot=slot, facility=facility, start=slot.start, end=slot.end)
         for u in people[:2 * passes]], batch_size=BATCH)
    staff = User.objects.create(phone_hash="bench-staff", phone_encrypted="", nickname="staff")
    RoleAssignment.objects.create(user=staff, role="venue_manager", region=community)
    ours, bare = bookings[:passes], bookings[passes:]
    out_file.write_text(json.dumps({
        "facility": facility.pk, "staff_token": issue_token(staff),
        "passes": [b.pass_code for b in ours],
        "bare": list(Booking.objects.filter(pass_code__in=[b.pass_code for b in bare])
                     .values_list("pk", flat=True)),
        "tokens": [issue_token(u) for u in people[2 * passes:]]}))
    return {"facility": facility.pk, "passes": passes, "residents": residents}


def screen_code(facility_id: int) -> dict:
    """The code the venue's screen shows now (valid this minute and the next)."""
    from sportsman.facilities import visits
    from sportsman.facilities.models import Facility

    return {"code": visits.facility_code(Facility.objects.get(pk=facility_id))}


def measure_ingest(events: int = 20_000, batch: int = 100) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from sportsman.facilities import devices as device_services
    from sportsman.facilities.models import Device, DeviceEvent
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.regions.models import Region

    region = Region.objects.create(code="330402009034", edition=2023, name="花园社区",
                                   level="community", path="")
    region.path = f"/{region.pk}/"
    region.save(update_fields=["path"])
    facility = make_facility(region)
    ours = Device.objects.create(facility=facility, kind="counter", name="a", serial="bench-a",
                                 secret_hash="x", heartbeat_seconds=300)
    raw = Device.objects.create(facility=facility, kind="counter", name="b", serial="bench-b",
                                secret_hash="x", heartbeat_seconds=300)
    now = timezone.now()

    def payload(i: int) -> dict:
        return {"id": f"e{i}", "type": "count",
                "at": (now - dt.timedelta(seconds=events - i)).isoformat(),
                "data": {"in": 1, "out": 0 if i % 2 else 1}}

    rows = [payload(i) for i in range(events)]
    start = time.perf_counter()
    for i in range(0, events, batch):
        report = device_services.ingest_events(device=ours, events=rows[i:i + batch])
        assert report.accepted == len(rows[i:i + batch]), report
    ours_s = time.perf_counter() - start
    # The same rows, raw: one bulk insert per batch, in one transaction per batch.
    received = timezone.now()
    start = time.perf_counter()
    for i in range(0, events, batch):
        with transaction.atomic():
            DeviceEvent.objects.bulk_create([
                DeviceEvent(device=raw, event_id=r["id"], kind="count",
                            occurred_at=dt.datetime.fromisoformat(r["at"]), received_at=received,
                            data=r["data"]) for r in rows[i:i + batch]])
    raw_s = time.perf_counter() - start
    assert DeviceEvent.objects.filter(device=ours).count() == events
    replay_start = time.perf_counter()
    for i in range(0, events, batch):
        device_services.ingest_events(device=ours, events=rows[i:i + batch])
    replay_s = time.perf_counter() - replay_start
    return {"database": connection.vendor, "events": events, "batch": batch,
            "ingest_events_per_s": round(events / ours_s),
            "raw_bulk_insert_per_s": round(events / raw_s),
            "ratio_to_raw": round(raw_s / ours_s, 3),
            "replay_events_per_s": round(events / replay_s)}


def main(argv: list[str]) -> int:
    return run_part(argv, {"load-search": lambda a: load_search(int(a[0])),
                           "load-booking": lambda a: load_booking(Path(a[0])),
                           "load-checkin": lambda a: load_checkin(Path(a[0])),
                           "screen-code": lambda a: screen_code(int(a[0])),
                           "ingest": lambda a: measure_ingest()})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
