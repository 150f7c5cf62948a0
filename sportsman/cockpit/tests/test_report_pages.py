"""The monthly report pages: the list asks for a report and shows its progress until the file is
offered; the printable page is the report's own template with print CSS; the PDF is served to
staff of the region and its ancestors only (another town's admin: 404 for the list, the page,
the status and the file); a month that is not one is refused with a message.

Pages are asked for in English (Accept-Language) so assertions read the source strings."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from sportsman.cockpit import monthly_reports, periods, report
from sportsman.cockpit.models import MonthlyReport, ReportStatus
from sportsman.cockpit.tests.report_fixtures import (  # noqa: F401 (fixtures)
    private_media_fixture,
    seeded_fixture,
)
from sportsman.core.models import AuditEntry
from sportsman.regions.access import access_for_user

pytestmark = pytest.mark.django_db


def english(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return client


def urls(region, period) -> dict[str, str]:
    return {"list": reverse("cockpit:reports", args=[region.code]),
            "page": reverse("cockpit:report_page", args=[region.code, period.key]),
            "pdf": reverse("cockpit:report_pdf", args=[region.code, period.key]),
            "status": reverse("cockpit:report_status", args=[region.code, period.key])}


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def test_staff_ask_for_a_report_and_then_download_it(seeded, immediate_tasks,
                                                     django_capture_on_commit_callbacks):
    u = urls(seeded.t1, seeded.period)
    client = english(seeded.town_admin)
    page = client.get(u["list"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Monthly reports of 新嘉街道" in html and 'id="request-report"' in html
    assert f'value="{seeded.period.key}"' in html  # last month is offered

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(u["list"], {"period": seeded.period.key})
    assert response.status_code == 302
    row = MonthlyReport.objects.get(region=seeded.t1, period=seeded.period.key)
    assert row.status == ReportStatus.DONE

    html = client.get(u["list"]).content.decode()
    assert f'id="pdf-{seeded.period.key}"' in html and "hx-trigger" not in html

    pdf = client.get(u["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == (
        f'attachment; filename="monthly-report-{seeded.t1.code}-{seeded.period.key}.pdf"')
    assert "no-store" in pdf["Cache-Control"]
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    assert AuditEntry.objects.filter(action="cockpit.report.download", actor=seeded.town_admin,
                                     region=seeded.t1).count() == 1


def test_a_report_being_generated_refreshes_its_row_until_ready(seeded):
    u = urls(seeded.t1, seeded.period)
    monthly_reports.request_report(actor=seeded.town_admin,
                                   access=access_for_user(seeded.town_admin), region=seeded.t1,
                                   period=seeded.period)
    client = english(seeded.town_admin)
    html = client.get(u["list"]).content.decode()
    assert f'hx-get="{u["status"]}"' in html and 'hx-trigger="every 2s"' in html
    assert "<progress" in html

    MonthlyReport.objects.filter(region=seeded.t1).update(status=ReportStatus.RUNNING,
                                                          started_at=timezone.now(), progress=40)
    fragment = client.get(u["status"]).content.decode()
    assert fragment.lstrip().startswith(f'<tr id="report-{seeded.period.key}"')
    assert 'value="40"' in fragment and "hx-trigger" in fragment

    MonthlyReport.objects.filter(region=seeded.t1).update(status=ReportStatus.DONE, progress=100,
                                                          file="cockpit/reports/x.pdf")
    fragment = client.get(u["status"]).content.decode()
    assert "hx-trigger" not in fragment and f'id="pdf-{seeded.period.key}"' in fragment


def test_the_printable_page_is_the_report_with_print_css(seeded):
    u = urls(seeded.t1, seeded.period)
    response = english(seeded.district_admin).get(u["page"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "cockpit/report.css" in html and "data-print" in html
    assert 'id="cover"' in html and 'id="figures"' in html and 'id="subunits"' in html
    assert "<svg" in html and "<style" not in html and "style=" not in html  # CSP
    with translation.override("en"):
        assert report.build(seeded.t1, seeded.period).title in html
    assert f'href="{u["pdf"]}"' not in html  # no file yet


def test_this_months_page_can_be_read_before_the_month_is_over(seeded):
    this_month = periods.period_containing(periods.Grain.MONTH, timezone.localdate())
    u = urls(seeded.t1, this_month)
    assert english(seeded.town_admin).get(u["page"]).status_code == 200


@pytest.mark.parametrize("who", ["sibling_town_admin", "community_admin", "other_city_admin",
                                 "sibling_district_admin"])
def test_another_regions_staff_get_404_for_everything(seeded, who):
    u = urls(seeded.t1, seeded.period)
    MonthlyReport.objects.create(region=seeded.t1, period=seeded.period.key,
                                 status=ReportStatus.DONE, file="cockpit/reports/x.pdf",
                                 requested_at=timezone.now())
    client = english(getattr(seeded, who))
    for name in ("list", "page", "pdf", "status"):
        assert client.get(u[name]).status_code == 404, name
    assert client.post(u["list"], {"period": seeded.period.key}).status_code == 404
    assert MonthlyReport.objects.get().generation == 1


def test_staff_above_see_the_towns_reports(seeded):
    u = urls(seeded.t1, seeded.period)
    for who in ("district_admin", "city_admin"):
        assert english(getattr(seeded, who)).get(u["list"]).status_code == 200


def test_residents_and_visitors_are_kept_out(seeded):
    u = urls(seeded.t1, seeded.period)
    assert english(seeded.resident).get(u["list"]).status_code == 403
    response = english().get(u["page"])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("bad", ["2026-13", "2026-Q2", "abc"])
def test_a_bad_month_is_refused_with_a_message(seeded, bad):
    client = english(seeded.town_admin)
    for url in (f"/cockpit/{seeded.t1.code}/reports/{bad}/",
                f"/cockpit/{seeded.t1.code}/reports/{bad}.pdf"):
        response = client.get(url)
        assert response.status_code == 400
        assert "Unknown month: give it as YYYY-MM, for example 2026-05." in (
            response.content.decode())


def test_asking_for_a_month_that_is_not_over_changes_nothing(seeded):
    u = urls(seeded.t1, seeded.period)
    this_month = periods.period_containing(periods.Grain.MONTH, timezone.localdate())
    client = english(seeded.town_admin)
    response = client.post(u["list"], {"period": this_month.key}, HTTP_REFERER=u["list"])
    assert response.status_code == 302
    assert not MonthlyReport.objects.exists()
    assert "This month is not over yet" in client.get(u["list"]).content.decode()


def test_a_month_without_a_file_has_no_pdf(seeded):
    response = english(seeded.town_admin).get(urls(seeded.t1, seeded.period)["pdf"])
    assert response.status_code == 404
    assert "has not been generated yet" in response.content.decode()


# --- the API -------------------------------------------------------------------------------------

def test_the_api_asks_for_a_report_once_per_idempotency_key(seeded, api_client):
    client = api_client.as_user(seeded.town_admin)
    url = f"/api/v1/cockpit/{seeded.t1.code}/reports/{seeded.period.key}"
    first = client.post(url, HTTP_IDEMPOTENCY_KEY="report-1")
    assert first.status_code == 202
    assert first.json()["status"] == "pending" and first.json()["file_url"] is None
    MonthlyReport.objects.update(status=ReportStatus.FAILED)  # so a new request would regenerate
    again = client.post(url, HTTP_IDEMPOTENCY_KEY="report-1")
    assert again.status_code == 202 and again.json() == first.json()
    assert MonthlyReport.objects.get().generation == 1
    listed = client.get(f"/api/v1/cockpit/{seeded.t1.code}/reports").json()["items"]
    assert [(i["period"], i["status"]) for i in listed] == [(seeded.period.key, "failed")]


@pytest.mark.parametrize("bad", ["2026-13", "2026-Q2", "current"])
def test_the_api_refuses_a_bad_or_unfinished_month(seeded, api_client, bad):
    if bad == "current":
        bad = periods.period_containing(periods.Grain.MONTH, timezone.localdate()).key
    response = api_client.as_user(seeded.town_admin).post(
        f"/api/v1/cockpit/{seeded.t1.code}/reports/{bad}")
    assert response.status_code == 400 and response.json()["code"] == "bad_period"
    assert not MonthlyReport.objects.exists()


def test_the_api_has_no_file_before_one_is_generated(seeded, api_client):
    response = api_client.as_user(seeded.town_admin).get(
        f"/api/v1/cockpit/{seeded.t1.code}/reports/{seeded.period.key}/file")
    assert response.status_code == 404
