"""End to end in Chromium against the platform served the way ``make run`` serves it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.server import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

RESIDENT = "13800000000"
TOWN_ADMIN = "13800000002"
CITY_ADMIN = "13800000004"


def log_in(page, phone: str, password: str = DEMO_PASSWORD, next_path: str = "",
           expect_ok: bool = True) -> None:
    page.goto("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("手机号码").fill(phone)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="登录").click()
    if expect_ok:
        assert "/accounts/login/" not in page.url, page.get_by_role("main").inner_text()


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            f"{[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_home_page_renders_in_chinese(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == "运动家"
    tabs = page.get_by_role("navigation", name="主导航")
    assert tabs.get_by_role("link", name="首页").is_visible()
    assert tabs.get_by_role("link", name="我的").is_visible()


def test_demo_resident_logs_in_and_sees_the_profile(page):
    log_in(page, RESIDENT, next_path="/accounts/profile/")
    assert page.url.endswith("/accounts/profile/")
    assert page.get_by_role("heading", name="我的资料").is_visible()
    assert RESIDENT in page.get_by_role("main").inner_text()


def test_wrong_password_is_refused_with_a_message(page):
    log_in(page, RESIDENT, password="not-the-password", expect_ok=False)
    assert page.get_by_role("alert").inner_text().strip() == "手机号码或密码错误。"


def test_register_a_new_resident_with_the_code_from_the_outbox(page, server):
    phone = "13612340000"
    page.goto("/accounts/register/")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_role("status").filter(has_text="验证码已发送").wait_for()
    text = server.sms_to(phone)[-1]["text"]
    code = re.search(r"\d{6}", text).group(0)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("密码").fill("Kite-runner-77")
    page.get_by_label("昵称").fill("新居民")
    # the home community picker fills itself from /api/v1/regions/public
    district = page.get_by_label("区（县）")
    district.locator("option", has_text="南湖区").wait_for(state="attached")
    district.select_option(label="南湖区")
    town = page.get_by_label("街道（镇）")
    town.locator("option", has_text="新嘉街道").wait_for(state="attached")
    town.select_option(label="新嘉街道")
    community = page.get_by_label("社区（村）")
    community.locator("option", has_text="花园社区").wait_for(state="attached")
    community.select_option(label="花园社区")
    page.get_by_label("我同意服务条款").check()
    page.get_by_label("我同意隐私政策").check()
    page.get_by_role("button", name="创建账号").click()
    page.wait_for_url("**/accounts/profile/")
    main = page.get_by_role("main").inner_text()
    assert "新居民" in main and phone in main and "花园社区" in main


def test_switch_to_english(page):
    page.goto("/")
    page.get_by_label("语言").select_option("en")
    with page.expect_navigation():
        page.get_by_role("button", name="切换").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Sportsman"
    page.goto("/accounts/login/")
    assert page.get_by_role("heading", name="Log in").is_visible()


def test_town_admin_region_switcher_stays_in_the_town(laptop):
    log_in(laptop, TOWN_ADMIN, next_path="/console/")
    options = laptop.locator("#region-select option").all_inner_texts()
    names = {o.strip("↑↓ ") for o in options}
    assert names == {"新嘉街道", "长才社区", "花园社区"}
    assert not names & {"南湖区", "秀洲区", "嘉兴市", "东栅街道"}
    # drilling down works; a forged choice of another district is refused
    laptop.locator("#region-select").select_option(label="↓ 花园社区")
    with laptop.expect_navigation():
        laptop.get_by_role("button", name="前往", exact=True).click()
    assert laptop.get_by_role("heading", level=1).inner_text().startswith("花园社区")
    token = laptop.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    response = laptop.request.post("/console/region/", form={
        "region": "4", "csrfmiddlewaretoken": token},
        headers={"Referer": laptop.url})
    assert response.status == 403


def test_city_admin_sees_the_audit_log(laptop):
    log_in(laptop, CITY_ADMIN, next_path="/console/audit/")
    assert laptop.get_by_role("heading", name="审计日志").is_visible()
    laptop.get_by_label("类型").select_option("auth")
    with laptop.expect_navigation():
        laptop.get_by_role("button", name="筛选").click()
    assert "kind=auth" in laptop.url
    assert laptop.get_by_role("table").is_visible()
    # printing hides the navigation and the filters
    laptop.emulate_media(media="print")
    assert not laptop.locator(".side-nav").is_visible()
    assert not laptop.locator("form.filters").is_visible()


@pytest.mark.parametrize("who,paths", [
    (None, ["/", "/accounts/login/", "/accounts/register/", "/accounts/password/forgot/"]),
    (RESIDENT, ["/accounts/profile/", "/accounts/profile/edit/", "/notifications/",
                "/notifications/preferences/"]),
    (CITY_ADMIN, ["/console/", "/console/residents/", "/console/audit/"]),
], ids=["visitor", "resident", "city-admin"])
def test_no_serious_accessibility_violations(browser, server, who, paths):
    found = {}
    for large_text in (False, True):
        context = browser.new_context(base_url=server.url, locale="zh-CN",
                                      viewport={"width": 375 if who != CITY_ADMIN else 1280,
                                                "height": 812})
        if large_text:
            context.add_cookies([{"name": "large_text", "value": "1", "url": server.url}])
        context.set_default_timeout(20_000)
        page = context.new_page()
        if who:
            log_in(page, who)
        for path in paths:
            page.goto(path)
            assert page.url == server.url + path  # not sent to the log-in page
            violations = serious_violations(page)
            if violations:
                found[f"{path} large_text={large_text}"] = violations
        context.close()
        if who:  # logged-in users keep large text on their profile, not in a cookie
            break
    assert not found, found
