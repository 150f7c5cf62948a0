"""The venue console: own facilities shown, another region's refused, the services reached."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse

from sportsman.core.models import AuditEntry
from sportsman.facilities.models import Facility, OpeningRule
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return client


@pytest.fixture
def k2_facility(tree):
    return make_facility(tree.k2, name="新南球场")


PAGES = ["venues:facility", "venues:settings", "venues:utilisation", "venues:qr",
         "venues:bookings_export", "venues:utilisation_export"]


@pytest.mark.parametrize("name", PAGES)
def test_facility_pages_show_own_facility_to_its_town_admin(tree, k2_facility, name):
    response = as_user(tree.town_admin).get(reverse(name, args=[k2_facility.pk]))
    assert response.status_code == 200
    if response["Content-Type"].startswith("text/html"):
        assert "新南球场" in response.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_facility_pages_refuse_another_regions_staff(tree, k2_facility, name):
    # the community admin of k1 (a sibling community) and the admin of town t2
    for user in (tree.community_admin, tree.sibling_town_admin):
        response = as_user(user).get(reverse(name, args=[k2_facility.pk]))
        assert response.status_code in (403, 404)


def test_console_refuses_a_resident_and_sends_a_visitor_to_log_in(tree):
    assert as_user(tree.resident).get(reverse("venues:home")).status_code == 403
    response = Client().get(reverse("venues:home"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_home_lists_only_facilities_in_scope_with_todays_numbers(tree, k2_facility):
    make_facility(tree.k3, name="湘城球场")
    html = as_user(tree.town_admin).get(reverse("venues:home")).content.decode()
    assert "新南球场" in html and "湘城球场" not in html
    assert 'class="data"' in html  # a printable staff table


def test_venue_manager_sees_own_community_only(tree, k2_facility):
    make_facility(tree.k1, name="花园球场")
    html = as_user(tree.venue_manager).get(reverse("venues:home")).content.decode()
    assert "花园球场" in html and "新南球场" not in html


def test_settings_saves_details_through_the_service_and_audits(tree, k2_facility):
    client = as_user(tree.town_admin)
    url = reverse("venues:settings", args=[k2_facility.pk])
    data = {"name": "新南新球场", "category": "multi_court", "owner_kind": "community",
            "region": tree.k2.pk, "address": "新南路1号", "lat": "30.75", "lng": "120.75",
            "capacity": "30", "status": "open", "holiday_hours": "weekend",
            "sports": ["basketball"]}
    response = client.post(url, data)
    assert response.status_code == 302
    k2_facility.refresh_from_db()
    assert k2_facility.name == "新南新球场" and k2_facility.capacity == 30
    assert [s.slug for s in k2_facility.sports.all()] == ["basketball"]
    assert AuditEntry.objects.filter(action="facility.update").exists()


def test_another_regions_staff_cannot_post_to_settings(tree, k2_facility):
    response = as_user(tree.community_admin).post(
        reverse("venues:settings", args=[k2_facility.pk]), {"name": "x"})
    assert response.status_code in (403, 404)
    k2_facility.refresh_from_db()
    assert k2_facility.name == "新南球场"


def test_hours_table_replaces_the_week(tree, k2_facility):
    client = as_user(tree.town_admin)
    client.post(reverse("venues:hours", args=[k2_facility.pk]), {
        "d0_0_opens": "06:00", "d0_0_closes": "07:30",
        "d0_1_opens": "17:30", "d0_1_closes": "21:00"})
    assert list(OpeningRule.objects.filter(facility=k2_facility)
                .values_list("weekday", "opens", "closes")) == [
        (0, dt.time(6), dt.time(7, 30)), (0, dt.time(17, 30), dt.time(21))]


def test_bad_hours_change_nothing(tree, k2_facility):
    client = as_user(tree.town_admin)
    client.post(reverse("venues:hours", args=[k2_facility.pk]),
                {"d0_0_opens": "09:00", "d0_0_closes": "08:00"})
    assert OpeningRule.objects.filter(facility=k2_facility).count() == 7


def test_unit_add_and_exception_add(tree, k2_facility):
    client = as_user(tree.town_admin)
    client.post(reverse("venues:add_unit", args=[k2_facility.pk]), {
        "name": "2号场", "capacity": "1", "slot_minutes": "60", "price_yuan": "12.50",
        "booking_mode": "first_come", "is_active": "on"})
    unit = k2_facility.units.get(name="2号场")
    assert unit.price_cents == 1250
    k2_facility.refresh_from_db()
    assert k2_facility.is_free is False and k2_facility.is_bookable is True
    client.post(reverse("venues:add_exception", args=[k2_facility.pk]), {
        "start_date": "2026-10-01", "end_date": "2026-10-03", "is_closed": "on"})
    assert k2_facility.opening_exceptions.count() == 1


def test_import_page_shows_row_problems_then_loads_a_good_file_on_confirm(tree):
    client = as_user(tree.town_admin)
    bad = ("名称,类别,所属社区代码,地址,纬度,经度,外部编号\n"
           f"坏行,nope,{tree.k2.code},路,99,120,R1\n").encode()
    upload = io.BytesIO(bad)
    upload.name = "bad.csv"
    html = client.post(reverse("venues:import"), {"file": upload}).content.decode()
    assert "<td>类别</td>" in html and "<td>纬度</td>" in html
    assert not Facility.objects.filter(external_ref="R1").exists()
    good = ("名称,类别,所属社区代码,地址,纬度,经度,外部编号\n"
            f"好行,multi_court,{tree.k2.code},路,30.75,120.75,R1\n").encode()
    upload = io.BytesIO(good)
    upload.name = "good.csv"
    response = client.post(reverse("venues:import"), {"file": upload})
    token = response.context["token"]
    assert not Facility.objects.filter(external_ref="R1").exists()  # checked, not loaded
    client.post(reverse("venues:import_confirm"), {"token": token})
    assert Facility.objects.get(external_ref="R1").region == tree.k2


def test_import_confirm_token_of_another_user_loads_nothing(tree):
    client = as_user(tree.town_admin)
    good = ("名称,类别,所属社区代码,地址,纬度,经度,外部编号\n"
            f"好行,multi_court,{tree.k2.code},路,30.75,120.75,R2\n").encode()
    upload = io.BytesIO(good)
    upload.name = "good.csv"
    token = client.post(reverse("venues:import"), {"file": upload}).context["token"]
    as_user(tree.district_admin).post(reverse("venues:import_confirm"), {"token": token})
    assert not Facility.objects.filter(external_ref="R2").exists()


def test_export_holds_only_facilities_in_scope(tree, k2_facility):
    make_facility(tree.k3, name="湘城球场", external_ref="OUT-1")
    k2_facility.external_ref = "IN-1"
    k2_facility.save()
    response = as_user(tree.town_admin).get(reverse("venues:export"))
    from tests.scope import xlsx_text

    text = xlsx_text(response)
    assert b"IN-1" in text and b"OUT-1" not in text


def _booking_soon(facility, user):
    from django.utils import timezone

    from sportsman.facilities.models import Booking, Slot

    start = timezone.now() + dt.timedelta(minutes=10)
    slot = Slot.objects.create(unit=facility.units.get(), facility=facility, start=start,
                               end=start + dt.timedelta(hours=1), capacity=1, booked=1)
    return Booking.objects.create(user=user, slot=slot, facility=facility, start=start,
                                  end=slot.end)


def test_scanning_a_pass_checks_the_booking_in(tree, k2_facility):
    booking = _booking_soon(k2_facility, tree.resident)
    client = as_user(tree.town_admin)
    response = client.post(reverse("venues:scan", args=[k2_facility.pk]),
                           {"pass_code": f"SPB:{booking.pass_code}"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "checked_in"


def test_a_pass_for_another_venue_is_refused_at_this_desk(tree, k2_facility):
    other = make_facility(tree.k1, name="花园球场")
    booking = _booking_soon(other, tree.resident)
    client = as_user(tree.town_admin)
    url = reverse("venues:facility", args=[k2_facility.pk])
    client.post(reverse("venues:scan", args=[k2_facility.pk]),
                {"pass_code": booking.pass_code}, HTTP_REFERER=url)
    booking.refresh_from_db()
    assert booking.status == "booked"
    assert "花园球场" in client.get(url).content.decode()


def test_walk_in_by_phone_opens_a_visit(tree, k2_facility):
    from sportsman.facilities.models import Visit

    client = as_user(tree.town_admin)
    client.post(reverse("venues:walk_in", args=[k2_facility.pk]),
                {"phone": tree.resident.phone})
    assert Visit.objects.filter(user=tree.resident, facility=k2_facility,
                                source="walk_in").exists()
    response = as_user(tree.community_admin).post(
        reverse("venues:walk_in", args=[k2_facility.pk]), {"phone": tree.resident.phone})
    assert response.status_code in (403, 404)
    assert Visit.objects.count() == 1


def test_utilisation_heat_map_is_a_shaded_table(tree, k2_facility):
    from sportsman.facilities.hours import LOCAL_TZ
    from sportsman.facilities.models import FacilityHour

    FacilityHour.objects.create(facility=k2_facility, visits=4,
                                hour=dt.datetime(2026, 11, 23, 9, tzinfo=LOCAL_TZ))
    html = as_user(tree.town_admin).get(
        reverse("venues:utilisation", args=[k2_facility.pk]),
        {"from": "2026-11-23", "to": "2026-11-29"}).content.decode()
    assert 'class="h5">4</td>' in html and 'class="data heat"' in html
