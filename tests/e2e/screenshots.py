"""Write the README screenshots: ``.venv/bin/python -m tests.e2e.screenshots``.

Serves the demo city exactly as the browser tests do and saves phone-sized pictures of the
resident pages and a laptop-sized one of the console to docs/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.server import DEMO_PASSWORD, ROOT, launch_browser, serve

OUT = ROOT / "docs" / "screenshots"
STATION = "花园社区运动家智能健身驿站(24小时)"
CITY = "330400000000"
NANHU = "330402000000"


def _log_in(page, phone: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="登录").click()


def _cockpit(browser, server, out: Path) -> list[Path]:
    """The city administrator's cockpit on a laptop and on the big screen, and its parts."""
    import datetime as dt

    written = []
    laptop = browser.new_context(base_url=server.url, locale="zh-CN",
                                 viewport={"width": 1366, "height": 900})
    page = laptop.new_page()
    _log_in(page, "13800000004")
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    for name, path, full in (
            ("cockpit", f"/cockpit/{CITY}/", False),
            ("cockpit-district", f"/cockpit/{NANHU}/?period={last_month}&grain=day", True),
            ("supervision", "/cockpit/tasks/", False),
            ("assessments", "/cockpit/assessments/", False),
            ("demand", f"/cockpit/{CITY}/demand/", False),
            ("monthly-report", f"/cockpit/{CITY}/reports/{last_month}/", False)):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        written.append(out / f"{name}.png")
        page.screenshot(path=written[-1], full_page=full)
    screen = browser.new_context(base_url=server.url, locale="zh-CN",
                                 viewport={"width": 1920, "height": 1080})
    screen.add_cookies(laptop.cookies())
    page = screen.new_page()
    page.goto(f"/cockpit/{CITY}/?screen=1")
    page.wait_for_load_state("networkidle")
    written.append(out / "cockpit-screen.png")
    page.screenshot(path=written[-1])
    laptop.close()
    screen.close()
    return written


def _groups_and_events(browser, server, out: Path) -> list[Path]:
    """The demo resident's groups, a group's page and chat, the events list and an event; the
    groups section of the console."""
    written = []
    phone = browser.new_context(base_url=server.url, locale="zh-CN", device_scale_factor=2,
                                viewport={"width": 375, "height": 740})
    page = phone.new_page()
    _log_in(page, "13800000000")
    page.goto("/groups/")
    written.append(out / "groups.png")
    page.screenshot(path=written[-1])
    page.locator("#my-groups ~ ul a").first.click()
    page.wait_for_load_state()
    written.append(out / "group.png")
    page.screenshot(path=written[-1])
    page.get_by_role("link", name="群聊").first.click()
    page.locator('#chat[data-state="open"]').wait_for()
    written.append(out / "group-chat.png")
    page.screenshot(path=written[-1])
    page.goto("/events/")
    written.append(out / "events.png")
    page.screenshot(path=written[-1])
    page.locator("main a[href^='/events/']").filter(has_not_text="我的").first.click()
    page.wait_for_load_state()
    written.append(out / "event.png")
    page.screenshot(path=written[-1])
    laptop = browser.new_context(base_url=server.url, locale="zh-CN",
                                 viewport={"width": 1280, "height": 800})
    page = laptop.new_page()
    _log_in(page, "13800000002")
    page.goto("/groups/console/")
    written.append(out / "groups-console.png")
    page.screenshot(path=written[-1])
    phone.close()
    laptop.close()
    return written


def _governance(browser, server, out: Path) -> list[Path]:
    """The report form, the demo resident's resolved report, the topics, a survey and
    volunteering on a phone; the community's report queue and the governance section on a
    laptop."""
    written = []
    phone = browser.new_context(base_url=server.url, locale="zh-CN", device_scale_factor=2,
                                viewport={"width": 375, "height": 740})
    page = phone.new_page()
    _log_in(page, "13800000000")
    for name, path in (("report-new", "/governance/reports/new/"),
                       ("my-reports", "/governance/reports/"),
                       ("topics", "/governance/topics/"), ("surveys", "/governance/surveys/"),
                       ("volunteering", "/governance/volunteering/")):
        page.goto(path)
        written.append(out / f"{name}.png")
        page.screenshot(path=written[-1])
    page.goto("/governance/reports/")
    page.locator("main .card a").first.click()
    page.wait_for_load_state()
    written.append(out / "report.png")
    page.screenshot(path=written[-1], full_page=True)
    laptop = browser.new_context(base_url=server.url, locale="zh-CN",
                                 viewport={"width": 1280, "height": 800})
    page = laptop.new_page()
    _log_in(page, "13800000001")
    for name, path in (("reports-console", "/governance/console/reports/"),
                       ("governance-console", "/governance/console/")):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        written.append(out / f"{name}.png")
        page.screenshot(path=written[-1])
    phone.close()
    laptop.close()
    return written


def _later_pages(browser, server, out: Path) -> list[Path]:
    """Associations, instructors, recommendations, fitness tests and clinics on a phone; the
    one window, instructors, campaigns, fitness records, bulk exchange and the OpenActive
    dataset site on a laptop."""
    written = []
    phone = browser.new_context(base_url=server.url, locale="zh-CN", device_scale_factor=2,
                                viewport={"width": 375, "height": 740})
    page = phone.new_page()
    _log_in(page, "13800000000")
    for name, path in (("associations", "/associations/"), ("instructors", "/instructors/"),
                       ("for-you", "/for-you/"), ("fitness", "/fitness/my/"),
                       ("health", "/health/")):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        written.append(out / f"{name}.png")
        page.screenshot(path=written[-1])
    laptop = browser.new_context(base_url=server.url, locale="zh-CN",
                                 viewport={"width": 1280, "height": 800})
    page = laptop.new_page()
    for phone_number, shots in (
            ("13800000002", (("association-window", "/associations/console/applications/"),
                             ("instructors-console", "/instructors/console/"))),
            ("13800000004", (("campaigns", "/console/campaigns/"),
                             ("fitness-console", "/console/fitness/"),
                             ("exchange", "/console/interfaces/exchange/"),
                             ("openactive", "/openactive/")))):
        laptop.clear_cookies()
        _log_in(page, phone_number)
        for name, path in shots:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            written.append(out / f"{name}.png")
            page.screenshot(path=written[-1])
    phone.close()
    laptop.close()
    return written


def take(out: Path = OUT) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serve() as server, sync_playwright() as playwright:
        browser = launch_browser(playwright)
        phone = browser.new_context(base_url=server.url, locale="zh-CN", device_scale_factor=2,
                                    viewport={"width": 375, "height": 740})
        page = phone.new_page()
        page.goto("/")
        written.append(out / "home.png")
        page.screenshot(path=written[-1])
        page.goto("/accounts/login/")
        written.append(out / "login.png")
        page.screenshot(path=written[-1])
        _log_in(page, "13800000000")
        page.goto("/accounts/profile/")
        written.append(out / "profile.png")
        page.screenshot(path=written[-1])
        page.goto("/places/?near=home")
        written.append(out / "places.png")
        page.screenshot(path=written[-1])
        page.get_by_role("link", name=STATION).first.click()
        page.wait_for_load_state()
        written.append(out / "facility.png")
        page.screenshot(path=written[-1], full_page=True)
        for name, path in (("my-data", "/activity/me/?period=year"),
                           ("rankings", "/activity/rankings/?level=city&period=year"),
                           ("rewards", "/rewards/"), ("vouchers", "/rewards/vouchers/")):
            page.goto(path)
            written.append(out / f"{name}.png")
            page.screenshot(path=written[-1])
        page.goto("/me/bookings/")
        page.get_by_role("link", name=STATION).first.click()
        page.wait_for_load_state()
        written.append(out / "pass.png")
        page.screenshot(path=written[-1])
        laptop = browser.new_context(base_url=server.url, locale="zh-CN",
                                     viewport={"width": 1280, "height": 720})
        page = laptop.new_page()
        _log_in(page, "13800000003")
        page.goto("/console/")
        written.append(out / "console.png")
        page.screenshot(path=written[-1])
        laptop.clear_cookies()
        _log_in(page, "13800000005")
        page.goto("/console/facilities/")
        written.append(out / "venues.png")
        page.screenshot(path=written[-1])
        page.get_by_role("link", name=STATION).first.click()
        page.wait_for_load_state()
        written.append(out / "venue.png")
        page.screenshot(path=written[-1], full_page=True)
        written += _cockpit(browser, server, out)
        written += _groups_and_events(browser, server, out)
        written += _governance(browser, server, out)
        written += _later_pages(browser, server, out)
        browser.close()
    return written


if __name__ == "__main__":
    for path in take():
        print(path.relative_to(ROOT))
