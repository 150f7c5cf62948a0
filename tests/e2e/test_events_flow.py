"""End to end in Chromium: a resident on a phone finds an upcoming event they may enter,
registers, finds it in "my registrations" with its check-in QR code and its calendar file (which
parses, as does their personal feed); the city administrator checks the registration in on the
console's scanner; the resident sees it checked in."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

RESIDENT = "13800000000"  # 演示居民, at home in 花园社区
CITY_ADMIN = "13800000004"  # governs every event of 嘉兴市


def _events_of(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    return [c for c in calendar.walk("VEVENT")]


def _open_an_event_i_may_enter(page) -> str:
    """From the list of coming events, the first whose page offers the individual registration
    form with a place left (no reasons against, not a team event, not registered yet). Returns
    its title, with the event page open."""
    page.goto("/events/")
    links = page.locator("#event-list li.card h2 a")
    candidates = [(links.nth(i).inner_text(), links.nth(i).get_attribute("href"))
                  for i in range(links.count())]
    assert candidates, page.get_by_role("main").inner_text()
    for title, href in candidates:
        page.goto(href)
        form = page.locator("#register-form")
        if form.count() and not form.locator("#team_name").count() \
                and form.get_by_role("button", name="报名").count():
            assert page.get_by_role("heading", level=1).inner_text() == title
            return title
    raise AssertionError("no upcoming event open to the demo resident among "
                         f"{[t for t, _h in candidates]}")


def test_resident_registers_shows_the_qr_and_calendar_and_staff_check_them_in(page, laptop,
                                                                               server):
    # Given the demo resident on their phone, logged in
    log_in(page, RESIDENT)
    # When they open the events list and an upcoming event they are eligible for
    page.goto("/events/")
    assert page.get_by_role("heading", level=1).inner_text() == "赛事活动"
    assert page.get_by_role("link", name="即将开始").get_attribute("aria-current") == "page"
    title = _open_an_event_i_may_enter(page)
    # and register
    with page.expect_navigation():
        page.locator("#register-form").get_by_role("button", name="报名").click()

    # Then "my registrations" lists it, registered, with its check-in QR code and code
    assert page.url.endswith("/events/mine/")
    assert "报名成功" in page.get_by_role("main").inner_text()
    card = page.locator("#upcoming-registrations li.card",
                        has=page.get_by_role("link", name=title, exact=True))
    assert card.count() == 1
    assert "已报名" in card.inner_text()
    assert card.locator("figure.qr svg").is_visible()
    code = card.locator("figure.qr code").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{12,24}", code), code

    # And its calendar file is an iCalendar document of that event
    ics = card.locator("a[data-ics]")
    assert ics.is_visible() and "加入我的日历" in ics.inner_text()
    href = ics.get_attribute("href")
    assert href and href.endswith(".ics")
    answer = page.request.get(href)
    assert answer.ok and answer.headers["content-type"].startswith("text/calendar")
    (event,) = _events_of(answer.body())
    assert str(event["SUMMARY"]) == title
    event_id = re.search(r"/events/(\d+)\.ics$", href).group(1)
    assert str(event["UID"]).startswith(f"event-{event_id}@")
    start = event["DTSTART"].dt
    assert start.tzinfo is not None and str(start.tzinfo) == "Asia/Shanghai"
    assert start.strftime("%Y-%m-%d %H:%M") in card.inner_text()
    # and the personal feed shown on the page carries it too
    feed = page.request.get(page.locator("#feed-url").input_value())
    assert feed.ok
    assert title in [str(e["SUMMARY"]) for e in _events_of(feed.body())]

    # When the city administrator scans the code on the console's check-in scanner
    log_in(laptop, CITY_ADMIN, next_path="/events/console/scan/")
    assert laptop.get_by_role("heading", level=1).inner_text() == "签到扫码"
    laptop.get_by_label("报名码").fill(f"SPE:{code}")  # what a scanner types from the QR
    with laptop.expect_navigation():
        laptop.locator("#scan-form").get_by_role("button", name="签到").click()
    # Then the console confirms the check-in of the resident to that event
    result = laptop.locator("#scan-result").inner_text()
    assert "演示居民" in result and title in result
    # and a second scan of the same code is refused
    laptop.get_by_label("报名码").fill(f"SPE:{code}")
    with laptop.expect_navigation():
        laptop.locator("#scan-form").get_by_role("button", name="签到").click()
    assert not laptop.locator("#scan-result").count()

    # And the resident's registration now shows checked in, its QR code gone
    page.reload()
    card = page.locator("#upcoming-registrations li.card",
                        has=page.get_by_role("link", name=title, exact=True))
    assert "已签到" in card.inner_text()
    assert not card.locator("figure.qr").count()
