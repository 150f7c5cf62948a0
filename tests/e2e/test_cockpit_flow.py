"""End to end in Chromium: the city administrator opens the city cockpit, drills into a
district and issues it a supervision task; the district administrator sees it on their cockpit
and in their tasks, reports progress and submits it; the city accepts it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

CITY_ADMIN = "13800000004"
DISTRICT_ADMIN = "13800000003"
CITY = "330400000000"
NANHU = "330402000000"  # the demo district administrator's district
TITLE = "清理南湖区逾期未办结的报修工单"


def _kpi(page, key: str) -> int:
    text = page.locator(f"[data-kpi={key}] .kpi-value").first.inner_text()
    return int(re.sub(r"[^0-9]", "", text) or "0")


def test_city_drills_into_a_district_and_supervises_it(laptop, browser, server):
    # Given the city administrator in the console
    log_in(laptop, CITY_ADMIN, next_path="/console/")
    # When they open the cockpit, it is the city's, with the city's figures
    with laptop.expect_navigation():
        laptop.locator("#nav-cockpit").click()
    assert laptop.url.rstrip("/").endswith(f"/cockpit/{CITY}")
    assert "嘉兴市" in laptop.get_by_role("heading", level=1).inner_text()
    assert _kpi(laptop, "residents_registered") > 100
    assert _kpi(laptop, "facilities") > 10
    city_minutes = _kpi(laptop, "exercise_minutes")
    # and the districts side by side, each a link into its own cockpit
    subunits = laptop.locator("#cockpit-subunits")
    assert "南湖区" in subunits.inner_text() and "秀洲区" in subunits.inner_text()
    with laptop.expect_navigation():
        laptop.locator(f"#drill-{NANHU}").click()
    assert laptop.url.split("?")[0].rstrip("/").endswith(f"/cockpit/{NANHU}")
    assert "南湖区" in laptop.get_by_role("heading", level=1).inner_text()
    assert 0 < _kpi(laptop, "exercise_minutes") < city_minutes
    assert laptop.locator(f"#crumb-{CITY}").is_visible()  # the way back up

    # When they issue the district a supervision task from its cockpit
    with laptop.expect_navigation():
        laptop.locator("#cockpit-issue-task").click()
    form = laptop.locator("#task-form")
    form.locator("[name=title]").fill(TITLE)
    form.locator("[name=category]").select_option("overdue_reports")
    form.locator("[name=body]").fill("请在期限内办结辖区内所有逾期报修工单，并上传现场照片。")
    form.locator("[name=deadline]").fill((dt.date.today() + dt.timedelta(days=7)).isoformat())
    assert form.get_by_label("南湖区").is_checked()  # the district it came from
    with laptop.expect_navigation():
        laptop.locator("#issue-task").click()
    # Then the task is issued to the district
    assert TITLE in laptop.get_by_role("heading", level=1).inner_text()
    assert "南湖区" in laptop.locator("#assignments").inner_text()
    task_url = laptop.url

    # When the district administrator opens their cockpit, the task is waiting there
    context = browser.new_context(base_url=server.url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    district = context.new_page()
    log_in(district, DISTRICT_ADMIN, next_path="/cockpit/")
    assert district.url.rstrip("/").endswith(f"/cockpit/{NANHU}")
    assert TITLE in district.get_by_role("main").inner_text()
    # and in their tasks, under "assigned to us"
    district.goto("/cockpit/tasks/?tab=assigned")
    row = district.locator("#task-table tr", has_text=TITLE)
    with district.expect_navigation():
        row.locator("[id^=open-assignment-]").click()
    # they report progress
    progress = district.locator("#progress-form")
    progress.locator("[name$=progress]").fill("60")
    progress.locator("textarea").fill("已办结 12 件，剩余 8 件本周内完成。")
    with district.expect_navigation():
        district.locator("#report-progress").click()
    assert "60" in district.locator("#assignment-progress").inner_text()
    # and submit it for review
    district.locator("#submit-form textarea").fill("全部逾期工单已办结，附现场照片。")
    with district.expect_navigation():
        district.locator("#submit-assignment").click()
    submitted = district.locator("#assignment-status").inner_text()

    # Then the city sees the answer and accepts it
    laptop.goto(task_url)
    assignments = laptop.locator("#assignments")
    assert "全部逾期工单已办结" in assignments.inner_text() or submitted in assignments.inner_text()
    with laptop.expect_navigation():
        laptop.locator("[id^=accept-]").first.click()
    district.reload()
    assert district.locator("#assignment-status").inner_text() != submitted
    context.close()
