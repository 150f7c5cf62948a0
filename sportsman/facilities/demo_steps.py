"""Demo data for facilities: 1,267 places over the demo city with realistic categories, hours and
units, devices on about a third of them, and a year of bookings and visits whose minutes add up
to the city's published exercise total (11,743,937 minutes, PRODUCT.md).

The year is the 365 days up to yesterday (local time), so the console's "last 30 days" and the
busy curves look alive whenever the demo is loaded. Historic visits are inserted as rows; they do
not publish ``facilities.visit_completed`` events (the exercise record builds its history from
the rows; live check-ins publish). Everything is drawn from ``city.rng("facilities")``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections import defaultdict
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import BATCH, REFERENCE_YEAR, DemoCity, demo_step
from sportsman.facilities.hours import LOCAL_TZ

JX_FACILITIES = 1_267
JX_EXERCISE_MINUTES = 11_743_937
FACILITIES_PER_COMMUNITY = 15  # other scales: about Jiaxing's 1,267 / 85
DEVICE_SHARE = 1 / 3
BOOKED_SHARE = 0.45  # of visits at bookable places, how many came with a booking
HABIT_SHARE = 0.75  # of visits, how many follow the person's habit (places, weekdays, hour)
DEMO_DEVICE_SECRET = "sportsman-demo-device"  # noqa: S105 (documented in docs/demo-data.md)

# County (first 6 digits) → approximate centre (WGS-84) of its built-up area.
COUNTY_CENTRES = {
    "330402": (30.747, 120.790), "330411": (30.773, 120.709), "330421": (30.833, 120.920),
    "330424": (30.527, 120.946), "330481": (30.511, 120.681), "330482": (30.705, 121.016),
    "330483": (30.631, 120.565),
}
CITY_CENTRE = (30.753, 120.758)

# category: (share, owner kind, name suffixes, sports, hours kind, units)
# units: list of (name, sport, capacity, slot minutes, price in fen, mode)
CATEGORIES: list[tuple[str, float, str, tuple[str, ...], tuple[str, ...], str, list[Any]]] = [
    ("fitness_path", 0.33, "community", ("全民健身路径", "二代智能健身路径"),
     ("walking", "taichi", "square-dance"), "outdoor", []),
    ("multi_court", 0.15, "community", ("社区多功能运动场",),
     ("basketball", "badminton", "air-volleyball"), "court",
     [("篮球场", "basketball", 1, 60, 0, "first_come"),
      ("羽毛球1号场", "badminton", 1, 60, 0, "first_come"),
      ("羽毛球2号场", "badminton", 1, 60, 0, "first_come")]),
    ("community_gym", 0.10, "community", ("百姓健身房",), ("aerobics", "yoga"), "gym",
     [("健身房", None, 20, 60, 0, "first_come")]),
    ("trail", 0.08, "park", ("健身步道", "滨河绿道", "环湖步道"), ("walking", "running", "cycling"),
     "outdoor", []),
    ("school_ground", 0.08, "school", ("中心小学体育场", "中学田径场", "实验学校操场"),
     ("running", "football", "basketball"), "school",
     [("田径场", "running", 80, 60, 0, "first_come"),
      ("篮球场", "basketball", 2, 60, 0, "first_come")]),
    ("cultural_hall", 0.06, "cultural_hall", ("文化礼堂",),
     ("table-tennis", "square-dance", "xiangqi"), "hall",
     [("乒乓球室", "table-tennis", 4, 60, 0, "first_come")]),
    ("village_square", 0.05, "community", ("村级全民健身广场",),
     ("basketball", "table-tennis", "square-dance"), "outdoor", []),
    ("cage_football", 0.04, "sports_bureau", ("笼式足球场",), ("football",), "pitch",
     [("五人制球场", "football", 1, 90, 12000, "first_come")]),
    ("gateball", 0.03, "community", ("门球场",), ("gateball",), "gateball",
     [("门球场", "gateball", 1, 60, 0, "first_come")]),
    ("sports_park", 0.02, "park", ("体育公园",), ("running", "basketball", "football", "walking"),
     "outdoor", []),
    ("station", 0.02, "sports_bureau", ("运动家智能健身驿站",), ("running", "yoga"), "station",
     [("智能健身区", None, 12, 60, 0, "first_come")]),
    ("elderly_centre", 0.02, "elderly_centre", ("居家养老服务中心活动室",),
     ("taichi", "qigong", "rouliqiu"), "elderly",
     [("活动室", "taichi", 15, 60, 0, "first_come")]),
    ("football", 0.01, "sports_bureau", ("足球场",), ("football",), "pitch",
     [("七人制球场", "football", 1, 120, 30000, "first_come")]),
    ("fitness_centre", 0.01, "sports_bureau", ("全民健身中心",),
     ("badminton", "table-tennis", "swimming", "basketball"), "centre",
     [("羽毛球1号场(热门)", "badminton", 1, 60, 3000, "lottery"),
      ("羽毛球2号场", "badminton", 1, 60, 3000, "first_come"),
      ("羽毛球3号场", "badminton", 1, 60, 3000, "first_come"),
      ("乒乓球区", "table-tennis", 6, 60, 1000, "first_come"),
      ("游泳池", "swimming", 60, 60, 2000, "first_come")]),
]

T = dt.time
# hours kind → {weekday: [(opens, closes)]}
HOURS: dict[str, dict[int, list[tuple[dt.time, dt.time]]]] = {
    "outdoor": {d: [(T(5, 30), T(22))] for d in range(7)},
    "court": {d: [(T(6), T(21, 30))] for d in range(7)},
    "gym": {d: [(T(8), T(21))] for d in range(1, 7)},  # closed on Mondays
    "school": {**{d: [(T(6), T(7, 30)), (T(17, 30), T(21))] for d in range(5)},
               5: [(T(6), T(21))], 6: [(T(6), T(21))]},
    "hall": {d: [(T(8, 30), T(20, 30))] for d in range(7)},
    "pitch": {d: [(T(7), T(22))] for d in range(7)},
    "gateball": {d: [(T(6), T(18))] for d in range(7)},
    "station": {d: [(T(6), T(22))] for d in range(7)},
    "elderly": {d: [(T(8), T(17))] for d in range(6)},
    "centre": {d: [(T(9), T(21))] for d in range(7)},
    "allday": {d: [(T(0), T(23, 59, 59))] for d in range(7)},
}
# Month (Jan … Dec) → how much people exercise, relative to the year's average.
SEASON = (0.75, 0.7, 1.05, 1.15, 1.15, 1.0, 0.85, 0.85, 1.1, 1.2, 1.1, 0.9)
# When people exercise (local hour → weight): mornings and evenings.
HOUR_WEIGHTS = {5: 2, 6: 8, 7: 8, 8: 5, 9: 4, 10: 3, 11: 2, 12: 1, 13: 1, 14: 2, 15: 3, 16: 4,
                17: 6, 18: 9, 19: 10, 20: 8, 21: 3}
AMENITIES = ("照明", "饮水点", "休息座椅", "储物柜", "卫生间", "AED除颤仪", "停车场", "更衣室")
ACCESS = ("无障碍通道", "无障碍卫生间", "盲道", "轮椅可达")
STREETS = ("人民路", "中山路", "禾兴路", "南湖路", "长水路", "建设路", "解放路", "文昌路",
           "勤俭路", "越秀路", "洪兴路", "三环路", "海盐塘路", "纺工路", "槜李路")

# 法定节假日 as published by the State Council (国务院办公厅) for 2025 and 2026.
PUBLIC_HOLIDAYS = [
    ("2025-01-01", "元旦"), *[(f"2025-01-{d}", "春节") for d in range(28, 32)],
    *[(f"2025-02-0{d}", "春节") for d in range(1, 5)],
    *[(f"2025-04-0{d}", "清明节") for d in range(4, 7)],
    *[(f"2025-05-0{d}", "劳动节") for d in range(1, 6)],
    ("2025-05-31", "端午节"), ("2025-06-01", "端午节"), ("2025-06-02", "端午节"),
    *[(f"2025-10-0{d}", "国庆节、中秋节") for d in range(1, 9)],
    *[(f"2026-01-0{d}", "元旦") for d in range(1, 4)],
    *[(f"2026-02-{d}", "春节") for d in range(15, 24)],
    *[(f"2026-04-0{d}", "清明节") for d in range(4, 7)],
    *[(f"2026-05-0{d}", "劳动节") for d in range(1, 6)],
    *[(f"2026-06-{d}", "端午节") for d in range(19, 22)],
    *[(f"2026-09-{d}", "中秋节") for d in range(25, 28)],
    *[(f"2026-10-0{d}", "国庆节") for d in range(1, 8)],
]


def facility_count(city: DemoCity) -> int:
    if city.scale == "jx":
        return JX_FACILITIES
    return max(len(city.communities), len(city.communities) * FACILITIES_PER_COMMUNITY
               if city.scale == "province" else len(city.communities) * 6)


def exercise_minutes(city: DemoCity) -> int:
    """The year's minutes at facilities: Jiaxing's published total, scaled by residents."""
    from sportsman.core.demo_city import JX_RESIDENTS

    if city.scale == "jx":
        return JX_EXERCISE_MINUTES
    return JX_EXERCISE_MINUTES * city.residents // JX_RESIDENTS


def _place(rng: random.Random, community: Any, spread: dict[str, tuple[float, float]]
           ) -> tuple[float, float]:
    """A point near the community's own centre (drawn once per community)."""
    if community.code not in spread:
        lat0, lng0 = COUNTY_CENTRES.get(community.code[:6], CITY_CENTRE)
        spread[community.code] = (lat0 + rng.gauss(0, 0.03), lng0 + rng.gauss(0, 0.035))
    lat, lng = spread[community.code]
    return round(lat + rng.gauss(0, 0.004), 6), round(lng + rng.gauss(0, 0.005), 6)


@demo_step("facilities", order=40)
def step_facilities(city: DemoCity) -> None:
    from sportsman.core import crypto
    from sportsman.core.models import Sport
    from sportsman.facilities.models import (
        Device,
        DeviceKind,
        Facility,
        OpeningException,
        OpeningRule,
        PublicHoliday,
        Unit,
    )

    rng = city.rng("facilities")
    sports = {s.slug: s for s in Sport.objects.all()}
    PublicHoliday.objects.bulk_create(
        [PublicHoliday(date=dt.date.fromisoformat(d), name=n) for d, n in PUBLIC_HOLIDAYS],
        ignore_conflicts=True)
    total = facility_count(city)
    communities = city.communities
    shares = [c[1] for c in CATEGORIES]
    spread: dict[str, tuple[float, float]] = {}
    taken: set[str] = set()
    specs: list[tuple[Facility, tuple[Any, ...]]] = []
    year = timezone.localdate().year
    with city.bar(total, "facilities") as bar:
        for i in range(total):
            community = communities[i % len(communities)] if i < len(communities) * 2 else \
                rng.choice(communities)
            spec = rng.choices(CATEGORIES, shares)[0]
            category, _share, owner, suffixes, _sports, _hours, units = spec
            base = community.name if category not in {"school_ground"} else \
                community.name.removesuffix("社区").removesuffix("村")
            name = f"{base}{rng.choice(suffixes)}"
            n = 2
            while name in taken:
                name = f"{base}{rng.choice(suffixes)}({n})"
                n += 1
            taken.add(name)
            lat, lng = _place(rng, community, spread)
            capacity = {"fitness_path": 20, "trail": 100, "sports_park": 300,
                        "village_square": 60, "fitness_centre": 400}.get(
                category, sum(u[2] for u in units) * (10 if units and units[0][2] == 1 else 1)
                or 30)
            facility = Facility(
                name=name, owner_kind=owner, category=category, region=community,
                address=f"{community.name}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                lat=lat, lng=lng, capacity=capacity,
                amenities=sorted(rng.sample(AMENITIES, rng.randint(1, 4))),
                accessibility=sorted(rng.sample(ACCESS, rng.randint(0, 2))),
                contact_name=f"{community.name}服务中心",
                contact_phone=f"0573-8{rng.randint(1000000, 9999999)}",
                is_free=all(u[4] == 0 for u in units), is_bookable=bool(units),
                holiday_hours="normal" if spec[5] in {"outdoor"} else "weekend",
                external_ref=f"JX-{i + 1:05d}",
                occupancy=0)
            specs.append((facility, spec))
            bar.update(1)
    specs.append(_home_station(city))
    Facility.objects.bulk_create([f for f, _ in specs], batch_size=BATCH)
    rules, exceptions, unit_rows, links, devices = [], [], [], [], []
    through = Facility.sports.through
    secret_hash = crypto.keyed_hash(DEMO_DEVICE_SECRET)
    for facility, spec in specs:
        hours_kind, units = spec[5], spec[6]
        for weekday, intervals in HOURS[hours_kind].items():
            rules += [OpeningRule(facility=facility, weekday=weekday, opens=o, closes=c)
                      for o, c in intervals]
        if hours_kind == "school":
            # School holidays: the grounds open all day (暑假 and 寒假 of the current year).
            exceptions += [
                OpeningException(facility=facility, start_date=dt.date(year, 7, 5),
                                 end_date=dt.date(year, 8, 31), opens=T(6), closes=T(21),
                                 reason="暑假全天开放"),
                OpeningException(facility=facility, start_date=dt.date(year, 1, 20),
                                 end_date=dt.date(year, 2, 20), opens=T(7), closes=T(20),
                                 reason="寒假全天开放")]
        for position, (uname, slug, cap, minutes, price, mode) in enumerate(units):
            unit_rows.append(Unit(facility=facility, name=uname, sport=sports.get(slug or ""),
                                  capacity=cap, slot_minutes=minutes, price_cents=price,
                                  booking_mode=mode, position=position))
        links += [through(facility_id=facility.pk, sport_id=sports[s].pk) for s in spec[4]
                  if s in sports]
        if rng.random() < DEVICE_SHARE:
            kinds = [DeviceKind.COUNTER] if units else [DeviceKind.EQUIPMENT]
            if rng.random() < 0.3:
                kinds.append(DeviceKind.SENSOR)
            for kind in kinds:
                devices.append(Device(
                    facility=facility, kind=kind, name={"counter": "入口计数器",
                                                        "equipment": "智能健身器材",
                                                        "sensor": "环境监测仪"}[kind],
                    serial=f"{facility.external_ref}-{kind[:3].upper()}",
                    secret_hash=secret_hash, heartbeat_seconds=300,
                    wear_threshold=50_000 if kind == DeviceKind.EQUIPMENT else None,
                    usage_cycles=rng.randint(5_000, 48_000) if kind == DeviceKind.EQUIPMENT
                    else 0))
    OpeningRule.objects.bulk_create(rules, batch_size=BATCH * 2)
    OpeningException.objects.bulk_create(exceptions, batch_size=BATCH)
    Unit.objects.bulk_create(unit_rows, batch_size=BATCH)
    through.objects.bulk_create(links, batch_size=BATCH * 2)
    Device.objects.bulk_create(devices, batch_size=BATCH)
    _register_dates(city, [f for f, _ in specs], devices)
    city.made["facilities"] = [f.pk for f, _ in specs]
    _history(city, rng, [f for f, _ in specs])
    _now(city, rng, {d.facility_id for d in devices if d.kind == DeviceKind.COUNTER})


def _now(city: DemoCity, rng: random.Random, counted: set[int]) -> None:
    """The present: what the people counters report now, and the demo resident's next
    booking (tomorrow evening at the home station)."""
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_STAFF
    from sportsman.facilities.models import Booking, Facility, Slot, Unit

    now = timezone.now()
    for facility in Facility.objects.filter(pk__in=counted).only("pk", "capacity"):
        Facility.objects.filter(pk=facility.pk).update(
            occupancy=rng.randint(0, max(1, facility.capacity * 4 // 5)), occupancy_at=now)
    resident = User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_STAFF[0][0])).first()
    unit = Unit.objects.filter(facility__external_ref="JX-HOME-STATION").first()
    if resident is None or unit is None:
        return
    start = dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), T(19),
                                tzinfo=LOCAL_TZ)
    slot, _ = Slot.objects.get_or_create(
        unit=unit, start=start,
        defaults={"facility_id": unit.facility_id, "capacity": unit.capacity,
                  "end": start + dt.timedelta(minutes=unit.slot_minutes), "booked": 1})
    Booking.objects.create(user=resident, slot=slot, facility_id=unit.facility_id,
                           start=slot.start, end=slot.end)


def _history(city: DemoCity, rng: random.Random, facilities: list[Any]) -> None:
    """A year of visits (and the bookings and slots behind some of them) adding up to the
    year's exercise minutes, plus the hourly rollup the console reads."""
    from sportsman.accounts.models import User
    from sportsman.facilities.models import (
        Booking,
        BookingStatus,
        Facility,
        FacilityHour,
        Slot,
        Unit,
        Visit,
        VisitSource,
    )

    minutes_left = exercise_minutes(city)
    if not facilities or minutes_left <= 0:
        return
    by_community: dict[int, list[Any]] = defaultdict(list)
    for f in facilities:
        by_community[f.region_id].append(f)
    units: dict[int, list[Any]] = defaultdict(list)
    for unit in Unit.objects.filter(facility__in=[f.pk for f in facilities if f.is_bookable]):
        units[unit.facility_id].append(unit)
    hours = {f.pk: HOURS[_hours_kind(f)] for f in facilities}
    sport_of = {u.pk: u.sport_id for us in units.values() for u in us}
    people = list(User.objects.filter(role_assignments__isnull=True)
                  .values_list("id", "home_community_id"))
    interests: dict[int, set[int]] = defaultdict(set)
    for uid, sid in User.interests.through.objects.values_list("user_id", "sport_id"):
        interests[uid].add(sid)
    facility_sports: dict[int, list[int]] = defaultdict(list)
    for fid, sid in Facility.sports.through.objects.filter(
            facility_id__in=[f.pk for f in facilities]).order_by("facility_id", "sport_id") \
            .values_list("facility_id", "sport_id"):
        facility_sports[fid].append(sid)
    if not people:
        return
    # A few keen residents exercise most often: a heavy-tailed weight per person.
    weights = [rng.paretovariate(1.6) for _ in people]
    today = timezone.localdate()
    first_day = today - dt.timedelta(days=365)
    # The weekly and seasonal rhythm: more at weekends, more in spring and autumn evenings,
    # less in the heat of July–August and around the Spring Festival (late Jan–Feb).
    days = [first_day + dt.timedelta(days=i) for i in range(365)]
    day_cum = list(itertools.accumulate(
        (1.35 if d.weekday() >= 5 else 1.0) * SEASON[d.month - 1] for d in days))
    now = timezone.now()
    visits: list[Visit] = []
    bookings: list[Booking] = []
    slots: dict[tuple[int, dt.datetime], Slot] = {}
    rollup: dict[tuple[int, dt.datetime], list[int]] = defaultdict(lambda: [0, 0])
    busy: dict[tuple[int, dt.date], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    hour_keys = list(HOUR_WEIGHTS)
    hour_weights = list(HOUR_WEIGHTS.values())
    all_facilities = facilities
    chosen = rng.choices(range(len(people)), weights, k=600_000)
    habit_rng = city.rng("facility habits")
    habits: dict[int, tuple[list[Any], list[int], int]] = {}
    picks = iter(chosen)
    # The demo resident keeps a habit at the home station (Tuesday, Thursday and Saturday
    # mornings), so their data, ranks, points and rewards have something to show.
    resident = _demo_resident_id()
    station = next((f for f in facilities if f.external_ref == "JX-HOME-STATION"), None)
    if resident is not None and station is not None:
        for day in days:
            if day.weekday() not in (1, 3, 5) or minutes_left < 45:
                continue
            start = dt.datetime.combine(day, T(7), tzinfo=LOCAL_TZ)
            end = start + dt.timedelta(minutes=45)
            station_sports: list[int | None] = [*facility_sports.get(station.pk, [])] or [None]
            busy[(resident, day)].append((start, end))
            visits.append(Visit(user_id=resident, facility_id=station.pk, started_at=start,
                                ended_at=end,
                                sport_id=station_sports[day.toordinal() % len(station_sports)],
                                closed_by="user", source=VisitSource.FACILITY_QR))
            rollup[(station.pk, start.astimezone(dt.UTC))][0] += 1
            rollup[(station.pk, start.astimezone(dt.UTC))][1] += 1
            minutes_left -= 45
    with city.bar(minutes_left, "visits (minutes)") as bar:
        while minutes_left > 0:
            user_id, home_id = people[next(picks, rng.randrange(len(people)))]
            near = by_community.get(home_id) or all_facilities
            facility = rng.choice(near if rng.random() < 0.8 else all_facilities)
            day = days[bisect.bisect_left(day_cum, rng.random() * day_cum[-1])]
            hour = rng.choices(hour_keys, hour_weights)[0]
            # Most visits follow the person's habit (their places, weekdays and hour): the
            # latent preferences the recommender's evaluation looks for (docs/recommend.md).
            habit = habits.get(user_id)
            if habit is None:
                habit = habits[user_id] = _habit(habit_rng, near, all_facilities,
                                                 facility_sports, interests.get(user_id, set()),
                                                 hour_keys, hour_weights)
            if habit_rng.random() < HABIT_SHARE:
                places, weekdays, habit_hour = habit
                facility = habit_rng.choice(places)
                wanted = habit_rng.choice(weekdays)
                shift = (wanted - day.weekday() + 3) % 7 - 3
                moved = day + dt.timedelta(days=shift)
                if first_day <= moved < today:
                    day = moved
                hour = habit_hour
            intervals = hours[facility.pk].get(day.weekday()) or hours[facility.pk].get(5) or []
            if intervals:
                opens, closes = rng.choice(intervals)
                hour = min(max(hour, opens.hour + (1 if opens.minute else 0)), closes.hour - 1)
            start = dt.datetime.combine(day, T(hour, rng.choice((0, 0, 10, 20, 30))),
                                        tzinfo=LOCAL_TZ)
            duration = max(15, min(180, int(rng.gauss(62, 25))))
            duration = min(duration, minutes_left)
            booking = None
            facility_units = units.get(facility.pk)
            # Without a unit, the sport is one the person likes that the place offers (interests
            # were drawn by age and sex), else one the place offers.
            offered = facility_sports.get(facility.pk, ())
            liked = [x for x in offered if x in interests.get(user_id, ())]
            sport_id = rng.choice(liked or offered) if offered else None
            slot = None
            if facility_units and rng.random() < BOOKED_SHARE:
                unit = rng.choice(facility_units)
                slot_start = start.replace(minute=0)
                key = (unit.pk, slot_start)
                slot = slots.get(key)
                if slot is None:
                    slot = Slot(unit=unit, facility_id=facility.pk, start=slot_start,
                                end=slot_start + dt.timedelta(minutes=unit.slot_minutes),
                                capacity=unit.capacity, booked=0, mode=unit.booking_mode,
                                drawn_at=slot_start if unit.booking_mode == "lottery" else None)
                if slot.booked < slot.capacity:
                    start = slot_start
                    duration = min(duration, unit.slot_minutes, minutes_left)
                    sport_id = sport_of.get(unit.pk) or sport_id
                else:
                    slot = None
            end = start + dt.timedelta(minutes=duration)
            # One person is in one place at a time: a draw that would overlap another of their
            # visits is dropped (the minutes go to another draw), so the year's minutes are
            # exactly the published total with nothing counted twice.
            mine = busy[(user_id, day)]
            if end > now or any(start < e and s < end for s, e in mine):
                continue
            mine.append((start, end))
            if slot is not None:
                slots[(slot.unit.pk, slot.start)] = slot
                slot.booked += 1
                booking = Booking(user_id=user_id, slot=slot, facility_id=facility.pk,
                                  start=slot.start, end=slot.end,
                                  status=BookingStatus.COMPLETED, checked_in_at=start)
                bookings.append(booking)
            visits.append(Visit(user_id=user_id, facility_id=facility.pk, booking=booking,
                                sport_id=sport_id, started_at=start, ended_at=end,
                                closed_by="auto" if booking else "user",
                                source=VisitSource.STAFF_SCAN if booking and rng.random() < 0.3
                                else VisitSource.FACILITY_QR))
            cell = rollup[(facility.pk, start.replace(minute=0).astimezone(dt.UTC))]
            cell[0] += 1
            cell[1] += 1
            minutes_left -= duration
            bar.update(duration)
    # Cancellations and no-shows: the other outcomes a year of bookings has.
    for slot in rng.sample(list(slots.values()), k=min(len(slots), len(bookings) // 12)):
        if slot.booked < slot.capacity:
            status = BookingStatus.CANCELLED if rng.random() < 0.7 else BookingStatus.NO_SHOW
            user_id = people[rng.randrange(len(people))][0]
            bookings.append(Booking(user_id=user_id, slot=slot, facility_id=slot.facility_id,
                                    start=slot.start, end=slot.end, status=status,
                                    cancelled_at=slot.start - dt.timedelta(hours=5)
                                    if status == BookingStatus.CANCELLED else None))
            if status == BookingStatus.NO_SHOW:
                slot.booked += 1  # the place stayed taken until released
    Slot.objects.bulk_create(list(slots.values()), batch_size=BATCH)
    for b in bookings:
        b.slot_id = b.slot.pk
    Booking.objects.bulk_create(bookings, batch_size=BATCH)
    _insert(Visit, ["user_id", "facility_id", "booking_id", "sport_id", "source", "started_at",
                    "ended_at", "closed_by"],
            ((v.user_id, v.facility_id, v.booking.pk if v.booking else None, v.sport_id,
              v.source, v.started_at, v.ended_at, v.closed_by) for v in visits))
    _insert(FacilityHour, ["facility_id", "hour", "visits", "entries", "peak", "booked_minutes"],
            ((fid, hour, v, e, e, 0) for (fid, hour), (v, e) in rollup.items()))
    city.made["visits"] = len(visits)
    city.made["bookings"] = len(bookings)


def _habit(rng: random.Random, near: list[Any], everywhere: list[Any],
           facility_sports: dict[int, list[int]], liked: set[int], hour_keys: list[int],
           hour_weights: list[int]) -> tuple[list[Any], list[int], int]:
    """A person's latent habit: one to three places (near home, those offering a sport they
    like first, sometimes one further away), two or three weekdays and an hour."""
    fitting = [f for f in near if liked & set(facility_sports.get(f.pk, ()))] or near
    places = rng.sample(fitting, min(len(fitting), rng.randint(1, 2)))
    if rng.random() < 0.3:
        places.append(rng.choice(everywhere))
    weekdays = rng.sample(range(7), rng.randint(2, 3))
    return places, weekdays, rng.choices(hour_keys, hour_weights)[0]


# The demo resident's own smart station: open round the clock with 30-minute slots, so a demo
# (and the browser test) can always book the next slot and check in within half an hour.
HOME_STATION = ("station", 0.0, "sports_bureau", ("运动家智能健身驿站(24小时)",),
                ("running", "yoga", "aerobics"), "allday",
                [("智能健身区", None, 12, 30, 0, "first_come")])


def _home_station(city: DemoCity) -> tuple[Any, tuple[Any, ...]]:
    from sportsman.core.demo import DEMO_HOME_COMMUNITY
    from sportsman.facilities.models import Facility

    home = city.regions[DEMO_HOME_COMMUNITY]
    lat, lng = COUNTY_CENTRES["330402"]
    return Facility(name=f"{home.name}{HOME_STATION[3][0]}", owner_kind=HOME_STATION[2],
                    category=HOME_STATION[0], region=home, address=f"{home.name}禾兴路1号",
                    lat=lat, lng=lng, capacity=30, amenities=["照明", "饮水点", "储物柜"],
                    accessibility=["无障碍通道"], contact_name=f"{home.name}服务中心",
                    contact_phone="0573-82000000", is_free=True, is_bookable=True,
                    holiday_hours="normal", external_ref="JX-HOME-STATION"), HOME_STATION


def _register_dates(city: DemoCity, facilities: list[Any], devices: list[Any]) -> None:
    """Facilities were registered during the platform's first years (before the year of visits
    the demo plays), their devices some weeks after them: the cockpit's counts of facilities
    then stand for the whole history, as they would in a city that registered them back then."""
    from sportsman.facilities.models import Device, Facility

    rng = city.rng("facility register dates")
    first = dt.datetime(REFERENCE_YEAR - 1, 1, 1, 9, tzinfo=LOCAL_TZ)
    for f in facilities:
        f.created_at = first + dt.timedelta(seconds=rng.randrange(2 * 365 * 24 * 3600))
    Facility.objects.bulk_update(facilities, ["created_at"], batch_size=BATCH)
    registered = {f.pk: f.created_at for f in facilities}
    for d in devices:
        d.created_at = registered[d.facility_id] + dt.timedelta(days=rng.randint(7, 120))
    Device.objects.bulk_update(devices, ["created_at"], batch_size=BATCH)


def _insert(model: Any, columns: list[str], rows: Any) -> None:
    """Insert plain rows with one prepared statement (``executemany``): the ORM's bulk_create
    spends most of a jx-scale seed compiling SQL for 200,000 visits. Datetimes are adapted the
    way the ORM stores them."""
    from django.db import connection

    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(model._meta.get_field(c.removesuffix("_id")).column
                                     if c.endswith("_id") else c) for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 (names from the model)

    def adapt(value: Any) -> Any:
        return ops.adapt_datetimefield_value(value) if isinstance(value, dt.datetime) else value

    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(tuple(adapt(v) for v in row))
            if len(batch) >= BATCH * 5:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)


def _demo_resident_id() -> int | None:
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_STAFF

    return User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_STAFF[0][0])) \
        .values_list("pk", flat=True).first()


def _hours_kind(facility: Any) -> str:
    if facility.external_ref == "JX-HOME-STATION":
        return HOME_STATION[5]
    for spec in CATEGORIES:
        if spec[0] == facility.category:
            return spec[5]
    return "outdoor"
