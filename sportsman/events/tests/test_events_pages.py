"""Events pages: the list, an event (register, why not, leaderboard), my registrations (QR,
cancel, calendar address), the certificate; the console list, form, event page (actions,
results), export and scanner — each staff page tried by the right staff, a sibling region's
staff, a resident and a visitor."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sportsman.events.models import Event, EventStatus, Registration, RegStatus
from sportsman.events.tests.factories import make_event

pytestmark = pytest.mark.django_db


def english(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return client


def test_the_list_shows_published_events_to_visitors(tree):
    make_event(tree.k1, title="花园社区健步走")
    make_event(tree.k1, title="草稿赛", status=EventStatus.DRAFT)

    page = english().get(reverse("events:list")).content.decode()

    assert "花园社区健步走" in page and "草稿赛" not in page


def test_an_event_page_offers_registration_and_registering_lands_on_my_page(tree):
    event = make_event(tree.k1, title="社区羽毛球赛", form_fields=[
        {"key": "level", "label": "水平", "type": "choice", "choices": ["新手", "熟手"],
         "required": True}])
    client = english(tree.resident)

    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert 'id="register-form"' in page and "水平" in page
    answer = client.post(reverse("events:register", args=[event.pk]), {"q_level": "新手"})

    assert answer.status_code == 302 and answer["Location"] == reverse("events:mine")
    reg = Registration.objects.get(user=tree.resident)
    assert reg.answers == {"level": "新手"}
    mine = client.get(reverse("events:mine")).content.decode()
    assert reg.code in mine and "<svg" in mine and 'id="feed-url"' in mine


def test_an_ineligible_resident_sees_why_and_a_visitor_is_asked_to_log_in(tree):
    event = make_event(tree.k1, sex="M")
    tree.resident.sex = "F"
    tree.resident.save()

    page = english(tree.resident).get(reverse("events:detail", args=[event.pk])).content.decode()
    assert 'data-reason="sex"' in page
    visitor = english().get(reverse("events:detail", args=[event.pk])).content.decode()
    assert reverse("accounts:login") in visitor


def test_a_refused_registration_shows_the_reason_on_the_event(tree):
    event = make_event(tree.k1, capacity=1, has_waitlist=False)
    Registration.objects.create(event=event, user=tree.user())
    Event.objects.filter(pk=event.pk).update(registered=1)

    answer = english(tree.resident).post(reverse("events:register", args=[event.pk]),
                                         follow=True)

    assert "This event is full." in answer.content.decode()
    assert not Registration.objects.filter(user=tree.resident).exists()


def test_cancelling_on_my_page(tree):
    event = make_event(tree.k1)
    reg = Registration.objects.create(event=event, user=tree.resident)
    Event.objects.filter(pk=event.pk).update(registered=1)

    english(tree.resident).post(reverse("events:cancel", args=[reg.pk]))

    assert Registration.objects.get(pk=reg.pk).status == RegStatus.CANCELLED
    assert english(tree.user()).post(reverse("events:cancel", args=[reg.pk])).status_code == 302


def test_the_certificate_page_serves_my_pdf_only(tree):
    event = make_event(tree.k1)
    reg = Registration.objects.create(event=event, user=tree.resident,
                                      status=RegStatus.CHECKED_IN)

    mine = english(tree.resident).get(reverse("events:certificate", args=[reg.pk]))
    assert mine.status_code == 200 and mine["Content-Type"] == "application/pdf"
    assert english(tree.user()).get(reverse("events:certificate", args=[reg.pk])) \
        .status_code == 404


def test_resident_pages_need_a_login(tree):
    assert english().get(reverse("events:mine")).status_code == 302


@pytest.mark.parametrize("name", ["console", "console_new", "console_scan"])
def test_console_pages_are_for_event_staff(tree, name):
    url = reverse(f"events:{name}")
    assert english(tree.town_admin).get(url).status_code == 200
    assert english(tree.resident).get(url).status_code == 403
    assert english().get(url).status_code == 302


def test_the_console_list_shows_my_regions_events_only(tree):
    make_event(tree.k1, title="新嘉草稿", status=EventStatus.DRAFT)
    make_event(tree.k3, title="东栅比赛")

    page = english(tree.town_admin).get(reverse("events:console")).content.decode()

    assert "新嘉草稿" in page and "东栅比赛" not in page


def test_creating_an_event_from_the_form_and_publishing_it(tree):
    client = english(tree.town_admin)
    answer = client.post(reverse("events:console_new"), {
        "region": tree.t1.pk, "title": "新嘉街道乒乓球赛", "mode": "offline",
        "entry": "individual", "team_min": 2, "team_max": 10, "organiser_kind": "government",
        "starts_at": "2027-04-01T09:00", "ends_at": "2027-04-01T12:00",
        "registration_opens_at": "2027-01-01T00:00", "registration_closes_at": "2027-03-30T00:00",
        "capacity": 32, "has_waitlist": "on", "result_order": "higher"})

    event = Event.objects.get(title="新嘉街道乒乓球赛")
    assert answer.status_code == 302 and event.status == EventStatus.DRAFT
    assert event.level == "town"
    client.post(reverse("events:console_action", args=[event.pk, "publish"]))
    assert Event.objects.get(pk=event.pk).status == EventStatus.PUBLISHED
    page = client.get(reverse("events:console_event", args=[event.pk])).content.decode()
    assert 'id="action-cancel"' in page


def test_a_bad_form_stays_on_the_form_with_the_problem(tree):
    answer = english(tree.town_admin).post(reverse("events:console_new"), {
        "region": tree.t1.pk, "title": "坏表单", "mode": "offline", "entry": "individual",
        "team_min": 2, "team_max": 10, "organiser_kind": "government",
        "starts_at": "2027-04-01T09:00", "ends_at": "2027-04-01T08:00",
        "registration_opens_at": "2027-01-01T00:00", "registration_closes_at": "2027-03-30T00:00",
        "capacity": 5, "result_order": "higher"})

    assert answer.status_code == 200
    assert "The event cannot end before it starts." in answer.content.decode()
    assert not Event.objects.exists()


def test_a_sibling_regions_staff_do_not_find_the_event(tree):
    event = make_event(tree.k1)
    for name in ("console_event", "console_edit", "console_export"):
        assert english(tree.sibling_town_admin).get(
            reverse(f"events:{name}", args=[event.pk])).status_code == 404
    english(tree.sibling_town_admin).post(reverse("events:console_action",
                                                  args=[event.pk, "cancel"]))
    assert Event.objects.get(pk=event.pk).status == EventStatus.PUBLISHED


def test_scanning_and_entering_results_from_the_console(tree):
    event = make_event(tree.k1)
    reg = Registration.objects.create(event=event, user=tree.user(nickname="扫码者"))
    Event.objects.filter(pk=event.pk).update(registered=1)
    client = english(tree.town_admin)

    scanned = client.post(reverse("events:console_scan"), {"code": f"SPE:{reg.code}",
                                                          "event": event.pk})
    assert 'id="scan-result"' in scanned.content.decode()
    client.post(reverse("events:console_results", args=[event.pk]), {f"score_{reg.pk}": "12.5"})
    reg.refresh_from_db()
    assert (reg.status, reg.score, reg.rank) == (RegStatus.CHECKED_IN, 12.5, 1)
    export = client.get(reverse("events:console_export", args=[event.pk]))
    assert export.status_code == 200 and export["Content-Type"].startswith(
        "application/vnd.openxmlformats")
