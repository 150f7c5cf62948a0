"""The registry's and the one window's pages through the test client: public directory and
profile; managers' pages refused to others; the applicant's path from form to submission; the
console's list, inbox, steps and seasons for the right staff and not for others."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sportsman.associations.models import Application, Association
from sportsman.associations.tests.fixtures_window import make_association, pdf, submitted

pytestmark = pytest.mark.django_db


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return c


def test_directory_and_profile_are_public_and_filter(tree):
    assoc, manager = make_association(tree)
    make_association(tree, tree.k4, name="新塍门球队", legal_status="grassroots", kind="team")
    page = client().get(reverse("associations:directory"), {"kind": "team"})
    assert page.status_code == 200
    assert b'data-total="1"' in page.content and "新塍门球队".encode() in page.content
    page = client().get(reverse("associations:directory"), {"region": tree.t1.pk, "q": "老年"})
    assert f'data-association="{assoc.pk}"'.encode() in page.content
    profile = client().get(reverse("associations:profile", args=[assoc.pk]))
    assert profile.status_code == 200 and b'data-office="secretary_general"' in profile.content
    assert b"manage-link" not in profile.content
    assert b"manage-link" in client(manager).get(
        reverse("associations:profile", args=[assoc.pk])).content


def test_only_managers_reach_the_manage_page(tree):
    assoc, manager = make_association(tree)
    url = reverse("associations:manage", args=[assoc.pk])
    assert client().get(url).status_code in (302, 401)
    assert client(tree.resident).get(url).status_code == 404
    assert client(tree.town_admin).get(url).status_code == 404
    assert client(manager).get(url).status_code == 200
    done = client(manager).post(url, {"what": "certificate", "kind": "registration",
                                      "file": SimpleUploadedFile("c.pdf", pdf())})
    assert done.status_code == 302 and assoc.certificates.count() == 1
    client(manager).post(url, {"what": "member", "name": "李副会长", "office": "vice_president",
                               "kind": "individual"})
    assert Association.objects.get(pk=assoc.pk).members == 2


def test_the_applicant_drafts_attaches_and_submits_from_the_pages(tree):
    assoc, manager = make_association(tree)
    me = client(manager)
    form = me.get(reverse("associations:apply", args=[assoc.pk, "annual_report"]))
    assert form.status_code == 200 and b'data-kind="annual_report"' in form.content
    assert me.get(reverse("associations:apply", args=[assoc.pk, "visa"])).status_code == 404
    year = timezone.localdate().year - 1
    bad = me.post(reverse("associations:apply", args=[assoc.pk, "annual_report"]),
                  {"year": year, "activities": "x"})
    assert bad.status_code == 400
    made = me.post(reverse("associations:apply", args=[assoc.pk, "annual_report"]),
                   {"year": year, "activities": 3, "participants": 40, "income_yuan": 1000,
                    "expenditure_yuan": 900, "summary": "年度小结"})
    app = Application.objects.get()
    assert made.url == reverse("associations:application", args=[app.pk])
    url = made.url
    for key in ("inspection_form", "audit_report", "certificate_copy", "declaration"):
        me.post(url, {"what": "document", "requirement": key,
                      "file": SimpleUploadedFile(f"{key}.pdf", pdf())})
    me.post(url, {"action": "submit"})
    app.refresh_from_db()
    assert app.status == "submitted"
    page = me.get(url)
    assert b'data-application-status="submitted"' in page.content
    assert client(tree.resident).get(url).status_code == 404


def test_console_pages_for_the_right_staff(tree):
    assoc, manager = make_association(tree)
    app = submitted(assoc, manager)
    town = client(tree.town_admin)
    inbox = town.get(reverse("associations:console_inbox"))
    assert inbox.status_code == 200 and f'data-application="{app.pk}"'.encode() in inbox.content
    assert f'data-application="{app.pk}"'.encode() not in client(tree.sibling_town_admin).get(
        reverse("associations:console_inbox")).content
    assert client(tree.resident).get(reverse("associations:console_inbox")).status_code == 403
    detail = town.get(reverse("associations:console_application", args=[app.pk]))
    assert detail.status_code == 200 and b'id="application-step"' in detail.content
    assert client(tree.sibling_town_admin).get(
        reverse("associations:console_application", args=[app.pk])).status_code == 404
    town.post(reverse("associations:console_step", args=[app.pk]), {"action": "accept"})
    app.refresh_from_db()
    assert app.status == "accepted" and app.receipt_no
    district = client(tree.district_admin)
    district.post(reverse("associations:console_step", args=[app.pk]),
                  {"action": "approve", "result": "pass"})
    app.refresh_from_db()
    assert app.status == "approved"
    result = client(manager).get(reverse("associations:application_result", args=[app.pk]))
    assert result.status_code == 200 and result.content.startswith(b"%PDF-")
    listing = town.get(reverse("associations:console"))
    assert listing.status_code == 200 and f'data-association="{assoc.pk}"'.encode() in \
        listing.content
    town.post(reverse("associations:console_status", args=[assoc.pk]),
              {"status": "suspended", "reason": "未年检"})
    assert Association.objects.get(pk=assoc.pk).status == "suspended"
    seasons = town.get(reverse("associations:console_seasons"))
    assert seasons.status_code == 200 and b'id="season-form"' in seasons.content
    year = timezone.localdate().year - 1
    town.post(reverse("associations:console_seasons"),
              {"year": year, "due_on": f"{year + 1}-03-31"})
    from sportsman.associations.models import InspectionSeason

    season = InspectionSeason.objects.get()
    page = town.get(reverse("associations:console_season", args=[season.pk]))
    assert page.status_code == 200 and f'data-association="{assoc.pk}"'.encode() in page.content
