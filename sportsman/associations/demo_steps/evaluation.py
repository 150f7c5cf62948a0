"""Demo evaluation (step 88: after the registry's associations, before the cockpit figures at 95).

The city (嘉兴市) runs this year's season with the default rubric; the third-party evaluator
13800000012 is assigned to every application. A few dozen eligible associations (registered,
active, two full years) take part the real way, through the services: self-assessment,
application, eligibility, scoring, first rating, final rating, publication — spread over the
steps, so the console has work at each (most published, some finalised, scored, under review or
applied). Each has a service project with milestones and progress records; a few have
rectification requests (one overdue). Published grades move the associations' ``grade``.

If the registry step has not seeded associations (this branch alone), a handful are created
here first, guarded so a later run of the registry finds them and adds its own. 13800000010
(市体育总会) manages the city's federation. Deterministic for a seed:
``city.rng("associations-evaluation")``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import DemoCity, demo_step

CITY_CODE = "330400000000"
CITY_ADMIN_PHONE = "13800000004"
ASSOCIATION_ADMIN_PHONE = "13800000010"
EVALUATOR_PHONE = "13800000012"
TAKING_PART = {"small": 12, "jx": 36, "province": 36}
# Where each evaluation stops (shares of those taking part), in the workflow's order.
STOPS = [("applied", 0.08), ("under_review", 0.12), ("scored", 0.14), ("finalised", 0.12),
         ("published", 0.54)]
FALLBACK = [  # (name, kind, years registered, region code or "" for the city)
    ("嘉兴市体育总会", "federation", 12, ""),
    ("嘉兴市篮球协会", "sport", 9, ""),
    ("嘉兴市老年人体育协会", "crowd", 15, ""),
    ("嘉兴市游泳协会", "sport", 6, ""),
    ("南湖区羽毛球协会", "sport", 5, "330402000000"),
    ("南湖区太极拳协会", "sport", 7, "330402000000"),
    ("秀洲区乒乓球协会", "sport", 4, "330411000000"),
    ("秀洲区职工体育协会", "crowd", 3, "330411000000"),
    ("新嘉街道健身气功协会", "sport", 3, "330402009000"),
    ("嘉兴市路跑俱乐部", "club", 4, ""),
    ("嘉兴市围棋协会", "sport", 8, ""),
    ("南湖区门球协会", "sport", 10, "330402000000"),
]
PROJECTS = ["全民健身公益培训", "社区运动会承办", "青少年体育进校园", "老年人健身指导服务",
            "健身设施巡查与维护", "赛事裁判员培养"]
RECORDS = ["完成第一期培训，学员 32 人", "开展社区走访，收集健身需求", "组织月度公开赛",
           "邀请国家级指导员授课", "完成阶段总结并上报", "志愿者培训 2 场"]


def _user(phone: str) -> Any:
    from sportsman.accounts.models import User
    from sportsman.core import crypto

    return User.objects.filter(phone_hash=crypto.keyed_hash(phone)).first()


def _fallback_associations(city: DemoCity, today: dt.date) -> None:
    from sportsman.associations.models import Association
    from sportsman.regions.models import Region

    if Association.objects.exists():
        return
    regions = {r.code: r for r in Region.objects.filter(code__startswith="3304")}
    for name, kind, years, code in FALLBACK:
        region = regions.get(code or CITY_CODE) or regions[CITY_CODE]
        Association.objects.get_or_create(
            region=region, name=name,
            defaults={"kind": kind, "legal_status": "registered", "status": "active",
                      "founded_on": today.replace(year=today.year - years, day=1),
                      "address": f"{region.name}体育中心", "contact_name": "秘书处",
                      "members": 60 + years * 7})


def _managers(associations: list[Any], pool: list[Any]) -> dict[int, Any]:
    """A manager per association: its own, else a demo resident (the same few, in turn)."""
    from sportsman.associations.models import AssociationMember

    known = {m.association_id: m.user for m in AssociationMember.objects.filter(
        association__in=associations, manages=True, left_on=None, user__isnull=False)
        .select_related("user").order_by("id")}
    out: dict[int, Any] = {}
    for i, a in enumerate(associations):
        user = known.get(a.pk)
        if user is None:
            user = pool[i % len(pool)]
            AssociationMember.objects.create(association=a, user=user, manages=True,
                                             name=user.nickname or "秘书长",
                                             office="secretary_general")
        out[a.pk] = user
    return out


@demo_step("associations-evaluation", order=89)
def step_evaluation(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.associations import evaluation as ev
    from sportsman.associations.models import (
        Association,
        AssociationMember,
        Evaluation,
        EvaluationStep,
        Milestone,
        ProgressRecord,
        Rectification,
    )
    from sportsman.regions.models import Region

    rng = city.rng("associations-evaluation")
    today = timezone.localdate()
    region = Region.objects.filter(code=CITY_CODE).order_by("-edition").first()
    staff, assessor = _user(CITY_ADMIN_PHONE), _user(EVALUATOR_PHONE)
    if region is None or staff is None or assessor is None:
        return
    _fallback_associations(city, today)
    admin = _user(ASSOCIATION_ADMIN_PHONE)
    federation = (Association.objects.filter(kind="federation", region=region).order_by("pk")
                  .first())
    if admin is not None and federation is not None and not AssociationMember.objects.filter(
            association=federation, user=admin).exists():
        AssociationMember.objects.create(association=federation, user=admin, manages=True,
                                         name="市体育总会", office="secretary_general")
    season = ev.open_season(actor=staff, region_id=region.pk, year=today.year,
                            title=f"嘉兴市体育社会组织等级评估（{today.year}年度）",
                            applications_open_on=today - dt.timedelta(days=60),
                            applications_close_on=today + dt.timedelta(days=30))
    eligible = [a for a in Association.objects.filter(
        region__path__startswith=region.path, legal_status="registered", status="active")
        .select_related("region").order_by("pk") if not ev.eligibility_problems(a, season)]
    wanted = min(len(eligible), TAKING_PART.get(city.scale, 36))
    chosen = sorted(rng.sample(eligible, wanted), key=lambda a: a.pk)
    if federation is not None and federation in eligible and federation not in chosen:
        chosen[0] = federation
    pool = list(User.objects.filter(role_assignments=None).exclude(home_community=None)
                .order_by("pk")[:8])
    if not chosen or not pool:
        return
    managers = _managers(chosen, pool)
    stops: list[str] = []
    for stop, share in STOPS:
        stops += [stop] * round(share * wanted)
    stops = (stops + ["published"] * wanted)[:wanted]
    rng.shuffle(stops)
    rubric = ev.rubric_of(season)
    order = [s for s, _share in STOPS]
    for association, stop in zip(chosen, stops, strict=True):
        manager = managers[association.pk]
        level = rng.choice([0.78, 0.84, 0.88, 0.91, 0.94, 0.97])  # around a grade band
        e = ev.start(actor=manager, association_id=association.pk, season_id=season.pk)
        ev.self_assess(actor=manager, evaluation_id=e.pk, scores=[
            ev.Points(i.pk, min(i.max_points, round(i.max_points * (level + 0.03))))
            for i in rubric])
        project = ev.add_project(
            actor=manager, evaluation_id=e.pk, title=rng.choice(PROJECTS),
            description="面向社区居民的体育公益服务项目。",
            starts_on=today - dt.timedelta(days=50), ends_on=today + dt.timedelta(days=40),
            milestones=[ev.MilestoneSpec("项目启动", today - dt.timedelta(days=45)),
                        ev.MilestoneSpec("中期检查", today - dt.timedelta(days=5)),
                        ev.MilestoneSpec("项目结项", today + dt.timedelta(days=40))])
        first = project.milestones.order_by("due_on").first()
        for n in range(rng.randint(1, 3)):
            ev.add_record(actor=manager, project_id=project.pk, text=rng.choice(RECORDS),
                          milestone_id=first.pk if n == 0 and first else None,
                          milestone_done=n == 0)
        ev.apply(actor=manager, evaluation_id=e.pk)
        if order.index(stop) >= order.index("under_review"):
            ev.check_eligibility(actor=staff, evaluation_id=e.pk, approve=True)
            ev.assign(actor=staff, evaluation_id=e.pk, evaluator_id=assessor.pk)
            scored = rubric if stop != "under_review" else rubric[:len(rubric) // 2]
            for i in scored:
                ev.score(actor=assessor, evaluation_id=e.pk, indicator_id=i.pk,
                         points=min(i.max_points, round(i.max_points * rng.uniform(
                             level - 0.03, level + 0.03))), note="现场核查，资料齐全")
        if order.index(stop) >= order.index("scored"):
            ev.submit(actor=assessor, evaluation_id=e.pk)
            if stop == "scored" and rng.random() < 0.5:
                ev.request_rectification(actor=staff, evaluation_id=e.pk,
                                         text="请补充近两年财务审计报告及会员大会记录。",
                                         due_on=today + dt.timedelta(days=rng.randint(3, 20)))
        if order.index(stop) >= order.index("finalised"):
            ev.finalise(actor=staff, evaluation_id=e.pk)
        if stop == "published":
            ev.publish(actor=staff, evaluation_id=e.pk)
            # Spread the publications over the last weeks (the cockpit's trend); the grade
            # holds five years from the day it was published.
            back = dt.timedelta(days=rng.randint(0, 25))
            at = (Evaluation.objects.get(pk=e.pk).published_at or timezone.now()) - back
            until = ev.valid_until(timezone.localdate(at))
            Evaluation.objects.filter(pk=e.pk).update(published_at=at, valid_until=until)
            EvaluationStep.objects.filter(evaluation=e, step="published").update(at=at)
            Association.objects.filter(pk=association.pk).update(grade_valid_until=until)
    # One rectification left overdue: its deadline passed without an answer.
    late = Rectification.objects.filter(evaluation__season=season, status="open").order_by(
        "id").first()
    if late is not None:
        Rectification.objects.filter(pk=late.pk).update(due_on=today - dt.timedelta(days=2))
    Milestone.objects.filter(project__evaluation__season=season, done_on=None,
                             due_on__lt=today).exclude(title="中期检查").update(done_on=today)
    city.made["evaluation_season"] = season.pk
    city.made["evaluation_records"] = ProgressRecord.objects.filter(
        project__evaluation__season=season).count()
