"""The facility activity index and the split of a subsidy budget."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core.errors import InvalidInput
from sportsman.facilities import subsidy
from sportsman.facilities.hours import aware
from sportsman.facilities.models import Booking, Facility, Slot, Visit
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 10, 12)


def _visits(facility, users, *, n: int, minutes: int) -> None:
    for i in range(n):
        start = aware(DAY, dt.time(8)) + dt.timedelta(hours=i % 10)
        Visit.objects.create(user=users[i % len(users)], facility=facility, source="facility_qr",
                             started_at=start, ended_at=start + dt.timedelta(minutes=minutes))


def test_index_ranks_by_activity_and_shares_add_up_to_the_budget(tree):
    # Given a busy court, a quiet court and a trail nobody visited in the period
    people = [tree.user() for _ in range(4)]
    busy = make_facility(tree.k1, name="忙")
    quiet = make_facility(tree.k2, name="闲")
    make_facility(tree.k3, name="空", units=0)
    _visits(busy, people, n=10, minutes=60)
    _visits(quiet, people[:1], n=2, minutes=30)
    # When a 1,000.01 yuan budget is split over the city's facilities
    scores = subsidy.evaluate(Facility.objects.all(), DAY, DAY, budget_cents=100_001)
    by_name = {s.facility.name: s for s in scores}
    # Then the busy court leads with the top index, the idle trail gets nothing,
    assert [s.facility.name for s in scores] == ["忙", "闲", "空"]
    assert by_name["忙"].index > by_name["闲"].index > 0 == by_name["空"].index
    assert (by_name["忙"].visits, by_name["忙"].visitors, by_name["忙"].hours) == (10, 4, 10.0)
    assert by_name["空"].share_cents == 0 and by_name["空"].utilisation is None
    # and the shares add up to the budget to the fen, in proportion to the index
    assert sum(s.share_cents for s in scores) == 100_001
    ratio = by_name["忙"].share_cents / by_name["闲"].share_cents
    assert ratio == pytest.approx(by_name["忙"].index / by_name["闲"].index, rel=1e-3)


def test_utilisation_counts_booked_hours_against_bookable_hours(tree):
    # A facility open 06:00–22:00 with one unit: 16 bookable hours that day; 4 booked
    court = make_facility(tree.k1, name="场")
    unit = court.units.get()
    for hour in (8, 9, 10, 11):
        start = aware(DAY, dt.time(hour))
        slot = Slot.objects.create(unit=unit, facility=court, start=start,
                                   end=start + dt.timedelta(hours=1), capacity=1, booked=1)
        Booking.objects.create(user=tree.resident, slot=slot, facility=court, start=slot.start,
                               end=slot.end, status="completed")
    [score] = subsidy.evaluate(Facility.objects.filter(pk=court.pk), DAY, DAY)
    assert score.utilisation == pytest.approx(4 / 16)
    assert score.share_cents == 0  # no budget: the index only


def test_a_budget_out_of_range_or_a_reversed_period_is_refused(tree):
    with pytest.raises(InvalidInput) as too_much:
        subsidy.evaluate(Facility.objects.all(), DAY, DAY, budget_cents=10**14)
    assert too_much.value.code == "budget_out_of_range"
    with pytest.raises(InvalidInput):
        subsidy.evaluate(Facility.objects.all(), DAY, DAY - dt.timedelta(days=1))


def test_api_splits_over_the_region_subtree_only(tree, api_client):
    inside = make_facility(tree.k2, name="新嘉的")
    outside = make_facility(tree.k3, name="东栅的")
    _visits(inside, [tree.resident], n=3, minutes=45)
    _visits(outside, [tree.resident], n=3, minutes=45)
    client = api_client.as_user(tree.town_admin)
    response = client.get(f"/api/v1/regions/{tree.t1.pk}/facility-subsidy",
                          {"from": DAY.isoformat(), "to": DAY.isoformat(), "budget_yuan": "500"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["name"] for row in body["items"]] == ["新嘉的"]
    assert body["items"][0]["share_cents"] == body["budget_cents"] == 50_000
    bad = client.get(f"/api/v1/regions/{tree.t1.pk}/facility-subsidy",
                     {"from": DAY.isoformat(), "to": DAY.isoformat(), "budget_yuan": "-1"})
    assert bad.status_code == 400


def test_console_page_shows_the_split_for_the_current_region(tree, client):
    make_facility(tree.k2, name="新嘉的")
    client.force_login(tree.town_admin)
    page = client.get("/console/facilities/subsidy/", {"from": "2026-10-01", "to": "2026-10-31",
                                                       "budget": "300"})
    assert page.status_code == 200
    assert "新嘉的" in page.content.decode()
    client.force_login(tree.venue_manager)  # manages venues, allocates no subsidies
    assert client.get("/console/facilities/subsidy/").status_code in (403, 404)
