"""Builders for survey tests: a survey of town t1 with one question of every kind."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sportsman.governance import surveys
from sportsman.governance.models import Survey, SurveyStatus
from sportsman.governance.surveys import QuestionSpec, Targeting

EVERY_KIND = [
    QuestionSpec(kind="single", prompt="您最常去哪个场地？", choices=["体育馆", "公园", "学校操场"]),
    QuestionSpec(kind="multiple", prompt="您希望增加哪些设施？", choices=["篮球场", "健身路径", "游泳池"]),
    QuestionSpec(kind="text", prompt="其他建议", is_required=False),
    QuestionSpec(kind="rating", prompt="对开放时间的满意度", scale=5),
    QuestionSpec(kind="number", prompt="每周锻炼几次？", min_value=0, max_value=21),
    QuestionSpec(kind="matrix", prompt="各项设施评价", rows=["灯光", "卫生"],
                 choices=["差", "一般", "好"]),
]


def make_survey(tree: Any, *, region: Any = None, actor: Any = None, open_: bool = True,
                anonymous: bool = False, targeting: Targeting = surveys.EVERYONE,
                questions: list[QuestionSpec] | None = None, title: str = "体育设施满意度调查",
                **extra: Any) -> Survey:
    now = timezone.now()
    made = surveys.create_survey(
        actor=actor or tree.town_admin, region_id=(region or tree.t1).pk, title=title,
        is_anonymous=anonymous, opens_at=now - dt.timedelta(minutes=1),
        closes_at=now + dt.timedelta(days=7), targeting=targeting,
        questions=EVERY_KIND if questions is None else questions, **extra)
    if open_:
        surveys.transition_survey(actor=actor or tree.town_admin, survey_id=made.pk,
                                  to=SurveyStatus.OPEN)
    made.refresh_from_db()
    return made


def good_answers(survey: Survey) -> dict[str, Any]:
    """A valid answer to every EVERY_KIND question."""
    values: dict[str, Any] = {"single": 1, "multiple": [0, 2], "text": "希望延长开放时间",
                              "rating": 4, "number": 3, "matrix": {"0": 2, "1": 1}}
    return {str(q.pk): values[q.kind] for q in survey.questions.all()}


def resident(tree: Any, region: Any = None, **extra: Any) -> Any:
    extra.setdefault("birth_year", timezone.localdate().year - 40)
    return tree.user(home_community=region or tree.k2, **extra)
