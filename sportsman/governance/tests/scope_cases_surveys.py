"""Scope-matrix cases of the surveys' staff operations (collected by tests/test_scope_matrix.py):
a survey of town t1, built and governed by t1's staff and above."""

from __future__ import annotations

import datetime as dt

from tests.scope import Case, ids, xlsx_text


def _draft(tree):
    from sportsman.governance.tests.fixtures_surveys import make_survey

    return {"survey": make_survey(tree, open_=False, title="场地开放时间问卷")}


def _open(tree):
    from sportsman.governance import surveys
    from sportsman.governance.tests.fixtures_surveys import good_answers, make_survey, resident

    survey = make_survey(tree, title="场地开放时间问卷")
    surveys.respond(actor=resident(tree), survey_id=survey.pk,
                    answers={**good_answers(survey),
                             str(survey.questions.get(kind="text").pk): "晚上多开放"})
    return {"survey": survey}


def _status(state) -> str:
    state["survey"].refresh_from_db()
    return state["survey"].status


def _window():
    from django.utils import timezone

    now = timezone.now()
    return {"opens_at": now.isoformat(), "closes_at": (now + dt.timedelta(days=3)).isoformat()}


def _created(tree, state) -> bool:
    from sportsman.governance.models import Survey

    return Survey.objects.filter(title="新建问卷").exists()


CASES: list[Case] = [
    Case("surveys.console list (sees a t1 survey)", op="GET /console/surveys", setup=_draft,
         call=lambda c, t, s: c.get("/api/v1/console/surveys"),
         sees=lambda r, t, s: r.status_code == 200 and s["survey"].pk in ids(r)),
    Case("surveys.create a t1 survey", op="POST /console/surveys",
         call=lambda c, t, s: c.json("post", "/api/v1/console/surveys", {
             "region_id": t.t1.pk, "title": "新建问卷", **_window(),
             "questions": [{"kind": "rating", "prompt": "满意度", "scale": 5}]}),
         changed=_created),
    Case("surveys.detail of a t1 survey", op="GET /console/surveys/{survey_id}", setup=_draft,
         call=lambda c, t, s: c.get(f"/api/v1/console/surveys/{s['survey'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["survey"].pk),
    Case("surveys.edit a t1 draft", op="PATCH /console/surveys/{survey_id}", setup=_draft,
         call=lambda c, t, s: c.json("patch", f"/api/v1/console/surveys/{s['survey'].pk}",
                                     {"title": "改过的问卷"}),
         changed=lambda t, s: type(s["survey"]).objects.get(pk=s["survey"].pk).title
         == "改过的问卷"),
    Case("surveys.open a t1 draft", op="POST /console/surveys/{survey_id}/open", setup=_draft,
         call=lambda c, t, s: c.post(f"/api/v1/console/surveys/{s['survey'].pk}/open"),
         changed=lambda t, s: _status(s) == "open"),
    Case("surveys.close a t1 survey", op="POST /console/surveys/{survey_id}/close", setup=_open,
         call=lambda c, t, s: c.post(f"/api/v1/console/surveys/{s['survey'].pk}/close"),
         changed=lambda t, s: _status(s) == "closed"),
    Case("surveys.results of a t1 survey", op="GET /console/surveys/{survey_id}/results",
         setup=_open,
         call=lambda c, t, s: c.get(f"/api/v1/console/surveys/{s['survey'].pk}/results"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["responses"] == 1),
    Case("surveys.export of a t1 survey", op="GET /console/surveys/{survey_id}/export.xlsx",
         setup=_open,
         call=lambda c, t, s: c.get(f"/api/v1/console/surveys/{s['survey'].pk}/export.xlsx"),
         sees=lambda r, t, s: r.status_code == 200 and "晚上多开放".encode() in xlsx_text(r)),
]
