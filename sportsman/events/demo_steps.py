"""Demo events of 2026: about 200 at jx scale over the four levels (a few a district, one a
town and a community, about ten at the city), spread over the year — past ones finished with
check-ins and results, the coming weeks' open for registration — plus online challenges and
one cascade: the city's games final with a round in every district and a heat in the first
towns of each, whose qualifiers advanced. Registrations are drawn from residents living in the
event's subtree. ``small`` makes a few dozen (under a second). Everything is drawn from
``city.rng("events")``; rows go in with ``bulk_create``. The check-ins then become exercise
records through ``activity.records.record_sessions_in_bulk`` (one call, the live consumer's
keys).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sportsman.core.demo_city import DemoCity, demo_step

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2026
SPORTS = ("running", "badminton", "table-tennis", "walking", "square-dance", "taichi",
          "basketball-3x3", "air-volleyball", "gateball", "xiangqi", "rope-skipping", "cycling")
NAMES = {"running": "全民健身跑", "badminton": "羽毛球赛", "table-tennis": "乒乓球赛",
         "walking": "健步走大会", "square-dance": "广场舞展演", "taichi": "太极拳交流赛",
         "basketball-3x3": "三人篮球赛", "air-volleyball": "气排球赛", "gateball": "门球赛",
         "xiangqi": "象棋比赛", "rope-skipping": "跳绳比赛", "cycling": "骑行活动"}
TEAM_SPORTS = {"basketball-3x3", "air-volleyball", "gateball", "square-dance"}
PER_LEVEL = {"small": {"city": 4, "district": 3, "town": 2, "community": 1},
             "jx": {"city": 10, "district": 4, "town": 1, "community": 1}}


def _at(rng: Any, today: dt.date, *, past: bool | None = None) -> dt.datetime:
    """A start in 2026 (a weekend morning or a weekday evening), now and then in the coming
    three weeks so that some events are open for registration."""
    if past is False or (past is None and rng.random() < 0.2):
        day = today + dt.timedelta(days=rng.randint(2, 21))
    else:
        day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randint(0, max(0, (
            min(today, dt.date(YEAR, 12, 31)) - dt.date(YEAR, 1, 1)).days - 1)))
    hour = rng.choice((8, 9, 14)) if day.weekday() >= 5 else rng.choice((18, 19))
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def _residents_by_community() -> dict[int, list[int]]:
    from sportsman.accounts.models import User

    out: dict[int, list[int]] = defaultdict(list)
    for pk, home in (User.objects.filter(is_active=True, home_community__isnull=False)
                     .order_by("pk").values_list("pk", "home_community_id")):
        out[home].append(pk)
    return out


@demo_step("events", order=80)
def step_events(city: DemoCity) -> None:
    from django.utils import timezone

    from sportsman.core.models import Sport
    from sportsman.events.models import (
        Event,
        EventStatus,
        Mode,
        OrganiserKind,
        Registration,
        RegStatus,
    )
    from sportsman.regions.models import Region

    rng = city.rng("events")
    now = timezone.now()
    today = timezone.localdate()
    sports = {s.slug: s.pk for s in Sport.objects.filter(slug__in=SPORTS)}
    slugs = [s for s in SPORTS if s in sports]
    per_level = PER_LEVEL.get(city.scale, PER_LEVEL["jx"])
    regions = list(Region.objects.filter(level__in=per_level, code__startswith="3304")
                   .order_by("path"))
    homes = _residents_by_community()
    community_of: dict[int, str] = {r.pk: r.path for r in regions if r.level == "community"}

    def people_in(region: Any) -> list[int]:
        return [uid for cid, path in community_of.items() if path.startswith(region.path)
                for uid in homes.get(cid, ())]

    events: list[Any] = []

    def add(region: Any, *, starts: dt.datetime, slug: str, title: str = "",
            parent: Any = None, mode: str = Mode.OFFLINE, capacity: int | None = None,
            organiser: tuple[str, str] | None = None, **extra: Any) -> Any:
        hours = rng.choice((2, 3, 4)) if mode == Mode.OFFLINE else 24 * rng.choice((7, 14, 30))
        ends = starts + dt.timedelta(hours=hours)
        kind, name = organiser or (OrganiserKind.GOVERNMENT, region.name)
        team = slug in TEAM_SPORTS and mode == Mode.OFFLINE
        event = Event(
            title=title or f"{region.name}{YEAR}年{NAMES[slug]}", region=region,
            level=region.level, organiser_kind=kind, organiser_name=name, mode=mode,
            status=EventStatus.FINISHED if ends <= now else EventStatus.PUBLISHED,
            parent=parent, place=f"{region.name}文体中心" if mode == Mode.OFFLINE else "",
            starts_at=starts, ends_at=ends, sport_id=sports.get(slug),
            registration_opens_at=starts - dt.timedelta(days=30),
            registration_closes_at=min(starts - dt.timedelta(hours=12), ends),
            capacity=capacity or rng.choice((30, 50, 80, 120)),
            has_waitlist=rng.random() < 0.7, entry="team" if team else "individual",
            team_min=3, team_max=8, published_at=starts - dt.timedelta(days=30),
            challenge_metric="minutes" if mode == Mode.ONLINE else "",
            challenge_goal=600 if mode == Mode.ONLINE else None,
            age_min=55 if slug in ("gateball", "taichi") and rng.random() < 0.5 else None,
            **extra)
        events.append(event)
        return event

    # The cascade: town heats (September) → district rounds (October) → the city final.
    jx = next(r for r in regions if r.level == "city")
    final = add(jx, starts=dt.datetime(YEAR, 11, 14, 9, tzinfo=TZ), slug="table-tennis",
                title=f"嘉兴市{YEAR}年全民健身运动会乒乓球总决赛", capacity=64,
                qualifiers_only=True)
    cascade: list[tuple[Any, Any]] = []  # (round, its parent)
    for district in (r for r in regions if r.level == "district"):
        rnd = add(district, starts=dt.datetime(YEAR, 10, 17, 9, tzinfo=TZ), slug="table-tennis",
                  title=f"{district.name}乒乓球复赛", parent=final, capacity=48,
                  qualifiers_only=True)
        cascade.append((rnd, final))
        towns = [r for r in regions if r.level == "town" and r.parent_id == district.pk][:2]
        for town in towns:
            heat = add(town, starts=dt.datetime(YEAR, 9, 19, 9, tzinfo=TZ), slug="table-tennis",
                       title=f"{town.name}乒乓球预赛", parent=rnd, capacity=32)
            cascade.append((heat, rnd))
    for region in regions:
        for i in range(per_level[region.level]):
            slug = rng.choice(slugs)
            organiser = None
            if region.level in ("city", "district") and rng.random() < 0.3:
                organiser = (OrganiserKind.ASSOCIATION, f"{region.name}{NAMES[slug][:2]}协会")
            add(region, starts=_at(rng, today, past=False if i == 0 and rng.random() < 0.4
                                   else None), slug=slug, organiser=organiser)
    for month in (3, 6, 9, 12):  # the city's seasonal online challenges
        add(jx, starts=dt.datetime(YEAR, month, 1, 0, tzinfo=TZ), slug="walking",
            title=f"嘉兴市{YEAR}年{month}月线上健步走挑战", mode=Mode.ONLINE, capacity=5000)
    pending = list(events)
    while pending:  # parents first (the final, then the district rounds, then the rest)
        ready = [e for e in pending if e.parent is None or e.parent.pk is not None]
        for e in ready:
            if e.parent is not None:
                e.parent = e.parent  # its id, now that it has one
        Event.objects.bulk_create(ready, batch_size=500)
        pending = [e for e in pending if e.pk is None]

    rounds = {id(e) for e, _p in cascade}
    regs: list[Any] = []
    for event in events:
        pool = people_in(event.region)
        if not pool or event.qualifiers_only:
            continue
        n = min(len(pool), event.capacity if event.is_online else rng.randint(
            event.capacity // 3, event.capacity), 400)
        done = event.ends_at <= now
        for j, uid in enumerate(rng.sample(pool, n)):
            status = (RegStatus.CHECKED_IN if done and not event.is_online and rng.random() < 0.85
                      else RegStatus.REGISTERED)
            regs.append(Registration(
                event=event, user_id=uid, status=status,
                team_name=f"{event.region.name}{j + 1}队" if event.entry == "team" else "",
                checked_in_at=event.starts_at if status == RegStatus.CHECKED_IN else None,
                score=round(rng.uniform(5, 100), 1) if status == RegStatus.CHECKED_IN and (
                    id(event) in rounds or rng.random() < 0.5) else None))
    Registration.objects.bulk_create(regs, batch_size=2000)
    _rank_and_advance(events, cascade, rng)
    for event in events:  # the counter, and registration times within the window
        Event.objects.filter(pk=event.pk).update(registered=Registration.objects.filter(
            event_id=event.pk, status__in=("registered", "checked_in")).count())
        Registration.objects.filter(event_id=event.pk).update(
            created_at=event.registration_opens_at + dt.timedelta(days=rng.randint(0, 20)))
    city.made["events"] = Event.objects.count()
    city.made["event_registrations"] = Registration.objects.count()
    city.made["event_activity_records"] = _record_attendance()


def _record_attendance() -> int:
    """The check-ins of past offline events as exercise sessions, in one bulk call, made as the
    live consumer ``activity.record_event`` makes them from ``events.attended`` (one verified
    session per person on the registration, keyed ``event:<registration id>``, other team
    members ``event:<registration id>:<user id>``, over the event's time capped at four hours):
    a later replay of a check-in finds its key and records nothing twice."""
    from sportsman.activity.models import Source
    from sportsman.activity.records import record_sessions_in_bulk
    from sportsman.events.models import Mode, Registration, RegStatus
    from sportsman.events.services import SESSION_CAP

    rows = (Registration.objects.filter(status=RegStatus.CHECKED_IN, event__mode=Mode.OFFLINE)
            .order_by("pk").values_list("pk", "user_id", "roster", "event__starts_at",
                                        "event__ends_at", "event__sport_id",
                                        "event__facility_id"))

    def sessions() -> Any:
        for pk, registrant, roster, starts, ends, sport_id, facility_id in rows.iterator():
            # as services.check_in names them in the event's payload
            members = [int(m["user_id"]) for m in roster or () if m.get("user_id")]
            ended = min(ends, starts + SESSION_CAP)
            for user_id in dict.fromkeys([registrant, *(members or [registrant])]):
                yield {"user_id": user_id, "source": Source.EVENT,
                       "source_key": (f"event:{pk}" if user_id == registrant
                                      else f"event:{pk}:{user_id}"),
                       "sport_id": sport_id, "started_at": starts, "ended_at": ended,
                       "facility_id": facility_id, "verified": True}

    return record_sessions_in_bulk(sessions())["recorded"]


def _rank_and_advance(events: list[Any], cascade: list[tuple[Any, Any]], rng: Any) -> None:
    """Ranks of every scored event; the top four of each heat advance to their district round,
    then (ranked in turn) the top four of each district round to the final."""
    from sportsman.events.models import Registration, RegStatus
    from sportsman.events.services import _rank

    for event in events:
        if any(e is event for e, _p in cascade):
            continue
        _rank(event)
    for level in ("town", "district"):
        for rnd, parent in cascade:
            if rnd.level != level:
                continue
            _rank(rnd)
            top = list(Registration.objects.filter(event_id=rnd.pk, rank__isnull=False)
                       .order_by("rank", "id")[:4])
            Registration.objects.filter(pk__in=[r.pk for r in top]).update(is_qualifier=True)
            done = parent.ends_at <= rnd.ends_at or parent.status == "finished"
            Registration.objects.bulk_create([Registration(
                event_id=parent.pk, user_id=r.user_id, advanced_from=r,
                status=RegStatus.CHECKED_IN if done else RegStatus.REGISTERED,
                checked_in_at=parent.starts_at if done else None,
                score=round(rng.uniform(5, 100), 1) if done else None) for r in top],
                ignore_conflicts=True)
    if cascade:
        _rank(cascade[0][1])
