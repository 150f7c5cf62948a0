"""Scope-matrix cases of the monthly reports API (collected by tests/test_scope_matrix.py): town
t1 has last month's report. Its administrator and the district's (above it) may list it, ask for
it again and download it; the community k1's (below), the sibling town t2's, a resident and a
visitor may not (404 / 401), and asking changes nothing for them."""

from __future__ import annotations

from tests.scope import Case

PDF = b"%PDF-1.4\n% scope matrix\n%%EOF\n"
FILE = "cockpit/reports/scope-matrix/t1.pdf"


def _t1_report(tree):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from sportsman.cockpit import report
    from sportsman.cockpit.models import MonthlyReport, ReportStatus

    period = report.last_month()
    if default_storage.exists(FILE):  # one file, whatever the number of runs
        default_storage.delete(FILE)
    name = default_storage.save(FILE, ContentFile(PDF))
    row = MonthlyReport.objects.create(region=tree.t1, period=period.key,
                                       status=ReportStatus.DONE, file=name, size=len(PDF),
                                       pages=1, requested_at=timezone.now(),
                                       generated_at=timezone.now())
    return {"period": period.key, "row": row}


def _regenerated(tree, state) -> bool:
    from sportsman.cockpit.models import MonthlyReport

    return MonthlyReport.objects.get(pk=state["row"].pk).generation == 2


def _pdf(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


CASES: list[Case] = [
    Case("cockpit.reports of t1", op="GET /cockpit/{region_code}/reports",
         setup=_t1_report,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.t1.code}/reports"),
         sees=lambda r, t, s: r.status_code == 200 and [
             i["period"] for i in r.json()["items"]] == [s["period"]]),
    Case("cockpit.report of t1 generated again", op="POST /cockpit/{region_code}/reports/{period}",
         setup=_t1_report,
         call=lambda c, t, s: c.post(f"/api/v1/cockpit/{t.t1.code}/reports/{s['period']}"),
         changed=_regenerated),
    Case("cockpit.report file of t1", op="GET /cockpit/{region_code}/reports/{period}/file",
         setup=_t1_report,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.t1.code}/reports/{s['period']}/file"),
         sees=lambda r, t, s: r.status_code == 200 and _pdf(r) == PDF),
]
