"""The demo city's reports: every state, facility reports with their tickets, timelines that
start with the submission, photos, and the demo resident's two reports."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_demo_has_reports_in_every_state(db):
    from sportsman.core import crypto, demo_city
    from sportsman.facilities.models import MaintenanceTicket
    from sportsman.governance.models import Report, ReportEvent, ReportPhoto

    demo_city.generate(scale="small", seed=3, progress=False)

    states = set(Report.objects.values_list("status", flat=True))
    assert {"submitted", "accepted", "in_progress", "resolved", "closed"} <= states
    assert Report.objects.exclude(rating=None).exists()
    at_facilities = Report.objects.exclude(facility=None)
    assert at_facilities.exists()
    assert MaintenanceTicket.objects.filter(report_id__in=at_facilities.values("pk")).count() \
        == at_facilities.count()
    first_steps = {r.timeline.order_by("at", "id").first().step for r in Report.objects.all()}
    assert first_steps == {"submitted"}
    assert ReportPhoto.objects.filter(report__in=Report.objects.all()).count() \
        >= Report.objects.count()
    for r in Report.objects.filter(status="merged"):
        assert r.merged_into_id is not None and r.merged_into_id != r.pk
    assert not ReportEvent.objects.filter(at__lt=Report.objects.order_by("created_at")
                                          .first().created_at).exists()
    demo = Report.objects.filter(reporter__phone_hash=crypto.keyed_hash("13800000000"))
    assert set(demo.values_list("status", flat=True)) >= {"resolved"}
    assert any(r.is_open for r in demo)
