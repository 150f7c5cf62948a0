"""Demo notices (step 89: after the evaluation): the city and the districts publish notices of
each kind to their associations — venue rental, purchasing, training, policy — some to some
kinds only; most associations' managers have acknowledged (older notices more so), the rest
were reminded. Deterministic for a seed: ``city.rng("associations-board")``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from sportsman.core.demo_city import DemoCity, demo_step

NOTICES = [  # (publisher phone, region code, kind, title, body, target kinds, days ago)
    ("13800000004", "330400000000", "policy", "《社会组织评估管理办法》解读",
     "市民政局、市体育局联合解读新修订的评估办法，请各协会组织学习。", [], 40),
    ("13800000004", "330400000000", "training", "体育社会组织秘书长培训班报名通知",
     "本月 25 日在市体育中心举办秘书长培训，每个协会限报 2 人。", [], 20),
    ("13800000004", "330400000000", "venue_rental", "市体育中心场馆对外租赁公告",
     "市体育中心羽毛球馆、游泳馆工作日白天时段对体育社会组织优惠开放。", ["sport", "club"], 12),
    ("13800000003", "330402000000", "purchasing", "南湖区政府购买体育服务项目征集",
     "面向 3A 及以上体育社会组织征集全民健身公益服务项目。", [], 8),
    ("13800000008", "330411000000", "training", "秀洲区社会体育指导员培训",
     "秀洲区将开展二级社会体育指导员培训，请各协会推荐人员。", ["sport", "crowd", "team"], 5),
    ("13800000004", "330400000000", "policy", "关于做好年度工作报告的通知",
     "请各协会于 3 月 31 日前完成年度工作报告网上填报。", [], 2),
]


def _user(phone: str) -> Any:
    from sportsman.accounts.models import User
    from sportsman.core import crypto

    return User.objects.filter(phone_hash=crypto.keyed_hash(phone)).first()


@demo_step("associations-board", order=89)
def step_board(city: DemoCity) -> None:
    from sportsman.associations import board
    from sportsman.associations.models import AssociationMember, Notice, NoticeRecipient
    from sportsman.regions.models import Region

    rng = city.rng("associations-board")
    now = timezone.now()
    managers = dict(AssociationMember.objects.filter(manages=True, left_on=None,
                                                     user__isnull=False)
                    .order_by("association_id", "id").values_list("association_id", "user_id"))
    for phone, code, kind, title, body, kinds, days in NOTICES:
        staff = _user(phone)
        region = Region.objects.filter(code=code).order_by("-edition").first()
        if staff is None or region is None:
            continue
        notice = board.publish_notice(actor=staff, region_id=region.pk, kind=kind, title=title,
                                      body=body, target_kinds=kinds)
        published = now - dt.timedelta(days=days, hours=rng.randint(0, 8))
        Notice.objects.filter(pk=notice.pk).update(published_at=published)
        share = min(0.9, 0.35 + days / 50)  # older notices: more acknowledged
        acks: list[NoticeRecipient] = []
        for row in notice.deliveries.order_by("id"):
            if row.association_id in managers and rng.random() < share:
                row.acknowledged_at = published + dt.timedelta(hours=rng.randint(1, 24 * days
                                                                                   or 20))
                row.acknowledged_at = min(row.acknowledged_at, now)
                row.acknowledged_by_id = managers[row.association_id]
                acks.append(row)
            elif days >= 10:
                row.reminded_at = published + dt.timedelta(days=7)
                acks.append(row)
        NoticeRecipient.objects.bulk_update(acks, ["acknowledged_at", "acknowledged_by",
                                                   "reminded_at"], batch_size=1000)
    # The counters as the acknowledgements left them (one UPDATE per notice).
    for notice in Notice.objects.annotate(
            n=Count("deliveries", filter=Q(deliveries__acknowledged_at__isnull=False)),
            nudged=Count("deliveries", filter=Q(deliveries__reminded_at__isnull=False))
    ).order_by("id"):
        Notice.objects.filter(pk=notice.pk).update(acknowledged=notice.n,
                                                   reminders=1 if notice.nudged else 0)
