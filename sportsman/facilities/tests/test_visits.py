"""Visits: the rotating facility code, check-in by code / pass / at the desk, one open visit per
person, check-out, automatic closing, and the visit_completed event."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core.errors import Forbidden, InvalidInput, NotFound
from sportsman.core.models import AuditEntry, DomainEvent
from sportsman.facilities import visits
from sportsman.facilities.hours import LOCAL_TZ
from sportsman.facilities.models import (
    Booking,
    BookingStatus,
    Facility,
    FacilityHour,
    Slot,
    Visit,
    VisitSource,
)
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

# A Monday morning in Jiaxing; facilities from the factory are open 06:00–22:00.
T = dt.datetime(2026, 11, 30, 10, 0, tzinfo=LOCAL_TZ)


def make_booking(user, facility: Facility, start: dt.datetime, *, minutes: int = 60,
                 status: str = BookingStatus.BOOKED) -> Booking:
    unit = facility.units.get()
    slot = Slot.objects.create(unit=unit, facility=facility, start=start,
                               end=start + dt.timedelta(minutes=minutes), capacity=unit.capacity,
                               booked=1)
    return Booking.objects.create(user=user, slot=slot, facility=facility, start=slot.start,
                                  end=slot.end, status=status)


@pytest.fixture
def facility(tree):
    return make_facility(tree.k2, name="新南社区百姓健身房")


def occupancy_of(facility: Facility) -> int:
    return Facility.objects.values_list("occupancy", flat=True).get(pk=facility.pk)


# --- the code --------------------------------------------------------------------------------


def test_code_of_this_minute_and_the_previous_one_is_accepted(facility):
    assert visits.verify_code(visits.facility_code(facility, T), now=T) == facility
    earlier = visits.facility_code(facility, T - dt.timedelta(seconds=60))
    assert visits.verify_code(earlier, now=T) == facility


def test_code_two_minutes_old_is_expired(facility):
    old = visits.facility_code(facility, T - dt.timedelta(seconds=120))
    with pytest.raises(visits.QrExpired):
        visits.verify_code(old, now=T)


@pytest.mark.parametrize("mangle", [
    lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"),  # signature changed
    lambda c: c.replace("SPF:", "XYZ:"),
    lambda c: "SPF:999999:" + c.split(":", 2)[2],  # another facility's id
    lambda c: "garbage",
    lambda c: "",
])
def test_forged_code_is_invalid(facility, mangle):
    with pytest.raises(visits.QrInvalid):
        visits.verify_code(mangle(visits.facility_code(facility, T)), now=T)


def test_code_signed_with_another_facilitys_secret_is_invalid(tree, facility):
    other = make_facility(tree.k2, name="别处")
    window = int(T.timestamp()) // 60
    forged = f"SPF:{facility.pk}:{window}:{visits._sign(other.qr_secret, facility.pk, window)}"
    with pytest.raises(visits.QrInvalid):
        visits.verify_code(forged, now=T)


def test_code_from_the_future_is_invalid(facility):
    with pytest.raises(visits.QrInvalid):
        visits.verify_code(visits.facility_code(facility, T + dt.timedelta(minutes=5)), now=T)


@pytest.mark.parametrize("age", [dt.timedelta(minutes=3), None])
def test_refused_code_writes_nothing(tree, facility, age):
    code = (visits.facility_code(facility, T - age) if age else
            visits.facility_code(facility, T)[:-2] + "zz")
    with pytest.raises(visits.QrExpired if age else visits.QrInvalid):
        visits.check_in_with_code(actor=tree.resident, code=code, now=T)
    assert not Visit.objects.exists()
    assert occupancy_of(facility) == 0
    assert not FacilityHour.objects.exists()


# --- check-in by code ------------------------------------------------------------------------


def test_scan_without_booking_is_a_walk_in_visit(tree, facility):
    visit = visits.check_in_with_code(actor=tree.resident,
                                      code=visits.facility_code(facility, T), now=T)
    assert (visit.facility_id, visit.booking_id, visit.source) == (
        facility.pk, None, VisitSource.FACILITY_QR)
    assert occupancy_of(facility) == 1
    hour = FacilityHour.objects.get(facility=facility)
    assert (hour.visits, hour.peak) == (1, 1)
    assert hour.hour == T.astimezone(dt.UTC)


def test_scan_checks_in_the_booking_near_now(tree, facility):
    booking = make_booking(tree.resident, facility, T + dt.timedelta(minutes=20))
    visit = visits.check_in_with_code(actor=tree.resident,
                                      code=visits.facility_code(facility, T), now=T)
    booking.refresh_from_db()
    assert visit.booking_id == booking.pk
    assert booking.status == BookingStatus.CHECKED_IN


def test_booking_starting_later_than_30_minutes_is_not_checked_in(tree, facility):
    booking = make_booking(tree.resident, facility, T + dt.timedelta(minutes=45))
    visit = visits.check_in_with_code(actor=tree.resident,
                                      code=visits.facility_code(facility, T), now=T)
    booking.refresh_from_db()
    assert visit.booking_id is None
    assert booking.status == BookingStatus.BOOKED


def test_scanning_again_at_the_same_place_returns_the_open_visit(tree, facility):
    code = visits.facility_code(facility, T)
    first = visits.check_in_with_code(actor=tree.resident, code=code, now=T)
    again = visits.check_in_with_code(actor=tree.resident, code=code,
                                      now=T + dt.timedelta(seconds=30))
    assert again.pk == first.pk
    assert occupancy_of(facility) == 1


def test_rescan_when_the_booking_comes_near_checks_it_in_on_the_open_visit(tree, facility):
    first = visits.check_in_with_code(actor=tree.resident,
                                      code=visits.facility_code(facility, T), now=T)
    booking = make_booking(tree.resident, facility, T + dt.timedelta(minutes=50))
    later = T + dt.timedelta(minutes=25)
    again = visits.check_in_with_code(actor=tree.resident,
                                      code=visits.facility_code(facility, later), now=later)
    booking.refresh_from_db()
    assert again.pk == first.pk and again.booking_id == booking.pk
    assert booking.status == BookingStatus.CHECKED_IN
    assert occupancy_of(facility) == 1


def test_checking_in_elsewhere_closes_the_open_visit_first(tree, facility):
    other = make_facility(tree.k2, name="新南社区笼式足球场")
    first = visits.check_in_with_code(actor=tree.resident,
                                      code=visits.facility_code(facility, T), now=T)
    later = T + dt.timedelta(minutes=40)
    second = visits.check_in_with_code(actor=tree.resident,
                                       code=visits.facility_code(other, later), now=later)
    first.refresh_from_db()
    assert first.ended_at == later and first.duration_minutes == 40
    assert second.ended_at is None
    assert Visit.objects.filter(user=tree.resident, ended_at__isnull=True).count() == 1
    assert (occupancy_of(facility), occupancy_of(other)) == (0, 1)


def test_the_database_refuses_a_second_open_visit(tree, facility):
    from django.db import IntegrityError, transaction

    Visit.objects.create(user=tree.resident, facility=facility, source="walk_in", started_at=T)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(user=tree.resident, facility=facility, source="walk_in",
                             started_at=T)


def test_check_in_records_the_sport_and_refuses_an_unknown_one(tree, facility):
    from sportsman.core.models import Sport

    sport = Sport.objects.create(slug="test-badminton", name_zh="羽毛球", name_en="Badminton",
                                 family="ball")
    with pytest.raises(InvalidInput):
        visits.check_in_with_code(actor=tree.resident, code=visits.facility_code(facility, T),
                                  sport_id=sport.pk + 1000, now=T)
    assert not Visit.objects.exists()
    visit = visits.check_in_with_code(actor=tree.resident,
                                      code=visits.facility_code(facility, T),
                                      sport_id=sport.pk, now=T)
    visits.check_out(actor=tree.resident, visit_id=visit.pk, now=T + dt.timedelta(minutes=30))
    assert DomainEvent.objects.get().payload["sport_id"] == sport.pk


def test_closed_facility_refuses_check_in(tree, facility):
    Facility.objects.filter(pk=facility.pk).update(status="maintenance")
    facility.refresh_from_db()
    with pytest.raises(visits.FacilityNotOpen):
        visits.check_in_with_code(actor=tree.resident, code=visits.facility_code(facility, T),
                                  now=T)
    assert not Visit.objects.exists()


# --- staff scan of a pass --------------------------------------------------------------------


def test_staff_scan_of_pass_checks_in_and_is_audited(tree, facility):
    booking = make_booking(tree.resident, facility, T + dt.timedelta(minutes=10))
    visit = visits.check_in_pass(actor=tree.town_admin, pass_code=f"SPB:{booking.pass_code}",
                                 now=T)
    booking.refresh_from_db()
    assert visit.source == VisitSource.STAFF_SCAN and visit.checked_in_by == tree.town_admin
    assert booking.status == BookingStatus.CHECKED_IN
    assert AuditEntry.objects.filter(action="facilities.visit.check_in_pass").count() == 1


@pytest.mark.parametrize(("offset", "error"), [
    (dt.timedelta(minutes=31), visits.PassNotYetValid),  # starts in 31 minutes
    (dt.timedelta(minutes=-60), visits.PassExpired),  # the hour just ended
    (dt.timedelta(hours=-5), visits.PassExpired),
])
def test_pass_outside_its_window_is_refused(tree, facility, offset, error):
    booking = make_booking(tree.resident, facility, T + offset)
    with pytest.raises(error):
        visits.check_in_pass(actor=tree.town_admin, pass_code=booking.pass_code, now=T)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.BOOKED
    assert not Visit.objects.exists()


def test_pass_window_opens_30_minutes_before_start(tree, facility):
    booking = make_booking(tree.resident, facility, T + dt.timedelta(minutes=30))
    assert visits.check_in_pass(actor=tree.town_admin, pass_code=booking.pass_code, now=T)


def test_pass_scanned_at_another_venue_is_refused(tree, facility):
    other = make_facility(tree.k2, name="新南社区笼式足球场")
    booking = make_booking(tree.resident, facility, T)
    with pytest.raises(visits.PassWrongFacility):
        visits.check_in_pass(actor=tree.town_admin, pass_code=booking.pass_code,
                             facility_id=other.pk, now=T)
    assert visits.check_in_pass(actor=tree.town_admin, pass_code=booking.pass_code,
                                facility_id=facility.pk, now=T).facility_id == facility.pk


def test_pass_scanned_for_someone_already_inside_checks_the_booking_in_on_that_visit(
        tree, facility):
    inside = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                            user_id=tree.resident.pk, now=T)
    booking = make_booking(tree.resident, facility, T + dt.timedelta(minutes=20))
    visit = visits.check_in_pass(actor=tree.town_admin, pass_code=booking.pass_code,
                                 now=T + dt.timedelta(minutes=5))
    assert visit.pk == inside.pk and visit.booking_id == booking.pk
    assert Visit.objects.count() == 1 and occupancy_of(facility) == 1
    assert not DomainEvent.objects.exists()


def test_pass_scanned_twice_is_already_checked_in(tree, facility):
    booking = make_booking(tree.resident, facility, T)
    visits.check_in_pass(actor=tree.town_admin, pass_code=booking.pass_code, now=T)
    with pytest.raises(visits.AlreadyCheckedIn):
        visits.check_in_pass(actor=tree.town_admin, pass_code=booking.pass_code, now=T)
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.NO_SHOW])
def test_pass_of_cancelled_or_missed_booking_is_invalid(tree, facility, status):
    booking = make_booking(tree.resident, facility, T, status=status)
    with pytest.raises(visits.PassInvalid):
        visits.check_in_pass(actor=tree.town_admin, pass_code=booking.pass_code, now=T)


def test_unknown_pass_is_invalid(tree, facility):
    with pytest.raises(visits.PassInvalid):
        visits.check_in_pass(actor=tree.town_admin, pass_code="SPB:nope", now=T)


def test_staff_of_another_region_cannot_scan_the_pass(tree, facility):
    booking = make_booking(tree.resident, facility, T)
    with pytest.raises(Forbidden):
        visits.check_in_pass(actor=tree.sibling_town_admin, pass_code=booking.pass_code, now=T)
    assert not Visit.objects.exists()


# --- walk-in at the desk ---------------------------------------------------------------------


def test_staff_register_a_walk_in(tree, facility):
    visit = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                           user_id=tree.resident.pk, now=T)
    assert visit.source == VisitSource.WALK_IN
    assert AuditEntry.objects.filter(action="facilities.visit.walk_in").exists()


def test_walk_in_outside_scope_is_not_found(tree, facility):
    with pytest.raises(NotFound):
        visits.walk_in(actor=tree.community_admin, facility_id=facility.pk,
                       user_id=tree.resident.pk, now=T)


# --- check-out and the completed event -------------------------------------------------------


def test_check_out_publishes_visit_completed_with_the_payload(tree, facility):
    booking = make_booking(tree.resident, facility, T)
    visit = visits.check_in_with_code(actor=tree.resident,
                                      code=visits.facility_code(facility, T), now=T)
    end = T + dt.timedelta(minutes=47)
    visits.check_out(actor=tree.resident, visit_id=visit.pk, now=end)
    event = DomainEvent.objects.get(name="facilities.visit_completed")
    assert event.payload == {
        "visit_id": visit.pk, "user_id": tree.resident.pk, "facility_id": facility.pk,
        "region_id": tree.k2.pk, "sport_id": None, "source": "facility_qr",
        "started_at": "2026-11-30T02:00:00+00:00", "ended_at": "2026-11-30T02:47:00+00:00",
        "duration_minutes": 47}
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    assert occupancy_of(facility) == 0


def test_check_out_twice_publishes_once(tree, facility):
    visit = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                           user_id=tree.resident.pk, now=T)
    visits.check_out(actor=tree.resident, visit_id=visit.pk, now=T + dt.timedelta(minutes=5))
    visits.check_out(actor=tree.resident, visit_id=visit.pk, now=T + dt.timedelta(minutes=9))
    assert DomainEvent.objects.filter(name="facilities.visit_completed").count() == 1
    visit.refresh_from_db()
    assert visit.duration_minutes == 5 and visit.closed_by == "user"
    assert occupancy_of(facility) == 0


def test_staff_check_out_is_audited_and_others_get_not_found(tree, facility):
    visit = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                           user_id=tree.resident.pk, now=T)
    stranger = tree.user(home_community=tree.k1)
    for outsider in (stranger, tree.sibling_town_admin):
        with pytest.raises(NotFound):
            visits.check_out(actor=outsider, visit_id=visit.pk, now=T)
    visits.check_out(actor=tree.district_admin, visit_id=visit.pk,
                     now=T + dt.timedelta(minutes=1))
    visit.refresh_from_db()
    assert visit.closed_by == "staff"
    assert AuditEntry.objects.filter(action="facilities.visit.check_out").exists()


def test_occupancy_never_goes_below_zero(tree, facility):
    visit = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                           user_id=tree.resident.pk, now=T)
    Facility.objects.filter(pk=facility.pk).update(occupancy=0)  # a counter said "present: 0"
    visits.check_out(actor=tree.resident, visit_id=visit.pk, now=T + dt.timedelta(minutes=1))
    assert occupancy_of(facility) == 0


# --- closing automatically -------------------------------------------------------------------


def test_due_visits_close_at_slot_end_closing_time_or_after_four_hours(tree, facility):
    booked_user, walk_user, late_user = tree.user(), tree.user(), tree.user()
    booking = make_booking(booked_user, facility, T)
    booked = visits.check_in_with_code(actor=booked_user,
                                       code=visits.facility_code(facility, T), now=T)
    assert booked.booking_id == booking.pk
    evening = T.replace(hour=21)
    walk = visits.check_in_with_code(actor=walk_user,
                                     code=visits.facility_code(facility, evening), now=evening)
    no_hours = make_facility(tree.k2, name="健身步道")
    no_hours.opening_rules.all().delete()
    late = visits.check_in_with_code(actor=late_user,
                                     code=visits.facility_code(no_hours, evening), now=evening)

    assert visits.close_due_visits(now=T + dt.timedelta(minutes=59)) == 0
    assert visits.close_due_visits(now=T.replace(hour=23)) == 2
    booked.refresh_from_db()
    walk.refresh_from_db()
    assert booked.ended_at == T + dt.timedelta(hours=1) and booked.closed_by == "auto"
    assert walk.ended_at == T.replace(hour=22)
    assert Visit.objects.get(pk=late.pk).ended_at is None
    assert visits.close_due_visits(now=evening + dt.timedelta(hours=4)) == 1
    assert Visit.objects.get(pk=late.pk).ended_at == evening + dt.timedelta(hours=4)
    assert DomainEvent.objects.filter(name="facilities.visit_completed").count() == 3
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED


# --- API and pages ---------------------------------------------------------------------------


def test_api_check_in_by_code_and_idempotent_retry(tree, facility, api_client):
    client = api_client.as_user(tree.resident)
    code = visits.facility_code(facility)
    first = client.json("post", "/api/v1/check-ins", {"code": code},
                        HTTP_IDEMPOTENCY_KEY="scan-1")
    again = client.json("post", "/api/v1/check-ins", {"code": code},
                        HTTP_IDEMPOTENCY_KEY="scan-1")
    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.json() == first.json()
    assert Visit.objects.count() == 1


def test_api_refuses_a_forged_code_with_its_code(tree, facility, api_client):
    client = api_client.as_user(tree.resident)
    response = client.json("post", "/api/v1/check-ins", {"code": "SPF:1:2:3"})
    assert response.status_code == 400
    assert response.json()["code"] == "qr_invalid"
    assert not Visit.objects.exists()


def test_api_my_visits_and_check_out(tree, facility, api_client):
    client = api_client.as_user(tree.resident)
    visit = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                           user_id=tree.resident.pk)
    mine = client.get("/api/v1/me/visits")
    assert [v["id"] for v in mine.json()["items"]] == [visit.pk]
    out = client.post(f"/api/v1/visits/{visit.pk}/check-out")
    assert out.status_code == 200 and out.json()["ended_at"] is not None
    other = api_client.as_user(tree.user()).get("/api/v1/me/visits")
    assert other.json()["items"] == []


def test_api_my_visits_pages_by_cursor(tree, facility, api_client):
    for i in range(3):
        v = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk,
                           user_id=tree.resident.pk, now=T + dt.timedelta(hours=i))
        visits.check_out(actor=tree.resident, visit_id=v.pk, now=T + dt.timedelta(hours=i))
    client = api_client.as_user(tree.resident)
    first = client.get("/api/v1/me/visits?limit=2").json()
    rest = client.get(f"/api/v1/me/visits?limit=2&cursor={first['next_cursor']}").json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_api_qr_gives_a_code_that_checks_in(tree, facility, api_client):
    response = api_client.as_user(tree.town_admin).get(f"/api/v1/facilities/{facility.pk}/qr")
    body = response.json()
    assert response.status_code == 200
    assert body["svg"].startswith("<svg") and "/checkin/?c=" in body["url"]
    assert 0 < body["refresh_seconds"] <= 60
    assert visits.verify_code(body["code"]) == facility


def test_checkin_page_confirms_then_checks_in(tree, facility, client):
    client.force_login(tree.resident)
    code = visits.facility_code(facility)
    page = client.get("/checkin/", {"c": code})
    assert page.status_code == 200 and facility.name in page.content.decode()
    assert not Visit.objects.exists()  # a GET only shows the confirm button
    done = client.post("/checkin/", {"c": code})
    assert done.status_code == 302 and done["Location"].endswith("/me/visits/")
    mine = client.get("/me/visits/")
    assert facility.name in mine.content.decode()
    visit = Visit.objects.get()
    client.post(f"/me/visits/{visit.pk}/check-out/")
    visit.refresh_from_db()
    assert visit.ended_at is not None
    earlier = client.get("/me/visits/").content.decode()
    assert facility.name in earlier and 'action="/me/visits/' not in earlier


def test_checkin_page_shows_why_an_old_code_is_refused(tree, facility, client):
    client.force_login(tree.resident)
    old = visits.facility_code(facility, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    response = client.post("/checkin/", {"c": old})
    assert response.status_code == 400
    assert not Visit.objects.exists()


def test_checkin_page_sends_visitors_to_log_in(facility, client):
    response = client.get("/checkin/", {"c": visits.facility_code(facility)})
    assert response.status_code == 302 and "login" in response["Location"]


def test_visit_lists_take_a_fixed_number_of_queries(tree, facility, api_client,
                                                    django_assert_max_num_queries):
    for i in range(5):
        user = tree.user(home_community=tree.k2)
        v = visits.walk_in(actor=tree.town_admin, facility_id=facility.pk, user_id=user.pk)
        if i % 2:
            visits.check_out(actor=user, visit_id=v.pk)
    staff = api_client.as_user(tree.town_admin)
    with django_assert_max_num_queries(5):
        response = staff.get(f"/api/v1/facilities/{facility.pk}/visits")
    assert len(response.json()["items"]) == 5
    resident = api_client.as_user(tree.resident)
    with django_assert_max_num_queries(4):
        assert resident.get("/api/v1/me/visits").status_code == 200


# --- the race --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_of_one_resident_open_one_visit(tree, facility):
    from sportsman.core.testing import race

    now = dt.datetime.now(dt.UTC)
    code = visits.facility_code(facility, now)

    def scan(_i: int):
        return visits.check_in_with_code(actor=tree.resident, code=code, now=now)

    outcomes = race(scan, 4)
    opened = [o for o in outcomes if isinstance(o, Visit)]
    refused = [o for o in outcomes if not isinstance(o, Visit)]
    assert opened, outcomes
    assert all(isinstance(o, visits.VisitInProgress) for o in refused), refused
    assert Visit.objects.filter(user=tree.resident).count() == 1
    assert occupancy_of(facility) == 1
    assert FacilityHour.objects.get(facility=facility).visits == 1


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))]


def test_check_ins_run_a_fixed_handful_of_statements(tree, facility, api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from sportsman.facilities.models import FacilityHour

    now = timezone.now()
    resident = api_client.as_user(tree.resident)
    with CaptureQueriesContext(connection) as walk_in:
        r = resident.json("post", "/api/v1/check-ins", {"code": visits.facility_code(facility)})
    assert r.status_code == 201, r.content
    # token, facility (with region), booking near now (none), open visits (none), the visit,
    # occupancy + 1 (returning it), the hour's visits and peak (one upsert).
    assert len(_statements(walk_in)) == 7, _statements(walk_in)
    other = tree.user(home_community=tree.k2)
    booked = make_booking(other, facility, now + dt.timedelta(minutes=10))
    staff = api_client.as_user(tree.town_admin)
    with CaptureQueriesContext(connection) as by_pass:
        r = staff.json("post", "/api/v1/check-ins/pass", {"pass_code": f"SPB:{booked.pass_code}"})
    assert r.status_code == 201, r.content
    # token with grants, the booking locked (venue, region), open visits, the visit, occupancy,
    # the hour, the booking checked in, the audit entry.
    assert len(_statements(by_pass)) == 8, _statements(by_pass)
    hours = list(FacilityHour.objects.filter(facility=facility))  # two, across an hour's end
    assert sum(h.visits for h in hours) == occupancy_of(facility) == 2
    assert [h.peak for h in hours] == ([2] if len(hours) == 1 else [1, 2])
