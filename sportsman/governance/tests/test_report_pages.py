"""The report pages: a resident reports with a photo (seeing possible duplicates first), follows,
confirms and rates; staff work the queue and the report; routing rules; helpers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sportsman.governance import proxy, reports
from sportsman.governance.models import ProxyGrant, Report, RoutingRule
from sportsman.governance.tests.fixtures_reports import LAT, LNG, facility, jpeg, make_report

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.force_login(user)
    return client


def test_a_resident_reports_on_a_facility_from_its_page(tree, client):
    court = facility(tree)
    page = _as(client, tree.resident).get(f"/places/{court.pk}/")
    assert f"/governance/reports/new/?facility={court.pk}" in page.content.decode()
    form = client.get(f"/governance/reports/new/?facility={court.pk}")
    assert court.name in form.content.decode()

    sent = client.post("/governance/reports/new/", {
        "facility": court.pk, "category": "facility_damage", "description": "单杠松动",
        "photos": [SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")]})

    report = Report.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/governance/reports/{report.pk}/"
    detail = client.get(sent["Location"]).content.decode()
    assert "单杠松动" in detail and "data-report-status" in detail
    assert report.facility == court and report.reporter == tree.resident


def test_a_possible_duplicate_is_shown_before_sending(tree, client):
    first = make_report(tree)
    _as(client, tree.resident)
    data = {"category": "lighting", "description": "灯不亮", "lat": LAT, "lng": LNG,
            "photos": [SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")]}
    shown = client.post("/governance/reports/new/", data)
    assert shown.status_code == 200 and f"/governance/reports/{first.pk}/" in \
        shown.content.decode()
    assert Report.objects.count() == 1
    data["photos"] = [SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")]
    sent = client.post("/governance/reports/new/", {**data, "send_anyway": "1"})
    assert sent.status_code == 302 and Report.objects.count() == 2


def test_a_bad_report_form_says_why_and_keeps_nothing(tree, client):
    facility(tree, units=0)
    answer = _as(client, tree.resident).post("/governance/reports/new/", {
        "category": "lighting", "description": "灯不亮", "lat": LAT, "lng": LNG})
    assert answer.status_code == 400 and not Report.objects.exists()
    assert 'data-error-code="photo_required"' in answer.content.decode()


def test_the_reporter_confirms_and_rates_on_the_page(tree, client):
    report = make_report(tree, reporter=tree.resident)
    reports.transition(actor=tree.community_admin, report_id=report.pk, to="resolved",
                       note="已修复")
    _as(client, tree.resident)
    page = client.get(f"/governance/reports/{report.pk}/").content.decode()
    assert "已修复" in page and f"/governance/reports/{report.pk}/confirm/" in page
    client.post(f"/governance/reports/{report.pk}/confirm/")
    client.post(f"/governance/reports/{report.pk}/rate/", {"rating": "4", "comment": "好"})
    report.refresh_from_db()
    assert report.status == "closed" and report.rating == 4
    # someone else sees the public page without the actions
    other = _as(client.__class__(), tree.user(home_community=tree.k1))
    page = other.get(f"/governance/reports/{report.pk}/").content.decode()
    assert "/confirm/" not in page and "/rate/" not in page


def test_staff_work_the_queue_and_another_community_sees_nothing(tree, client):
    report = make_report(tree)
    staff = _as(client, tree.community_admin)
    queue = staff.get("/governance/console/reports/").content.decode()
    assert f"/governance/console/reports/{report.pk}/" in queue
    page = staff.get(f"/governance/console/reports/{report.pk}/")
    assert page.status_code == 200 and "report-step" in page.content.decode()
    staff.post(f"/governance/console/reports/{report.pk}/step/", {"to": "accepted"})
    report.refresh_from_db()
    assert report.status == "accepted"

    outsider = _as(client.__class__(), tree.sibling_community_admin)
    assert f"/governance/console/reports/{report.pk}/" not in outsider.get(
        "/governance/console/reports/").content.decode()
    assert outsider.get(f"/governance/console/reports/{report.pk}/").status_code == 404
    outsider.post(f"/governance/console/reports/{report.pk}/step/", {"to": "resolved"})
    report.refresh_from_db()
    assert report.status == "accepted"
    assert _as(client.__class__(), tree.resident).get(
        "/governance/console/reports/").status_code == 403


def test_staff_set_a_routing_rule_for_their_region(tree, client):
    staff = _as(client, tree.community_admin)
    assert staff.get("/governance/console/report-rules/").status_code == 200
    staff.post("/governance/console/report-rules/", {
        "category": "noise", "handler": "region_staff", "accept_hours": "8",
        "resolve_days": "2"})
    rule = RoutingRule.objects.get()
    assert (rule.region, rule.accept_hours) == (tree.k1, 8)
    hub = staff.get("/governance/console/")
    assert hub.status_code == 200 and "/governance/console/reports/" in hub.content.decode()


def test_a_resident_authorises_a_helper_who_then_reports_for_them(tree, client):
    elder = tree.user(home_community=tree.k1, nickname="李大爷")
    son = tree.user(home_community=tree.k2, nickname="儿子")
    _as(client, elder).post("/governance/helpers/", {"phone": son.phone, "relation": "family"})
    grant = ProxyGrant.objects.get()
    assert (grant.principal, grant.agent) == (elder, son)

    helper = _as(client.__class__(), son)
    assert "李大爷" in helper.get("/governance/helpers/").content.decode()
    facility(tree, units=0)
    helper.post("/governance/reports/new/", {
        "category": "hygiene", "description": "健身点有垃圾", "lat": LAT, "lng": LNG,
        "for_user": elder.pk, "send_anyway": "1",
        "photos": [SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")]})
    report = Report.objects.get()
    assert report.reporter == elder and report.acted_by == son

    _as(client, elder).post(f"/governance/helpers/{grant.pk}/end/")
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert not list(proxy.grants_held(son))


def test_report_photos_are_served_and_private_uploads_are_not(tree, client):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    report = make_report(tree)
    url = report.photos.get().image.url
    served = client.get(url)
    assert served.status_code == 200 and b"".join(served.streaming_content)[:2] == b"\xff\xd8"
    private = default_storage.save("supervision/evidence.pdf", ContentFile(b"%PDF-1.4 x %%EOF"))
    assert client.get(f"/media/{private}").status_code == 404
    assert client.get("/media/governance/reports/../../supervision/evidence.pdf").status_code \
        == 404
