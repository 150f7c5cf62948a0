"""Health services: consent gates everything the clinic sees, withdrawal takes effect on the next
request, progress comes from the daily rollup in local weeks, bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sportsman.activity.models import UserDay
from sportsman.activity.selectors import today
from sportsman.health import selectors, services
from sportsman.health.models import ClinicConsent, ClinicStaff, Prescription
from sportsman.health.tests.fixtures import world
from sportsman.regions.access import Access, Perm

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def _issue_body(w, resident_id: int, **over):
    body = {"resident_id": resident_id, "sport_id": w.sport.pk, "intensity": "moderate",
            "sessions_per_week": 3, "minutes_per_session": 30, "weeks": 8,
            "starts_on": today().isoformat()}
    return {**body, **over}


def _url(w, rest: str = "") -> str:
    return f"/api/v1/clinic/{w.a.pk}/prescriptions{rest}"


# --- consent gates the clinic ------------------------------------------------------------------


def test_a_clinic_without_consent_gets_nothing(tree, api_client):
    w = world(tree)
    stranger = tree.user(home_community=tree.k1, nickname="no-consent")
    # A prescription the stranger once had from A, under a consent since withdrawn.
    old = ClinicConsent.objects.create(user=stranger, clinic=w.a, version="1")
    hidden = Prescription.objects.create(
        clinic=w.a, resident=stranger, sport=w.sport, intensity="low", sessions_per_week=2,
        minutes_per_session=20, weeks=2, starts_on=today())
    services.withdraw_consent(user=stranger, consent_id=old.pk)
    clinic = api_client.as_user(w.staff_a)

    residents = clinic.get(f"/api/v1/clinic/{w.a.pk}/residents").json()
    assert stranger.pk not in {r["resident_id"] for r in residents}
    assert hidden.pk not in {r["id"] for r in clinic.get(_url(w)).json()}
    detail = clinic.get(_url(w, f"/{hidden.pk}"))
    assert detail.status_code == 404 and detail.json()["code"] == "not_found"
    assert b"no-consent" not in detail.content
    refused = clinic.json("post", _url(w), _issue_body(w, stranger.pk))
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert Prescription.objects.filter(resident=stranger).count() == 1


def test_consent_to_clinic_b_gives_clinic_a_nothing(tree, api_client):
    w = world(tree)
    other = tree.user(home_community=tree.k1)
    ClinicConsent.objects.create(user=other, clinic=w.b, version="1")
    r = api_client.as_user(w.staff_a).json("post", _url(w), _issue_body(w, other.pk))
    assert r.status_code == 404
    assert not Prescription.objects.filter(resident=other).exists()


def test_withdrawal_takes_effect_on_the_next_request(tree, api_client):
    w = world(tree)
    clinic = api_client.as_user(w.staff_a)
    resident = api_client.as_user(tree.resident)
    assert clinic.get(_url(w, f"/{w.prescription.pk}")).status_code == 200

    r = resident.post(f"/api/v1/health/consents/{w.consent.pk}/withdraw")
    assert r.status_code == 200 and r.json()["is_live"] is False

    # The same clinic client, the very next request: gone everywhere.
    assert clinic.get(_url(w, f"/{w.prescription.pk}")).status_code == 404
    assert clinic.get(_url(w)).json() == []
    assert clinic.get(f"/api/v1/clinic/{w.a.pk}/residents").json() == []
    assert clinic.json("post", _url(w), _issue_body(w, tree.resident.pk)).status_code == 404
    # The resident still sees their own prescription.
    mine = resident.get("/api/v1/health/prescriptions").json()
    assert [p["id"] for p in mine] == [w.prescription.pk]


def test_withdrawal_reaches_an_access_built_before_it(tree):
    """Nothing about the grant is cached on the Access: only the clinic post is, per request."""
    w = world(tree)
    access = Access(w.staff_a)
    assert selectors.prescriptions_of_clinic(selectors.clinic_for(access, w.a.pk)).exists()
    services.withdraw_consent(user=tree.resident, consent_id=w.consent.pk)
    assert not selectors.prescriptions_of_clinic(selectors.clinic_for(access, w.a.pk)).exists()


def test_clinic_pages_follow_consent_and_post(tree, client):
    w = world(tree)
    client.force_login(w.staff_a)
    page = client.get(f"/health/clinic/{w.a.pk}/")
    assert page.status_code == 200
    assert f'data-prescription="{w.prescription.pk}"'.encode() in page.content
    detail = f"/health/clinic/{w.a.pk}/prescriptions/{w.prescription.pk}/"
    assert client.get(detail).status_code == 200
    services.withdraw_consent(user=tree.resident, consent_id=w.consent.pk)
    assert f'data-prescription="{w.prescription.pk}"'.encode() not in client.get(
        f"/health/clinic/{w.a.pk}/").content
    assert client.get(detail).status_code == 404
    # Clinic B's staff never reach clinic A's console.
    client.force_login(w.staff_b)
    assert client.get(f"/health/clinic/{w.a.pk}/").status_code == 404


def test_removed_staff_lose_the_clinic_on_their_next_request(tree, api_client):
    w = world(tree)
    clinic = api_client.as_user(w.staff_a)
    assert clinic.get(_url(w)).status_code == 200
    staff = ClinicStaff.objects.get(user=w.staff_a)
    services.remove_staff(access=Access(tree.district_admin), clinic_id=w.a.pk,
                          staff_id=staff.pk)
    assert clinic.get(_url(w)).status_code == 403  # holds CLINIC_PRACTISE nowhere now


def test_clinic_post_is_an_object_grant_not_a_region_one(tree):
    w = world(tree)
    access = Access(w.staff_a)
    assert access.has_anywhere(Perm.CLINIC_PRACTISE)
    assert access.can_on(Perm.CLINIC_PRACTISE, w.a.pk)
    assert not access.can_on(Perm.CLINIC_PRACTISE, w.b.pk)
    assert not access.can(Perm.CLINIC_PRACTISE, tree.t1)  # no region subtree comes with it
    assert not Access(tree.city_admin).has_anywhere(Perm.CLINIC_PRACTISE)


# --- the resident ------------------------------------------------------------------------------


def test_resident_grants_lists_and_withdraws_consent(tree, api_client):
    w = world(tree)
    me = api_client.as_user(tree.resident)
    assert {c["id"] for c in me.get("/api/v1/health/clinics").json()} == {w.a.pk, w.b.pk}
    r = me.json("post", "/api/v1/health/consents", {"clinic_id": w.b.pk})
    assert r.status_code == 201
    body = r.json()
    assert body["clinic"]["id"] == w.b.pk and body["purpose"] == "exercise_prescription"
    assert body["scope"] == "weekly_totals" and body["is_live"] is True
    again = me.json("post", "/api/v1/health/consents", {"clinic_id": w.b.pk})
    assert again.status_code == 409 and again.json()["code"] == "consent_exists"
    assert ClinicConsent.objects.filter(user=tree.resident, clinic=w.b).count() == 1
    me.post(f"/api/v1/health/consents/{body['id']}/withdraw")
    twice = me.post(f"/api/v1/health/consents/{body['id']}/withdraw")
    assert twice.status_code == 409 and twice.json()["code"] == "consent_withdrawn"
    # Consent may be given again after withdrawal: a new row, the old one stays as the record.
    assert me.json("post", "/api/v1/health/consents", {"clinic_id": w.b.pk}).status_code == 201
    assert ClinicConsent.objects.filter(user=tree.resident, clinic=w.b).count() == 2


def test_nobody_withdraws_another_residents_consent(tree, api_client):
    w = world(tree)
    other = api_client.as_user(tree.user(home_community=tree.k1))
    r = other.post(f"/api/v1/health/consents/{w.consent.pk}/withdraw")
    assert r.status_code == 404
    w.consent.refresh_from_db()
    assert w.consent.withdrawn_at is None


def test_resident_pages(tree, client):
    w = world(tree)
    client.force_login(tree.resident)
    mine = client.get("/health/")
    assert mine.status_code == 200 and f'data-prescription="{w.prescription.pk}"'.encode() in (
        mine.content)
    assert client.get(f"/health/prescriptions/{w.prescription.pk}/").status_code == 200
    page = client.get("/health/consents/")
    assert f'data-consent="{w.consent.pk}" data-live="1"'.encode() in page.content
    client.post(f"/health/consents/{w.consent.pk}/withdraw/")
    w.consent.refresh_from_db()
    assert w.consent.withdrawn_at is not None
    client.post("/health/consents/grant/", {"clinic_id": w.b.pk})
    assert ClinicConsent.objects.filter(user=tree.resident, clinic=w.b,
                                        withdrawn_at__isnull=True).exists()
    # Another resident's prescription is not found.
    client.force_login(tree.user(home_community=tree.k1))
    assert client.get(f"/health/prescriptions/{w.prescription.pk}/").status_code == 404


# --- issuing: bad input changes nothing --------------------------------------------------------


def test_issue_by_clinic_staff(tree, api_client):
    w = world(tree)
    r = api_client.as_user(w.staff_a).json(
        "post", _url(w), _issue_body(w, tree.resident.pk, intensity="heart_rate",
                                     heart_rate_low=100, heart_rate_high=130, notes="饭后一小时"))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["heart_rate_low"] == 100 and body["sessions_planned"] == 24
    assert len(body["progress"]) == 8


@pytest.mark.parametrize(("over", "code", "field"), [
    ({"minutes_per_session": 3}, "bad_prescription", "minutes_per_session"),
    ({"intensity": "extreme"}, "bad_prescription", "intensity"),
    ({"intensity": "heart_rate"}, "bad_prescription", "heart_rate_low"),
    ({"intensity": "heart_rate", "heart_rate_low": 140, "heart_rate_high": 120},
     "bad_prescription", "heart_rate_high"),
    ({"sport_id": 999999}, "bad_prescription", "sport_id"),
    ({"starts_on": "2000-01-01"}, "bad_prescription", "starts_on"),
    ({"sessions_per_week": 0}, "invalid", "sessions_per_week"),
    ({"weeks": 53}, "invalid", "weeks"),
    ({"dose": 1}, "unknown_field", "dose"),
])
def test_bad_prescription_is_refused_with_a_code_and_changes_nothing(tree, api_client, over,
                                                                      code, field):
    w = world(tree)
    before = Prescription.objects.count()
    r = api_client.as_user(w.staff_a).json("post", _url(w), _issue_body(w, tree.resident.pk,
                                                                        **over))
    assert r.status_code == 400, r.content
    assert r.json()["code"] == code and field in r.json()["fields"]
    assert Prescription.objects.count() == before


def test_bad_form_input_on_the_clinic_page_changes_nothing(tree, client):
    w = world(tree)
    client.force_login(w.staff_a)
    before = Prescription.objects.count()
    r = client.post(f"/health/clinic/{w.a.pk}/issue/", {
        "resident_id": tree.resident.pk, "sport_id": w.sport.pk, "intensity": "low",
        "sessions_per_week": "3", "minutes_per_session": "30", "weeks": "4",
        "starts_on": "not-a-date"})
    assert r.status_code == 400
    assert Prescription.objects.count() == before
    ok = client.post(f"/health/clinic/{w.a.pk}/issue/", {
        "resident_id": tree.resident.pk, "sport_id": w.sport.pk, "intensity": "low",
        "sessions_per_week": "3", "minutes_per_session": "30", "weeks": "4",
        "starts_on": today().isoformat()})
    assert ok.status_code == 302 and Prescription.objects.count() == before + 1


def test_registry_refuses_a_duplicate_clinic(tree):
    w = world(tree)
    from sportsman.core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        services.register_clinic(access=Access(tree.district_admin), region_id=tree.t1.pk,
                                 name=w.a.name)
    assert refused.value.code == "clinic_exists"


# --- progress ----------------------------------------------------------------------------------


def _day(user, day: dt.date, sessions: int, minutes: int) -> None:
    UserDay.objects.create(user=user, day=day, region=user.home_community, sessions=sessions,
                           minutes=minutes)


def test_progress_counts_local_weeks_across_a_year_end(tree):
    # Week 1: 2026-12-28 .. 2027-01-03, week 2: 2027-01-04 .. 2027-01-10, week 3 onward.
    w = world(tree, starts_on=dt.date(2026, 12, 28))
    r = tree.resident
    _day(r, dt.date(2026, 12, 28), 1, 30)
    _day(r, dt.date(2026, 12, 31), 1, 30)
    _day(r, dt.date(2027, 1, 3), 1, 35)  # the week's last day: inside week 1
    _day(r, dt.date(2027, 1, 4), 1, 90)  # one long session is not three sessions
    _day(r, dt.date(2027, 1, 12), 2, 60)
    prog = selectors.progress([w.prescription], on=dt.date(2027, 1, 12))[w.prescription.pk]
    assert [(wk.sessions, wk.minutes, wk.state) for wk in prog.weeks] == [
        (3, 95, "met"), (1, 90, "missed"), (2, 60, "current"), (0, 0, "future")]
    assert (prog.weeks_met, prog.weeks_past, prog.sessions_done, prog.sessions_planned) == (
        1, 2, 6, 12)


def test_progress_reads_one_query_for_many_prescriptions(tree, django_assert_num_queries):
    w = world(tree)
    rows = [w.prescription] + [
        Prescription.objects.create(clinic=w.a, resident=tree.user(home_community=tree.k1),
                                    sport=w.sport, intensity="low", sessions_per_week=2,
                                    minutes_per_session=20, weeks=3, starts_on=today())
        for _ in range(5)]
    with django_assert_num_queries(1):
        out = selectors.progress(rows)
    assert set(out) == {p.pk for p in rows}


def test_the_clinic_list_reads_a_fixed_number_of_queries(tree, api_client,
                                                         django_assert_max_num_queries):
    w = world(tree)
    for i in range(6):
        u = tree.user(home_community=tree.k1, nickname=f"r{i}")
        ClinicConsent.objects.create(user=u, clinic=w.a, version="1")
        Prescription.objects.create(clinic=w.a, resident=u, sport=w.sport, intensity="low",
                                    sessions_per_week=2, minutes_per_session=20, weeks=3,
                                    starts_on=today())
    clinic = api_client.as_user(w.staff_a)
    with django_assert_max_num_queries(8):
        r = clinic.get(_url(w))
    assert len(r.json()) == 7


def test_just_after_local_midnight_on_new_year_the_new_week_has_begun(tree):
    # 2027-01-01 00:30 in Shanghai is still 2026-12-31 in UTC.
    with time_machine.travel(dt.datetime(2027, 1, 1, 0, 30, tzinfo=TZ), tick=False):
        w = world(tree, starts_on=dt.date(2027, 1, 1))
        _day(tree.resident, dt.date(2027, 1, 1), 1, 40)
        prog = selectors.progress([w.prescription])[w.prescription.pk]
    assert prog.weeks[0].state == "current" and prog.weeks[0].sessions == 1
    assert prog.weeks[1].state == "future"


def test_month_end_week_spans_two_months(tree):
    with time_machine.travel(dt.datetime(2027, 2, 28, 23, 30, tzinfo=TZ), tick=False):
        w = world(tree, starts_on=dt.date(2027, 2, 22))
        for d in (22, 24, 28):
            _day(tree.resident, dt.date(2027, 2, d), 1, 30)
        prog = selectors.progress([w.prescription])[w.prescription.pk]
    # The last day of the week is today: the week is met but not yet past.
    assert prog.weeks[0].state == "met" and prog.weeks_past == 0 and prog.weeks_met == 1


def test_a_deleted_account_lapses_its_consents(tree, api_client):
    from sportsman.accounts import services as accounts

    w = world(tree)
    clinic = api_client.as_user(w.staff_a)
    assert clinic.get(_url(w)).json() != []
    accounts.delete_account(user=tree.resident, password="pw-123456789")
    assert clinic.get(_url(w)).json() == []
    assert clinic.get(f"/api/v1/clinic/{w.a.pk}/residents").json() == []


def test_the_profile_page_leads_to_clinic_consents(tree, client):
    from django.urls import reverse

    client.force_login(tree.resident)
    page = client.get(reverse("accounts:profile"))
    assert page.status_code == 200
    assert reverse("health:consents").encode() in page.content

