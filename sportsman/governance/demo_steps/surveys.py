"""Demo surveys (step 87): questionnaires about sports facilities, opening hours and activities
at every level of 嘉兴 (jx: two a community, one a town, two a district, three for the city —
259), most closed with their responses, some open now, a few drafts. Respondents are residents
of the survey's audience (its region's subtree; the elderly-fitness and youth-training
questionnaires are narrowed by age band); one in ten answers of a resident who gave a proxy
grant (when an earlier step made grants) was made by their agent (``acted_by``). Anonymous
surveys keep no respondent with the answers, like live ones. The demo resident (13800000000)
has open surveys to answer in 花园社区 and 新嘉街道. Everything is bulk-inserted; deterministic
from ``city.rng("governance-surveys")``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

PER_LEVEL = {"small": {"community": 2, "town": 1, "district": 1, "city": 2},
             "jx": {"community": 2, "town": 1, "district": 2, "city": 3},
             "province": {"community": 1, "town": 1, "district": 1, "city": 1}}
RATE = {"community": (0.08, 0.2), "town": (0.02, 0.06), "district": (0.004, 0.012),
        "city": (0.002, 0.005)}
SMALL_RATE = {"community": (0.3, 0.6), "town": (0.15, 0.3), "district": (0.1, 0.2),
              "city": (0.05, 0.1)}
MAX_RESPONSES = 400

# (title, description, questions); a question: (kind, prompt, extra)
TEMPLATES: list[tuple[str, str, list[tuple[str, str, dict[str, Any]]]]] = [
    ("{r}体育设施满意度调查", "了解居民对身边体育设施的使用感受，帮助我们改进。", [
        ("single", "您最常去的健身场所是？", {"choices": ["社区健身点", "体育馆", "公园绿道", "学校操场"]}),
        ("rating", "您对身边体育设施的总体满意度", {"scale": 5}),
        ("matrix", "请评价以下方面", {"rows": ["器材完好", "场地卫生", "夜间照明", "安全防护"],
                               "choices": ["不满意", "一般", "满意"]}),
        ("multiple", "您希望增加哪些设施？", {"choices": ["篮球场", "羽毛球馆", "健身路径", "游泳池",
                                                "门球场", "乒乓球台"]}),
        ("text", "其他意见和建议", {"is_required": False}),
    ]),
    ("{r}场馆开放时间意见征集", "学校和公共场馆错峰开放，请告诉我们您方便的时间。", [
        ("single", "您通常什么时候锻炼？", {"choices": ["早上6-8点", "上午", "下午", "晚上6-9点", "晚上9点后"]}),
        ("multiple", "您希望延长开放的场馆", {"choices": ["游泳馆", "体育馆", "学校操场", "全民健身中心"]}),
        ("number", "您每周大约去场馆几次？", {"min_value": 0, "max_value": 21}),
        ("rating", "对现在开放时间的满意度", {"scale": 10}),
        ("text", "您希望的开放时间", {"is_required": False}),
    ]),
    ("{r}全民健身活动需求调查", "为明年的社区赛事和活动计划征求意见。", [
        ("multiple", "您愿意参加哪些活动？", {"choices": ["健步走", "广场舞比赛", "太极拳", "羽毛球赛",
                                                "亲子运动会", "趣味运动会"]}),
        ("single", "您更希望活动安排在", {"choices": ["工作日晚上", "周六", "周日", "节假日"]}),
        ("number", "您能接受的报名费（元）", {"min_value": 0, "max_value": 200}),
        ("rating", "对去年活动的评价", {"scale": 5}),
        ("text", "您想推荐的活动", {"is_required": False}),
    ]),
    ("{r}老年人健身需求调查", "为老年朋友提供更适合的健身指导和设施（适老化）。", [
        ("single", "您的锻炼方式主要是", {"choices": ["散步", "太极拳/八段锦", "广场舞", "门球", "基本不锻炼"]}),
        ("multiple", "锻炼时遇到的困难", {"choices": ["离家远", "没有人指导", "器材不适合", "身体原因",
                                              "没有同伴"]}),
        ("rating", "对社区健身指导的满意度", {"scale": 5}),
        ("single", "是否需要上门健身指导？", {"choices": ["需要", "不需要", "看情况"]}),
    ]),
    ("{r}健身步道使用情况调查", "绿道和健身步道建成一年，请您谈谈使用感受。", [
        ("single", "您多久走一次步道？", {"choices": ["几乎每天", "每周几次", "每月几次", "很少"]}),
        ("matrix", "步道各方面评价", {"rows": ["路面", "指示牌", "休息座椅", "公厕"],
                               "choices": ["差", "一般", "好", "很好"]}),
        ("number", "您每次大约走多少分钟？", {"min_value": 0, "max_value": 300}),
        ("text", "需要改进的地方", {"is_required": False}),
    ]),
    ("{r}青少年体育培训意向调查", "面向家长了解暑期和课后体育培训的需求。", [
        ("multiple", "孩子感兴趣的项目", {"choices": ["游泳", "篮球", "足球", "跳绳", "乒乓球", "武术"]}),
        ("single", "可接受的培训时间", {"choices": ["周末上午", "周末下午", "工作日放学后", "寒暑假"]}),
        ("number", "每月可接受的费用（元）", {"min_value": 0, "max_value": 3000}),
        ("rating", "对现有培训班的满意度", {"scale": 5}),
    ]),
]
TEXT_ANSWERS = ["希望晚上开放时间长一点", "器材有些老化，希望更换", "增加一些遮阳的地方", "停车不太方便",
                "希望有专业教练指导", "厕所要经常打扫", "灯光太暗了", "很满意，继续保持", "希望多组织比赛",
                "增加老年人适用的器材", "周末人太多了", "希望能线上预约", "场地地面需要修补"]
TARGETS = {  # template index → targeting (age band, sex, sports)
    3: {"age_min": 60},
    5: {"age_min": 25, "age_max": 50},
}


def _answer(rng: random.Random, kind: str, extra: dict[str, Any], bias: float) -> Any:
    if kind == "single":
        n = len(extra["choices"])
        weights = [max(0.2, 1 + bias * (n - i) / n) for i in range(n)]
        return rng.choices(range(n), weights=weights)[0]
    if kind == "multiple":
        n = len(extra["choices"])
        return sorted(rng.sample(range(n), rng.randint(1, min(3, n))))
    if kind == "rating":
        scale = extra["scale"]
        return max(1, min(scale, round(rng.gauss(scale * (0.6 + bias / 5), scale / 5))))
    if kind == "number":
        high = extra.get("max_value") or 100
        return max(0, min(int(high), int(rng.expovariate(1 / max(1.0, high / 8)))))
    if kind == "matrix":
        cols = len(extra["choices"])
        return {str(r): rng.choices(range(cols), weights=[1, 2, 3, 2][:cols])[0]
                for r in range(len(extra["rows"]))}
    return rng.choice(TEXT_ANSWERS) if rng.random() < 0.3 else None


@demo_step("governance-surveys", order=87)
def step_surveys(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.governance.models import (
        ProxyGrant,
        Survey,
        SurveyParticipation,
        SurveyQuestion,
        SurveyResponse,
        SurveyStatus,
    )
    from sportsman.regions.models import Region, RoleAssignment

    rng = city.rng("governance-surveys")
    now = timezone.now()
    today = timezone.localdate()
    per_level = PER_LEVEL.get(city.scale, PER_LEVEL["jx"])
    regions = list(Region.objects.filter(level__in=per_level, code__startswith="3304")
                   .order_by("path"))
    if not regions:
        return
    # residents: (id, home community path, sex, birth year), one query
    people: list[tuple[int, str, str, int | None, int]] = [
        (pk, path, sex, year, home) for pk, path, sex, year, home in
        User.objects.exclude(home_community=None).order_by("pk")
        .values_list("pk", "home_community__path", "sex", "birth_year", "home_community_id")]
    by_prefix: dict[str, list[tuple[int, str, str, int | None, int]]] = defaultdict(list)
    for row in people:
        by_prefix[row[1]].append(row)
    agents = dict(ProxyGrant.objects.filter(revoked_at=None).order_by("id")
                  .values_list("principal_id", "agent_id"))
    staff: dict[int, int] = {}
    for user_id, region_id in RoleAssignment.objects.filter(
            role__in=["city_admin", "district_admin", "town_admin", "community_admin"]
    ).order_by("id").values_list("user_id", "region_id"):
        staff.setdefault(region_id, user_id)
    demo_id = (User.objects.filter(phone_hash=crypto.keyed_hash("13800000000"))
               .values_list("pk", flat=True).first())
    demo_paths = {r.path for r in regions if r.code in ("330402009034", "330402009000")}

    def audience(region: Any) -> list[tuple[int, str, str, int | None, int]]:
        return [row for path, rows in by_prefix.items() if path.startswith(region.path)
                for row in rows]

    specs: list[tuple[Any, int, str]] = []  # (region, template, status)
    for region in regions:
        for i in range(per_level[region.level]):
            status: str
            if region.path in demo_paths and i == 0:
                status = SurveyStatus.OPEN
            else:
                status = rng.choices([SurveyStatus.CLOSED, SurveyStatus.OPEN, SurveyStatus.DRAFT],
                                     weights=[80, 14, 6])[0]
            specs.append((region, rng.randrange(len(TEMPLATES)), status))

    surveys: list[Any] = []
    for region, t, status in specs:
        title, description, _questions = TEMPLATES[t]
        if status == SurveyStatus.CLOSED:
            opens = now - dt.timedelta(days=rng.randint(30, 330), hours=rng.randint(0, 12))
            closes = opens + dt.timedelta(days=rng.choice([14, 21, 28]))
        elif status == SurveyStatus.OPEN:
            opens = now - dt.timedelta(days=rng.randint(1, 10), hours=rng.randint(1, 12))
            closes = now + dt.timedelta(days=rng.randint(5, 25))
        else:
            opens = now + dt.timedelta(days=rng.randint(3, 14))
            closes = opens + dt.timedelta(days=21)
        target = TARGETS.get(t, {})
        surveys.append(Survey(
            region=region, title=title.format(r=region.name), description=description,
            is_anonymous=rng.random() < 0.4, opens_at=opens, closes_at=closes, status=status,
            target_age_min=target.get("age_min"), target_age_max=target.get("age_max"),
            created_by_id=staff.get(region.pk),
            opened_at=opens if status != SurveyStatus.DRAFT else None,
            announced_at=opens if status != SurveyStatus.DRAFT else None,
            closed_at=closes if status == SurveyStatus.CLOSED else None))
    Survey.objects.bulk_create(surveys, batch_size=BATCH)
    questions: list[Any] = []
    by_survey: dict[int, list[Any]] = {}
    for survey, (_region, t, _status) in zip(surveys, specs, strict=True):
        rows = []
        for pos, (kind, prompt, extra) in enumerate(TEMPLATES[t][2], 1):
            q = SurveyQuestion(survey=survey, position=pos, kind=kind, prompt=prompt,
                               is_required=extra.get("is_required", True),
                               choices=list(extra.get("choices", [])),
                               rows=list(extra.get("rows", [])), scale=extra.get("scale"),
                               min_value=extra.get("min_value"),
                               max_value=extra.get("max_value"))
            rows.append((q, extra))
            questions.append(q)
        by_survey[id(survey)] = rows
    SurveyQuestion.objects.bulk_create(questions, batch_size=BATCH)

    participations: list[Any] = []
    responses: list[Any] = []
    counts: dict[int, int] = {}
    bar = city.bar(len(surveys), "surveys")
    for survey, (region, _t, state) in zip(surveys, specs, strict=True):
        bar.update(1)
        if state == SurveyStatus.DRAFT:
            continue
        pool = audience(region)
        lo, hi = survey.target_age_min, survey.target_age_max
        if lo is not None or hi is not None:
            pool = [p for p in pool if p[3] is not None
                    and (lo is None or today.year - p[3] >= lo)
                    and (hi is None or today.year - p[3] <= hi)]
        low, high = (SMALL_RATE if city.scale == "small" else RATE)[region.level]
        n = min(len(pool), MAX_RESPONSES, max(3, int(len(pool) * rng.uniform(low, high))))
        if state == SurveyStatus.OPEN:
            n //= 2
        chosen = rng.sample(pool, n)
        if state == SurveyStatus.OPEN:  # the demo resident still has these to answer
            chosen = [p for p in chosen if p[0] != demo_id]
        bias = rng.uniform(-0.5, 1.5)
        end = min(survey.closes_at, now)
        span = max(60, int((end - survey.opens_at).total_seconds()))
        for pk, _path, _sex, _year, home in chosen:
            # early days bring most answers
            at = survey.opens_at + dt.timedelta(seconds=int(span * rng.random() ** 2))
            acted_by = agents.get(pk) if rng.random() < 0.1 else None
            participations.append(SurveyParticipation(survey=survey, user_id=pk,
                                                       acted_by_id=acted_by, community_id=home,
                                                       created_at=at))
            answers = {}
            for q, extra in by_survey[id(survey)]:
                value = _answer(rng, q.kind, extra, bias)
                if value is not None:
                    answers[str(q.pk)] = value
            day = timezone.localdate(at)
            if survey.is_anonymous:
                responses.append(SurveyResponse(survey=survey, answers=answers, submitted_on=day))
            else:
                responses.append(SurveyResponse(survey=survey, user_id=pk, acted_by_id=acted_by,
                                                answers=answers, submitted_on=day,
                                                submitted_at=at))
        counts[survey.pk] = len(chosen)
    bar.close()
    # anonymous answers must not follow the participations' order: shuffle the key order
    rng.shuffle(responses)
    for r in responses:
        r.id = _uuid(rng)
    SurveyParticipation.objects.bulk_create(participations, batch_size=BATCH)
    SurveyResponse.objects.bulk_create(responses, batch_size=BATCH)
    for survey in surveys:
        survey.responses = counts.get(survey.pk, 0)
    Survey.objects.bulk_update(surveys, ["responses"], batch_size=BATCH)
    city.made["surveys"] = len(surveys)
    city.made["survey_responses"] = len(responses)


def _uuid(rng: random.Random) -> Any:
    import uuid

    return uuid.UUID(int=rng.getrandbits(128), version=4)
