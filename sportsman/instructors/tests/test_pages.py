"""The pages: residents find, look at and book an instructor (with a court), see and cancel
their bookings and rate; the instructor answers, records and exports; staff register, edit,
suspend and export. Asserted on codes, ids and data attributes, not on words."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone

from sportsman.core import crypto
from sportsman.facilities.tests.factories import make_facility
from sportsman.instructors.models import (
    GuidanceBooking,
    GuidanceSession,
    Instructor,
    WorkRegistration,
)
from sportsman.instructors.registry import zone
from sportsman.instructors.tests.factories import make_instructor

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tomorrow(hour: int) -> dt.datetime:
    return dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(hour),
                               zone())


def test_a_resident_finds_and_books_with_a_court(tree):
    teacher = make_instructor(tree, region=tree.k2)
    make_facility(tree.k1, name="花园社区羽毛球馆")
    resident = client_for(tree.resident)
    assert f'data-instructor="{teacher.pk}"'.encode() in Client().get("/instructors/").content
    assert resident.get("/instructors/?sport=badminton&where=mine").status_code == 200
    profile = Client().get(f"/instructors/{teacher.pk}/")
    assert profile.status_code == 200 and b"data-start=" in profile.content
    start, end = tomorrow(9), tomorrow(10)
    page = resident.get(f"/instructors/{teacher.pk}/book/",
                        {"start": start.strftime("%Y-%m-%dT%H:%M"),
                         "end": end.strftime("%Y-%m-%dT%H:%M")})
    assert page.status_code == 200
    slot_id = page.context["slots"][0].pk
    done = resident.post(f"/instructors/{teacher.pk}/book/", {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": end.strftime("%Y-%m-%dT%H:%M"),
        "kind": "one_to_one", "sport": "badminton", "slot_id": slot_id})
    assert done.status_code == 302
    session = GuidanceSession.objects.get()
    assert session.facility_booking.slot_id == slot_id
    mine = resident.get("/instructors/bookings/")
    assert f'data-booking="{GuidanceBooking.objects.get().pk}"'.encode() in mine.content
    resident.post(f"/instructors/bookings/{GuidanceBooking.objects.get().pk}/do/",
                  {"action": "cancel"})
    session.refresh_from_db()
    assert session.status == "cancelled"


def test_booking_an_unavailable_time_shows_the_refusal_and_keeps_nothing(tree):
    teacher = make_instructor(tree, windows=((14, 18),))
    resident = client_for(tree.resident)
    start, end = tomorrow(9), tomorrow(10)
    done = resident.post(f"/instructors/{teacher.pk}/book/", {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": end.strftime("%Y-%m-%dT%H:%M"),
        "kind": "one_to_one"}, HTTP_REFERER=f"/instructors/{teacher.pk}/")
    assert done.status_code == 302 and not GuidanceSession.objects.exists()


def test_the_instructor_answers_records_and_exports(tree):
    from openpyxl import load_workbook

    teacher = make_instructor(tree)
    mine = client_for(teacher.user)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    session = GuidanceSession.objects.create(instructor=teacher, starts_at=start,
                                             ends_at=start + dt.timedelta(hours=1),
                                             status="pending", taken=1)
    GuidanceBooking.objects.create(session=session, user=tree.resident)
    later = GuidanceSession.objects.create(instructor=teacher, starts_at=tomorrow(9),
                                           ends_at=tomorrow(10), status="pending", taken=1)
    GuidanceBooking.objects.create(session=later, user=tree.resident)
    page = mine.get("/instructors/me/")
    assert page.status_code == 200
    assert f'data-session="{later.pk}" data-status="pending"'.encode() in page.content
    assert b'data-condition="service_last_year" data-met="0"' in page.content
    mine.post("/instructors/me/do/", {"action": "confirm", "session": later.pk})
    later.refresh_from_db()
    assert later.status == "confirmed"
    mine.post("/instructors/me/do/", {"action": "windows", "weekday": ["0", ""],
                                       "starts": ["08:00", ""], "ends": ["10:00", ""],
                                       "place": ["广场", ""]})
    assert teacher.windows.count() == 1
    mine.post("/instructors/me/do/", {"action": "away",
                                       "date": (timezone.localdate() + dt.timedelta(days=2))
                                       .isoformat()})
    assert teacher.exceptions.count() == 1
    mine.post("/instructors/me/do/", {"action": "profile", "bio": "欢迎", "sports": ["badminton"],
                                       "accepts_bookings": "1", "max_group_size": "5"})
    teacher.refresh_from_db()
    assert (teacher.bio, teacher.max_group_size) == ("欢迎", 5)

    form = mine.get(f"/instructors/sessions/{session.pk}/")
    assert b'id="record-form"' in form.content
    mine.post(f"/instructors/sessions/{session.pk}/",
              {"content": "热身与步法", "attended": [str(tree.resident.pk)]})
    session.refresh_from_db()
    assert session.status == "recorded"
    assert b'id="record"' in mine.get(f"/instructors/sessions/{session.pk}/").content
    # a resident holding a place sees the session; another resident does not
    assert client_for(tree.resident).get(f"/instructors/sessions/{session.pk}/").status_code \
        == 200
    assert client_for(tree.user()).get(f"/instructors/sessions/{session.pk}/").status_code \
        != 200
    sheet = load_workbook(io.BytesIO(mine.get("/instructors/me/records.xlsx").content))
    assert list(sheet.worksheets[0].iter_rows(values_only=True))[1][5] == "热身与步法"
    assert mine.get("/instructors/me/records.pdf").content.startswith(b"%PDF-")
    rated = client_for(tree.resident).post(
        f"/instructors/bookings/{session.bookings.get().pk}/do/",
        {"action": "rate", "stars": "4"})
    assert rated.status_code == 302 and session.bookings.get().rating == 4


def test_staff_register_edit_suspend_confirm_and_export(tree):
    person = tree.user(home_community=tree.k2)
    person.phone_hash = crypto.keyed_hash("13712345678")
    person.save(update_fields=["phone_hash"])
    staff = client_for(tree.town_admin)
    assert staff.get("/instructors/console/").status_code == 200
    done = staff.post("/instructors/console/register/", {
        "phone": "13712345678", "name": "赵指导员", "level": "third",
        "certificate_number": "ZJ-77", "region_id": tree.k2.pk, "sports": ["badminton"]})
    made = Instructor.objects.get(user=person)
    assert done.status_code == 302 and made.region_id == tree.k2.pk
    detail = staff.get(f"/instructors/console/{made.pk}/")
    assert b'data-status="active"' in detail.content
    staff.post(f"/instructors/console/{made.pk}/", {"action": "registration", "year": "2025",
                                                     "org": "新嘉街道体育总会",
                                                     "service_count": "33"})
    assert WorkRegistration.objects.get(instructor=made).service_count == 33
    staff.post(f"/instructors/console/{made.pk}/", {"action": "suspended", "reason": "x"})
    made.refresh_from_db()
    assert made.status == "suspended"
    staff.post(f"/instructors/console/{made.pk}/", {
        "action": "edit", "name": "赵指导员", "level": "second", "certificate_number": "ZJ-77",
        "region_id": tree.k1.pk, "sports": ["badminton"]})
    made.refresh_from_db()
    assert (made.level, made.region_id) == ("second", tree.k1.pk)
    assert staff.get("/instructors/console/records.xlsx").status_code == 200
    assert staff.get("/instructors/console/records.pdf").content.startswith(b"%PDF-")
    # another town's staff see nothing of it
    other = client_for(tree.sibling_town_admin)
    assert other.get(f"/instructors/console/{made.pk}/").status_code != 200
    assert f'data-instructor="{made.pk}"'.encode() not in other.get(
        "/instructors/console/").content
    assert client_for(tree.resident).get("/instructors/console/").status_code == 403
