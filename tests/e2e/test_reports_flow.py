"""End to end in Chromium: a resident reports a broken light at the demo station with a photo;
the venue manager accepts and resolves it; the resident confirms and rates it; once the
cockpit's figures are refreshed, the community's reports resolved on time are one more."""

from __future__ import annotations

import io
import re

import pytest

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

RESIDENT = "13800000000"
VENUE_MANAGER = "13800000005"
COMMUNITY_ADMIN = "13800000001"
COMMUNITY = "330402009034"  # 花园社区
STATION = "花园社区运动家智能健身驿站(24小时)"


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (20, 20, 60)).save(out, "JPEG")
    return out.getvalue()


def _on_time(page) -> int:
    page.goto(f"/cockpit/{COMMUNITY}")
    cell = page.locator("tr[data-figure=reports_resolved_on_time] td.num").first
    return int(re.sub(r"[^0-9]", "", cell.inner_text()) or "0")


def test_a_broken_light_is_reported_resolved_confirmed_and_counted(page, laptop, server):
    server.manage("rebuild_figures", "--verbosity", "0")
    log_in(laptop, COMMUNITY_ADMIN, next_path="/console/")
    before = _on_time(laptop)

    # Given the demo resident at the station
    log_in(page, RESIDENT)
    page.goto("/places/?near=home")
    with page.expect_navigation():
        page.get_by_role("link", name=STATION).first.click()
    # When they report its broken light with a photo
    with page.expect_navigation():
        page.locator("#report-problem").click()
    form = page.locator("#report-form")
    assert STATION in form.inner_text()
    form.locator("[name=category]").select_option("lighting")
    form.locator("[name=description]").fill("驿站门口的灯坏了，晚上看不清")
    form.locator("[name=photos]").set_input_files(
        {"name": "light.jpg", "mimeType": "image/jpeg", "buffer": _photo()})
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    if page.locator("button[name=send_anyway]").count():  # a similar open report nearby
        page.locator("[name=photos]").set_input_files(
            {"name": "light.jpg", "mimeType": "image/jpeg", "buffer": _photo()})
        with page.expect_navigation():
            page.locator("button[name=send_anyway]").click()
    # Then it is sent, with its photo and the start of its timeline
    match = re.search(r"/governance/reports/(\d+)/$", page.url)
    assert match, page.url
    report_id = match.group(1)
    assert page.locator("[data-report-status]").inner_text() == "已提交"
    assert page.get_by_role("img", name="问题照片").count() == 1

    # When the venue manager opens it from the queue, accepts it and resolves it
    log_in(laptop, VENUE_MANAGER, next_path="/governance/console/reports/")
    with laptop.expect_navigation():
        laptop.locator(f"#report-queue a[href$='/reports/{report_id}/']").click()
    step = laptop.locator("#report-step")
    step.locator("[name=to]").select_option("accepted")
    with laptop.expect_navigation():
        step.locator("button[type=submit]").click()
    assert laptop.locator("[data-report-status]").inner_text() == "已受理"
    step = laptop.locator("#report-step")
    step.locator("[name=to]").select_option("resolved")
    step.locator("[name=note]").fill("已更换灯泡")
    with laptop.expect_navigation():
        step.locator("button[type=submit]").click()
    assert laptop.locator("[data-report-status]").inner_text() == "已解决"

    # Then the resident sees the answer, confirms it and rates the handling
    page.goto(f"/governance/reports/{report_id}/")
    assert "已更换灯泡" in page.get_by_role("main").inner_text()
    with page.expect_navigation():
        page.locator(f"form[action$='/reports/{report_id}/confirm/'] button").click()
    assert page.locator("[data-report-status]").inner_text() == "已关闭"
    page.locator("input[name=rating][value='5']").check()
    with page.expect_navigation():
        page.locator(f"form[action$='/reports/{report_id}/rate/'] button").click()
    timeline = page.locator("ol.timeline").inner_text()
    for step_name in ("已提交", "已受理", "已解决", "报事人已确认", "已评价"):
        assert step_name in timeline

    # And the community's cockpit counts one more report resolved on time
    server.manage("rebuild_figures", "--verbosity", "0")
    log_in(laptop, COMMUNITY_ADMIN, next_path="/console/")
    assert _on_time(laptop) == before + 1
