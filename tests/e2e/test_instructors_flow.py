"""End to end in Chromium: a resident books the demo instructor with a court; the instructor
confirms and, after the session, records it; the session appears in the resident's exercise
record (the sessions count of their data page grows by one)."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

RESIDENT = "13800000000"
INSTRUCTOR = "13800000011"


def _sessions_count(page) -> int:
    page.goto("/activity/me/")
    return int(page.locator(".activity-totals strong").nth(1).inner_text().strip())


def _book_with_a_court(page) -> None:
    """Open free hours in turn until one offers a court, then book both."""
    starts = page.locator("#free-times a[data-start]")
    links = [starts.nth(i).get_attribute("href") for i in range(min(starts.count(), 12))]
    for href in links:
        page.goto(href)
        if page.locator("#b-slot option").count() > 1:
            page.locator("#b-slot").select_option(index=1)
            page.locator("#b-note").fill("想学发高远球")
            with page.expect_navigation():
                page.locator("#book-submit").click()
            return
    raise AssertionError("no free hour with a court:\n" + page.inner_text("main"))


def test_a_resident_books_with_a_court_and_the_record_reaches_their_data(page, laptop,
                                                                         server):
    # Given the demo resident and their sessions so far this week
    log_in(page, RESIDENT)
    before = _sessions_count(page)
    # When they find the demo instructor and book a free hour with a court
    page.goto("/instructors/")
    with page.expect_navigation():
        page.locator("[data-instructor] h2 a", has_text="王指导员").first.click()
    _book_with_a_court(page)
    # Then the booking awaits the instructor, with the court booked too
    booking = page.locator("#upcoming [data-booking][data-status=pending]").first
    assert booking.is_visible()
    booking_id = booking.get_attribute("data-booking")
    session_id = server.manage("shell", "-c", (
        "from sportsman.instructors.models import GuidanceBooking as B;"
        f"b = B.objects.select_related('session').get(pk={booking_id});"
        "assert b.session.facility_booking_id, 'no court';"
        "print(b.session_id)")).strip().splitlines()[-1]

    # When the instructor confirms it on their page
    log_in(laptop, INSTRUCTOR, next_path="/instructors/me/")
    row = laptop.locator(f"#to-answer [data-session='{session_id}']")
    with laptop.expect_navigation():
        row.locator("button[value=confirm]").click()
    assert laptop.locator(f"#to-answer [data-session='{session_id}']").get_attribute(
        "data-status") == "confirmed"
    # and, the session having taken place (time moved on), records it
    server.manage("shell", "-c", (
        "import datetime as dt; from django.utils import timezone;"
        "from sportsman.instructors.models import GuidanceSession as S;"
        "end = timezone.now() - dt.timedelta(minutes=1);"
        f"S.objects.filter(pk={session_id}).update(starts_at=end - dt.timedelta(hours=1),"
        " ends_at=end)"))
    laptop.goto(f"/instructors/sessions/{session_id}/")
    assert laptop.locator("#record-form input[name=attended]:checked").count() == 1
    laptop.locator("#r-content").fill("握拍与发高远球")
    with laptop.expect_navigation():
        laptop.locator("#record-submit").click()
    assert laptop.locator("#session").get_attribute("data-status") == "recorded"
    assert "握拍与发高远球" in laptop.locator("#record").inner_text()

    # Then the resident's exercise record shows one more session (the event is consumed by
    # the server's task worker: give it a moment)
    deadline = time.monotonic() + 30
    while _sessions_count(page) != before + 1:
        assert time.monotonic() < deadline, "the session never reached the exercise record"
        time.sleep(1)
    # and they can rate it once
    page.goto("/instructors/bookings/")
    past = page.locator(f"#past [data-booking='{booking_id}']")
    assert past.get_attribute("data-status") == "attended"
    with page.expect_navigation():
        past.locator("button[type=submit]").click()
    assert re.search(r"5 ★", page.locator(f"#past [data-booking='{booking_id}']").inner_text())
