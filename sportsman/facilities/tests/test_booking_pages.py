"""Resident booking pages: book from the facility page, see the pass, cancel, wait for a full
slot, enter a lottery — and nobody else's booking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from sportsman.facilities import booking
from sportsman.facilities.models import (
    Booking,
    BookingMode,
    BookingStatus,
    LotteryEntry,
    Unit,
    WaitlistEntry,
)
from sportsman.facilities.tests.factories import make_facility
from sportsman.facilities.tests.test_booking_api import _slot, tomorrow

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return client


@pytest.fixture
def venue(tree):
    return make_facility(tree.k2, opens=dt.time(8), closes=dt.time(20), units=2)


def test_my_bookings_needs_a_login(client):
    r = client.get(reverse("facilities:my_bookings"))
    assert r.status_code == 302 and reverse("accounts:login") in r["Location"]


def test_booking_from_the_facility_page_shows_the_pass(tree, venue):
    client = login(tree.resident)
    slot = _slot(venue)
    r = client.post(reverse("facilities:book"), {"slot_id": slot.pk})
    made = Booking.objects.get(user=tree.resident)
    assert r.status_code == 302 and r["Location"] == reverse("facilities:booking",
                                                             args=[made.pk])
    page = client.get(r["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and venue.name in body
    listing = client.get(reverse("facilities:my_bookings")).content.decode()
    assert reverse("facilities:booking", args=[made.pk]) in listing
    assert reverse("facilities:cancel_booking", args=[made.pk]) in listing


def test_someone_elses_booking_page_is_not_found(tree, venue):
    made = booking.book_slot(actor=tree.resident, slot_id=_slot(venue).pk)
    r = login(tree.user()).get(reverse("facilities:booking", args=[made.pk]))
    assert r.status_code == 404


def test_a_full_slot_offers_the_waitlist_and_joining_works(tree, venue):
    slot = _slot(venue)
    booking.book_slot(actor=tree.user(), slot_id=slot.pk)
    client = login(tree.resident)
    r = client.post(reverse("facilities:book"), {"slot_id": slot.pk})
    assert r.status_code == 409
    assert reverse("facilities:waitlist", args=[slot.pk]) in r.content.decode()
    r = client.post(reverse("facilities:waitlist", args=[slot.pk]))
    assert r.status_code == 302
    assert WaitlistEntry.objects.get(user=tree.resident).status == "waiting"
    client.post(reverse("facilities:waitlist", args=[slot.pk]), {"action": "leave"})
    assert WaitlistEntry.objects.get(user=tree.resident).status == "left"


def test_cancelling_from_the_page(tree, venue):
    made = booking.book_slot(actor=tree.resident, slot_id=_slot(venue).pk)
    r = login(tree.resident).post(reverse("facilities:cancel_booking", args=[made.pk]))
    assert r.status_code == 302
    assert Booking.objects.get(pk=made.pk).status == BookingStatus.CANCELLED


def test_a_refused_booking_goes_back_with_the_message(tree, venue):
    slot = _slot(venue, day=tomorrow() + dt.timedelta(days=20))
    client = login(tree.resident)
    r = client.post(reverse("facilities:book"), {"slot_id": slot.pk},
                    HTTP_REFERER=f"/facilities/{venue.pk}/")
    assert r.status_code == 302 and r["Location"] == f"/facilities/{venue.pk}/"
    assert not Booking.objects.exists()
    r = client.post(reverse("facilities:book"), {"slot_id": "abc"})
    assert r.status_code == 400


def test_entering_a_lottery_from_the_page(tree, venue):
    Unit.objects.filter(facility=venue).update(booking_mode=BookingMode.LOTTERY)
    slot = _slot(venue, day=tomorrow() + dt.timedelta(days=2))
    r = login(tree.resident).post(reverse("facilities:lottery", args=[slot.pk]))
    assert r.status_code == 302
    assert LotteryEntry.objects.filter(user=tree.resident, slot=slot).exists()


def test_pages_only_accept_posts_for_changes(tree, venue):
    client = login(tree.resident)
    assert client.get(reverse("facilities:book")).status_code == 405
