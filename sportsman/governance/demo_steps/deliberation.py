"""Demo deliberation (step 83, after the groups and the governance frame): 127 topics across
the demo city at the jx scale (small: 12), about 80 % decided with their frozen result, decision
and follow-ups, the rest closed awaiting a decision, open with votes coming in, or residents'
proposals gathering support. Topics belong mostly to communities, some to towns; voters and
supporters are residents of the topic's region. The demo resident's community (花园社区) has an
open topic to vote on and a proposal to back. Deterministic for a seed: all randomness comes
from ``city.rng("governance-deliberation")``. The topics are left in
``city.made["governance_topics"]`` (id, region id) for the posts step."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

COUNT = {"small": 12, "jx": 127, "province": 127}
MAX_VOTERS = 60
TOPICS = [
    ("篮球场夜间照明延长", "篮球场灯光晚上九点关闭，不少上班族下班后才有时间打球，建议延长到十点。"),
    ("社区健身路径增设", "小区东侧空地闲置，建议增设一组适合老年人的健身路径器材。"),
    ("广场舞音量时段", "广场舞音乐晚上八点半后影响休息，建议约定音量和结束时间。"),
    ("羽毛球馆周末开放时间", "周末上午羽毛球馆预约紧张，建议提前到七点开放。"),
    ("门球场加装遮阳棚", "夏天门球场太晒，老人活动不便，建议加装遮阳棚。"),
    ("健身步道铺设塑胶", "河边步道是水泥路面，跑步伤膝盖，建议铺设塑胶跑道。"),
    ("乒乓球桌增加两张", "活动室只有两张乒乓球桌，晚上经常排队，建议再增加两张。"),
    ("学校操场错时开放", "建议学校操场在放学后和周末向社区居民错时开放。"),
    ("增设儿童运动区", "小区里孩子多，建议在中心花园增设儿童运动和攀爬设施。"),
    ("太极拳晨练场地划分", "晨练队伍多，场地冲突，建议划分固定区域和时段。"),
    ("足球场草皮更换", "足球场草皮老化起坑，建议更换人造草皮。"),
    ("健身器材定期维护", "部分健身器材松动生锈，建议建立定期检查和维修制度。"),
    ("夜跑路段增设路灯", "环湖夜跑路段照明不足，建议增设路灯和安全提示牌。"),
    ("文化礼堂设运动角", "农村文化礼堂平时空置，建议设置乒乓球和棋牌运动角。"),
    ("停车位改建笼式球场", "地下车库启用后地面停车位闲置，建议改建笼式足球场。"),
    ("游泳馆增设老年时段", "建议游泳馆每周安排两个上午的老年人专场。"),
]
DECISIONS = ["经议事表决通过，{region}将按居民意见实施，预计两个月内完成。",
             "表决通过。由{region}牵头，联合物业共同落实。",
             "多数居民赞成，{region}已列入本年度民生实事项目。",
             "表决未过半数，暂不实施；{region}将收集意见后另行研究。"]
FOLLOW_UPS = ["已完成现场勘查，方案已报街道审核。", "施工单位已进场，预计本月底完工。",
              "已完成并投入使用，欢迎居民监督反馈。", "已安排专人每月巡查维护。",
              "已在社区公告栏和群内公示实施情况。"]
COMMENTS = ["支持！早就该这样了。", "同意，不过要注意不影响周边居民休息。", "建议先试行一个月看看效果。",
            "我家老人经常去，希望尽快落实。", "费用从哪里出？希望公开。", "赞成，孩子们也能用。",
            "可以考虑分时段安排。", "我反对，噪音会更大。"]


@demo_step("governance-deliberation", order=83)
def step_deliberation(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_HOME_COMMUNITY
    from sportsman.governance.models import (
        Choice,
        FollowUp,
        Topic,
        TopicComment,
        TopicStatus,
        TopicSupport,
        Vote,
    )
    from sportsman.regions.models import Level, Region

    rng = city.rng("governance-deliberation")
    now = timezone.now()
    people: dict[int, list[int]] = defaultdict(list)
    for pk, home_id in (User.objects.filter(is_active=True).exclude(home_community=None)
                        .order_by("pk").values_list("pk", "home_community_id")):
        people[home_id].append(pk)
    communities = [c for c in Region.objects.filter(level=Level.COMMUNITY).order_by("code")
                   if len(people.get(c.pk, [])) >= 3]
    if not communities:
        return
    towns = {t.pk: t for t in Region.objects.filter(level=Level.TOWN).order_by("code")}
    staff = User.objects.filter(phone_hash=crypto.keyed_hash("13800000002")).first()
    home = next((c for c in communities if c.code == DEMO_HOME_COMMUNITY), communities[0])

    def pool(region: Region) -> list[int]:
        return [u for c in communities if c.path.startswith(region.path)
                for u in people.get(c.pk, [])]

    total = COUNT.get(city.scale, 127)
    plan: list[tuple[Any, str]] = [(home, TopicStatus.OPEN), (home, TopicStatus.PROPOSED)]
    for i in range(total - len(plan)):
        region: Any = rng.choice(communities)
        if i % 6 == 5 and region.parent_id in towns:
            region = towns[region.parent_id]  # a town-wide topic now and then
        status: str = rng.choices([TopicStatus.DECIDED, TopicStatus.CLOSED, TopicStatus.OPEN,
                              TopicStatus.PROPOSED], weights=[80, 6, 8, 6])[0]
        plan.append((region, status))

    topics: list[Any] = []
    voters_of: list[list[int]] = []
    for n, (region, status) in enumerate(plan):
        title, body = TOPICS[n % len(TOPICS)]
        residents = pool(region)
        created = now - dt.timedelta(days=rng.randint(20, 330), hours=rng.randint(0, 12))
        by_resident = status == TopicStatus.PROPOSED or rng.random() < 0.3
        t: Any = Topic(region=region, title=title, body=body, status=status, created_at=created,
                  updated_at=created, support_threshold=20,
                  proposed_by_id=rng.choice(residents) if by_resident else None,
                  raised_by=None if by_resident else staff)
        voters = rng.sample(residents, min(len(residents), rng.randint(8, MAX_VOTERS)))
        if status == TopicStatus.PROPOSED:
            t.supporters = min(len(voters), rng.randint(3, 15))
            voters = voters[:t.supporters]
        else:
            t.supporters = 20 if by_resident else 0
            t.threshold_reached_at = created + dt.timedelta(days=3) if by_resident else None
            t.opened_at = created + dt.timedelta(days=4)
            t.eligible_at_open = len(residents)
            t.vote_closes_at = t.opened_at + dt.timedelta(days=14)
            if t.vote_closes_at > now:
                t.vote_closes_at = now + dt.timedelta(days=rng.randint(3, 10))
        if status in (TopicStatus.CLOSED, TopicStatus.DECIDED):
            t.closed_at = min(t.opened_at + dt.timedelta(days=14), now - dt.timedelta(days=1))
            t.eligible = len(residents)
        if status == TopicStatus.DECIDED:
            t.decided_at = t.closed_at + dt.timedelta(days=2)
            t.decided_by = staff
        topics.append(t)
        voters_of.append(voters)
    Topic.objects.bulk_create(topics, batch_size=BATCH)

    votes: list[Vote] = []
    supports: list[TopicSupport] = []
    comments: list[TopicComment] = []
    follow_ups: list[FollowUp] = []
    for t, voters in zip(topics, voters_of, strict=True):
        if t.status == TopicStatus.PROPOSED:
            supports += [TopicSupport(topic=t, user_id=u, created_at=t.created_at
                                      + dt.timedelta(hours=i + 1)) for i, u in enumerate(voters)]
        else:
            lean = rng.choice([0.8, 0.7, 0.6, 0.35])
            end = t.closed_at or now
            for u in voters:
                choice = (Choice.SUPPORT if rng.random() < lean else
                          rng.choice([Choice.OPPOSE, Choice.OPPOSE, Choice.ABSTAIN]))
                at = t.opened_at + (end - t.opened_at) * rng.random()
                votes.append(Vote(topic=t, user_id=u, choice=choice, created_at=at,
                                  updated_at=at))
            if t.status in (TopicStatus.CLOSED, TopicStatus.DECIDED):
                mine = votes[-len(voters):] if voters else []
                t.votes_support = sum(v.choice == Choice.SUPPORT for v in mine)
                t.votes_oppose = sum(v.choice == Choice.OPPOSE for v in mine)
                t.votes_abstain = sum(v.choice == Choice.ABSTAIN for v in mine)
            if t.status == TopicStatus.DECIDED:
                passed = t.votes_support * 2 > t.votes_total
                text = DECISIONS[rng.randrange(3)] if passed else DECISIONS[3]
                t.decision = text.format(region=t.region.name)
                if passed:
                    for k in range(rng.randint(1, 3)):
                        at = min(t.decided_at + dt.timedelta(days=10 * (k + 1)), now)
                        follow_ups.append(FollowUp(topic=t, text=FOLLOW_UPS[(k + t.pk) % 5],
                                                   author=staff, created_at=at))
        talk = t.opened_at or t.created_at
        for k, u in enumerate(voters[:rng.randint(1, 4)]):
            comments.append(TopicComment(topic=t, author_id=u, text=rng.choice(COMMENTS),
                                         created_at=talk + dt.timedelta(hours=2 + k * 5)))
    Vote.objects.bulk_create(votes, batch_size=BATCH)
    TopicSupport.objects.bulk_create(supports, batch_size=BATCH)
    TopicComment.objects.bulk_create(comments, batch_size=BATCH)
    FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH)
    Topic.objects.bulk_update([t for t in topics if t.closed_at is not None],
                              ["votes_support", "votes_oppose", "votes_abstain", "decision"],
                              batch_size=BATCH)
    city.made["governance_topics"] = [(t.pk, t.region_id) for t in topics]
