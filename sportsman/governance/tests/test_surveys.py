"""Surveys: building and its validation, the draft → open → closed workflow, targeting,
answering (validation per kind, once per person, for someone else), anonymity, results and
the export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry, Sport
from sportsman.governance import proxy, surveys
from sportsman.governance.models import (
    Survey,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)
from sportsman.governance.surveys import QuestionSpec, Targeting
from sportsman.governance.surveys_export import export
from sportsman.governance.tests.fixtures_surveys import (
    EVERY_KIND,
    good_answers,
    make_survey,
    resident,
)
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _code(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    return caught.value.code


def _sport(slug: str) -> Sport:
    return Sport.objects.get_or_create(slug=slug, defaults={"name_zh": slug, "name_en": slug,
                                                            "family": "other"})[0]


# --- building -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "code"), [
    (QuestionSpec(kind="single", prompt="哪个？", choices=["只有一个"]), "invalid_choices"),
    (QuestionSpec(kind="multiple", prompt="哪些？", choices=["甲", ""]), "invalid_choices"),
    (QuestionSpec(kind="single", prompt="哪个？", choices=["甲", "甲"]), "invalid_choices"),
    (QuestionSpec(kind="rating", prompt="打分", scale=7), "invalid_scale"),
    (QuestionSpec(kind="number", prompt="几次", min_value=5, max_value=5), "invalid_range"),
    (QuestionSpec(kind="matrix", prompt="评价", rows=[], choices=["好", "差"]), "invalid_rows"),
    (QuestionSpec(kind="matrix", prompt="评价", rows=["灯光"], choices=["好"]),
     "invalid_columns"),
    (QuestionSpec(kind="slider", prompt="拖动"), "invalid_question_kind"),
    (QuestionSpec(kind="text", prompt=""), "invalid"),
])
def test_bad_question_definitions_are_refused_and_nothing_is_stored(tree, spec, code):
    now = timezone.now()
    assert _code(surveys.create_survey, actor=tree.town_admin, region_id=tree.t1.pk,
                 title="问卷", opens_at=now, closes_at=now + dt.timedelta(days=1),
                 questions=[spec]) == code
    assert not Survey.objects.exists()


def test_a_survey_closing_before_it_opens_is_refused(tree):
    now = timezone.now()
    assert _code(surveys.create_survey, actor=tree.town_admin, region_id=tree.t1.pk,
                 title="问卷", opens_at=now, closes_at=now) == "invalid_window"


def test_a_time_without_an_offset_is_local_time(tree):
    survey = make_survey(tree, open_=False)
    local = dt.datetime(2030, 5, 1, 9, 30)  # naive
    surveys.update_survey(actor=tree.town_admin, survey_id=survey.pk, closes_at=local)
    survey.refresh_from_db()
    assert timezone.localtime(survey.closes_at).replace(tzinfo=None) == local


def test_staff_build_only_in_their_own_subtree(tree):
    now = timezone.now()
    assert _code(surveys.create_survey, actor=tree.sibling_town_admin, region_id=tree.t1.pk,
                 title="问卷", opens_at=now, closes_at=now + dt.timedelta(days=1)) == "forbidden"
    survey = make_survey(tree, open_=False)
    assert _code(surveys.update_survey, actor=tree.sibling_town_admin, survey_id=survey.pk,
                 title="改") == "survey_not_found"
    assert AuditEntry.objects.filter(action="governance.survey.create").count() == 1


def test_questions_change_only_while_draft(tree):
    survey = make_survey(tree, open_=False)
    surveys.update_survey(actor=tree.town_admin, survey_id=survey.pk,
                          questions=[QuestionSpec(kind="rating", prompt="满意度", scale=10)])
    assert list(survey.questions.values_list("kind", "scale")) == [("rating", 10)]
    surveys.transition_survey(actor=tree.town_admin, survey_id=survey.pk, to="open")

    assert _code(surveys.update_survey, actor=tree.town_admin, survey_id=survey.pk,
                 questions=EVERY_KIND) == "survey_not_draft"
    assert _code(surveys.update_survey, actor=tree.town_admin, survey_id=survey.pk,
                 title="新标题") == "survey_not_draft"
    assert survey.questions.count() == 1
    later = survey.closes_at + dt.timedelta(days=3)
    surveys.update_survey(actor=tree.town_admin, survey_id=survey.pk, closes_at=later)
    survey.refresh_from_db()
    assert survey.closes_at == later


def test_the_workflow_follows_its_table(tree):
    survey = make_survey(tree, open_=False, questions=[])
    assert _code(surveys.transition_survey, actor=tree.town_admin, survey_id=survey.pk,
                 to="open") == "survey_empty"
    assert _code(surveys.transition_survey, actor=tree.town_admin, survey_id=survey.pk,
                 to="closed") == "survey_bad_transition"
    surveys.update_survey(actor=tree.town_admin, survey_id=survey.pk, questions=EVERY_KIND)
    surveys.transition_survey(actor=tree.town_admin, survey_id=survey.pk, to="open")
    surveys.transition_survey(actor=tree.town_admin, survey_id=survey.pk, to="closed")
    survey.refresh_from_db()
    assert survey.status == "closed" and survey.opened_at and survey.closed_at
    assert _code(surveys.transition_survey, actor=tree.town_admin, survey_id=survey.pk,
                 to="open") == "survey_bad_transition"


def test_opening_tells_the_targeted_residents_once(tree):
    told, other_town = resident(tree), resident(tree, tree.k3)
    survey = make_survey(tree)
    assert Notification.objects.filter(user=told, category="governance").count() == 1
    assert not Notification.objects.filter(user=other_town).exists()
    assert Notification.objects.get(user=told).link == f"/governance/surveys/{survey.pk}/"


def test_a_survey_opened_ahead_of_time_is_announced_when_its_time_comes(tree):
    told = resident(tree)
    survey = make_survey(tree, open_=False)
    later = timezone.now() + dt.timedelta(hours=2)
    surveys.update_survey(actor=tree.town_admin, survey_id=survey.pk, opens_at=later)
    surveys.transition_survey(actor=tree.town_admin, survey_id=survey.pk, to="open")
    assert not Notification.objects.filter(user=told).exists()
    assert surveys.announce_due() == 0

    assert surveys.announce_due(now=later + dt.timedelta(minutes=1)) == 1
    assert surveys.announce_due(now=later + dt.timedelta(minutes=2)) == 0
    assert Notification.objects.filter(user=told).count() == 1


def test_surveys_past_their_closing_time_are_closed_by_the_sweep(tree):
    survey = make_survey(tree)
    running = make_survey(tree, title="还在进行")
    assert surveys.close_ended() == 0
    assert surveys.close_ended(now=survey.closes_at + dt.timedelta(seconds=1)) == 2
    survey.refresh_from_db()
    running.refresh_from_db()
    assert survey.status == running.status == "closed" and survey.closed_at == survey.closes_at


def test_the_sweep_task_is_scheduled():
    from sportsman.core import scheduler
    from sportsman.governance import surveys_tasks  # noqa: F401

    assert "governance.sweep_surveys" in {job.name for job in scheduler.SCHEDULE}


# --- targeting ----------------------------------------------------------------------------------


def test_targeting_by_region_age_sex_and_sport(tree):
    year = timezone.localdate().year
    dance = _sport("square-dance")
    survey = make_survey(tree, targeting=Targeting(sex="F", age_min=50, age_max=70,
                                                   sports=["square-dance"]))
    fits = resident(tree, sex="F", birth_year=year - 60)
    fits.interests.add(dance)
    too_young = resident(tree, sex="F", birth_year=year - 30)
    too_young.interests.add(dance)
    man = resident(tree, sex="M", birth_year=year - 60)
    man.interests.add(dance)
    no_interest = resident(tree, sex="F", birth_year=year - 60)
    no_year = resident(tree, sex="F", birth_year=None)
    no_year.interests.add(dance)
    elsewhere = resident(tree, tree.k3, sex="F", birth_year=year - 60)
    elsewhere.interests.add(dance)

    for person in (fits, too_young, man, no_interest, no_year, elsewhere):
        in_list = survey.pk in set(surveys.open_for(person).values_list("pk", flat=True))
        assert in_list is surveys.is_targeted(survey, person) is (person == fits)
    assert list(surveys.targeted_residents(survey)) == [fits]
    assert _code(surveys.respond, actor=man, survey_id=survey.pk,
                 answers=good_answers(survey)) == "survey_not_for_you"


def test_a_survey_outside_its_window_is_not_listed_nor_answerable(tree):
    person = resident(tree)
    survey = make_survey(tree)
    Survey.objects.filter(pk=survey.pk).update(opens_at=timezone.now() + dt.timedelta(hours=1),
                                               closes_at=timezone.now() + dt.timedelta(days=1))
    assert not surveys.open_for(person).exists()
    assert _code(surveys.respond, actor=person, survey_id=survey.pk,
                 answers=good_answers(survey)) == "survey_not_open"
    draft = make_survey(tree, open_=False)
    assert _code(surveys.respond, actor=person, survey_id=draft.pk,
                 answers=good_answers(draft)) == "survey_not_found"


# --- answering ----------------------------------------------------------------------------------


def _q(survey: Survey, kind: str) -> str:
    return str(survey.questions.get(kind=kind).pk)


@pytest.mark.parametrize(("kind", "value", "code"), [
    ("single", 3, "unknown_choice"),
    ("single", True, "unknown_choice"),
    ("multiple", [0, 0], "unknown_choice"),
    ("multiple", [9], "unknown_choice"),
    ("rating", 6, "out_of_range"),
    ("rating", 0, "out_of_range"),
    ("number", 22, "out_of_range"),
    ("number", "三", "not_a_number"),
    ("number", float("inf"), "not_a_number"),
    ("text", 42, "invalid_answer"),
    ("matrix", {"0": 2}, "answer_required"),
    ("matrix", {"5": 1, "0": 1, "1": 1}, "unknown_choice"),
    ("text", "长" * 501, "answer_too_long"),
    ("single", None, "answer_required"),
])
def test_bad_answers_are_refused_with_a_stable_code_and_nothing_is_stored(tree, kind, value,
                                                                          code):
    person = resident(tree)
    survey = make_survey(tree)
    answers = {**good_answers(survey), _q(survey, kind): value}
    with pytest.raises(DomainError) as caught:
        surveys.respond(actor=person, survey_id=survey.pk, answers=answers)
    assert caught.value.code == code
    assert f"q{_q(survey, kind)}" in caught.value.fields
    assert not SurveyParticipation.objects.exists() and not SurveyResponse.objects.exists()


def test_an_unknown_question_is_refused(tree):
    survey = make_survey(tree)
    assert _code(surveys.respond, actor=resident(tree), survey_id=survey.pk,
                 answers={**good_answers(survey), "999999": 1}) == "unknown_question"


def test_sensitive_words_in_a_text_answer_are_refused(tree):
    from sportsman.core import wording

    wording.add_word(actor=tree.city_admin, region_id=tree.city.pk, word="违禁词")
    survey = make_survey(tree)
    assert _code(surveys.respond, actor=resident(tree), survey_id=survey.pk,
                 answers={**good_answers(survey), _q(survey, "text"): "这是违禁词"}
                 ) == "sensitive_words"


def test_one_response_per_person(tree):
    person = resident(tree)
    survey = make_survey(tree)
    surveys.respond(actor=person, survey_id=survey.pk, answers=good_answers(survey))
    assert _code(surveys.respond, actor=person, survey_id=survey.pk,
                 answers=good_answers(survey)) == "survey_already_answered"
    survey.refresh_from_db()
    assert survey.responses == 1 == SurveyResponse.objects.count()


def test_answering_for_an_elderly_resident_records_who_acted(tree):
    elder = resident(tree, nickname="张奶奶", birth_year=timezone.localdate().year - 82)
    daughter = resident(tree, tree.k3, nickname="女儿")
    survey = make_survey(tree)
    assert _code(surveys.respond, actor=daughter, survey_id=survey.pk,
                 answers=good_answers(survey), for_user_id=elder.pk) == "proxy_not_authorised"
    proxy.grant(actor=elder, agent_phone=daughter.phone, relation="family")

    made = surveys.respond(actor=daughter, survey_id=survey.pk, answers=good_answers(survey),
                           for_user_id=elder.pk)

    assert (made.user, made.acted_by) == (elder, daughter)
    response = SurveyResponse.objects.get()
    assert (response.user, response.acted_by) == (elder, daughter)
    assert surveys.has_answered(elder, survey) and not surveys.has_answered(daughter, survey)
    assert _code(surveys.respond, actor=elder, survey_id=survey.pk,
                 answers=good_answers(survey)) == "survey_already_answered"


def test_an_anonymous_response_does_not_name_the_respondent(tree):
    elder = resident(tree)
    helper = resident(tree)
    proxy.grant(actor=elder, agent_phone=helper.phone, relation="family")
    survey = make_survey(tree, anonymous=True)
    surveys.respond(actor=helper, survey_id=survey.pk, answers=good_answers(survey),
                    for_user_id=elder.pk)
    response = SurveyResponse.objects.get()
    assert response.user is None and response.acted_by is None and response.submitted_at is None
    assert response.submitted_on == timezone.localdate()
    part = SurveyParticipation.objects.get()
    assert (part.user, part.acted_by, part.community) == (elder, helper, tree.k2)

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export(actor=tree.town_admin, survey_id=survey.pk))).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row}
    assert not cells & {str(elder.pk), elder.nickname, helper.nickname, str(helper.pk)} - {""}
    assert _("Nickname") not in cells and _("Resident ID") not in cells
    assert _("Day") in cells


# --- results and export -------------------------------------------------------------------------


def test_results_count_share_average_and_tabulate(tree):
    survey = make_survey(tree)
    a, b = resident(tree), resident(tree)
    surveys.respond(actor=a, survey_id=survey.pk, answers=good_answers(survey))
    surveys.respond(actor=b, survey_id=survey.pk, answers={
        **good_answers(survey), _q(survey, "single"): 0, _q(survey, "multiple"): [0],
        _q(survey, "rating"): 2, _q(survey, "number"): 8, _q(survey, "text"): "",
        _q(survey, "matrix"): {"0": 0, "1": 1}})

    r = surveys.results(survey)
    by_kind = {q.question.kind: q for q in r.questions}
    assert r.responses == 2
    assert [(x.count, x.share) for x in by_kind["single"].bars] == [(1, 50.0), (1, 50.0),
                                                                     (0, 0.0)]
    assert [x.count for x in by_kind["multiple"].bars] == [2, 0, 1]
    assert by_kind["multiple"].bars[0].share == 100.0
    assert by_kind["rating"].mean == 3.0 and [x.count for x in by_kind["rating"].bars] == [
        0, 1, 0, 1, 0]
    assert (by_kind["number"].mean, by_kind["number"].low, by_kind["number"].high) == (5.5, 3, 8)
    assert by_kind["matrix"].matrix == [("灯光", [1, 0, 1]), ("卫生", [0, 2, 0])]
    assert by_kind["text"].texts == ["希望延长开放时间"] and by_kind["text"].answered == 1


def test_the_export_has_a_row_per_response_and_a_column_per_question(tree):
    from openpyxl import load_workbook

    survey = make_survey(tree)
    person = resident(tree, nickname="李四")
    surveys.respond(actor=person, survey_id=survey.pk, answers=good_answers(survey))

    sheet = load_workbook(io.BytesIO(export(actor=tree.town_admin, survey_id=survey.pk))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and len(rows[0]) == 5 + len(EVERY_KIND)
    assert rows[0][5] == "1. 您最常去哪个场地？"
    assert rows[1][2:4] == (person.pk, "李四") and not rows[1][4]
    assert rows[1][5:] == ("公园", "篮球场; 游泳池", "希望延长开放时间", 4, 3, "灯光: 好; 卫生: 一般")
    assert AuditEntry.objects.filter(action="governance.survey.export").count() == 1
    assert _code(export, actor=tree.sibling_town_admin, survey_id=survey.pk) == "survey_not_found"


def test_questions_are_stored_in_order(tree):
    survey = make_survey(tree, open_=False)
    assert list(SurveyQuestion.objects.filter(survey=survey).values_list("position", flat=True)
                ) == list(range(1, len(EVERY_KIND) + 1))
