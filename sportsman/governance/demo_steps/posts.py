"""Demo "my posts" (step 84, after deliberation): residents' needs, ideas and offers in every
community (jx: about 4 a community; small: 3), over the last two months, with neighbours'
comments and, for most, an answer by staff; a few became deliberation topics of their
community, one a flagged advert awaiting the staff in the demo resident's community (花园社区).
Deterministic for a seed: randomness comes from ``city.rng("governance-posts")``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

PER_COMMUNITY = {"small": 3, "jx": 4, "province": 1}
POSTS = [
    ("need", "周六上午找羽毛球搭子，水平一般，社区活动室见。"),
    ("need", "球场的灯晚上太暗了，能不能换亮一点的灯？"),
    ("idea", "建议在公园步道旁边加几张休息长椅，老人走累了可以坐坐。"),
    ("offer", "我是退休体育老师，周末可以免费教小朋友跳绳。"),
    ("need", "想组织一个夜跑小队，每周二、四晚上七点湖边集合。"),
    ("idea", "健身器材旁边能不能贴使用说明和二维码教学视频？"),
    ("offer", "家里有两副闲置的乒乓球拍，需要的邻居可以来拿。"),
    ("need", "有没有一起打太极拳的？早上六点半中心广场。"),
    ("idea", "建议社区办一次家庭运动会，增进邻里感情。"),
]
COMMENTS = ["我也想参加！", "算我一个", "好主意，支持", "同问", "谢谢分享", "周六我有空"]
ANSWERS = ["您好，已转交社区网格员处理，三个工作日内答复。", "感谢建议，社区将在下次议事会上讨论。",
           "已联系物业检修，预计本周完成。", "欢迎！社区活动室周末全天开放，可直接预约。"]


@demo_step("governance-posts", order=84)
def step_posts(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_HOME_COMMUNITY
    from sportsman.governance.models import CommunityPost, ContentFlag, PostComment
    from sportsman.regions.models import Level, Region

    rng = city.rng("governance-posts")
    now = timezone.now()
    people: dict[int, list[int]] = defaultdict(list)
    for pk, home_id in (User.objects.filter(is_active=True).exclude(home_community=None)
                        .order_by("pk").values_list("pk", "home_community_id")):
        people[home_id].append(pk)
    communities = [c for c in Region.objects.filter(level=Level.COMMUNITY).order_by("code")
                   if len(people.get(c.pk, [])) >= 3]
    staff = User.objects.filter(phone_hash=crypto.keyed_hash("13800000001")).first()
    topics_by_region: dict[int, list[int]] = defaultdict(list)
    for topic_id, region_id in city.made.get("governance_topics", []):
        topics_by_region[region_id].append(topic_id)

    posts: list[CommunityPost] = []
    for community in communities:
        for _ in range(PER_COMMUNITY.get(city.scale, 4)):
            kind, text = rng.choice(POSTS)
            at = now - dt.timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600))
            posts.append(CommunityPost(region=community, author_id=rng.choice(people[community.pk]),
                                       kind=kind, text=text, created_at=at, updated_at=at))
    CommunityPost.objects.bulk_create(posts, batch_size=BATCH)

    comments: list[PostComment] = []
    for p in posts:
        for k in range(rng.randint(0, 3)):
            comments.append(PostComment(post=p, author_id=rng.choice(people[p.region_id]),
                                        text=rng.choice(COMMENTS),
                                        created_at=p.created_at + dt.timedelta(hours=k + 1)))
        if staff is not None and rng.random() < 0.7:
            at = p.created_at + dt.timedelta(hours=rng.randint(5, 48))
            comments.append(PostComment(post=p, author=staff, text=rng.choice(ANSWERS),
                                        is_answer=True, created_at=at))
            p.answered_at = at
        if topics_by_region.get(p.region_id) and rng.random() < 0.08:
            p.topic_id = topics_by_region[p.region_id].pop()
            p.turned_at = p.created_at + dt.timedelta(days=1)
    PostComment.objects.bulk_create(comments, batch_size=BATCH)
    counts: dict[int, int] = defaultdict(int)
    for c in comments:
        counts[c.post_id] += 1
    for p in posts:
        p.comments = counts[p.pk]
    CommunityPost.objects.bulk_update(posts, ["comments", "answered_at", "topic", "turned_at"],
                                      batch_size=BATCH)

    home = next((c for c in communities if c.code == DEMO_HOME_COMMUNITY), None)
    if home is not None and len(people[home.pk]) >= 3:
        advert = CommunityPost.objects.create(region=home, author_id=people[home.pk][-1],
                                              kind="offer", text="加微信领健身卡，名额有限！",
                                              created_at=now - dt.timedelta(hours=5))
        ContentFlag.objects.bulk_create([
            ContentFlag(kind="post", target_id=advert.pk, region=home, user_id=u,
                        reason="广告", created_at=now - dt.timedelta(hours=4 - i))
            for i, u in enumerate(people[home.pk][:2])])
    city.made["governance_posts"] = len(posts)
