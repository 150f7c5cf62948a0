"""Browser tests: one served platform (over a copy of the demo city seeded once per run) and one
Chromium per test module.

Module-scoped on purpose: Playwright's sync API keeps an event loop on the main thread while it
is open, and Django refuses database calls from a thread with a running loop, so it is closed
before the next module's tests run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import CHROMIUM, launch_browser, seeded, serve


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def demo_seed():
    """The demo city, migrated and loaded once for the whole run."""
    with seeded() as made:
        yield made


@pytest.fixture(scope="module")
def server(demo_seed):
    with serve(demo_seed) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


def _tab(browser, server, width: int, height: int):
    context = browser.new_context(base_url=server.url, locale="zh-CN",
                                  viewport={"width": width, "height": height})
    context.set_default_timeout(20_000)
    return context, context.new_page()


@pytest.fixture
def page(browser, server):
    """A fresh phone-sized browser context in Chinese (the residents' default)."""
    context, tab = _tab(browser, server, 375, 812)
    yield tab
    context.close()


@pytest.fixture
def laptop(browser, server):
    """A laptop-sized context, for the staff console."""
    context, tab = _tab(browser, server, 1280, 800)
    yield tab
    context.close()
