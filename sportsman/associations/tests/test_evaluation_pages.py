"""Evaluation and board pages: the console (seasons, rubric editor, evaluations and their
actions, one evaluation's process), the evaluator's workspace and scoring form, and the
association manager's pages (take part, self-assess, apply, projects and records,
rectification, notices to acknowledge). Assertions read statuses and data attributes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sportsman.associations import board
from sportsman.associations import evaluation as ev
from sportsman.associations.models import Evaluation, NoticeRecipient
from sportsman.associations.tests.fixtures_evaluation import (
    assigned_evaluator,
    evaluation_at,
    make_association,
    make_season,
    manager_of,
)

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.force_login(user)
    return client


def test_the_console_lists_seasons_and_evaluations_with_their_status(tree, client):
    e = evaluation_at(tree, "applied")
    page = _as(client, tree.district_admin).get(reverse("associations:evaluation_console"))
    text = page.content.decode()
    assert page.status_code == 200
    assert f'data-season="{e.season_id}"' in text
    assert f'data-evaluation="{e.pk}" data-status="applied"' in text
    client.post(reverse("associations:evaluation_console_action", args=[e.pk]),
                {"action": "approve", "back": "list"})
    assert Evaluation.objects.get(pk=e.pk).status == "eligible"


def test_the_console_is_refused_to_those_without_the_permission(tree, client):
    for who in (tree.town_admin, tree.resident):
        client.force_login(who)
        assert client.get(reverse("associations:evaluation_console")).status_code in (302, 403)


def test_opening_a_season_and_editing_its_rubric_on_the_pages(tree, client):
    c = _as(client, tree.district_admin)
    today = timezone.localdate()
    c.post(reverse("associations:evaluation_console_season"), {
        "year": today.year, "title": "页面评估", "applications_open_on": today.isoformat(),
        "applications_close_on": (today + dt.timedelta(days=30)).isoformat()})
    season = ev.seasons_in_scope(tree.district_admin).get(title="页面评估")
    page = c.get(reverse("associations:season_rubric", args=[season.pk]))
    assert 'data-total="1000"' in page.content.decode()
    rows = {"group": ["basic", "governance", "performance", "reputation", "basic"],
            "code": ["A", "B", "C", "D", ""], "name": ["甲", "乙", "丙", "丁", ""],
            "max_points": ["100", "200", "300", "400", ""]}
    c.post(reverse("associations:season_rubric", args=[season.pk]), rows)
    assert [i.code for i in ev.rubric_of(season)] == ["A", "B", "C", "D"]
    rows["max_points"][0] = "99"
    refused = c.post(reverse("associations:season_rubric", args=[season.pk]), rows)
    assert refused.status_code in (200, 302, 400)
    assert [i.max_points for i in ev.rubric_of(season)] == [100, 200, 300, 400]


def test_the_evaluator_scores_and_submits_on_the_workspace(tree, client):
    e = evaluation_at(tree, "under_review")
    c = _as(client, assigned_evaluator(e))
    listing = c.get(reverse("associations:evaluator_workspace")).content.decode()
    assert f'data-evaluation="{e.pk}" data-status="under_review"' in listing
    page = c.get(reverse("associations:evaluator_evaluation", args=[e.pk]))
    assert 'id="score-form"' in page.content.decode()
    for i in ev.rubric_of(e.season):
        c.post(reverse("associations:evaluator_action", args=[e.pk]), {
            "action": "score", "indicator_id": i.pk, "points": i.max_points - 10, "note": "好"})
    c.post(reverse("associations:evaluator_action", args=[e.pk]), {"action": "submit"})
    e.refresh_from_db()
    assert e.status == "scored" and e.total == 1000 - 10 * len(ev.rubric_of(e.season))


def test_an_evaluator_not_assigned_is_refused_the_page(tree, client):
    from sportsman.associations.tests.fixtures_evaluation import evaluator

    e = evaluation_at(tree, "under_review")
    page = _as(client, evaluator(tree, nickname="旁人")).get(
        reverse("associations:evaluator_evaluation", args=[e.pk]))
    assert page.status_code in (403, 404)


def test_the_manager_takes_part_self_assesses_and_applies_on_a_phone(tree, client):
    association = make_association(tree)
    season = make_season(tree)
    c = _as(client, manager_of(association))
    mine = c.get(reverse("associations:my_evaluations")).content.decode()
    assert f'data-season="{season.pk}"' in mine
    started = c.post(reverse("associations:evaluation_start"),
                     {"association": association.pk, "season": season.pk})
    e = Evaluation.objects.get(association=association)
    assert started.url == reverse("associations:my_evaluation", args=[e.pk])
    body = {"action": "self_assess"}
    for i in ev.rubric_of(season):
        body[f"points_{i.pk}"] = str(i.max_points)
    c.post(reverse("associations:my_evaluation_action", args=[e.pk]), body)
    c.post(reverse("associations:my_evaluation_action", args=[e.pk]), {"action": "apply"})
    page = c.get(reverse("associations:my_evaluation", args=[e.pk])).content.decode()
    assert 'data-status="applied"' in page and 'data-self-total="1000"' in page
    today = timezone.localdate()
    c.post(reverse("associations:my_evaluation_action", args=[e.pk]), {
        "action": "project", "title": "公益培训", "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=30)).isoformat(),
        "milestone_title": ["启动", ""], "milestone_due": [today.isoformat(), ""]})
    project = e.projects.get()
    c.post(reverse("associations:my_evaluation_action", args=[e.pk]), {
        "action": "record", "project": project.pk, "text": "第一次课"})
    assert project.records.count() == 1
    assert 'data-step="record"' in c.get(reverse("associations:my_evaluation",
                                                 args=[e.pk])).content.decode()


def test_the_manager_answers_a_rectification_and_sees_the_published_grade(tree, client):
    e = evaluation_at(tree, "scored", total=960)
    r = ev.request_rectification(actor=tree.district_admin, evaluation_id=e.pk, text="补材料",
                                 due_on=timezone.localdate() + dt.timedelta(days=3))
    c = _as(client, manager_of(e.association))
    c.post(reverse("associations:my_evaluation_action", args=[e.pk]),
           {"action": "answer", "rectification": r.pk, "text": "已补"})
    r.refresh_from_db()
    assert r.status == "answered"
    ev.recheck(actor=assigned_evaluator(e), rectification_id=r.pk, accept=True)
    ev.finalise(actor=tree.district_admin, evaluation_id=e.pk)
    ev.publish(actor=tree.district_admin, evaluation_id=e.pk)
    page = c.get(reverse("associations:my_evaluation", args=[e.pk])).content.decode()
    assert 'data-status="published" data-grade="5A"' in page
    mine = c.get(reverse("associations:my_evaluations")).content.decode()
    assert f'data-association="{e.association_id}" data-grade="5A"' in mine


def test_notices_console_status_and_the_managers_acknowledgement(tree, client):
    association = make_association(tree)
    other = make_association(tree, region=tree.k1, name="花园晨练队", kind="team")
    c = _as(client, tree.town_admin)
    c.post(reverse("associations:notice_publish"), {"kind": "training", "title": "培训通知",
                                                    "body": "下周培训"})
    notice = board.notices_in_scope(tree.town_admin).get()
    page = c.get(reverse("associations:notice_console", args=[notice.pk])).content.decode()
    assert 'data-recipients="2" data-acknowledged="0" data-pending="2"' in page
    m = _as(client, manager_of(association))
    row = NoticeRecipient.objects.get(notice=notice, association=association)
    inbox = m.get(reverse("associations:notices")).content.decode()
    assert f'id="n{row.pk}" data-notice="{notice.pk}" data-acknowledged="0"' in inbox
    m.post(reverse("associations:notice_acknowledge", args=[row.pk]))
    m.post(reverse("associations:notice_acknowledge", args=[row.pk]))
    page = _as(client, tree.town_admin).get(reverse("associations:notice_console",
                                                    args=[notice.pk])).content.decode()
    assert 'data-recipients="2" data-acknowledged="1" data-pending="1"' in page
    assert f'data-association="{other.pk}" data-acknowledged="0"' in page
    client.post(reverse("associations:notice_console", args=[notice.pk]), {"action": "remind"})
    assert NoticeRecipient.objects.get(notice=notice, association=other).reminded_at is not None
