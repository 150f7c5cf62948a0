"""Generating and storing monthly reports: a request queues a task that stores the PDF and tells
the requester; asking again while it runs starts nothing new; regenerating replaces the file; a
worker finishing an older generation throws its file away; a failure is recorded; the monthly
job makes last month's report once per city, district and town and tells that region's own
administrators. Races: concurrent requests make one generation, concurrent workers one file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from sportsman.cockpit import monthly_reports, report, tasks_reports
from sportsman.cockpit.models import MonthlyReport, ReportStatus
from sportsman.cockpit.tests.report_fixtures import (  # noqa: F401 (fixtures)
    private_media_fixture,
    seed,
    seeded_fixture,
)
from sportsman.core import scheduler
from sportsman.core.models import AuditEntry
from sportsman.core.testing import failures, race
from sportsman.notifications.models import Notification
from sportsman.regions.access import access_for_user

pytestmark = pytest.mark.django_db

FAKE_PDF = b"%PDF-1.7\n% a stand-in: the layout itself is tested in test_report_pdf\n%%EOF\n"


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def fake_pdf(monkeypatch):
    """Layout is slow and tested elsewhere: here a report 'renders' to a fixed file."""
    def render(content, *, progress=None):
        if progress:
            progress(80)
        return FAKE_PDF, 2
    monkeypatch.setattr(report, "render_pdf", render)


def ask(user, region, period):
    return monthly_reports.request_report(actor=user, access=access_for_user(user),
                                          region=region, period=period)


def stored_files() -> list[str]:
    try:
        _dirs, files = default_storage.listdir(monthly_reports.UPLOAD_DIR)
    except FileNotFoundError:
        return []
    found = []
    for code in _dirs:
        found += [f"{code}/{f}" for f in default_storage.listdir(
            f"{monthly_reports.UPLOAD_DIR}/{code}")[1]]
    return found + files


# --- asking and generating -----------------------------------------------------------------------

def test_a_request_generates_the_real_pdf_and_tells_the_requester(
        seeded, immediate_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = ask(seeded.town_admin, seeded.t1, seeded.period)
    row.refresh_from_db()
    assert (row.status, row.progress, row.generation) == (ReportStatus.DONE, 100, 1)
    assert row.requested_by == seeded.town_admin and row.generated_at is not None
    with default_storage.open(row.file.name, "rb") as f:
        pdf = f.read()
    assert pdf.startswith(b"%PDF-") and len(pdf) == row.size and row.pages >= 3
    assert row.file.name.startswith(f"cockpit/reports/{seeded.t1.code}/{seeded.period.key}-")
    note = Notification.objects.get(user=seeded.town_admin)
    assert note.link == f"/cockpit/{seeded.t1.code}/reports/"
    assert note.data == {"report_id": row.pk, "region": seeded.t1.code,
                         "period": seeded.period.key}
    assert AuditEntry.objects.filter(action="cockpit.report.request", region=seeded.t1,
                                     actor=seeded.town_admin).count() == 1


def test_asking_again_while_it_waits_starts_nothing_new(seeded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        first = ask(seeded.town_admin, seeded.t1, seeded.period)
        again = ask(seeded.district_admin, seeded.t1, seeded.period)
    assert again.pk == first.pk and again.generation == 1
    assert len(queued) == 1
    assert MonthlyReport.objects.count() == 1


def test_a_lost_generation_may_be_asked_for_again(seeded, django_capture_on_commit_callbacks):
    row = ask(seeded.town_admin, seeded.t1, seeded.period)
    MonthlyReport.objects.filter(pk=row.pk).update(
        requested_at=timezone.now() - monthly_reports.STALE_AFTER - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks() as queued:
        again = ask(seeded.town_admin, seeded.t1, seeded.period)
    assert again.generation == 2 and len(queued) == 1


def test_regenerating_replaces_the_file(seeded, fake_pdf, django_capture_on_commit_callbacks):
    row = ask(seeded.town_admin, seeded.t1, seeded.period)
    with django_capture_on_commit_callbacks(execute=True):
        assert monthly_reports.generate(row.pk, 1) == "done"
    row.refresh_from_db()
    first_file = row.file.name
    assert default_storage.exists(first_file)

    again = ask(seeded.district_admin, seeded.t1, seeded.period)
    assert (again.pk, again.generation, again.status) == (row.pk, 2, ReportStatus.PENDING)
    assert again.file.name == first_file  # the previous file stays until the new one is made
    with django_capture_on_commit_callbacks(execute=True):
        assert monthly_reports.generate(row.pk, 2) == "done"
    again.refresh_from_db()
    assert again.file.name != first_file and not default_storage.exists(first_file)
    assert stored_files() == [again.file.name.removeprefix("cockpit/reports/")]
    assert MonthlyReport.objects.count() == 1
    assert Notification.objects.filter(user=seeded.district_admin).count() == 1


def test_an_older_generation_finishing_late_throws_its_file_away(
        seeded, monkeypatch, django_capture_on_commit_callbacks):
    row = ask(seeded.town_admin, seeded.t1, seeded.period)

    def render(content, *, progress=None):
        # While this worker lays the report out, staff ask for it again.
        MonthlyReport.objects.filter(pk=row.pk).update(generation=2,
                                                       status=ReportStatus.PENDING)
        return FAKE_PDF, 1
    monkeypatch.setattr(report, "render_pdf", render)
    with django_capture_on_commit_callbacks(execute=True):
        assert monthly_reports.generate(row.pk, 1) == "skipped"
    row.refresh_from_db()
    assert row.status == ReportStatus.PENDING and not row.file
    assert stored_files() == []


def test_a_generation_runs_once(seeded, fake_pdf):
    row = ask(seeded.town_admin, seeded.t1, seeded.period)
    assert monthly_reports.generate(row.pk, 1) == "done"
    assert monthly_reports.generate(row.pk, 1) == "skipped"
    assert monthly_reports.generate(row.pk, 7) == "skipped"


def test_a_failure_is_recorded_and_may_be_retried(seeded, monkeypatch):
    row = ask(seeded.town_admin, seeded.t1, seeded.period)

    def broken(region, period):
        raise RuntimeError("the figures are not there")
    monkeypatch.setattr(report, "build", broken)
    assert monthly_reports.generate(row.pk, 1) == "failed"
    row.refresh_from_db()
    assert row.status == ReportStatus.FAILED
    assert row.error == "RuntimeError: the figures are not there"
    assert not monthly_reports.is_busy(row)
    assert ask(seeded.town_admin, seeded.t1, seeded.period).generation == 2
    assert not Notification.objects.exists()


def test_the_task_runs_the_generation(seeded, fake_pdf):
    row = ask(seeded.town_admin, seeded.t1, seeded.period)
    assert tasks_reports.generate_monthly_report.call(row.pk, 1) == "done"


# --- the monthly job -----------------------------------------------------------------------------

def scheduled_codes() -> set[str]:
    return set(MonthlyReport.objects.filter(requested_by=None)
               .values_list("region__code", flat=True))


def test_the_job_makes_last_months_reports_once_per_region(
        seeded, django_capture_on_commit_callbacks):
    first_of_month = seeded.period.end + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks() as queued:
        assert monthly_reports.schedule_month(today=first_of_month) == 8
    assert len(queued) == 8
    tree = seeded.tree
    # cities, districts and towns, not communities
    assert scheduled_codes() == {r.code for r in (tree.city, tree.d1, tree.d2, tree.t1, tree.t2,
                                                  tree.t3, tree.other_city, tree.other_district)}
    assert set(MonthlyReport.objects.values_list("period", flat=True)) == {seeded.period.key}
    with django_capture_on_commit_callbacks() as queued_again:
        assert monthly_reports.schedule_month(today=first_of_month) == 0
        assert monthly_reports.schedule_month(today=first_of_month + dt.timedelta(days=1)) == 0
    assert not queued_again and MonthlyReport.objects.count() == 8


def test_the_job_leaves_a_report_staff_already_made(seeded):
    ask(seeded.town_admin, seeded.t1, seeded.period)
    assert monthly_reports.schedule_month(today=seeded.period.end + dt.timedelta(days=1)) == 7
    assert MonthlyReport.objects.get(region=seeded.t1).requested_by == seeded.town_admin


def test_a_scheduled_report_tells_the_regions_own_administrators_once(seeded, fake_pdf):
    monthly_reports.schedule_month(today=seeded.period.end + dt.timedelta(days=1))
    row = MonthlyReport.objects.get(region=seeded.t1)
    assert monthly_reports.generate(row.pk, row.generation) == "done"
    told = set(Notification.objects.values_list("user_id", flat=True))
    assert told == {seeded.town_admin.pk}  # not the district's or the city's, not t2's
    note = Notification.objects.get()
    assert seeded.t1.name in note.title and note.category == "system"
    # the same month made again by the schedule's path tells nobody twice
    MonthlyReport.objects.filter(pk=row.pk).update(status=ReportStatus.PENDING, generation=2)
    assert monthly_reports.generate(row.pk, 2) == "done"
    assert Notification.objects.count() == 1


def test_the_job_is_on_the_schedule_at_six(seeded, fake_pdf):
    job = next(j for j in scheduler.SCHEDULE if j.name == "cockpit.monthly_reports")
    assert job.daily_at == dt.time(6, 0)
    assert not [p for p in scheduler.problems() if "monthly_reports" in p]
    assert tasks_reports.schedule_monthly_reports.call() == 8


# --- races ---------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_make_one_generation(tree, fake_pdf):
    period = report.last_month()
    outcomes = race(lambda i: ask(tree.town_admin, tree.t1, period).pk, 4)
    assert not failures(outcomes)
    assert len(set(outcomes)) == 1
    row = MonthlyReport.objects.get()
    assert row.generation == 1 and row.status in (ReportStatus.PENDING, ReportStatus.DONE,
                                                  ReportStatus.RUNNING)


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_store_one_file(tree, fake_pdf):
    seed(tree)
    period = report.last_month()
    row = MonthlyReport.objects.create(region=tree.t1, period=period.key,
                                       requested_at=timezone.now())
    outcomes = race(lambda i: monthly_reports.generate(row.pk, 1), 3)
    assert not failures(outcomes)
    assert sorted(outcomes) == ["done", "skipped", "skipped"]
    assert len(stored_files()) == 1
