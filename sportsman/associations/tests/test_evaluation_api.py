"""The evaluation and board API: the association side end to end, one error shape, the
Idempotency-Key on acknowledgement, and list endpoints in a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.associations import board
from sportsman.associations import evaluation as ev
from sportsman.associations.models import Notice
from sportsman.associations.tests.fixtures_evaluation import (
    assigned_evaluator,
    evaluation_at,
    make_association,
    make_season,
    manager_of,
)

pytestmark = pytest.mark.django_db


def test_an_association_enters_self_assesses_and_applies_through_the_api(tree, api_client):
    association = make_association(tree)
    season = make_season(tree)
    client = api_client.as_user(manager_of(association))
    open_now = client.get(f"/api/v1/associations/{association.pk}/evaluation-seasons")
    assert [s["id"] for s in open_now.json()] == [season.pk]
    made = client.json("post", f"/api/v1/associations/{association.pk}/evaluations",
                       {"season_id": season.pk})
    assert made.status_code == 201, made.content
    eid = made.json()["id"]
    early = client.post(f"/api/v1/evaluations/{eid}/apply")
    assert early.status_code == 400 and early.json()["code"] == "evaluation_incomplete"
    rows = [{"indicator_id": i.pk, "points": i.max_points - 5} for i in ev.rubric_of(season)]
    saved = client.json("put", f"/api/v1/evaluations/{eid}/self-assessment", {"scores": rows})
    assert saved.json()["self_total"] == 1000 - 5 * len(rows)
    applied = client.post(f"/api/v1/evaluations/{eid}/apply")
    assert applied.json()["status"] == "applied"
    detail = client.get(f"/api/v1/evaluations/{eid}").json()
    assert [s["step"] for s in detail["timeline"]] == ["created", "self_assessed", "applied"]
    again = client.json("post", f"/api/v1/associations/{association.pk}/evaluations",
                        {"season_id": season.pk})
    assert again.status_code == 409
    assert set(again.json()) == {"code", "message", "fields"}
    assert again.json()["code"] == "evaluation_already_applied"
    stranger = api_client.as_user(tree.resident).get(f"/api/v1/evaluations/{eid}")
    assert stranger.status_code == 404


def test_the_evaluator_scores_with_evidence_through_the_api(tree, api_client):
    e = evaluation_at(tree, "under_review")
    client = api_client.as_user(assigned_evaluator(e))
    indicator = ev.rubric_of(e.season)[0]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    done = client.post(f"/api/v1/evaluator/evaluations/{e.pk}/scores", {
        "indicator_id": indicator.pk, "points": indicator.max_points, "note": "资料齐全",
        "evidence": SimpleUploadedFile("证明.pdf", pdf, content_type="application/pdf")})
    assert done.status_code == 200, done.content
    assert done.json()["evidence_url"].endswith(".pdf")
    over = client.post(f"/api/v1/evaluator/evaluations/{e.pk}/scores", {
        "indicator_id": indicator.pk, "points": indicator.max_points + 1})
    assert over.status_code == 400 and over.json()["code"] == "points_out_of_range"


def test_acknowledging_with_an_idempotency_key_replays_the_answer(tree, api_client):
    association = make_association(tree)
    notice = board.publish_notice(actor=tree.town_admin, region_id=tree.t1.pk, kind="purchasing",
                                  title="器材采购公告", body="公开采购健身器材。")
    row = notice.deliveries.get()
    client = api_client.as_user(manager_of(association))
    first = client.post(f"/api/v1/association-notices/{row.pk}/acknowledge",
                        HTTP_IDEMPOTENCY_KEY="ack-1")
    retry = client.post(f"/api/v1/association-notices/{row.pk}/acknowledge",
                        HTTP_IDEMPOTENCY_KEY="ack-1")
    plain = client.post(f"/api/v1/association-notices/{row.pk}/acknowledge")
    assert first.json() == retry.json() and first.json()["acknowledged_now"] is True
    assert plain.status_code == 200 and plain.json()["acknowledged_now"] is False
    assert Notice.objects.get(pk=notice.pk).acknowledged == 1
    pending = client.get("/api/v1/association-notices?pending=true").json()
    assert pending == []


def test_publishing_a_notice_through_the_api_with_an_attachment(tree, api_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    make_association(tree)
    client = api_client.as_user(tree.town_admin)
    made = client.post("/api/v1/console/notices", {
        "region_id": tree.t1.pk, "kind": "venue_rental", "title": "场地租赁", "body": "体育馆对外出租。",
        "target_kinds": ["sport"],
        "attachment": SimpleUploadedFile("价目.pdf", b"%PDF-1.4\n%%EOF\n")})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["recipients"] == 1 and body["target_kinds"] == ["sport"]
    status = client.get(f"/api/v1/console/notices/{body['id']}/recipients").json()
    assert (status["recipients"], status["acknowledged"], status["pending"]) == (1, 0, 1)


# --- query counts --------------------------------------------------------------------------------

def _many(tree, n: int = 4):
    season = make_season(tree)
    return [evaluation_at(tree, "under_review", season=season,
                          association=make_association(tree, name=f"协会{i}"))
            for i in range(n)]


@pytest.mark.parametrize("path", ["/api/v1/console/evaluations",
                                  "/api/v1/console/evaluation-seasons",
                                  "/api/v1/console/rectifications"])
def test_staff_lists_in_few_queries(tree, api_client, django_assert_max_num_queries, path):
    made = _many(tree)
    for e in made:
        ev.request_rectification(actor=tree.district_admin, evaluation_id=e.pk, text="整改",
                                 due_on=timezone.localdate() + dt.timedelta(days=3))
    client = api_client.as_user(tree.district_admin)
    client.get(path)
    with django_assert_max_num_queries(6):
        response = client.get(path)
    assert response.status_code == 200 and response.json()


def test_the_evaluators_list_in_few_queries(tree, api_client, django_assert_max_num_queries):
    made = _many(tree)
    who = assigned_evaluator(made[0])
    for e in made[1:]:
        ev.assign(actor=tree.district_admin, evaluation_id=e.pk, evaluator_id=who.pk)
    client = api_client.as_user(who)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/evaluator/evaluations")
    assert len(response.json()) == len(made)


def test_notice_lists_in_few_queries(tree, api_client, django_assert_max_num_queries):
    manager = tree.user(nickname="多会会长")
    for i in range(4):
        make_association(tree, name=f"协会{i}", manager=manager)
    for i in range(3):
        board.publish_notice(actor=tree.town_admin, region_id=tree.t1.pk, kind="training",
                             title=f"通知{i}", body="内容")
    staff, mine = api_client.as_user(tree.town_admin), api_client.as_user(manager)
    notice = Notice.objects.order_by("id").first()
    for client, path, rows in ((staff, "/api/v1/console/notices", 3),
                               (mine, "/api/v1/association-notices", 12)):
        with django_assert_max_num_queries(6):
            response = client.get(path)
        assert len(response.json()) == rows
    with django_assert_max_num_queries(6):
        status = staff.get(f"/api/v1/console/notices/{notice.pk}/recipients")
    assert len(status.json()["items"]) == 4


def test_the_managers_lists_in_few_queries(tree, api_client, django_assert_max_num_queries):
    association = make_association(tree)
    for year in (2024, 2025, 2026):
        season = make_season(tree, year=year)
        evaluation_at(tree, "applied", association=association, season=season)
    client = api_client.as_user(manager_of(association))
    for path in (f"/api/v1/associations/{association.pk}/evaluations",
                 f"/api/v1/associations/{association.pk}/evaluation-seasons"):
        with django_assert_max_num_queries(6):
            response = client.get(path)
        assert response.status_code == 200
    assert len(client.get(f"/api/v1/associations/{association.pk}/evaluations").json()) == 3
