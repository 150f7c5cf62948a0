"""Bulk exchange through the API and the console: an upload queues a job, its page polls its
progress by HTMX until it is done, the error report downloads, exports stream; another
region's job is not found; the job list reads a fixed number of queries."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sportsman.associations.models import Association
from sportsman.interfaces import exchange
from sportsman.interfaces.models import ExchangeJob, ExchangeStatus
from sportsman.interfaces.tests.exchange_helpers import csv_bytes

pytestmark = pytest.mark.django_db

ROWS = [["统一社会信用代码", "名称", "类型", "所属区域代码"],
        ["52330402MJ00000P01", "页面健身队", "team", "330402009034"]]


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_upload_on_the_console_then_progress_polls_until_done(tree):
    c = _client(tree.town_admin)
    page = c.get("/console/interfaces/exchange/")
    assert page.status_code == 200 and b'id="import-associations"' in page.content
    answer = c.post("/console/interfaces/exchange/import", {
        "kind": "associations", "file": SimpleUploadedFile("a.csv", csv_bytes(ROWS))})
    job = ExchangeJob.objects.get()
    assert answer.status_code == 302 and answer["Location"].endswith(f"/exchange/{job.pk}/")
    running = c.get(f"/console/interfaces/exchange/{job.pk}/")
    assert b'hx-trigger="every 1s"' in running.content
    assert b'data-status="queued"' in running.content
    exchange.run_import(job.pk)
    done = c.get(f"/console/interfaces/exchange/{job.pk}/progress")
    assert b'data-status="succeeded"' in done.content
    assert b"hx-trigger" not in done.content  # finished: the poll stops
    assert Association.objects.get().region == tree.k1


def test_a_bad_file_shows_its_problems_and_the_report_downloads(tree):
    c = _client(tree.town_admin)
    bad = [ROWS[0], [*ROWS[1][:2], "nonsense", ROWS[1][3]]]
    c.post("/console/interfaces/exchange/import", {
        "kind": "associations", "file": SimpleUploadedFile("a.csv", csv_bytes(bad))})
    job = ExchangeJob.objects.get()
    exchange.run_import(job.pk)
    page = c.get(f"/console/interfaces/exchange/{job.pk}/")
    assert b'data-code="invalid_choice"' in page.content
    report = c.get(f"/console/interfaces/exchange/{job.pk}/errors.xlsx")
    assert report.status_code == 200 and report["Content-Type"].startswith("application/vnd")
    assert not Association.objects.exists()


def test_console_export_streams_csv_with_a_bom(tree):
    Association.objects.create(name="导出队", kind="team", region=tree.k1,
                               credit_code="52330402MJ00000E01")
    answer = _client(tree.town_admin).get("/console/interfaces/exchange/export/associations.csv")
    body = b"".join(answer.streaming_content)
    assert body.startswith("\ufeff统一社会信用代码".encode())
    assert "导出队".encode() in body


def test_another_regions_staff_cannot_see_the_job(tree):
    job = ExchangeJob.objects.create(kind="events", direction="import", region=tree.t1,
                                     created_by=tree.town_admin)
    other = _client(tree.sibling_town_admin)
    assert other.get(f"/console/interfaces/exchange/{job.pk}/").status_code == 404
    assert other.get(f"/console/interfaces/exchange/{job.pk}/progress").status_code == 404
    assert _client(tree.resident).get("/console/interfaces/exchange/").status_code in (403, 404)


def test_api_import_answers_202_and_the_job_tells_its_problems(tree, api_client):
    c = api_client.as_user(tree.town_admin)
    bad = [ROWS[0], [*ROWS[1][:3], "330402013009"]]  # k3 is outside t1
    answer = c.post("/api/v1/console/exchange/imports", {
        "kind": "associations", "region_id": str(tree.t1.pk),
        "file": SimpleUploadedFile("a.csv", csv_bytes(bad))})
    assert answer.status_code == 202, answer.content
    job_id = answer.json()["id"]
    exchange.run_import(job_id)
    detail = c.get(f"/api/v1/console/exchange/jobs/{job_id}").json()
    assert detail["status"] == ExchangeStatus.FAILED
    assert [(e["row"], e["code"]) for e in detail["errors"]] == [(2, "region_out_of_scope")]
    refused = c.post("/api/v1/console/exchange/imports", {
        "kind": "residents", "region_id": str(tree.t1.pk),
        "file": SimpleUploadedFile("r.csv", b"x")})
    assert refused.status_code == 400 and refused.json()["code"] == "kind_not_importable"


def test_the_job_list_reads_a_fixed_number_of_queries(tree, api_client,
                                                      django_assert_max_num_queries):
    for _ in range(5):
        ExchangeJob.objects.create(kind="events", direction="export", region=tree.k1,
                                   created_by=tree.town_admin)
    c = api_client.as_user(tree.town_admin)
    with django_assert_max_num_queries(6):
        answer = c.get("/api/v1/console/exchange/jobs?limit=3")
    assert len(answer.json()["items"]) == 3 and answer.json()["next_before"]
