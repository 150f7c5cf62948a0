"""Booking rules in force: field by field, facility → community → nearest ancestor → default;
only staff of the region may set them, and every change is audited."""

from __future__ import annotations

import datetime as dt

import pytest

from sportsman.core.errors import Forbidden, InvalidInput
from sportsman.core.models import AuditEntry
from sportsman.facilities import policy
from sportsman.facilities.models import BookingPolicy
from sportsman.facilities.tests.factories import make_facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def venue(tree):
    return make_facility(tree.k2)


def test_without_any_rules_the_default_applies(venue):
    assert policy.policy_for(venue) == policy.DEFAULT_POLICY
    assert policy.DEFAULT_POLICY.window_days == 7
    assert policy.DEFAULT_POLICY.window_opens_at == dt.time(8)


def test_each_rule_comes_from_the_nearest_level_that_sets_it(venue, tree):
    BookingPolicy.objects.create(region=tree.city, window_days=3, max_active=9, noshow_limit=5)
    BookingPolicy.objects.create(region=tree.d1, window_days=5)
    BookingPolicy.objects.create(region=tree.k2, max_active=4)
    BookingPolicy.objects.create(facility=venue, cancel_minutes=30)
    BookingPolicy.objects.create(region=tree.k1, window_days=1)  # a sibling: not in the chain
    effective = policy.policy_for(venue)
    assert effective.window_days == 5  # district beats city
    assert effective.max_active == 4  # community beats city
    assert effective.noshow_limit == 5  # only the city sets it
    assert effective.cancel_minutes == 30  # the facility's own
    assert effective.max_per_day == policy.DEFAULT_POLICY.max_per_day


def test_policy_rows_are_read_in_one_query(venue, django_assert_num_queries):
    BookingPolicy.objects.create(region=venue.region, window_days=2)
    venue.region  # noqa: B018 - loaded, as callers do with select_related
    with django_assert_num_queries(1):
        assert policy.policy_for(venue).window_days == 2


def test_a_town_admin_sets_the_rules_of_a_community_and_it_is_audited(tree, venue):
    row = policy.set_region_policy(actor=tree.town_admin, region=tree.k2,
                                   values={"window_days": 3, "window_opens_at": dt.time(7)})
    assert row.window_days == 3 and row.max_active is None
    assert policy.policy_for(venue).window_opens_at == dt.time(7)
    entry = AuditEntry.objects.get(action="booking_policy.region")
    assert entry.actor == tree.town_admin and entry.region == tree.k2
    assert entry.data["after"]["window_days"] == 3

    # a PUT replaces: a rule left out now inherits again
    policy.set_region_policy(actor=tree.town_admin, region=tree.k2, values={"max_active": 2})
    assert policy.policy_for(venue).window_days == 7


def test_staff_outside_the_region_cannot_set_rules(tree, venue):
    with pytest.raises(Forbidden):
        policy.set_region_policy(actor=tree.community_admin, region=tree.k2,
                                 values={"window_days": 3})
    with pytest.raises(Forbidden):
        policy.set_facility_policy(actor=tree.sibling_town_admin, facility=venue,
                                   values={"cancel_minutes": 3})
    with pytest.raises(Forbidden):  # a venue manager manages venues, not region rules
        policy.set_region_policy(actor=tree.venue_manager, region=tree.k1,
                                 values={"window_days": 3})
    assert not BookingPolicy.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_venue_manager_sets_their_venues_own_rules(tree):
    venue = make_facility(tree.k1)
    policy.set_facility_policy(actor=tree.venue_manager, facility=venue,
                               values={"cancel_minutes": 60})
    assert policy.policy_for(venue).cancel_minutes == 60
    assert AuditEntry.objects.filter(action="booking_policy.facility").count() == 1


@pytest.mark.parametrize("values", [{"window_days": -1}, {"max_active": 0},
                                    {"window_opens_at": "8am"}, {"nonsense": 1},
                                    {"max_per_day": True}])
def test_rules_out_of_range_are_refused(tree, values):
    with pytest.raises(InvalidInput):
        policy.set_region_policy(actor=tree.town_admin, region=tree.k2, values=values)
    assert not BookingPolicy.objects.exists()
