"""Demo associations (step 86: after the events, whose association-organised events get their
association here).

703 associations over the demo city's regions, whatever the scale: the city's sports
federation (嘉兴市体育总会), crowd associations and single-sport associations at the city and
in each district (registered), sport associations and clubs of the towns (registered or
filed), and fitness teams of the communities (filed or grassroots, 健身队, 晨练队, 球队). Each
has officers (a president, vice presidents, a secretary general, directors, a supervisor; a
captain for a team) and a manager among residents of its region; a few are dissolved or
suspended, some registered ones hold a grade. The demo login 13800000010 manages 嘉兴市体育总会,
嘉兴市老年人体育协会, 新嘉街道老年人体育协会 and 花园社区健身队. All by bulk inserts;
deterministic for a seed (``city.rng("associations")``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

TOTAL = 703
DEMO_MANAGER = "13800000010"
DEMO_TOWN = "330402009000"  # 新嘉街道
CROWDS = ("老年人体育协会", "职工体育协会", "青少年体育协会", "农民体育协会", "残疾人体育协会",
          "妇女体育协会", "机关体育协会")
TEAM_SUFFIX = ("健身队", "晨练队", "队", "俱乐部", "爱好者协会")
# share of the associations at each level
SHARES = {"city": 0.08, "district": 0.27, "town": 0.30, "community": 0.35}


def _short(name: str) -> str:
    for suffix in ("街道", "社区", "市", "区", "县", "镇", "乡", "村"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@demo_step("associations", order=86)
def step_associations(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.associations.models import (
        Association,
        AssociationMember,
        Grade,
    )
    from sportsman.core import crypto
    from sportsman.core.models import Sport
    from sportsman.events.models import Event
    from sportsman.regions.models import Level, Region

    rng = city.rng("associations")
    now = timezone.now()
    today = timezone.localdate(now)
    jx = Region.objects.filter(code="330400000000").first()
    if jx is None:
        return
    regions = list(Region.objects.filter(path__startswith=jx.path).order_by("path"))
    by_level: dict[str, list[Any]] = defaultdict(list)
    for r in regions:
        by_level[r.level].append(r)
    sports = [s for s in Sport.objects.order_by("slug")]
    residents_by_region: dict[int, list[int]] = defaultdict(list)
    path_of = {r.pk: r.path for r in regions}
    for user_id, home_id in (User.objects.exclude(home_community=None).order_by("pk")
                             .values_list("pk", "home_community_id")):
        path = path_of.get(home_id)
        if path is None:
            continue
        for part in path.strip("/").split("/"):
            residents_by_region[int(part)].append(user_id)
    demo = User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_MANAGER)).first()

    made: list[Association] = []
    names: set[tuple[int, str]] = set()
    credit_seq = iter(range(1, 100_000))

    def add(region: Any, name: str, kind: str, legal: str, sport: Any = None) -> Association | None:
        if (region.pk, name) in names:
            return None
        names.add((region.pk, name))
        code = ""
        if legal == "registered":
            code = f"5133{region.code[2:6]}MJ{next(credit_seq):07d}"[:18]
        elif legal == "filed":
            code = f"BA{region.code[:9]}{next(credit_seq):05d}"
        years = rng.uniform(0.5, 12) if legal != "grassroots" else rng.uniform(0.2, 6)
        founded = today - dt.timedelta(days=int(years * 365))
        members = (rng.randint(50, 900) if legal == "registered" else rng.randint(20, 90)
                   if legal == "filed" else rng.randint(8, 45))
        assoc = Association(name=name[:80], kind=kind, legal_status=legal, region=region,
                            sport=sport, credit_code=code, founded_on=founded, members=members,
                            address=f"{region.name}文体中心", description="")
        assoc._demo_founded = founded  # type: ignore[attr-defined]
        made.append(assoc)
        return assoc

    counts = {level: round(TOTAL * share) for level, share in SHARES.items()}
    # the city: the federation, the crowds, single sports, a few clubs
    city_region = jx
    region_by_id = {r.pk: r for r in regions}
    event_rows = list(Event.objects.filter(organiser_kind="association",
                                           organiser_id__isnull=True)
                      .order_by("id").values_list("id", "region_id", "organiser_name"))
    for _event, region_id, name in event_rows:
        if region_id in region_by_id:
            add(region_by_id[region_id], name[:80], "sport", "filed")
    home = city.regions.get("330402009034")
    if home is not None:
        add(home, f"{home.name}健身队", "team", "grassroots")
    add(city_region, "嘉兴市体育总会", "federation", "registered")
    for crowd in CROWDS:
        add(city_region, f"嘉兴市{crowd}", "crowd", "registered")
    level_rows = {"city": [city_region], "district": by_level[Level.DISTRICT],
                  "town": by_level[Level.TOWN], "community": by_level[Level.COMMUNITY]}
    for level in ("city", "district", "town", "community"):
        places = level_rows[level]
        if not places:
            continue
        have = sum(1 for a in made if a.region.level == level)
        target = counts[level] if level != "community" else TOTAL - len(made) + have
        if level == "district":
            for d in places:
                add(d, f"{d.name}体育总会", "federation", "registered")
                for crowd in CROWDS[:3]:
                    add(d, f"{d.name}{crowd}", "crowd", "registered")
        if level == "town":
            for t in places:
                add(t, f"{t.name}老年人体育协会", "crowd", "registered")
        have = sum(1 for a in made if a.region.level == level)
        tries = 0
        while have < target and tries < target * 20:
            tries += 1
            region = places[rng.randrange(len(places))]
            sport = rng.choice(sports) if sports else None
            sport_name = sport.name_zh if sport else "健身"
            if level in ("city", "district"):
                kind = rng.choices(("sport", "club"), (0.85, 0.15))[0]
                name = (f"{region.name}{sport_name}协会" if kind == "sport"
                        else f"{_short(region.name)}{sport_name}俱乐部")
                legal = "registered"
            elif level == "town":
                kind = rng.choices(("sport", "club", "team"), (0.5, 0.2, 0.3))[0]
                name = (f"{region.name}{sport_name}协会" if kind == "sport"
                        else f"{_short(region.name)}{sport_name}"
                        f"{'俱乐部' if kind == 'club' else '队'}")
                legal = rng.choices(("registered", "filed"), (0.35, 0.65))[0]
            else:
                kind = "team"
                name = f"{_short(region.name)}{sport_name}{rng.choice(TEAM_SUFFIX)}"
                legal = rng.choices(("filed", "grassroots"), (0.45, 0.55))[0]
            if (region.pk, name) in names:
                name = f"{name[:-1]}{rng.randint(2, 9)}{name[-1]}"
            if add(region, name, kind, legal, sport) is not None:
                have += 1
    # the demo login's associations beyond the city's
    demo_names = {("330400000000", "嘉兴市体育总会"), ("330400000000", "嘉兴市老年人体育协会")}
    town = city.regions.get(DEMO_TOWN)
    if town is not None:
        demo_names.add((town.code, f"{town.name}老年人体育协会"))
    if home is not None:
        demo_names.add((home.code, f"{home.name}健身队"))
    # a few dissolved or suspended; some registered ones hold a grade
    for assoc in made:
        roll = rng.random()
        if (assoc.region.code, assoc.name) in demo_names:
            continue
        if roll < 0.02:
            assoc.status = "dissolved"
            assoc.dissolved_at = now - dt.timedelta(days=rng.uniform(5, 300))
        elif roll < 0.04:
            assoc.status = "suspended"
        elif assoc.legal_status == "registered" and rng.random() < 0.25:
            assoc.grade = rng.choices([g.value for g in Grade], (0.05, 0.2, 0.4, 0.25, 0.1))[0]
            assoc.grade_valid_until = today + dt.timedelta(days=rng.randint(60, 1700))
    Association.objects.bulk_create(made, batch_size=BATCH)
    # on the registry since their founding (auto_now_add stamped now)
    for assoc in made:
        founded = assoc._demo_founded  # type: ignore[attr-defined]
        assoc.created_at = dt.datetime.combine(founded, dt.time(9), tzinfo=timezone.get_current_timezone())
        if assoc.dissolved_at is not None and assoc.dissolved_at < assoc.created_at:
            assoc.dissolved_at = assoc.created_at + dt.timedelta(days=30)
    Association.objects.bulk_update(made, ["created_at", "dissolved_at"], batch_size=BATCH)

    # officers and managers
    members: list[AssociationMember] = []
    demo_ids = {a.pk for a in made if (a.region.code, a.name) in demo_names}
    for assoc in made:
        pool = residents_by_region.get(assoc.region_id) or []
        picked: list[int] = rng.sample(pool, min(len(pool), 6)) if pool else []
        offices = (["president", "vice_president", "secretary_general", "director",
                    "director", "supervisor"] if assoc.legal_status == "registered"
                   else ["captain", "", ""])
        joined = assoc._demo_founded  # type: ignore[attr-defined]
        for i, office in enumerate(offices):
            member_user: int | None = picked[i] if i < len(picked) else None
            manages = member_user is not None and office in ("secretary_general", "captain")
            if assoc.pk in demo_ids and manages and demo is not None:
                member_user, manages = None, False  # the demo login manages instead
            members.append(AssociationMember(
                association_id=assoc.pk, user_id=member_user, name=f"{office or 'member'}-{i}",
                office=office, manages=manages, joined_on=joined))
        if assoc.pk in demo_ids and demo is not None:
            members.append(AssociationMember(association_id=assoc.pk, user_id=demo.pk,
                                             name="市体育总会", office="secretary_general"
                                             if assoc.legal_status == "registered"
                                             else "captain", manages=True, joined_on=joined))
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡沈钱金陆蒋姚"
    for m in members:
        if m.name.startswith(("president", "vice", "secretary", "director", "supervisor",
                              "captain", "member")) and m.name != "市体育总会":
            m.name = rng.choice(surnames) + rng.choice("建国伟明芳丽华强军英秀兰平刚桂")
    AssociationMember.objects.bulk_create(members, batch_size=BATCH)

    # the events the demo's associations organise get their association
    by_name = {(a.region_id, a.name): a.pk for a in made}
    for event_id, region_id, name in event_rows:
        found = by_name.get((region_id, name[:80]))
        if found is not None:
            Event.objects.filter(pk=event_id).update(organiser_id=found)
    city.made["associations"] = [a.pk for a in made]
