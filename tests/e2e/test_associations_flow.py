"""End to end in Chromium: the demo association administrator fills in 新嘉街道老年人体育协会's
annual report on last year, attaches its documents and submits it; 新嘉街道's window accepts it
(a receipt number), 南湖区 approves it as 合格; the association sees the result and downloads
the decision document."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

ASSOCIATION_ADMIN = "13800000010"
TOWN_ADMIN = "13800000002"  # 新嘉街道
DISTRICT_ADMIN = "13800000003"  # 南湖区
ASSOCIATION = "新嘉街道老年人体育协会"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _status(page) -> str:
    return page.locator("[data-application-status]").first.get_attribute(
        "data-application-status") or ""


def _step(page, action: str, result: str = "") -> None:
    form = page.locator("#application-step")
    form.locator("[name=action]").select_option(action)
    if result:
        form.locator("[name=result]").select_option(result)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_an_annual_report_is_submitted_accepted_approved_and_downloaded(page, laptop):
    # Given the association's administrator on their associations
    log_in(page, ASSOCIATION_ADMIN, next_path="/associations/mine/")
    card = page.locator("section[data-association]").filter(has_text=ASSOCIATION)
    card.locator("summary").click()
    with page.expect_navigation():
        card.locator("a[data-apply=annual_report]").click()
    # When they fill in the annual report and attach its documents
    form = page.locator("#application-form")
    assert form.get_attribute("data-kind") == "annual_report"
    form.locator("[name=activities]").fill("18")
    form.locator("[name=participants]").fill("1200")
    form.locator("[name=income_yuan]").fill("56000")
    form.locator("[name=expenditure_yuan]").fill("51000")
    form.locator("[name=summary]").fill("全年组织门球、太极拳、健步走等活动十八次")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    match = re.search(r"/associations/applications/(\d+)/$", page.url)
    assert match, page.url
    app_id = match.group(1)
    assert _status(page) == "draft"
    for key in ("inspection_form", "audit_report", "certificate_copy", "declaration"):
        upload = page.locator("#document-form")
        upload.locator("[name=requirement]").select_option(key)
        upload.locator("[name=file]").set_input_files(
            {"name": f"{key}.pdf", "mimeType": "application/pdf", "buffer": PDF})
        with page.expect_navigation():
            upload.locator("button[type=submit]").click()
        assert page.locator(f"[data-requirement={key}]").get_attribute("data-attached") == "1"
    with page.expect_navigation():
        page.locator("button[data-action=submit]").click()
    assert _status(page) == "submitted"
    assert page.locator("[data-level]").get_attribute("data-level") == "town"

    # When the town's window accepts it from its inbox
    log_in(laptop, TOWN_ADMIN, next_path="/associations/console/applications/")
    with laptop.expect_navigation():
        laptop.locator(f"#application-inbox a[href$='/applications/{app_id}/']").click()
    _step(laptop, "accept")
    assert _status(laptop) == "accepted"
    receipt = laptop.locator("[data-receipt]").get_attribute("data-receipt") or ""
    assert re.fullmatch(r"JX-\d{4}-\d{6}", receipt), receipt
    assert laptop.locator("[data-level]").get_attribute("data-level") == "district"

    # And the district approves it as 合格
    log_in(laptop, DISTRICT_ADMIN, next_path="/associations/console/applications/")
    with laptop.expect_navigation():
        laptop.locator(f"#application-inbox a[href$='/applications/{app_id}/']").click()
    _step(laptop, "approve", result="pass")
    assert _status(laptop) == "approved"

    # Then the association sees the result and downloads the decision
    page.goto(f"/associations/applications/{app_id}/")
    assert _status(page) == "approved"
    assert page.locator("[data-result]").get_attribute("data-result") == "pass"
    assert page.locator(f"[data-receipt='{receipt}']").count() == 1
    steps = [s.get_attribute("data-step") for s in page.locator("ol.timeline li").all()]
    assert steps == ["create", "submit", "accept", "approve"]
    with page.expect_download() as download:
        page.locator("#result-download").click()
    path = download.value.path()
    with open(path, "rb") as handle:
        assert handle.read(5) == b"%PDF-"
