"""End to end in Chromium: the demo resident opens "for you", sees personal suggestions with
reasons, asks why, switches personalisation off (the next page shows only popular ones nearby),
then switches it back on."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

RESIDENT = "13800000000"


def test_for_you_and_switching_personalisation_off(page, server):
    # Given the demo resident, who agreed to personalised recommendations
    log_in(page, RESIDENT)
    page.goto("/for-you/")
    assert page.locator("#personal-state").get_attribute("data-personal") == "1"
    assert page.locator(".recommendation").count() > 0
    assert page.locator(".recommendation .reason").first.inner_text().strip()
    # When they ask why and switch personalisation off
    page.goto("/for-you/why/")
    assert page.locator("#personalisation").get_attribute("data-consented") == "1"
    assert page.locator(".data-used li").count() > 0
    with page.expect_navigation():
        page.locator("#switch-personalisation").click()
    # Then the why-page says so and "for you" shows only non-personal suggestions
    assert page.locator("#personalisation").get_attribute("data-consented") == "0"
    page.goto("/for-you/")
    assert page.locator("#personal-state").get_attribute("data-personal") == "0"
    reasons = {page.locator(".recommendation").nth(i).get_attribute("data-reason")
               for i in range(page.locator(".recommendation").count())}
    assert reasons <= {"popular"}
    # And switching back on restores the choice
    page.goto("/for-you/why/")
    with page.expect_navigation():
        page.locator("#switch-personalisation").click()
    assert page.locator("#personalisation").get_attribute("data-consented") == "1"
