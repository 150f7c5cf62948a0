"""End to end in Chromium: a resident finds an open place near home, books the next slot and
shows the pass; the venue manager scans it at the desk; the visit shows for both."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

RESIDENT = "13800000000"
VENUE_MANAGER = "13800000005"
STATION = "花园社区运动家智能健身驿站(24小时)"  # the demo's round-the-clock station


def _book_next_slot(page) -> None:
    """Book the first slot with a Book button today, else tomorrow (late at night)."""
    for day in ("", "?day=tomorrow"):
        if day:
            page.goto(page.url.split("?")[0] + day)
        book = page.get_by_role("button", name="预约").first
        if book.count():
            with page.expect_navigation():
                book.click()
            return
    raise AssertionError("no bookable slot today or tomorrow:\n" + page.inner_text("main"))


def test_resident_books_shows_the_pass_and_the_manager_checks_them_in(page, laptop):
    # Given the demo resident at home in 花园社区
    log_in(page, RESIDENT)
    # When they look for places near their home community
    page.goto("/places/")
    with page.expect_navigation():
        page.get_by_role("link", name="我家所在社区附近").click()
    station = page.locator("li.card", has=page.get_by_role("link", name=STATION))
    assert station.get_by_text("正在开放").is_visible()
    with page.expect_navigation():
        station.get_by_role("link", name=STATION).click()
    assert page.get_by_role("heading", level=1).inner_text() == STATION
    # and book the next slot
    _book_next_slot(page)
    # Then the booking pass is shown as a QR code with its code for the desk
    assert page.get_by_role("img", name="预约凭证二维码").locator("svg").is_visible()
    pass_code = page.locator("[data-pass-code]").inner_text().strip()
    assert len(pass_code) >= 20

    # When the venue manager types the pass in at the desk of the station
    log_in(laptop, VENUE_MANAGER, next_path="/console/facilities/")
    with laptop.expect_navigation():
        laptop.get_by_role("link", name=STATION).first.click()
    laptop.get_by_label("凭证码").fill(pass_code)
    with laptop.expect_navigation():
        laptop.locator("#scan-form").get_by_role("button", name="签到").click()
    # Then the desk sees the check-in
    assert "已签到" in laptop.get_by_role("main").inner_text()
    assert "演示居民" in laptop.locator("table", has_text="演示居民").first.inner_text()

    # And the resident sees the open visit at the station
    page.goto("/me/visits/")
    current = page.locator("section", has=page.get_by_role("heading", name="当前已签到"))
    assert STATION in current.inner_text()
    assert current.get_by_role("button", name="签退").is_visible()
