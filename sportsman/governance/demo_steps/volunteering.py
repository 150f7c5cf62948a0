"""Demo volunteering (step 81: after the points rules and the events).

Every town of Jiaxing has a town team (…志愿服务队) and every community with residents a community
team, each with members from its residents (the first is its leader). Each team held a few
opportunities over the last 90 days — event support, facility patrol, teaching — with volunteers
who checked in and out; most of their hours are approved and earned points the real way (the
approval's ``governance.volunteer_hours_approved`` event, dispatched to the rewards consumer, one
ledger entry per sign-up under the city's per-hour rule); some still await approval, so the
console has work. Every team has one or two upcoming opportunities with sign-ups. The demo
resident (13800000000) belongs to 花园社区's team and has volunteered. Deterministic for a seed:
all randomness comes from ``city.rng("governance-volunteering")``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

DEMO_RESIDENT_PHONE = "13800000000"
MEMBERS = {"small": (4, 12), "jx": (6, 30), "province": (4, 10)}
PAST = {"small": (2, 4), "jx": (2, 4), "province": (1, 2)}
KINDS = [
    ("event_support", ["赛事补给站服务", "社区运动会秩序维护", "马拉松赛道引导", "全民健身日签到引导"]),
    ("facility_patrol", ["健身路径器材巡查", "口袋公园安全巡查", "篮球场设施巡检", "健身步道巡护"]),
    ("teaching", ["教老人练八段锦", "青少年跳绳教学", "太极拳公益课", "广场舞基本步教学"]),
    ("other", ["运动场地环境清洁", "健身知识宣传"]),
]
PLACES = ["社区文体中心", "健身广场", "南湖边步道", "社区篮球场", "街道体育公园", "文化礼堂门口"]


@demo_step("governance-volunteering", order=81)
def step_volunteering(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.events import dispatch, publish
    from sportsman.governance import volunteering as vol
    from sportsman.governance.models import (
        MemberRole,
        MemberStatus,
        Opportunity,
        TeamMember,
        VolunteerSignup,
        VolunteerStatus,
        VolunteerTeam,
    )
    from sportsman.regions.models import Level, Region

    rng = city.rng("governance-volunteering")
    now = timezone.now()
    low, high = MEMBERS.get(city.scale, MEMBERS["jx"])
    past_low, past_high = PAST.get(city.scale, PAST["jx"])
    people: dict[int, list[int]] = defaultdict(list)
    for pk, home in (User.objects.exclude(home_community=None).filter(role_assignments=None)
                     .order_by("pk").values_list("pk", "home_community_id")):
        people[home].append(pk)
    demo = User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_RESIDENT_PHONE)).first()
    towns = list(Region.objects.filter(level=Level.TOWN, code__startswith="3304").order_by("code"))
    communities = list(Region.objects.filter(level=Level.COMMUNITY, code__startswith="3304")
                       .order_by("code"))
    by_town: dict[int, list[int]] = defaultdict(list)
    for c in communities:
        by_town[c.parent_id or 0] += people.get(c.pk, [])

    specs: list[tuple[Any, list[int]]] = []
    for town in towns:
        if len(by_town.get(town.pk, [])) >= 3:
            specs.append((town, by_town[town.pk]))
    for c in communities:
        if len(people.get(c.pk, [])) >= 3:
            specs.append((c, people[c.pk]))

    teams = VolunteerTeam.objects.bulk_create([VolunteerTeam(
        region=region, name=f"{region.name}志愿服务队",
        description=f"{region.name}体育志愿者：赛事保障、场地巡查、健身指导，欢迎报名！")
        for region, _pool in specs], batch_size=BATCH)
    members: list[TeamMember] = []
    member_ids: dict[int, list[int]] = {}
    for team, (region, pool) in zip(teams, specs, strict=True):
        chosen = rng.sample(pool, min(len(pool), rng.randint(low, high)))
        if demo is not None and region.pk == demo.home_community_id and demo.pk not in chosen:
            chosen.append(demo.pk)
        member_ids[team.pk] = chosen
        joined = now - dt.timedelta(days=rng.randint(100, 400))
        for i, user_id in enumerate(chosen):
            members.append(TeamMember(team=team, user_id=user_id, status=MemberStatus.ACTIVE,
                                      role=MemberRole.LEADER if i == 0 else MemberRole.MEMBER,
                                      joined_at=joined + dt.timedelta(days=i)))
        team.members = len(chosen)
        if rng.random() < 0.3 and len(pool) > len(chosen):  # an application waiting
            waiting = rng.choice([u for u in pool if u not in chosen])
            members.append(TeamMember(team=team, user_id=waiting, status=MemberStatus.PENDING))
    TeamMember.objects.bulk_create(members, batch_size=BATCH)
    VolunteerTeam.objects.bulk_update(teams, ["members"], batch_size=BATCH)

    opportunities: list[Opportunity] = []
    crews: list[list[int]] = []
    for team in teams:
        crew = member_ids[team.pk]
        slots = [("past", d) for d in sorted(rng.sample(range(3, 90), rng.randint(past_low,
                                                                               past_high)))]
        slots += [("next", d) for d in rng.sample(range(2, 15), rng.randint(1, 2))]
        for when, days in slots:
            kind, titles = rng.choice(KINDS)
            day = (now - dt.timedelta(days=days) if when == "past"
                   else now + dt.timedelta(days=days)).astimezone(city_tz())
            start = day.replace(hour=rng.choice([8, 9, 14, 18]), minute=0, second=0,
                                microsecond=0)
            capacity = rng.randint(4, 15)
            taken = min(capacity, len(crew), rng.randint(2, capacity))
            opportunities.append(Opportunity(
                team=team, kind=kind, title=rng.choice(titles), place=rng.choice(PLACES),
                starts_at=start, ends_at=start + dt.timedelta(hours=rng.choice([2, 2, 3, 4])),
                capacity=capacity, taken=taken, created_by_id=crew[0],
                description="请提前十分钟到场，穿志愿者马甲，扫码签到签退。"))
            volunteers = rng.sample(crew[1:] or crew, min(taken, len(crew[1:] or crew)))
            if demo is not None and demo.pk in crew and demo.pk not in volunteers \
                    and volunteers and when == "past":
                volunteers[0] = demo.pk
            crews.append(volunteers)
    Opportunity.objects.bulk_create(opportunities, batch_size=BATCH)
    for opp, crew in zip(opportunities, crews, strict=True):
        if opp.taken != len(crew):
            opp.taken = len(crew)
    Opportunity.objects.bulk_update(opportunities, ["taken"], batch_size=BATCH)

    signups: list[VolunteerSignup] = []
    for opp, crew in zip(opportunities, crews, strict=True):
        past = opp.ends_at < now
        for user_id in crew:
            if not past:
                signups.append(VolunteerSignup(opportunity=opp, user_id=user_id))
                continue
            arrived = opp.starts_at + dt.timedelta(minutes=rng.randint(-15, 20))
            left = opp.ends_at + dt.timedelta(minutes=rng.randint(-40, 15))
            minutes = vol.minutes_attended(opp, arrived, left)
            waiting = rng.random() < 0.1
            signups.append(VolunteerSignup(
                opportunity=opp, user_id=user_id, checked_in_at=arrived, checked_out_at=left,
                minutes=minutes,
                status=VolunteerStatus.CHECKED_OUT if waiting else VolunteerStatus.APPROVED,
                approved_minutes=None if waiting else minutes,
                hours=0 if waiting else vol.credited_hours(minutes),
                decided_by_id=None if waiting else opp.created_by_id,
                decided_at=None if waiting else left + dt.timedelta(hours=rng.randint(1, 30))))
    VolunteerSignup.objects.bulk_create(signups, batch_size=BATCH)

    # the approvals' events, dispatched now: the rewards consumer writes the points
    events = [publish(vol.HOURS_APPROVED, {
        "user_id": s.user_id, "hours": s.hours, "minutes": s.approved_minutes,
        "signup_id": s.pk, "team_id": s.opportunity.team_id, "key": vol.hours_key(s.pk)}).pk
        for s in signups if s.status == VolunteerStatus.APPROVED and s.hours]
    for first in range(0, len(events), 500):
        dispatch(event_ids=events[first:first + 500], limit=500)
    city.made["volunteer_teams"] = len(teams)
    city.made["volunteer_signups"] = len(signups)


def city_tz() -> Any:
    from sportsman.core.demo_city import TZ

    return TZ
