"""Scope-matrix cases of the bulk-exchange operations (collected by tests/test_scope_matrix.py):
a job of town t1 with one problem, an association of community k1, and imports into t1."""

from __future__ import annotations

from tests.scope import Case, ids, xlsx_text

ALL_STAFF = {"right", "parent", "child", "sibling"}


def _job(tree):
    from sportsman.associations.models import Association
    from sportsman.interfaces.models import ExchangeJob

    job = ExchangeJob.objects.create(
        kind="associations", direction="import", region=tree.t1, created_by=tree.town_admin,
        status="failed", errors=[{"row": 2, "column": "名称", "code": "matrix_probe",
                                  "message": "x"}])
    Association.objects.create(name="矩阵协会", kind="team", region=tree.k1,
                               credit_code="52330402MJ0000MATRIX")
    return {"job": job}


def _upload(client, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sportsman.interfaces.tests.exchange_helpers import csv_bytes

    content = csv_bytes([["统一社会信用代码", "名称", "类型", "所属区域代码"],
                         ["52330402MJ00000M01", "矩阵健身队", "team", tree.k1.code]])
    return client.post("/api/v1/console/exchange/imports", {
        "kind": "associations", "region_id": str(tree.t1.pk),
        "file": SimpleUploadedFile("a.csv", content, content_type="text/csv")})


def _queued(tree, state) -> bool:
    from sportsman.interfaces.models import ExchangeJob

    return ExchangeJob.objects.filter(region=tree.t1, direction="import").exists()


CASES: list[Case] = [
    Case("exchange.kinds", op="GET /console/exchange/kinds",
         call=lambda c, t, s: c.get("/api/v1/console/exchange/kinds"),
         sees=lambda r, t, s: r.status_code == 200 and any(
             k["key"] == "associations" for k in r.json()),
         allowed=ALL_STAFF),
    Case("exchange.jobs (sees t1's job)", op="GET /console/exchange/jobs", setup=_job,
         call=lambda c, t, s: c.get("/api/v1/console/exchange/jobs"),
         sees=lambda r, t, s: r.status_code == 200 and s["job"].pk in ids(r)),
    Case("exchange.import into t1", op="POST /console/exchange/imports",
         call=lambda c, t, s: _upload(c, t), changed=_queued),
    Case("exchange.job of t1", op="GET /console/exchange/jobs/{job_id}", setup=_job,
         call=lambda c, t, s: c.get(f"/api/v1/console/exchange/jobs/{s['job'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["job"].pk),
    Case("exchange.error report of t1's job", op="GET /console/exchange/jobs/{job_id}/errors.xlsx",
         setup=_job,
         call=lambda c, t, s: c.get(f"/api/v1/console/exchange/jobs/{s['job'].pk}/errors.xlsx"),
         sees=lambda r, t, s: r.status_code == 200 and b"matrix_probe" in xlsx_text(r)),
    Case("exchange.export of t1 (holds k1's association)", op="GET /console/exchange/exports/{kind}",
         setup=_job,
         call=lambda c, t, s: c.get(f"/api/v1/console/exchange/exports/associations"
                                    f"?region_id={t.t1.pk}&format=csv"),
         sees=lambda r, t, s: r.status_code == 200 and "矩阵协会".encode() in b"".join(
             r.streaming_content)),
]
