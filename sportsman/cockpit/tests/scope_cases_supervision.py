"""Scope-matrix cases of the supervision API (collected by tests/test_scope_matrix.py), and the
builders the supervision tests share.

The task is issued by district d1 to town t1. The unit's side (reading, reporting, handing in,
submitting, downloading) is cast at town level: t1's administrator and d1's (above it) may, a
community administrator of k1 (below t1) and the sibling town t2's may not. The issuer's side
(issuing, reviewing, cancelling) is cast at district level: d1's administrator and the city's
may; t1's (the unit itself: 403) and the sibling district d2's may not.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.scope import Case, ids

DISTRICT_LEVEL = {"right": "district_admin", "parent": "city_admin", "child": "town_admin",
                  "sibling": "sibling_district_admin", "resident": "resident",
                  "anonymous": None}

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Evidence files of a test go to its own folder (import this into a test module)."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}


def jpeg(exif_make: str | None = None, size: tuple[int, int] = (64, 32)) -> bytes:
    """A small JPEG, with an EXIF camera make when ``exif_make`` is given."""
    from PIL import Image

    image = Image.new("RGB", size, "green")
    out = io.BytesIO()
    if exif_make:
        exif = Image.Exif()
        exif[0x010F] = exif_make
        image.save(out, "JPEG", exif=exif.tobytes())
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def issue(tree, *, by=None, issuer=None, targets=None, deadline: dt.date | None = None,
          title: str = "清理逾期未办结的上报", category: str = "overdue_reports", **extra):
    """A task issued (by d1's administrator from d1 to t1 unless told otherwise)."""
    from django.utils import timezone

    from sportsman.cockpit import supervision as sv

    return sv.issue_task(
        actor=by or tree.district_admin, issuer_region_id=(issuer or tree.d1).pk, title=title,
        category=category, deadline=deadline or timezone.localdate() + dt.timedelta(days=7),
        target_region_ids=[t.pk for t in (targets or [tree.t1])], **extra)


def assignment_of(task, region):
    return task.assignments.get(region=region)


def _task(tree):
    task = issue(tree)
    return {"task": task, "a": assignment_of(task, tree.t1)}


def _submitted(tree):
    from sportsman.cockpit import supervision as sv

    state = _task(tree)
    sv.submit(actor=tree.town_admin, assignment_id=state["a"].pk, text="已全部清理")
    return state


def _with_evidence(tree):
    from sportsman.cockpit import supervision as sv

    state = _task(tree)
    state["evidence"] = sv.add_evidence(actor=tree.town_admin, assignment_id=state["a"].pk,
                                        files=[sv.Upload("台账.pdf", PDF)])[0]
    return state


def _status(state) -> str:
    state["a"].refresh_from_db()
    return state["a"].status


def _created(tree, state) -> bool:
    from sportsman.cockpit.models import SupervisionTask

    return SupervisionTask.objects.filter(title="矩阵督办").exists()


def _cancelled(tree, state) -> bool:
    state["task"].refresh_from_db()
    return state["task"].status == "cancelled"


def _reported(tree, state) -> bool:
    return state["a"].reports.filter(kind="progress").exists()


def _uploaded(tree, state) -> bool:
    return state["a"].evidence.exists()


def _new_task(c, t, s):
    return c.json("post", "/api/v1/cockpit/tasks", {
        "issuer": t.d1.code, "title": "矩阵督办", "category": "data_quality",
        "deadline": (dt.date.today() + dt.timedelta(days=5)).isoformat(),
        "targets": [t.t1.code]})


def _upload(c, t, s):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return c.post(f"/api/v1/cockpit/assignments/{s['a'].pk}/evidence",
                  {"file": SimpleUploadedFile("照片.pdf", PDF, "application/pdf")})


CASES: list[Case] = [
    Case("supervision.list (sees a task of t1)", op="GET /cockpit/tasks", setup=_task,
         call=lambda c, t, s: c.get("/api/v1/cockpit/tasks?role=assigned"),
         sees=lambda r, t, s: r.status_code == 200 and s["task"].pk in ids(r)),
    Case("supervision.issue from d1 to t1", op="POST /cockpit/tasks", call=_new_task,
         changed=_created, cast=DISTRICT_LEVEL),
    Case("supervision.task of t1", op="GET /cockpit/tasks/{task_id}", setup=_task,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/tasks/{s['task'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["task"].pk),
    Case("supervision.cancel a task of d1", op="POST /cockpit/tasks/{task_id}/cancel",
         setup=_task,
         call=lambda c, t, s: c.json("post", f"/api/v1/cockpit/tasks/{s['task'].pk}/cancel",
                                     {"reason": "矩阵"}),
         changed=_cancelled, cast=DISTRICT_LEVEL),
    Case("supervision.assignment of t1", op="GET /cockpit/assignments/{assignment_id}",
         setup=_task,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/assignments/{s['a'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["a"].pk),
    Case("supervision.progress of t1", op="POST /cockpit/assignments/{assignment_id}/progress",
         setup=_task,
         call=lambda c, t, s: c.json("post", f"/api/v1/cockpit/assignments/{s['a'].pk}/progress",
                                     {"progress": 30, "text": "矩阵进展"}),
         changed=_reported),
    Case("supervision.evidence of t1", op="POST /cockpit/assignments/{assignment_id}/evidence",
         setup=_task, call=_upload, changed=_uploaded),
    Case("supervision.submit of t1", op="POST /cockpit/assignments/{assignment_id}/submit",
         setup=_task,
         call=lambda c, t, s: c.json("post", f"/api/v1/cockpit/assignments/{s['a'].pk}/submit",
                                     {"text": "矩阵办结"}),
         changed=lambda t, s: _status(s) == "submitted"),
    Case("supervision.review of t1 by d1", op="POST /cockpit/assignments/{assignment_id}/review",
         setup=_submitted,
         call=lambda c, t, s: c.json("post", f"/api/v1/cockpit/assignments/{s['a'].pk}/review",
                                     {"decision": "accept"}),
         changed=lambda t, s: _status(s) == "accepted", cast=DISTRICT_LEVEL),
    Case("supervision.evidence file of t1", op="GET /cockpit/evidence/{evidence_id}",
         setup=_with_evidence,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/evidence/{s['evidence'].pk}"),
         sees=lambda r, t, s: r.status_code == 200
         and b"".join(r.streaming_content).startswith(b"%PDF-")),
]
