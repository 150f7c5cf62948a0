"""/api/v1 booking operations: slots (public), booking (201, 409 slot_full with the waitlist
offer, idempotent retries), my bookings (cursor, no N+1), passes, waitlist, lottery."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sportsman.facilities import booking, hours
from sportsman.facilities.models import Booking, BookingMode, LotteryEntry, Slot, Unit
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db


def tomorrow() -> dt.date:
    return hours.local(timezone.now()).date() + dt.timedelta(days=1)


@pytest.fixture
def venue(tree):
    return make_facility(tree.k2, opens=dt.time(8), closes=dt.time(20), units=2)


@pytest.fixture
def me(tree):
    return tree.user(home_community=tree.k2, nickname="me")


def _slot(venue, hour: int = 9, unit: int = 0, day: dt.date | None = None) -> Slot:
    day = day or tomorrow()
    booking.ensure_slots(venue, day)
    units = list(venue.units.order_by("position"))
    return Slot.objects.get(unit=units[unit], start=hours.aware(day, dt.time(hour)))


def test_slots_are_public_with_their_status(api_client, venue):
    r = api_client.get(f"/api/v1/facilities/{venue.pk}/slots",
                       {"date": tomorrow().isoformat()})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["facility_id"] == venue.pk and len(body["slots"]) == 24
    first = body["slots"][0]
    assert first["unit"] == first["unit_name"] == "1号场" and first["status"] == "open"
    assert first["places_left"] == 1 and first["capacity"] == 1


@pytest.mark.parametrize("date", ["2026-13-01", "tomorrow", "2026-2-3", "2026-02-30"])
def test_a_bad_date_is_400_with_a_clear_message(api_client, venue, date):
    r = api_client.get(f"/api/v1/facilities/{venue.pk}/slots", {"date": date})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid" and "YYYY-MM-DD" in body["message"]
    assert "date" in body["fields"]


def test_slots_of_an_unknown_facility_are_404(api_client):
    r = api_client.get("/api/v1/facilities/999999/slots")
    assert r.status_code == 404 and r.json()["code"] == "facility_not_found"


def test_slots_list_query_count_does_not_grow_with_units(api_client, tree,
                                                         django_assert_max_num_queries):
    small = make_facility(tree.k2, name="小", units=1)
    big = make_facility(tree.k2, name="大", units=6)
    day = tomorrow().isoformat()
    api_client.get(f"/api/v1/facilities/{small.pk}/slots", {"date": day})  # made once
    api_client.get(f"/api/v1/facilities/{big.pk}/slots", {"date": day})
    with CaptureQueriesContext(connection) as few:
        api_client.get(f"/api/v1/facilities/{small.pk}/slots", {"date": day})
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = api_client.get(f"/api/v1/facilities/{big.pk}/slots", {"date": day})
    assert len(r.json()["slots"]) == 6 * 16


def test_booking_answers_201_then_409_slot_full_with_the_waitlist(api_client, venue, me, tree):
    slot = _slot(venue)
    r = api_client.as_user(me).json("post", "/api/v1/bookings", {"slot_id": slot.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["slot_id"] == slot.pk and body["status"] == "booked"
    assert body["facility_name"] == venue.name and body["unit_name"] == "1号场"
    assert body["pass_url"] == f"/api/v1/bookings/{body['id']}/pass.svg"

    r = api_client.as_user(tree.user()).json("post", "/api/v1/bookings", {"slot_id": slot.pk})
    assert r.status_code == 409
    assert r.json() == {"code": "slot_full", "message": r.json()["message"],
                        "fields": {"waitlist": f"POST /api/v1/slots/{slot.pk}/waitlist"}}


def test_booking_needs_a_login_and_a_valid_body(api_client, venue, me):
    slot = _slot(venue)
    assert api_client.json("post", "/api/v1/bookings", {"slot_id": slot.pk}).status_code == 401
    client = api_client.as_user(me)
    assert client.json("post", "/api/v1/bookings",
                       {"slot_id": slot.pk, "user_id": 1}).json()["code"] == "unknown_field"
    r = client.json("post", "/api/v1/bookings", {"slot_id": 424242})
    assert r.status_code == 404 and r.json()["code"] == "slot_not_found"
    assert Booking.objects.count() == 0


def test_a_retried_booking_with_the_same_key_books_once(api_client, venue, me):
    slot = _slot(venue)
    client = api_client.as_user(me)
    first = client.json("post", "/api/v1/bookings", {"slot_id": slot.pk},
                        HTTP_IDEMPOTENCY_KEY="phone-retry-1")
    again = client.json("post", "/api/v1/bookings", {"slot_id": slot.pk},
                        HTTP_IDEMPOTENCY_KEY="phone-retry-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Booking.objects.count() == 1
    assert Slot.objects.get(pk=slot.pk).booked == 1
    other = client.json("post", "/api/v1/bookings", {"slot_id": _slot(venue, 10).pk},
                        HTTP_IDEMPOTENCY_KEY="phone-retry-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_my_bookings_pages_with_a_cursor_and_only_mine(api_client, tree, me):
    venues = [make_facility(tree.k2, name=f"场{i}", opens=dt.time(8), closes=dt.time(20))
              for i in range(3)]
    from sportsman.facilities.models import BookingPolicy

    BookingPolicy.objects.create(region=tree.city, max_active=20, max_per_day=20)
    mine = [booking.book_slot(actor=me, slot_id=_slot(v, h).pk).pk
            for v in venues for h in (9, 10, 11)]
    booking.book_slot(actor=tree.user(), slot_id=_slot(venues[0], 12).pk)
    client = api_client.as_user(me)
    seen, cursor = [], None
    while True:
        r = client.get("/api/v1/me/bookings", {"limit": 4} | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.content
        seen += [row["id"] for row in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    starts = {b.pk: (b.start, b.pk) for b in Booking.objects.filter(pk__in=mine)}
    assert seen == sorted(mine, key=starts.__getitem__)
    assert client.get("/api/v1/me/bookings", {"when": "past"}).json()["items"] == []
    assert client.get("/api/v1/me/bookings", {"cursor": "x.y"}).status_code == 400


def test_my_bookings_query_count_does_not_grow(api_client, tree, me,
                                               django_assert_max_num_queries):
    from sportsman.facilities.models import BookingPolicy

    BookingPolicy.objects.create(region=tree.city, max_active=50, max_per_day=50)
    venues = [make_facility(tree.k2, name=f"场{i}", units=2) for i in range(4)]
    booking.book_slot(actor=me, slot_id=_slot(venues[0]).pk)
    client = api_client.as_user(me)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/me/bookings").json()["items"]) == 1
    for v in venues:
        for h in (10, 11, 12):
            booking.book_slot(actor=me, slot_id=_slot(v, h, unit=1).pk)
    with django_assert_max_num_queries(len(one.captured_queries)):
        r = client.get("/api/v1/me/bookings", {"limit": 50})
    assert len(r.json()["items"]) == 13


def test_the_pass_is_an_svg_qr_code_for_its_owner_only(api_client, venue, me, tree):
    made = booking.book_slot(actor=me, slot_id=_slot(venue).pk)
    r = api_client.as_user(me).get(f"/api/v1/bookings/{made.pk}/pass.svg")
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml"
    assert r.content.startswith(b"<svg") and b"<path" in r.content
    stranger = api_client.as_user(tree.user())
    assert stranger.get(f"/api/v1/bookings/{made.pk}/pass.svg").status_code == 404
    assert stranger.get(f"/api/v1/bookings/{made.pk}").status_code == 404
    assert api_client.as_user(me).get(f"/api/v1/bookings/{made.pk}").json()["id"] == made.pk


def test_cancel_then_waitlist_and_lottery_over_the_api(api_client, venue, me, tree):
    slot = _slot(venue)
    made = booking.book_slot(actor=tree.user(), slot_id=slot.pk)
    client = api_client.as_user(me)
    r = client.post(f"/api/v1/slots/{slot.pk}/waitlist")
    assert r.status_code == 201 and r.json() == {"slot_id": slot.pk, "status": "waiting",
                                                 "position": 1}
    assert client.post(f"/api/v1/slots/{slot.pk}/waitlist").json()["code"] == "already_waiting"
    assert client.delete(f"/api/v1/slots/{slot.pk}/waitlist").status_code == 204
    assert client.delete(f"/api/v1/slots/{slot.pk}/waitlist").status_code == 404

    r = client.post(f"/api/v1/bookings/{made.pk}/cancel")
    assert r.status_code == 404  # not mine

    Unit.objects.filter(facility=venue, position=1).update(booking_mode=BookingMode.LOTTERY)
    lottery_slot = _slot(venue, 15, unit=1, day=tomorrow() + dt.timedelta(days=2))
    r = client.post(f"/api/v1/slots/{lottery_slot.pk}/lottery")
    assert r.status_code == 201, r.content
    assert LotteryEntry.objects.filter(user=me).count() == 1
    record = api_client.get(f"/api/v1/slots/{lottery_slot.pk}/lottery").json()
    assert record["entries"] == 1 and record["seed"] == ""


def test_cancel_my_booking_over_the_api(api_client, venue, me):
    made = booking.book_slot(actor=me, slot_id=_slot(venue).pk)
    r = api_client.as_user(me).post(f"/api/v1/bookings/{made.pk}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert Slot.objects.get(pk=made.slot_id).booked == 0


def test_staff_set_rules_and_see_the_effective_values(api_client, tree, venue):
    r = api_client.as_user(tree.town_admin).json(
        "put", f"/api/v1/facilities/{venue.pk}/booking-policy",
        {"window_days": 2, "window_opens_at": "07:30"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["own"]["window_days"] == 2 and body["own"]["max_active"] is None
    assert body["effective"]["window_opens_at"] == "07:30"
    assert body["effective"]["max_active"] == 3
    bad = api_client.as_user(tree.town_admin).json(
        "put", f"/api/v1/regions/{tree.k2.pk}/booking-policy", {"window_opens_at": "25:00"})
    assert bad.status_code == 400 and "window_opens_at" in bad.json()["fields"]


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements a request ran, without the savepoints that nesting (and the test's own
    transaction) adds."""
    return [q["sql"] for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))]


def test_booking_runs_a_fixed_handful_of_statements(api_client, venue, me, tree):
    from sportsman.facilities.models import BookingPolicy

    BookingPolicy.objects.create(region=tree.city, max_active=50, max_per_day=50)
    client = api_client.as_user(me)
    slots = {hour: _slot(venue, hour).pk for hour in range(9, 14)}
    for hour in (9, 10, 11):  # history does not add statements
        assert client.json("post", "/api/v1/bookings",
                           {"slot_id": slots[hour]}).status_code == 201
    with CaptureQueriesContext(connection) as plain:
        r = client.json("post", "/api/v1/bookings", {"slot_id": slots[12]})
    assert r.status_code == 201 and r.json()["unit_name"] == "1号场"
    # token (with grants), slot (venue, region, unit), policy rows, lock (with suspension),
    # the limit counts, take the place, insert the booking, its domain event (for webhooks).
    assert len(_statements(plain)) == 8, _statements(plain)
    with CaptureQueriesContext(connection) as keyed:
        r = client.json("post", "/api/v1/bookings", {"slot_id": slots[13]},
                        HTTP_IDEMPOTENCY_KEY="book-13")
    assert r.status_code == 201
    assert len(_statements(keyed)) == 10  # + claiming the key, storing the answer
    with CaptureQueriesContext(connection) as replay:
        again = client.json("post", "/api/v1/bookings", {"slot_id": slots[13]},
                            HTTP_IDEMPOTENCY_KEY="book-13")
    assert again.json() == r.json()
    assert len(_statements(replay)) == 3  # token, the claim that inserts nothing, the answer
    with CaptureQueriesContext(connection) as refused:
        full = client.json("post", "/api/v1/bookings", {"slot_id": slots[12]})
    assert full.json()["code"] == "already_booked"
    assert len(_statements(refused)) == 5  # token, slot, policy, lock, counts; nothing written
