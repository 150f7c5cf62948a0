"""The surveys API: what a resident sees and answers (once, retry-safe), and the staff's
builder, workflow, results and export; with the one error shape and a query-count bound."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.governance.models import Survey, SurveyResponse
from sportsman.governance.tests.fixtures_surveys import good_answers, make_survey, resident

pytestmark = pytest.mark.django_db


def _window() -> dict:
    now = timezone.now()
    return {"opens_at": now.isoformat(), "closes_at": (now + dt.timedelta(days=3)).isoformat()}


def test_list_open_to_me_in_few_queries(tree, api_client, django_assert_max_num_queries):
    person = resident(tree)
    made = [make_survey(tree, title=f"问卷{i}") for i in range(5)]
    make_survey(tree, region=tree.t2, actor=tree.district_admin, title="别处的问卷")
    client = api_client.as_user(person)
    client.json("post", f"/api/v1/surveys/{made[0].pk}/responses",
                {"answers": good_answers(made[0])})

    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/surveys")

    assert response.status_code == 200
    rows = response.json()
    assert {r["id"] for r in rows} == {s.pk for s in made}
    assert {r["id"]: r["answered"] for r in rows}[made[0].pk] is True
    assert sum(r["answered"] for r in rows) == 1


def test_detail_and_answer_with_an_idempotency_key(tree, api_client):
    person = resident(tree)
    survey = make_survey(tree)
    client = api_client.as_user(person)
    detail = client.get(f"/api/v1/surveys/{survey.pk}").json()
    assert [q["kind"] for q in detail["questions"]] == ["single", "multiple", "text", "rating",
                                                        "number", "matrix"]
    assert detail["accepting"] is True and detail["answered"] is False

    body = {"answers": good_answers(survey)}
    first = client.json("post", f"/api/v1/surveys/{survey.pk}/responses", body,
                        HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.json("post", f"/api/v1/surveys/{survey.pk}/responses", body,
                        HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert SurveyResponse.objects.count() == 1
    other = client.json("post", f"/api/v1/surveys/{survey.pk}/responses", body)
    assert other.status_code == 409 and other.json()["code"] == "survey_already_answered"
    assert client.get(f"/api/v1/surveys/{survey.pk}").json()["answered"] is True


def test_a_bad_answer_gets_the_error_shape(tree, api_client):
    survey = make_survey(tree)
    rating = str(survey.questions.get(kind="rating").pk)
    response = api_client.as_user(resident(tree)).json(
        "post", f"/api/v1/surveys/{survey.pk}/responses",
        {"answers": {**good_answers(survey), rating: 9}})
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_range"
    assert f"q{rating}" in response.json()["fields"]
    assert not SurveyResponse.objects.exists()


def test_a_survey_not_meant_for_me_is_not_found(tree, api_client):
    survey = make_survey(tree)
    response = api_client.as_user(resident(tree, tree.k4)).get(f"/api/v1/surveys/{survey.pk}")
    assert response.status_code == 404 and response.json()["code"] == "survey_not_found"


def test_staff_build_open_read_and_close_through_the_api(tree, api_client):
    staff = api_client.as_user(tree.town_admin)
    made = staff.json("post", "/api/v1/console/surveys", {
        "region_id": tree.k2.pk, "title": "健身路径使用情况", "is_anonymous": True, **_window(),
        "target": {"age_min": 18},
        "questions": [{"kind": "single", "prompt": "常用吗？", "choices": ["常用", "偶尔"]}]})
    assert made.status_code == 201, made.content
    sid = made.json()["id"]
    assert made.json()["status"] == "draft" and made.json()["target_age_min"] == 18

    edited = staff.json("patch", f"/api/v1/console/surveys/{sid}", {"questions": [
        {"kind": "rating", "prompt": "满意度", "scale": 10}]})
    assert [q["kind"] for q in edited.json()["questions"]] == ["rating"]
    assert staff.json("patch", f"/api/v1/console/surveys/{sid}", {"questions": [
        {"kind": "rating", "prompt": "满意度", "scale": 3}]}).json()["code"] == "invalid_scale"

    assert staff.post(f"/api/v1/console/surveys/{sid}/open").json()["status"] == "open"
    person = resident(tree)
    qid = str(Survey.objects.get(pk=sid).questions.get().pk)
    assert api_client.as_user(person).json("post", f"/api/v1/surveys/{sid}/responses", {
        "answers": {qid: 8}}).status_code == 201

    results = staff.get(f"/api/v1/console/surveys/{sid}/results").json()
    assert results["responses"] == 1
    assert results["questions"][0]["mean"] == 8.0
    assert results["questions"][0]["bars"][7] == {"label": "8", "count": 1, "share": 100.0}
    closed = staff.post(f"/api/v1/console/surveys/{sid}/close")
    assert closed.json()["status"] == "closed"
    again = staff.post(f"/api/v1/console/surveys/{sid}/close")
    assert again.status_code == 409 and again.json()["code"] == "survey_bad_transition"
    export = staff.get(f"/api/v1/console/surveys/{sid}/export.xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith(
        "application/vnd.openxmlformats")


def test_an_unknown_field_is_refused(tree, api_client):
    response = api_client.as_user(tree.town_admin).json("post", "/api/v1/console/surveys", {
        "region_id": tree.t1.pk, "title": "问卷", **_window(), "colour": "red"})
    assert response.status_code in (400, 422)
    assert not Survey.objects.exists()


def test_staff_list_in_few_queries(tree, api_client, django_assert_max_num_queries):
    made = [make_survey(tree, title=f"问卷{i}", open_=i % 2 == 0) for i in range(6)]
    make_survey(tree, region=tree.t3, actor=tree.sibling_district_admin, title="秀洲问卷")
    client = api_client.as_user(tree.town_admin)
    with django_assert_max_num_queries(5):
        rows = client.get("/api/v1/console/surveys").json()
    assert [r["id"] for r in rows] == [s.pk for s in reversed(made)]
    drafts = client.get("/api/v1/console/surveys?status=draft").json()
    assert {r["id"] for r in drafts} == {s.pk for s in made if s.status == "draft"}


def test_answering_for_someone_through_the_api(tree, api_client):
    from sportsman.governance import proxy

    elder = resident(tree, nickname="李奶奶")
    worker = resident(tree, nickname="网格员")
    survey = make_survey(tree)
    body = {"answers": good_answers(survey), "for_user_id": elder.pk}
    refused = api_client.as_user(worker).json("post", f"/api/v1/surveys/{survey.pk}/responses",
                                              body)
    assert refused.status_code == 403 and refused.json()["code"] == "proxy_not_authorised"
    proxy.grant(actor=elder, agent_phone=worker.phone, relation="grid_worker")
    made = api_client.as_user(worker).json("post", f"/api/v1/surveys/{survey.pk}/responses",
                                           body)
    assert made.status_code == 201
    assert (made.json()["user_id"], made.json()["acted_by_id"]) == (elder.pk, worker.pk)
    assert api_client.as_user(elder).get(f"/api/v1/surveys/{survey.pk}").json()["answered"]
