"""The survey pages as residents and staff use them: the list of surveys open to me, answering
(for myself and for a resident who authorised me), the thank-you state; the console's list,
new draft, builder, opening, results bars and export."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.utils import timezone

from sportsman.governance import proxy, surveys
from sportsman.governance.models import Survey, SurveyParticipation
from sportsman.governance.tests.fixtures_surveys import good_answers, make_survey, resident

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(survey: Survey) -> dict:
    data: dict = {}
    for key, value in good_answers(survey).items():
        if isinstance(value, dict):
            for row, col in value.items():
                data[f"q{key}_r{row}"] = str(col)
        elif isinstance(value, list):
            data[f"q{key}"] = [str(v) for v in value]
        else:
            data[f"q{key}"] = str(value)
    return data


def test_a_resident_lists_answers_and_sees_thanks(tree):
    person = resident(tree)
    survey = make_survey(tree, title="场馆开放时间调查")
    client = _as(person)
    listing = client.get("/governance/surveys/").content.decode()
    assert "场馆开放时间调查" in listing and f"/governance/surveys/{survey.pk}/" in listing

    page = client.get(f"/governance/surveys/{survey.pk}/").content.decode()
    assert 'id="survey-form"' in page
    rating = survey.questions.get(kind="rating")
    assert page.count(f'name="q{rating.pk}"') == rating.scale == 5
    matrix = survey.questions.get(kind="matrix")
    assert page.count(f'name="q{matrix.pk}_r1"') == len(matrix.choices)

    done = client.post(f"/governance/surveys/{survey.pk}/", _form(survey))
    assert done.status_code == 302
    assert SurveyParticipation.objects.filter(user=person).exists()
    after = client.get(f"/governance/surveys/{survey.pk}/").content.decode()
    assert 'id="answered"' in after and 'id="survey-form"' not in after
    listing = client.get("/governance/surveys/").content.decode()
    assert 'id="answered-title"' in listing
    assert listing.count(f"/governance/surveys/{survey.pk}/") == 2  # open (answered), answered


def test_a_bad_answer_on_the_page_stores_nothing(tree):
    person = resident(tree)
    survey = make_survey(tree)
    data = _form(survey)
    data[f"q{survey.questions.get(kind='rating').pk}"] = "9"
    client = _as(person)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(f"/governance/surveys/{survey.pk}/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Some answers need another look." in page and 'id="survey-form"' in page
    rating = survey.questions.get(kind="rating")
    assert f'id="q{rating.pk}-error"' in page
    single = survey.questions.get(kind="single")
    assert f'name="q{single.pk}" value="1" checked' in page  # what was given stays
    assert "希望延长开放时间</textarea>" in page
    assert not SurveyParticipation.objects.exists()


def test_answering_for_an_elderly_resident_on_the_page(tree):
    elder = resident(tree, nickname="王爷爷", birth_year=timezone.localdate().year - 85)
    grandson = resident(tree, tree.k4, nickname="孙子")  # outside the audience himself
    proxy.grant(actor=elder, agent_phone=grandson.phone, relation="family")
    survey = make_survey(tree)
    page = _as(grandson).get(f"/governance/surveys/{survey.pk}/").content.decode()
    assert 'name="for_user"' in page and "王爷爷" in page

    _as(grandson).post(f"/governance/surveys/{survey.pk}/", {**_form(survey),
                                                             "for_user": str(elder.pk)})
    part = SurveyParticipation.objects.get()
    assert (part.user, part.acted_by) == (elder, grandson)


def test_console_builds_opens_and_shows_results(tree):
    staff = _as(tree.town_admin)
    staff.post("/console/region/", {"region": tree.t1.pk})
    listing = staff.get("/governance/console/surveys/")
    assert listing.status_code == 200 and 'id="new"' in listing.content.decode()
    now = timezone.localtime()
    made = staff.post("/governance/console/surveys/", {
        "title": "健身设施需求调查", "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timezone.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")})
    survey = Survey.objects.get()
    assert made.status_code == 302 and survey.region == tree.t1 and survey.status == "draft"

    staff.post(f"/governance/console/surveys/{survey.pk}/questions/", {
        "kind": "single", "prompt": "最想要的设施", "is_required": "on",
        "choices": "篮球场\n乒乓球台\n健身路径", "scale": "5"})
    assert list(survey.questions.values_list("choices", flat=True)) == [
        ["篮球场", "乒乓球台", "健身路径"]]
    staff.post(f"/governance/console/surveys/{survey.pk}/status/", {"to": "open"})
    survey.refresh_from_db()
    assert survey.status == "open"

    q = survey.questions.get()
    surveys.respond(actor=resident(tree), survey_id=survey.pk, answers={str(q.pk): 1})
    page = staff.get(f"/governance/console/surveys/{survey.pk}/").content.decode()
    assert 'id="results"' in page and "<svg" in page and "100.0%" in page

    from openpyxl import load_workbook

    export = staff.get(f"/governance/console/surveys/{survey.pk}/export.xlsx")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert [row[-1] for row in sheet.iter_rows(values_only=True)] == ["1. 最想要的设施",
                                                                      "乒乓球台"]


def test_another_regions_staff_cannot_open_the_console_survey(tree):
    survey = make_survey(tree, open_=False)
    page = _as(tree.sibling_town_admin).get(f"/governance/console/surveys/{survey.pk}/")
    assert page.status_code in (403, 404)
    _as(tree.sibling_town_admin).post(f"/governance/console/surveys/{survey.pk}/status/",
                                      {"to": "open"})
    survey.refresh_from_db()
    assert survey.status == "draft"
