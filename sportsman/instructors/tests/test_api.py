"""The instructors API: search (held to its schema, few queries), profile, availability,
booking with Idempotency-Key, my bookings, the instructor's sessions and record, exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from sportsman.instructors.api.registry import InstructorPageOut, ProfileOut
from sportsman.instructors.models import GuidanceBooking, GuidanceSession, Instructor
from sportsman.instructors.registry import zone
from sportsman.instructors.tests.factories import make_instructor

pytestmark = pytest.mark.django_db


def tomorrow(hour: int) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), zone())


def test_search_answers_its_schema_in_few_queries(tree, api_client,
                                                  django_assert_max_num_queries):
    for i in range(25):
        make_instructor(tree, name=f"指导员{i}", region=tree.k1 if i % 2 else tree.k2)
    Instructor.objects.filter(name="指导员3").update(rating_sum=14, rating_count=3)
    api_client.get("/api/v1/instructors")  # the sports catalogue is kept per process
    with django_assert_max_num_queries(3):
        response = api_client.get("/api/v1/instructors?sport=badminton")
    body = response.json()
    assert response.status_code == 200 and len(body["items"]) == 20 and body["next_cursor"]
    assert InstructorPageOut.model_validate(body).model_dump(mode="json") == body
    more = api_client.get(f"/api/v1/instructors?sport=badminton&cursor={body['next_cursor']}")
    assert len(more.json()["items"]) == 5 and more.json()["next_cursor"] is None
    near = api_client.get("/api/v1/instructors?lat=30.7522&lng=120.7555&radius_m=1000").json()
    assert near["items"][0]["distance_m"] == 0.0
    assert api_client.get("/api/v1/instructors?sport=nope").json()["code"] == "invalid"


def test_profile_and_availability_are_public(tree, api_client):
    teacher = make_instructor(tree, windows=((8, 12),))
    body = api_client.get(f"/api/v1/instructors/{teacher.pk}").json()
    assert ProfileOut.model_validate(body).model_dump(mode="json") == body
    assert body["level"] == "third" and body["rating"] is None
    days = api_client.get(f"/api/v1/instructors/{teacher.pk}/availability?days=3").json()
    assert len(days) == 3 and days[1]["free"][0]["starts_at"].endswith("00:00Z")
    assert api_client.get("/api/v1/instructors/999999").json()["code"] == "instructor_not_found"


def test_booking_with_an_idempotency_key_books_once(tree, api_client):
    teacher = make_instructor(tree)
    client = api_client.as_user(tree.resident)
    body = {"starts_at": tomorrow(9).isoformat(), "ends_at": tomorrow(10).isoformat(),
            "sport": "badminton", "note": "想学反手"}
    first = client.json("post", f"/api/v1/instructors/{teacher.pk}/bookings", body,
                        HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.json("post", f"/api/v1/instructors/{teacher.pk}/bookings", body,
                        HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert GuidanceSession.objects.count() == 1
    busy = client.json("post", f"/api/v1/instructors/{teacher.pk}/bookings", body)
    assert busy.status_code == 409 and busy.json()["code"] == "instructor_busy"
    mine = client.get("/api/v1/instructor-bookings/mine").json()
    assert [b["id"] for b in mine] == [first.json()["id"]]
    assert mine[0]["session"]["status"] == "pending"
    # the instructor confirms; the resident cancels
    teacher_client = api_client.as_user(teacher.user)
    session_id = first.json()["session"]["id"]
    sessions = teacher_client.get("/api/v1/instructors/me/sessions").json()
    assert sessions[0]["places"][0]["user_id"] == tree.resident.pk
    assert teacher_client.post(f"/api/v1/instructor-sessions/{session_id}/confirm").json()[
        "status"] == "confirmed"
    cancelled = client.post(f"/api/v1/instructor-bookings/{first.json()['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["session"]["status"] == "cancelled"


def test_my_lists_in_few_queries(tree, api_client, django_assert_max_num_queries):
    teacher = make_instructor(tree)
    client = api_client.as_user(tree.resident)
    for hour in (9, 11, 13, 15):
        client.json("post", f"/api/v1/instructors/{teacher.pk}/bookings",
                    {"starts_at": tomorrow(hour).isoformat(),
                     "ends_at": tomorrow(hour + 1).isoformat(), "kind": "group",
                     "group_size": 3})
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/v1/instructor-bookings/mine").json()) == 4
    teacher_client = api_client.as_user(teacher.user)
    with django_assert_max_num_queries(6):
        assert len(teacher_client.get("/api/v1/instructors/me/sessions").json()) == 4


def test_the_instructor_records_by_multipart_and_exports(tree, api_client):
    from openpyxl import load_workbook

    teacher = make_instructor(tree)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    session = GuidanceSession.objects.create(instructor=teacher, starts_at=start,
                                             ends_at=start + dt.timedelta(hours=1),
                                             status="confirmed", taken=1, place="社区球馆")
    GuidanceBooking.objects.create(session=session, user=tree.resident)
    client = api_client.as_user(teacher.user)
    made = client.post(f"/api/v1/instructor-sessions/{session.pk}/record",
                       {"content": "正手击球", "attended": [tree.resident.pk]})
    assert made.status_code == 201 and made.json()["attendees"] == 1
    again = client.post(f"/api/v1/instructor-sessions/{session.pk}/record",
                        {"content": "正手击球", "attended": [tree.resident.pk]})
    assert again.json()["code"] == "session_already_recorded"
    workbook = client.get("/api/v1/instructors/me/records.xlsx")
    sheet = load_workbook(io.BytesIO(workbook.content)).worksheets[0]
    assert [c.value for c in list(sheet.iter_rows())[1]][5] == "正手击球"
    assert client.get("/api/v1/instructors/me/records.pdf").content.startswith(b"%PDF-")
    progress = client.get("/api/v1/instructors/me/progress").json()
    assert progress["next_level"] == "second"
    assert {c["key"] for c in progress["conditions"]} == {"service_last_year",
                                                         "registered_years"}
    rated = api_client.as_user(tree.resident).json(
        "post", f"/api/v1/instructor-bookings/{session.bookings.get().pk}/rating", {"stars": 5})
    assert rated.json()["rating"] == 5
    assert api_client.get(f"/api/v1/instructors/{teacher.pk}").json()["rating"] == 5.0


def test_the_weekly_calendar_and_exceptions(tree, api_client):
    teacher = make_instructor(tree, windows=())
    client = api_client.as_user(teacher.user)
    put = client.json("put", "/api/v1/instructors/me/availability", {"windows": [
        {"weekday": 0, "starts": "18:00", "ends": "20:00", "place": "花园社区广场"}]})
    assert put.status_code == 200 and put.json()["windows"][0]["place"] == "花园社区广场"
    day = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    made = client.json("post", "/api/v1/instructors/me/availability/exceptions",
                       {"date": day, "note": "外出培训"})
    assert made.status_code == 201
    assert client.delete(
        f"/api/v1/instructors/me/availability/exceptions/{made.json()['id']}").json()["ok"]
    assert api_client.as_user(tree.resident).get("/api/v1/instructors/me").json()["code"] \
        == "not_an_instructor"
