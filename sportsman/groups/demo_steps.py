"""Demo sports groups (step 45: after the facilities, before the exercise record's year).

Every community gets groups of the sports its residents like (jx: about 6 a community and 60
district-wide clubs, 570 in all; small: 3 a community), named the way the paper's groups are
(长纤塘健步走, 艾尚舞, 茶园排舞群 …). Members are residents of the group's region who list its
sport first; the first is the leader, one in ten an administrator. Each group has a year of posts
(some pinned notices, comments, likes), a month of chat, finished activities over the last three
months whose attendances become verified exercise records (left in ``city.made["sessions"]`` for
the activity step's one ``record_sessions_in_bulk``, keyed as the live consumer keys them), and one upcoming activity with sign-ups and a waitlist. The
activity index is computed for those months, and the city's staff have confirmed this year's
star groups. The demo resident (13800000000) belongs to two groups of 花园社区 and has unread
messages in one. Deterministic for a seed: all randomness comes from ``city.rng("groups")``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

DEMO_RESIDENT_PHONE = "13800000000"
PER_COMMUNITY = {"small": 3, "jx": 6, "province": 2}
DISTRICT_CLUBS = {"small": 2, "jx": 9, "province": 2}
MEMBERS = {"small": (4, 20), "jx": (8, 160), "province": (6, 60)}
MONTHS_OF_ACTIVITIES = 3
SUFFIXES = {
    "walking": ["健步走", "徒步队", "健步走群"], "square-dance": ["广场舞队", "广场舞群", "舞蹈队"],
    "line-dance": ["排舞群", "排舞队"], "taichi": ["太极拳队", "太极拳社"],
    "badminton": ["羽毛球群", "羽毛球俱乐部"], "basketball": ["篮球队", "篮球群"],
    "table-tennis": ["乒乓球群", "乒乓球社"], "running": ["跑团", "夜跑团"],
    "football": ["足球队"], "cycling": ["骑行队", "骑行群"], "gateball": ["门球队"],
    "aerobics": ["健身操队"], "qigong": ["八段锦队"], "chinese-chess": ["象棋社"],
    "swimming": ["游泳群"], "yoga": ["瑜伽群"],
}
NICE = ["长纤塘", "艾尚", "茶园", "月河", "南湖", "梅湾", "烟雨", "红船", "秀水", "禾城",
        "西塘", "运河", "鸳鸯湖", "东栅", "凌公塘", "城南", "湘家荡", "真合", "望吴", "三塔"]
POSTS = ["今晚七点老地方集合，带好水。", "周末活动照片，大家辛苦了！", "新队员欢迎加入，有问题群里问。",
         "下周天气转凉，注意保暖热身。", "感谢社区提供场地，活动很顺利。", "本月打卡排行出来了，继续加油！",
         "明天下雨，活动暂停一次。", "新学的动作视频发在群里了，大家跟着练。"]
NOTICES = ["【通知】每周二、四晚七点活动，请准时参加。", "【通知】请大家文明健身，爱护场地设施。"]
COMMENTS = ["收到！", "我来！", "辛苦了", "好的", "👍", "明天见", "太棒了"]
CHAT = ["大家好", "今晚几点？", "七点，老地方", "我晚点到", "收到", "带上水", "明天下雨吗？",
        "天气预报说阴天", "今天人真多", "新来的朋友欢迎", "谢谢队长", "照片拍得真好", "周末见",
        "我请假一次", "好的好的", "加油！"]


@demo_step("groups", order=45)
def step_groups(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.core.models import Sport
    from sportsman.groups import stars
    from sportsman.groups.models import (
        ActivityStatus,
        ChatMessage,
        Comment,
        Group,
        GroupActivity,
        GroupStatus,
        JoinPolicy,
        Like,
        Membership,
        MemberStatus,
        Post,
        Signup,
        SignupStatus,
        StarGroup,
    )
    from sportsman.regions.models import Level, Region

    rng = city.rng("groups")
    now = timezone.now()
    sports = {s.slug: s for s in Sport.objects.all()}
    usable = [slug for slug in SUFFIXES if slug in sports]
    if not usable:
        return
    communities = list(Region.objects.filter(level=Level.COMMUNITY).order_by("code"))
    districts = list(Region.objects.filter(level=Level.DISTRICT, code__startswith="3304")
                     .order_by("code"))
    # residents by community, each with their first interest (one query for each)
    people: dict[int, list[int]] = defaultdict(list)
    for pk, home in User.objects.exclude(home_community=None).order_by("pk").values_list(
            "pk", "home_community_id"):
        people[home].append(pk)
    first_interest: dict[int, int] = {}
    for user_id, sport_id in (User.interests.through.objects.order_by("id")
                              .values_list("user_id", "sport_id")):
        first_interest.setdefault(user_id, sport_id)
    demo = User.objects.filter(phone_hash=_phone_hash(DEMO_RESIDENT_PHONE)).first()
    low, high = MEMBERS.get(city.scale, MEMBERS["jx"])
    taken: set[tuple[int, str]] = set()

    def name_for(region: Any, slug: str) -> str:
        for _attempt in range(20):
            name = rng.choice([rng.choice(NICE), region.name.removesuffix("社区")
                               .removesuffix("村").removesuffix("区")]) + rng.choice(SUFFIXES[slug])
            if (region.pk, name) not in taken:
                taken.add((region.pk, name))
                return name
        name = f"{region.name}{rng.choice(SUFFIXES[slug])}{len(taken)}"
        taken.add((region.pk, name))
        return name

    specs: list[tuple[Any, str, list[int]]] = []
    for community in communities:
        residents = people.get(community.pk, [])
        if len(residents) < 3:
            continue
        for slug in rng.sample(usable, min(PER_COMMUNITY.get(city.scale, 6), len(usable))):
            specs.append((community, slug, residents))
    for district in districts[: max(1, len(districts))]:
        pool = [u for c in communities if c.path.startswith(district.path)
                for u in people.get(c.pk, [])]
        if len(pool) < 3:
            continue
        for slug in rng.sample(usable, min(DISTRICT_CLUBS.get(city.scale, 9), len(usable))):
            specs.append((district, slug, pool))

    groups: list[Any] = []
    member_lists: list[list[int]] = []
    for region, slug, pool in specs:
        sport = sports[slug]
        fans = [u for u in pool if first_interest.get(u) == sport.pk]
        others = [u for u in pool if first_interest.get(u) != sport.pk]
        size = min(len(pool), rng.randint(low, high))
        chosen = rng.sample(fans, min(len(fans), size))
        chosen += rng.sample(others, min(len(others), size - len(chosen)))
        if demo is not None and region.pk == demo.home_community_id and len(
                [g for g in groups if g.region_id == region.pk]) < 2:
            chosen = [u for u in chosen if u != demo.pk] + [demo.pk]
        if len(chosen) < 2:
            continue
        created = now - dt.timedelta(days=rng.randint(120, 700))
        groups.append(Group(
            name=name_for(region, slug), sport=sport, region=region,
            description=f"{region.name}的{sport.name_zh}爱好者，欢迎加入！",
            join_policy=rng.choices([JoinPolicy.OPEN, JoinPolicy.APPROVAL,
                                     JoinPolicy.INVITATION], [6, 3, 1])[0],
            status=GroupStatus.ACTIVE, invite_code=_token(rng), members=len(chosen),
            created_at=created, last_active_at=now - dt.timedelta(hours=rng.randint(1, 300)),
            lat=None, lng=None))
        member_lists.append(chosen)
    Group.objects.bulk_create(groups, batch_size=BATCH)

    memberships: list[Any] = []
    for group, chosen in zip(groups, member_lists, strict=True):
        span = max(1, (now - group.created_at).days)
        for i, user_id in enumerate(chosen):
            role = "leader" if i == 0 else "admin" if i % 10 == 1 else "member"
            joined = group.created_at + dt.timedelta(days=0 if i == 0 else rng.randint(0, span))
            memberships.append(Membership(
                group=group, user_id=user_id, role=role, status=MemberStatus.ACTIVE,
                visibility=rng.choices(["public", "members", "hidden"], [3, 6, 1])[0],
                joined_at=joined, requested_at=joined))
    Membership.objects.bulk_create(memberships, batch_size=BATCH)

    # the space: posts over the year, notices, comments and likes
    posts: list[Any] = []
    for group, chosen in zip(groups, member_lists, strict=True):
        if rng.random() < 0.5:
            posts.append(Post(group=group, author_id=chosen[0], text=rng.choice(NOTICES),
                              pinned=True, created_at=group.created_at + dt.timedelta(days=1)))
        for _ in range(rng.randint(2, 8)):
            posts.append(Post(group=group, author_id=rng.choice(chosen), text=rng.choice(POSTS),
                              created_at=now - dt.timedelta(days=rng.randint(0, 360),
                                                            minutes=rng.randint(0, 1440))))
    by_group = dict(zip((g.pk for g in groups), member_lists, strict=True))
    comments: list[Any] = []
    likes: list[Any] = []
    for post in posts:
        chosen = by_group[post.group.pk]
        n = rng.randint(0, 3)
        post.comments = n
        for _ in range(n):
            comments.append((post, rng.choice(chosen), rng.choice(COMMENTS)))
        likers = rng.sample(chosen, min(len(chosen), rng.randint(0, 6)))
        post.likes = len(likers)
        likes.extend((post, u) for u in likers)
    Post.objects.bulk_create(posts, batch_size=BATCH)
    Comment.objects.bulk_create([Comment(post=p, author_id=u, text=t,
                                         created_at=p.created_at + dt.timedelta(hours=1))
                                 for p, u, t in comments], batch_size=BATCH)
    Like.objects.bulk_create([Like(post=p, user_id=u, created_at=p.created_at)
                              for p, u in likes], batch_size=BATCH)

    # a month of chat, the last message most recent
    messages: list[Any] = []
    for group, chosen in zip(groups, member_lists, strict=True):
        count = rng.randint(5, 40)
        gaps = [rng.randint(30, 900) for _ in range(count)]  # minutes before the next one
        for i in range(count):
            at = now - dt.timedelta(minutes=sum(gaps[i:]))
            messages.append(ChatMessage(group=group, sender_id=rng.choice(chosen),
                                        client_id=f"demo-{group.pk}-{i}",
                                        text=rng.choice(CHAT), created_at=at))
    messages.sort(key=lambda m: m.created_at)
    ChatMessage.objects.bulk_create(messages, batch_size=BATCH)
    ids_of: dict[int, list[int]] = defaultdict(list)
    for m in messages:
        ids_of[m.group_id].append(m.pk)
    last = {gid: ids[-1] for gid, ids in ids_of.items()}
    # members have read up to a recent message; the demo resident leaves some unread
    for group in groups:
        ids = ids_of.get(group.pk, [])
        if ids:
            upto = ids[max(0, len(ids) - rng.randint(1, 6))]
            Membership.objects.filter(group=group).update(last_read_message_id=upto)
    if demo is not None:
        Membership.objects.filter(user=demo).update(last_read_message_id=0)
        mine = list(Membership.objects.filter(user=demo).values_list("group_id", flat=True))
        if mine:
            Membership.objects.filter(user=demo, group_id=mine[0]).update(
                last_read_message_id=last.get(mine[0], 0))

    # activities: finished ones over the last months, one upcoming with sign-ups
    activities: list[Any] = []
    attendance: list[tuple[int, list[int], list[int]]] = []  # index, attended, absent
    for group, chosen in zip(groups, member_lists, strict=True):
        for _ in range(rng.randint(1, 2 * MONTHS_OF_ACTIVITIES)):
            day = (now - dt.timedelta(days=rng.randint(1, 30 * MONTHS_OF_ACTIVITIES))).astimezone(
                city_tz())
            start = day.replace(hour=rng.choice((7, 9, 15, 19)), minute=0, second=0,
                                microsecond=0)
            came = rng.sample(chosen, min(len(chosen), rng.randint(2, 25)))
            absent = [u for u in rng.sample(chosen, min(len(chosen), 3)) if u not in came]
            activities.append(GroupActivity(
                group=group, title=f"{group.name}{start:%m月%d日}活动",
                starts_at=start, ends_at=start + dt.timedelta(minutes=rng.choice((60, 90, 120))),
                place=f"{group.region.name}健身广场", capacity=max(30, len(came) + 5),
                taken=len(came) + len(absent), status=ActivityStatus.FINISHED,
                check_in_code=_token(rng), created_by_id=chosen[0], finished_at=None,
                created_at=start - dt.timedelta(days=5)))
            attendance.append((len(activities) - 1, came, absent))
        start = (now + dt.timedelta(days=rng.randint(1, 12))).astimezone(city_tz()).replace(
            hour=19, minute=0, second=0, microsecond=0)
        cap = rng.randint(8, 30)
        wanting = rng.sample(chosen, min(len(chosen), cap + rng.randint(0, 5)))
        activities.append(GroupActivity(
            group=group, title=f"{group.name}{start:%m月%d日}活动", starts_at=start,
            ends_at=start + dt.timedelta(minutes=90), place=f"{group.region.name}健身广场",
            capacity=cap, taken=min(cap, len(wanting)), check_in_code=_token(rng),
            created_by_id=chosen[0], created_at=now - dt.timedelta(days=2)))
        attendance.append((len(activities) - 1, [], wanting))
    for a in activities:
        if a.status == ActivityStatus.FINISHED:
            a.finished_at = a.ends_at + dt.timedelta(hours=1)
    GroupActivity.objects.bulk_create(activities, batch_size=BATCH)
    signups: list[Any] = []
    sessions: list[dict[str, Any]] = []
    for index, came, others in attendance:
        a = activities[index]
        if a.status == ActivityStatus.FINISHED:
            for u in came:
                signups.append(Signup(activity=a, user_id=u, status=SignupStatus.ATTENDED,
                                      created_at=a.created_at, checked_in_at=a.starts_at))
                sessions.append({"user_id": u, "source": "group",
                                 "source_key": f"group:{a.pk}:{u}",
                                 "sport_id": a.group.sport_id, "started_at": a.starts_at,
                                 "ended_at": a.ends_at, "facility_id": None, "verified": True})
            signups += [Signup(activity=a, user_id=u, status=SignupStatus.SIGNED_UP,
                               created_at=a.created_at) for u in others]
        else:
            for i, u in enumerate(others):
                signups.append(Signup(activity=a, user_id=u, created_at=a.created_at,
                                      status=SignupStatus.SIGNED_UP if i < a.capacity
                                      else SignupStatus.WAITING))
    Signup.objects.bulk_create(signups, batch_size=BATCH)
    city.made.setdefault("sessions", []).extend(sessions)

    # the index for the months with activities, and the city's star groups of the year
    # (every year the months touch: early in January the stars shown are last year's)
    today = timezone.localdate()
    month = today.replace(day=1)
    years: set[int] = set()
    for _ in range(MONTHS_OF_ACTIVITIES + 1):
        stars.refresh_month(month)
        years.add(month.year)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    city_region = Region.objects.filter(level=Level.CITY, code="330400000000").first()
    admin = User.objects.filter(phone_hash=_phone_hash("13800000004")).first()
    if city_region is not None:
        StarGroup.objects.bulk_create([
            StarGroup(year=year, region=city_region, group_id=t["group_id"],
                      score=t["score"], confirmed_by=admin)
            for year in sorted(years) for t in stars.top_groups(city_region, year=year, limit=10)])
    city.made["groups"] = len(groups)
    city.made["group_memberships"] = len(memberships)
    city.made["group_posts"] = len(posts)
    city.made["group_messages"] = len(messages)
    city.made["group_activities"] = len(activities)
    city.made["group_sessions"] = len(sessions)


def _token(rng: Any) -> str:
    return "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                   for _ in range(16))


def _phone_hash(phone: str) -> str:
    from sportsman.core import crypto

    return crypto.keyed_hash(phone)


def city_tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")

