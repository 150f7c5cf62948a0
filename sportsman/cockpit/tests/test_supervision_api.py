"""Supervision tasks, the API: issuing with an Idempotency-Key, lists by role and region with
filters and pages (no N+1), the unit's reports and uploads, review and cancellation, evidence
downloads, and the one error shape."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sportsman.cockpit import supervision as sv
from sportsman.cockpit.models import SupervisionTask, TaskAssignment, TaskEvidence
from sportsman.cockpit.tests.scope_cases_supervision import (
    PDF,
    assignment_of,
    issue,
    jpeg,
    private_media,  # noqa: F401
)

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/cockpit/tasks"
DEADLINE = (timezone.localdate() + dt.timedelta(days=10)).isoformat()


def _body(tree, **change):
    return {"issuer": tree.d1.code, "title": "健身路径安全排查", "category": "facility_safety",
            "body": "逐一检查器材", "deadline": DEADLINE,
            "targets": [tree.t1.code, tree.t2.code], **change}


def test_issue_answers_201_with_the_task_and_its_units(tree, api_client):
    client = api_client.as_user(tree.district_admin)

    r = client.json("post", TASKS, _body(tree))

    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["title"], body["status"], body["issuer"]["code"]) == (
        "健身路径安全排查", "open", tree.d1.code)
    assert [a["region"]["name"] for a in body["assignments"]] == ["新嘉街道", "东栅街道"]
    assert body["can_review"] and body["counts"] == {"assigned": 2, "accepted": 0,
                                                     "submitted": 0, "overdue": 0}
    # d1 may also answer for its towns (they lie in its subtree); it never reviews itself
    assert all(a["can_answer"] for a in body["assignments"])


def test_short_codes_name_regions_too(tree, api_client):
    r = api_client.as_user(tree.city_admin).json(
        "post", TASKS, _body(tree, issuer="3304", targets=["330402", "330411"]))
    assert r.status_code == 201, r.content
    assert {a["region"]["id"] for a in r.json()["assignments"]} == {tree.d1.pk, tree.d2.pk}


def test_a_retried_issue_with_the_same_key_creates_one_task(tree, api_client):
    client = api_client.as_user(tree.district_admin)
    first = client.json("post", TASKS, _body(tree), HTTP_IDEMPOTENCY_KEY="issue-1")
    again = client.json("post", TASKS, _body(tree), HTTP_IDEMPOTENCY_KEY="issue-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert SupervisionTask.objects.count() == 1 and TaskAssignment.objects.count() == 2
    reused = client.json("post", TASKS, _body(tree, title="另一个"), HTTP_IDEMPOTENCY_KEY="issue-1")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert SupervisionTask.objects.count() == 1


@pytest.mark.parametrize(("change", "status", "code", "field"), [
    ({"targets": []}, 400, "no_targets", "targets"),
    ({"targets": ["330411000000"]}, 400, "target_not_below", "targets"),
    ({"targets": ["330499999999"]}, 400, "unknown_region", "targets"),
    ({"deadline": "2020-01-01"}, 400, "deadline_past", "deadline"),
    ({"deadline": "not a date"}, 400, "invalid", "deadline"),
    ({"title": ""}, 400, "title_required", "title"),
    ({"category": "nope"}, 400, "invalid_category", "category"),
    ({"issuer": "330499999999"}, 404, "region_not_found", "issuer"),
    ({"issuer": "330411000000", "targets": ["330411104000"]}, 403, "forbidden", None),
    ({"colour": "red"}, 400, "unknown_field", "colour"),
])
def test_bad_issues_get_the_one_error_shape_and_write_nothing(tree, api_client, change, status,
                                                              code, field):
    r = api_client.as_user(tree.district_admin).json("post", TASKS, _body(tree, **change))

    assert r.status_code == status, r.content
    body = r.json()
    assert body["code"] == code and body["message"]
    assert set(body) == {"code", "message", "fields"}
    if field:
        assert field in body["fields"]
    assert not SupervisionTask.objects.exists()


def test_lists_by_role_and_region(tree, api_client):
    city = issue(tree, by=tree.city_admin, issuer=tree.city, targets=[tree.d1, tree.d2])
    own = issue(tree, targets=[tree.t1])
    client = api_client.as_user(tree.district_admin)

    def ids(query: str) -> list[int]:
        r = client.get(f"{TASKS}?{query}")
        assert r.status_code == 200, r.content
        return [t["id"] for t in r.json()["items"]]

    assert ids("role=issued") == [own.pk]
    assert ids(f"role=issued&region={tree.d1.code}") == [own.pk]
    assert ids(f"role=assigned&region={tree.d1.code}") == [city.pk]
    assert ids("role=assigned") == [own.pk, city.pk]  # t1's task lies in d1's scope too
    assert ids(f"role=assigned&region={tree.t1.code}") == [own.pk]
    assigned = client.get(f"{TASKS}?role=assigned&region={tree.d1.code}").json()["items"][0]
    assert [a["region"]["id"] for a in assigned["assignments"]] == [tree.d1.pk]
    assert assigned["assignments"][0]["can_answer"] and not assigned["can_review"]
    outside = client.get(f"{TASKS}?region={tree.d2.code}")
    assert outside.status_code == 404 and outside.json()["code"] == "region_not_found"
    bad = client.get(f"{TASKS}?role=everything")
    assert bad.status_code == 400


def test_list_filters_and_pages(tree, api_client):
    made = [issue(tree, title=f"督办{i}") for i in range(5)]
    late = made[1]
    SupervisionTask.objects.filter(pk=late.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=1))
    sv.cancel_task(actor=tree.district_admin, task_id=made[2].pk, reason="撤回")
    client = api_client.as_user(tree.district_admin)

    def ids(query: str) -> list[int]:
        return [t["id"] for t in client.get(f"{TASKS}?{query}").json()["items"]]

    assert ids("overdue=true") == [late.pk]
    assert late.pk not in ids("overdue=false")
    assert ids("status=cancelled") == [made[2].pk]
    assert ids("category=events") == []
    first = client.get(f"{TASKS}?limit=2").json()
    assert [t["id"] for t in first["items"]] == [made[4].pk, made[3].pk]
    second = client.get(f"{TASKS}?limit=2&cursor={first['next_cursor']}").json()
    assert [t["id"] for t in second["items"]] == [made[2].pk, made[1].pk]
    last = client.get(f"{TASKS}?limit=2&cursor={second['next_cursor']}").json()
    assert [t["id"] for t in last["items"]] == [made[0].pk] and last["next_cursor"] is None
    assert client.get(f"{TASKS}?cursor=abc").json()["code"] == "invalid_cursor"
    item = client.get(f"{TASKS}?overdue=true").json()["items"][0]
    assert item["overdue"] and item["counts"]["overdue"] == 1
    assert item["assignments"][0]["days_late"] == 1


def test_the_list_costs_the_same_queries_for_more_tasks(tree, api_client):
    client = api_client.as_user(tree.city_admin)
    issue(tree, targets=[tree.t1, tree.t2])
    client.get(TASKS)  # warm the session, token and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(TASKS).status_code == 200
    for i in range(6):
        issue(tree, by=tree.city_admin, issuer=tree.city, targets=[tree.d1, tree.d2, tree.t3],
              title=f"多{i}")
    with CaptureQueriesContext(connection) as many:
        r = client.get(TASKS)
    assert len(r.json()["items"]) == 7
    assert len(many) == len(few)


def test_the_unit_reports_submits_and_the_issuer_reviews_through_the_api(tree, api_client):
    task = issue(tree, targets=[tree.t1, tree.t2])
    a = assignment_of(task, tree.t1)
    unit = api_client.as_user(tree.town_admin)
    base = f"/api/v1/cockpit/assignments/{a.pk}"

    detail = unit.get(f"/api/v1/cockpit/tasks/{task.pk}").json()
    assert [x["id"] for x in detail["assignments"]] == [a.pk] and not detail["can_review"]
    r = unit.json("post", f"{base}/progress", {"progress": 30, "text": "已排查 3 处"},
                  HTTP_IDEMPOTENCY_KEY="p-1")
    assert r.status_code == 201 and r.json()["progress"] == 30
    again = unit.json("post", f"{base}/progress", {"progress": 30, "text": "已排查 3 处"},
                      HTTP_IDEMPOTENCY_KEY="p-1")
    assert again.json() == r.json() and a.reports.count() == 1
    bad = unit.json("post", f"{base}/progress", {"progress": 130, "text": "x"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_progress"
    up = unit.post(f"{base}/evidence", {"file": [
        SimpleUploadedFile("现场.jpg", jpeg("Cam"), "image/jpeg"),
        SimpleUploadedFile("台账.pdf", PDF, "application/pdf")]})
    assert up.status_code == 201, up.content
    assert [(e["name"], e["kind"]) for e in up.json()] == [("现场.jpg", "image"),
                                                           ("台账.pdf", "pdf")]
    done = unit.json("post", f"{base}/submit", {"text": "全部完成"})
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    twice = unit.json("post", f"{base}/submit", {"text": "全部完成"})
    assert twice.status_code == 409 and twice.json()["code"] == "assignment_state"
    not_mine = unit.json("post", f"{base}/review", {"decision": "accept"})
    assert not_mine.status_code == 403 and not_mine.json()["code"] == "forbidden"

    issuer = api_client.as_user(tree.district_admin)
    no_comment = issuer.json("post", f"{base}/review", {"decision": "return"})
    assert no_comment.status_code == 400 and no_comment.json()["code"] == "comment_required"
    back = issuer.json("post", f"{base}/review", {"decision": "return", "comment": "补照片"})
    assert back.json()["status"] == "returned" and back.json()["last_comment"] == "补照片"
    unit.json("post", f"{base}/submit", {"text": "已补"})
    ok = issuer.json("post", f"{base}/review", {"decision": "accept"})
    assert ok.json()["status"] == "accepted"
    full = issuer.get(base).json()
    assert [r["kind"] for r in full["reports"]] == ["progress", "submit", "return", "submit",
                                                    "accept"]
    assert len(full["evidence"]) == 2 and full["can_review"]
    assert full["task"]["id"] == task.pk

    cancel = issuer.json("post", f"/api/v1/cockpit/tasks/{task.pk}/cancel", {"reason": "调整"})
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert [x["status"] for x in cancel.json()["assignments"]] == ["accepted", "cancelled"]


def test_evidence_uploads_are_sniffed_and_capped(tree, api_client):
    a = assignment_of(issue(tree), tree.t1)
    unit = api_client.as_user(tree.town_admin)
    url = f"/api/v1/cockpit/assignments/{a.pk}/evidence"

    fake = unit.post(url, {"file": SimpleUploadedFile("报告.pdf", b"<script>x</script>",
                                                      "application/pdf")})
    assert fake.status_code == 400 and fake.json()["code"] == "file_type"
    html = unit.post(url, {"file": SimpleUploadedFile("a.jpg", b"<html></html>", "image/jpeg")})
    assert html.json()["code"] == "file_type"
    big = unit.post(url, {"file": SimpleUploadedFile(
        "big.pdf", PDF + b" " * sv.EVIDENCE_MAX_BYTES, "application/pdf")})
    assert big.status_code == 400 and big.json()["code"] == "file_too_large"
    none = unit.post(url, {})
    assert none.status_code == 400
    assert not TaskEvidence.objects.exists()


def test_a_retried_upload_with_the_same_key_keeps_one_file(tree, api_client):
    a = assignment_of(issue(tree), tree.t1)
    unit = api_client.as_user(tree.town_admin)
    url = f"/api/v1/cockpit/assignments/{a.pk}/evidence"

    first = unit.post(url, {"file": SimpleUploadedFile("台账.pdf", PDF, "application/pdf")},
                      HTTP_IDEMPOTENCY_KEY="upload-1")
    again = unit.post(url, {"file": SimpleUploadedFile("台账.pdf", PDF, "application/pdf")},
                      HTTP_IDEMPOTENCY_KEY="upload-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and TaskEvidence.objects.count() == 1


def test_evidence_downloads_only_for_those_who_see_the_task(tree, api_client):
    a = assignment_of(issue(tree), tree.t1)
    photo, pdf = sv.add_evidence(actor=tree.town_admin, assignment_id=a.pk,
                                 files=[sv.Upload("现场.png", jpeg()), sv.Upload("台账.pdf", PDF)])

    r = api_client.as_user(tree.district_admin).get(f"/api/v1/cockpit/evidence/{pdf.pk}")
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == PDF
    assert r["Content-Type"] == "application/pdf" and "attachment" in r["Content-Disposition"]
    assert r["X-Content-Type-Options"] == "nosniff" and "no-store" in r["Cache-Control"]
    img = api_client.as_user(tree.town_admin).get(f"/api/v1/cockpit/evidence/{photo.pk}")
    assert img.status_code == 200 and img["Content-Type"] == "image/jpeg"
    assert "attachment" not in img.get("Content-Disposition", "")
    for user, status in ((tree.sibling_town_admin, 404), (tree.community_admin, 404),
                         (tree.resident, 403), (None, 401)):
        client = api_client.as_user(user) if user else api_client
        assert client.get(f"/api/v1/cockpit/evidence/{pdf.pk}").status_code == status
    # never under a public media URL
    from django.test import Client

    assert Client().get(f"/media/{pdf.file.name}").status_code == 404


def test_an_evidence_row_without_its_file_is_404_not_a_crash(tree, api_client):
    a = assignment_of(issue(tree), tree.t1)
    e = sv.add_evidence(actor=tree.town_admin, assignment_id=a.pk,
                        files=[sv.Upload("台账.pdf", PDF)])[0]
    e.file.storage.delete(e.file.name)
    r = api_client.as_user(tree.town_admin).get(f"/api/v1/cockpit/evidence/{e.pk}")
    assert r.status_code == 404 and r.json()["code"] == "evidence_not_found"


def test_missing_things_are_404_with_their_codes(tree, api_client):
    client = api_client.as_user(tree.city_admin)
    assert client.get("/api/v1/cockpit/tasks/999999").json()["code"] == "task_not_found"
    assert client.get("/api/v1/cockpit/assignments/999999").json()["code"] == \
        "assignment_not_found"
    assert client.get("/api/v1/cockpit/evidence/999999").json()["code"] == "evidence_not_found"
    r = client.json("post", "/api/v1/cockpit/assignments/999999/submit", {"text": "x"})
    assert r.status_code == 404 and r.json()["code"] == "assignment_not_found"
