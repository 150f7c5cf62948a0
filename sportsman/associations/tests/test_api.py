"""The associations API: the directory and profiles, the managers' writes, the one window from
draft to decision over HTTP (idempotent create, uploads refused by type and size, the result
PDF), the inbox, seasons, and a fixed number of queries per list whatever its length."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sportsman.associations.models import Application, Association
from sportsman.associations.tests.fixtures_window import (
    annual_data,
    jpeg,
    make_association,
    pdf,
    submitted,
)

pytestmark = pytest.mark.django_db


def _upload(client, app_id, requirement, content, name="doc.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"/api/v1/applications/{app_id}/documents",
                       {"requirement": requirement,
                        "file": SimpleUploadedFile(name, content)})


def test_the_directory_filters_searches_and_pages(tree, api_client):
    for i in range(5):
        make_association(tree, name=f"新嘉第{i}健身队", legal_status="grassroots", kind="team")
    make_association(tree, tree.k4, name="新塍体育总会", kind="federation")
    gone, _m = make_association(tree, name="已注销协会")
    Association.objects.filter(pk=gone.pk).update(status="dissolved")
    body = api_client.get("/api/v1/associations?limit=2").json()
    assert (body["total"], body["pages"], len(body["items"])) == (6, 3, 2)
    assert api_client.get(f"/api/v1/associations?region_id={tree.t3.pk}").json()["total"] == 1
    assert api_client.get("/api/v1/associations?kind=team").json()["total"] == 5
    assert api_client.get("/api/v1/associations?legal_status=registered").json()["total"] == 1
    assert api_client.get("/api/v1/associations?q=第3").json()["items"][0]["name"] == \
        "新嘉第3健身队"
    assert api_client.get(f"/api/v1/associations/{gone.pk}").json()["code"] == \
        "association_not_found"


def test_lists_take_a_fixed_number_of_queries(tree, api_client):
    def count(client, path):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    assoc, manager = make_association(tree)
    submitted(assoc, manager)
    me = api_client.as_user(manager)
    town = api_client.as_user(tree.town_admin)
    paths = [(api_client, "/api/v1/associations"), (me, "/api/v1/applications/mine"),
             (town, "/api/v1/console/applications"),
             (town, "/api/v1/console/applications?all=true"),
             (town, "/api/v1/console/associations")]
    before = [count(c, p) for c, p in paths]
    for i in range(6):
        more, more_manager = make_association(tree, name=f"协会{i}", manager=manager)
        submitted(more, more_manager, data=annual_data())
    assert [count(c, p) for c, p in paths] == before


def test_an_annual_report_from_draft_to_decision_over_http(tree, api_client):
    assoc, manager = make_association(tree)
    me = api_client.as_user(manager)
    draft = me.json("post", f"/api/v1/associations/{assoc.pk}/applications",
                    {"kind": "annual_report", "data": annual_data()},
                    HTTP_IDEMPOTENCY_KEY="annual-1")
    assert draft.status_code == 201, draft.content
    again = me.json("post", f"/api/v1/associations/{assoc.pk}/applications",
                    {"kind": "annual_report", "data": annual_data()},
                    HTTP_IDEMPOTENCY_KEY="annual-1")
    assert again.json() == draft.json() and Application.objects.count() == 1
    app_id = draft.json()["id"]
    assert set(draft.json()["missing_documents"]) == {
        "inspection_form", "audit_report", "certificate_copy", "declaration"}
    refused = me.json("post", f"/api/v1/applications/{app_id}/transition", {"action": "submit"})
    assert (refused.status_code, refused.json()["code"]) == (400, "documents_missing")
    wrong = _upload(me, app_id, "audit_report", b"PK\x03\x04 a zip file", "audit.zip")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "file_type")
    big = _upload(me, app_id, "audit_report", pdf(size=10 * 1024 * 1024 + 1))
    assert (big.status_code, big.json()["code"]) == (400, "file_too_large")
    for key in ("inspection_form", "audit_report", "certificate_copy"):
        assert _upload(me, app_id, key, pdf()).status_code == 201
    assert _upload(me, app_id, "declaration", jpeg(), "seal.jpg").json()["file_type"] == "jpg"
    body = me.json("post", f"/api/v1/applications/{app_id}/transition",
                   {"action": "submit"}).json()
    assert (body["status"], body["level"], body["actions"]) == ("submitted", "town", [])
    town = api_client.as_user(tree.town_admin)
    assert [a["id"] for a in town.get("/api/v1/console/applications").json()["items"]] == \
        [app_id]
    assert town.get(f"/api/v1/applications/{app_id}").json()["actions"] == [
        "accept", "return", "reject"]
    body = town.json("post", f"/api/v1/applications/{app_id}/transition",
                     {"action": "accept"}).json()
    assert body["status"] == "accepted" and body["receipt_no"].startswith("JX-")
    district = api_client.as_user(tree.district_admin)
    early = me.get(f"/api/v1/applications/{app_id}/result.pdf")
    assert (early.status_code, early.json()["code"]) == (409, "no_result_yet")
    body = district.json("post", f"/api/v1/applications/{app_id}/transition",
                         {"action": "approve", "result": "pass", "note": "材料齐全"}).json()
    assert (body["status"], body["result"], body["decided_on_time"]) == ("approved", "pass",
                                                                         True)
    assert [(s["action"], s["by"]) for s in body["timeline"]] == [
        ("create", "association"), ("submit", "association"), ("accept", "town_admin"),
        ("approve", "district_admin")]
    assert all("nickname" not in s and s["by"] != tree.town_admin.nickname
               for s in body["timeline"])
    for client in (me, district):
        result = client.get(f"/api/v1/applications/{app_id}/result.pdf")
        assert result.status_code == 200 and result.content.startswith(b"%PDF-")
    assert api_client.as_user(tree.sibling_town_admin).get(
        f"/api/v1/applications/{app_id}/result.pdf").status_code == 404
    doc_id = me.get(f"/api/v1/applications/{app_id}").json()["documents"][0]["id"]
    assert district.get(f"/api/v1/applications/{app_id}/documents/{doc_id}").content.startswith(
        b"%PDF-")


def test_kinds_describe_their_fields_documents_and_levels(api_client):
    kinds = {k["code"]: k for k in api_client.get("/api/v1/applications/kinds").json()}
    assert set(kinds) == {"preparation", "registration", "filing", "annual_report",
                          "event_filing", "high_risk_permit", "change"}
    assert kinds["annual_report"]["levels"] == ["town", "district"]
    assert "rectification" in {d["key"] for d in kinds["annual_report"]["documents"]}
    assert "starts_on" in {f["name"] for f in kinds["high_risk_permit"]["fields"]}


def test_managers_edit_their_profile_members_and_certificates(tree, api_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    assoc, manager = make_association(tree)
    me = api_client.as_user(manager)
    assert api_client.as_user(tree.resident).json(
        "patch", f"/api/v1/associations/{assoc.pk}", {"address": "x"}).status_code == 404
    body = me.json("patch", f"/api/v1/associations/{assoc.pk}",
                   {"address": "新嘉街道健身中心", "contact_phone": "0573-8200000"}).json()
    assert body["address"] == "新嘉街道健身中心" and body["can_manage"] is True
    assert me.json("patch", f"/api/v1/associations/{assoc.pk}",
                   {"name": "改名"}).status_code == 400
    made = me.json("post", f"/api/v1/associations/{assoc.pk}/members",
                   {"name": "王会长", "office": "president", "user_id": tree.resident.pk})
    assert made.status_code == 201
    assert Association.objects.get(pk=assoc.pk).members == 2
    officers = api_client.get(f"/api/v1/associations/{assoc.pk}").json()["officers"]
    assert {o["office"] for o in officers} == {"president", "secretary_general"}
    own = [m for m in me.get(f"/api/v1/associations/{assoc.pk}/members").json() if m["manages"]]
    last = me.json("patch", f"/api/v1/associations/{assoc.pk}/members/{own[0]['id']}",
                   {"leave": True})
    assert last.json()["code"] == "last_manager"
    left = me.json("patch", f"/api/v1/associations/{assoc.pk}/members/{made.json()['id']}",
                   {"leave": True})
    assert left.status_code == 200 and Association.objects.get(pk=assoc.pk).members == 1
    cert = me.post(f"/api/v1/associations/{assoc.pk}/certificates",
                   {"kind": "registration", "number": "浙嘉民社证001",
                    "file": SimpleUploadedFile("c.pdf", pdf())})
    assert cert.status_code == 201
    junk = me.post(f"/api/v1/associations/{assoc.pk}/certificates",
                   {"kind": "registration", "file": SimpleUploadedFile("c.txt", b"hello")})
    assert junk.json()["code"] == "file_type"


def test_staff_create_suspend_and_dissolve_in_their_subtree(tree, api_client):
    town = api_client.as_user(tree.town_admin)
    made = town.json("post", "/api/v1/console/associations",
                     {"region_id": tree.k1.pk, "name": "花园太极队", "kind": "team"})
    assert made.status_code == 201
    twice = town.json("post", "/api/v1/console/associations",
                      {"region_id": tree.k1.pk, "name": "花园太极队", "kind": "team"})
    assert twice.json()["code"] == "association_name_taken"
    aid = made.json()["id"]
    step = town.json("post", f"/api/v1/console/associations/{aid}/status",
                     {"status": "suspended"})
    assert step.json()["code"] == "reason_required"
    assert town.json("post", f"/api/v1/console/associations/{aid}/status",
                     {"status": "suspended", "reason": "未年检"}).json()["status"] == "suspended"
    gone = town.json("post", f"/api/v1/console/associations/{aid}/status",
                     {"status": "dissolved", "reason": "自行解散"}).json()
    assert gone["status"] == "dissolved"
    assert Association.objects.get(pk=aid).dissolved_at is not None
    again = town.json("post", f"/api/v1/console/associations/{aid}/status", {"status": "active"})
    assert again.json()["code"] == "association_status_not_allowed"


def test_opening_a_season_over_http(tree, api_client):
    make_association(tree)
    year = timezone.localdate().year - 1
    town = api_client.as_user(tree.town_admin)
    made = town.json("post", "/api/v1/console/inspection-seasons",
                     {"region_id": tree.t1.pk, "year": year, "due_on": f"{year + 1}-03-31"})
    assert made.status_code == 201, made.content
    detail = town.get(f"/api/v1/console/inspection-seasons/{made.json()['id']}").json()
    assert len(detail["associations"]) == 1 and detail["associations"][0]["status"] == ""
