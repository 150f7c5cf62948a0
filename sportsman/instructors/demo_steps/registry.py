"""Demo instructors (step 86: after the facilities, the exercise record and the events).

Jiaxing's 469 social sports instructors (PRODUCT.md; proportionally fewer at other scales, at
least 24), residents of the demo city's communities registered there, by level 三级 60 % · 二级
28 % · 一级 10 % · 国家级 2 %, each teaching one to three sports near their community, with weekly
windows, confirmed yearly work registrations (工作注册) since reaching their level, recorded
guidance sessions over the last 90 days (attendees from their community, most of whom rated the
session) and a few upcoming bookings. The attendees' verified exercise records (source
``instructor``) are made with the keys the live consumer uses, in one bulk pass.

The demo instructor (13800000011, 王指导员, 花园社区) is one of them: 二级, free most days, with
sessions booked by the demo resident (13800000000) — one upcoming and awaiting confirmation, one
confirmed, one past and recorded (in the demo resident's exercise record) — and one that began
today and awaits its record. Everything bulk-inserted; deterministic for a seed
(``city.rng("instructors")``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import BATCH, JX_RESIDENTS, DemoCity, demo_step

JX_INSTRUCTORS = 469
SMALL_INSTRUCTORS = 24
DEMO_RESIDENT = "13800000000"
DEMO_INSTRUCTOR = "13800000011"
DEMO_ADMIN = "13800000004"
LEVELS = [("third", 60), ("second", 28), ("first", 10), ("national", 2)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
CONTENT = ["热身与基本步法", "握拍与发球", "八段锦前八式", "太极拳二十四式分解", "广场舞基本步",
           "跳绳节奏与呼吸", "健步走姿势纠正", "乒乓球正手攻球", "篮球运球与上篮", "拉伸与放松",
           "门球击球要领", "柔力球基本动作"]
BIOS = ["从事全民健身志愿服务多年，耐心细致，欢迎邻里一起练。",
        "退休体育老师，擅长带中老年朋友科学健身。",
        "社区健身骨干，周末在健身广场带练，零基础也可以。",
        "持证社会体育指导员，注重安全与动作规范。"]
WINDOWS = [(5, 8, 11), (6, 8, 11), (2, 18, 20), (4, 18, 20), (0, 7, 9), (3, 15, 17), (1, 18, 20)]


def _count(city: DemoCity) -> int:
    if city.scale == "jx":
        return JX_INSTRUCTORS
    if city.scale == "small":
        return SMALL_INSTRUCTORS
    return max(SMALL_INSTRUCTORS, round(city.residents * JX_INSTRUCTORS / JX_RESIDENTS))


@demo_step("instructors", order=86)
def step_instructors(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.activity.consumers import sessions_from_guidance
    from sportsman.activity.records import record_sessions_in_bulk
    from sportsman.core import crypto
    from sportsman.core.models import Sport
    from sportsman.facilities.models import Facility
    from sportsman.instructors.models import (
        AvailabilityWindow,
        GuidanceBooking,
        GuidanceSession,
        Instructor,
        SessionRecord,
        WorkRegistration,
    )
    from sportsman.regions.models import Level, Region

    rng = city.rng("instructors")
    tz = timezone.get_default_timezone()
    now = timezone.now()
    today = timezone.localdate()

    def staff(phone: str) -> Any:
        return User.objects.filter(phone_hash=crypto.keyed_hash(phone)).first()

    demo_resident, demo_teacher, admin = staff(DEMO_RESIDENT), staff(DEMO_INSTRUCTOR), \
        staff(DEMO_ADMIN)
    communities = {c.pk: c for c in Region.objects.filter(level=Level.COMMUNITY,
                                                          code__startswith="3304")}
    towns = {t.pk: t for t in Region.objects.filter(level=Level.TOWN, code__startswith="3304")}
    people: dict[int, list[int]] = defaultdict(list)
    for pk, home in (User.objects.filter(home_community_id__in=list(communities),
                                         role_assignments=None).exclude(pk=demo_resident.pk
                                                                        if demo_resident else 0)
                     .order_by("pk").values_list("pk", "home_community_id")):
        people[home].append(pk)
    where: dict[int, tuple[float, float]] = {}
    for region_id, lat, lng in Facility.objects.filter(region_id__in=list(communities)) \
            .order_by("id").values_list("region_id", "lat", "lng"):
        where.setdefault(region_id, (lat, lng))
    sports = list(Sport.objects.order_by("family", "slug").values_list("pk", flat=True))
    pool = [(home, pk) for home in sorted(people) for pk in people[home]]
    wanted = min(_count(city), len(pool) + (1 if demo_teacher else 0))
    chosen = rng.sample(pool, max(0, wanted - (1 if demo_teacher else 0)))
    if demo_teacher is not None and demo_teacher.home_community_id:
        chosen.insert(0, (demo_teacher.home_community_id, demo_teacher.pk))

    # --- the registry -------------------------------------------------------------------------
    rows: list[Instructor] = []
    for i, (home, user_id) in enumerate(chosen):
        is_demo = demo_teacher is not None and user_id == demo_teacher.pk
        level = "second" if is_demo else rng.choices([lv for lv, _w in LEVELS],
                                                     [w for _lv, w in LEVELS])[0]
        since = today - dt.timedelta(days=rng.randint(400, 2900) if not is_demo else 1500)
        lat, lng = where.get(home, (30.75, 120.76))
        name = ("王指导员" if is_demo
                else rng.choice(SURNAMES) + rng.choice("建国秀英志强丽华明德桂兰")
                + rng.choice(["", "", "芳", "军", "平"]))
        rows.append(Instructor(
            user_id=user_id, name=name, level=level,
            certificate_number=f"JX{since.year}{i + 1:05d}", certified_on=since,
            region_id=home, bio=rng.choice(BIOS), max_group_size=rng.choice([4, 6, 6, 8]),
            lat=round(lat + rng.gauss(0, 0.004), 6), lng=round(lng + rng.gauss(0, 0.004), 6)))
    made = Instructor.objects.bulk_create(rows, batch_size=BATCH)
    through = Instructor.sports.through
    links, windows, registrations = [], [], []
    taught: dict[int, list[int]] = {}
    for instructor in made:
        mine = rng.sample(sports, min(len(sports), rng.randint(1, 3)))
        taught[instructor.pk] = mine
        links += [through(instructor_id=instructor.pk, sport_id=s) for s in mine]
        is_demo = demo_teacher is not None and instructor.user_id == demo_teacher.pk
        spec = [(d, 8, 12) for d in range(7)] + [(d, 18, 21) for d in range(5)] if is_demo \
            else rng.sample(WINDOWS, rng.randint(2, 4))
        windows += [AvailabilityWindow(instructor=instructor, weekday=d, starts=dt.time(a),
                                       ends=dt.time(b), place="社区健身广场")
                    for d, a, b in spec]
        town = towns.get(communities[instructor.region_id].parent_id or 0)
        org = f"{town.name if town else ''}体育总会"
        assert instructor.certified_on is not None
        for year in range(max(instructor.certified_on.year, today.year - 4), today.year):
            registrations.append(WorkRegistration(
                instructor=instructor, year=year, org=org, service_count=rng.randint(18, 60),
                confirmed_by=admin if rng.random() < 0.9 else None))
    through.objects.bulk_create(links, batch_size=BATCH)
    AvailabilityWindow.objects.bulk_create(windows, batch_size=BATCH)
    WorkRegistration.objects.bulk_create(registrations, batch_size=BATCH)

    # --- sessions: past recorded ones, and a few upcoming bookings -------------------------------
    sessions: list[GuidanceSession] = []
    places: list[list[tuple[int, str, int | None]]] = []  # (user, status, rating) per session
    contents: list[str] = []
    for instructor in made:
        is_demo = demo_teacher is not None and instructor.user_id == demo_teacher.pk
        locals_ = [u for u in people.get(instructor.region_id, []) if u != instructor.user_id]
        if not locals_:
            continue
        offsets = sorted(rng.sample(range(2, 90), rng.randint(3, 8)))
        for days in offsets:
            day = today - dt.timedelta(days=days)
            start = dt.datetime.combine(day, dt.time(rng.choice([8, 9, 18, 19])), tz)
            group = rng.random() < 0.5
            came = rng.sample(locals_, min(len(locals_), rng.randint(2, 4) if group else 1))
            if is_demo and days == offsets[0] and demo_resident is not None:
                came = [demo_resident.pk, *came[1:]]
            sessions.append(GuidanceSession(
                instructor=instructor, kind="group" if group else "one_to_one",
                sport_id=rng.choice(taught[instructor.pk]), starts_at=start,
                ends_at=start + dt.timedelta(minutes=rng.choice([60, 60, 90])),
                place="社区健身广场", capacity=max(len(came), 4 if group else 1),
                taken=len(came), status="recorded", created_by_id=came[0]))
            places.append([(u, "attended", rng.choice([5, 5, 4, 4, 3]) if rng.random() < 0.7
                            else None) for u in came])
            contents.append(rng.choice(CONTENT))
        if (rng.random() < 0.15 or is_demo) and len(locals_) >= 1:
            day = today + dt.timedelta(days=rng.randint(1, 6))
            start = dt.datetime.combine(day, dt.time(9), tz)
            who = demo_resident.pk if is_demo and demo_resident else rng.choice(locals_)
            sessions.append(GuidanceSession(
                instructor=instructor, kind="one_to_one", sport_id=taught[instructor.pk][0],
                starts_at=start, ends_at=start + dt.timedelta(hours=1), place="社区健身广场",
                capacity=1, taken=1, status="pending", created_by_id=who, note="想学基本动作"))
            places.append([(who, "booked", None)])
            contents.append("")
        if is_demo and demo_resident is not None:
            day = today + dt.timedelta(days=7)
            start = dt.datetime.combine(day, dt.time(19), tz)
            sessions.append(GuidanceSession(
                instructor=instructor, kind="group", sport_id=taught[instructor.pk][0],
                starts_at=start, ends_at=start + dt.timedelta(hours=1), place="社区健身广场",
                capacity=6, taken=2, status="confirmed", created_by_id=demo_resident.pk))
            places.append([(demo_resident.pk, "booked", None), (locals_[0], "booked", None)])
            contents.append("")
            start = now.astimezone(tz).replace(minute=0, second=0, microsecond=0) \
                - dt.timedelta(hours=1)
            sessions.append(GuidanceSession(
                instructor=instructor, kind="one_to_one", sport_id=taught[instructor.pk][0],
                starts_at=start, ends_at=start + dt.timedelta(minutes=45),
                place="花园社区健身广场", capacity=1, taken=1, status="confirmed",
                created_by_id=locals_[-1]))
            places.append([(locals_[-1], "booked", None)])
            contents.append("")
    made_sessions = GuidanceSession.objects.bulk_create(sessions, batch_size=BATCH)
    bookings, record_rows, exercise = [], [], []
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for session, held, content in zip(made_sessions, places, contents, strict=True):
        for user_id, status, rating in held:
            bookings.append(GuidanceBooking(
                session=session, user_id=user_id, status=status, rating=rating,
                rated_at=session.ends_at + dt.timedelta(hours=2) if rating else None))
        if session.status != "recorded":
            continue
        minutes = session.minutes
        record_rows.append(SessionRecord(session=session, content=content, minutes=minutes,
                                         attendees=len(held), recorded_by_id=None))
        t = totals[session.instructor_id]
        t[0] += 1
        t[1] += minutes
        for _u, _s, rating in held:
            if rating:
                t[2] += rating
                t[3] += 1
        exercise += sessions_from_guidance({
            "session_id": session.pk, "sport_id": session.sport_id, "facility_id": None,
            "started_at": session.starts_at.isoformat(), "ended_at": session.ends_at.isoformat(),
            "attendees": [u for u, _s, _r in held]})
    GuidanceBooking.objects.bulk_create(bookings, batch_size=BATCH)
    SessionRecord.objects.bulk_create(record_rows, batch_size=BATCH)
    for instructor in made:
        if instructor.pk in totals:
            done = totals[instructor.pk]
            instructor.sessions, instructor.service_minutes = done[0], done[1]
            instructor.rating_sum, instructor.rating_count = done[2], done[3]
    Instructor.objects.bulk_update(made, ["sessions", "service_minutes", "rating_sum",
                                          "rating_count"], batch_size=BATCH)
    if exercise:
        record_sessions_in_bulk(exercise)
    city.made["instructors"] = len(made)
