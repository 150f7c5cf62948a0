"""Group chat end to end in two Chromium contexts, served as `make run` serves it (two worker
processes, the in-memory layer: the relay carries messages between them): a message sent in one
appears in the other; after the connection drops, a message resent neither goes missing nor
doubles; a non-member cannot connect."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

LEADER = "13800000001"  # 花园社区管理员, who lives in 花园社区 too
MEMBER = "13800000000"  # the demo resident
OUTSIDER = "13800000002"  # 新嘉街道管理员, not in the group
GROUP = "花园E2E聊天测试群"


def _wait_connected(tab) -> None:
    tab.locator('#chat[data-state="open"]').wait_for()


def _lines(tab, text: str):
    return tab.locator("#chat-log li.chat-line", has_text=text)


def test_two_members_chat_and_a_dropped_connection_loses_and_doubles_nothing(
        browser, server, page, laptop):
    second = browser.new_context(base_url=server.url, locale="zh-CN",
                                 viewport={"width": 375, "height": 812})
    second.set_default_timeout(20_000)
    other = second.new_page()
    try:
        # The leader starts an open group
        log_in(laptop, LEADER)
        laptop.goto("/groups/new/")
        laptop.get_by_label("名称").fill(GROUP)
        laptop.get_by_label("运动项目").select_option(label="广场舞")
        laptop.get_by_label("加入方式").select_option("open")
        with laptop.expect_navigation():
            laptop.get_by_role("button", name="创建").click()
        match = re.search(r"/groups/(\d+)/", laptop.url)
        assert match, laptop.url
        group_url = f"/groups/{match.group(1)}/"

        # The demo resident joins it from its page, on a phone
        log_in(page, MEMBER)
        page.goto(group_url)
        with page.expect_navigation():
            page.get_by_role("button", name="加入").click()
        assert "欢迎加入社群" in page.get_by_role("main").inner_text()

        # Both open the chat
        laptop.goto(group_url + "chat/")
        page.goto(group_url + "chat/")
        _wait_connected(laptop)
        _wait_connected(page)

        # A message sent by one appears for the other
        page.get_by_label("消息").fill("晚上七点老地方见")
        page.get_by_role("button", name="发送").click()
        _lines(laptop, "晚上七点老地方见").wait_for()
        assert _lines(page, "晚上七点老地方见").count() == 1

        # The phone's connection drops; a message written meanwhile is sent when it comes back
        page.evaluate("window.sportsmanChat.drop()")
        page.get_by_label("消息").fill("断线时写的一条")
        page.get_by_role("button", name="发送").click()
        _wait_connected(page)
        _lines(laptop, "断线时写的一条").wait_for()

        # A message whose answer is lost with the connection is resent after it: still once
        page.get_by_label("消息").fill("发出后马上断线")
        page.get_by_role("button", name="发送").click()
        page.evaluate("window.sportsmanChat.drop()")
        _wait_connected(page)
        _lines(laptop, "发出后马上断线").wait_for()
        page.locator('#chat[data-outbox="0"]').wait_for()
        laptop.wait_for_timeout(2500)  # past the relay's tick: any copy would have arrived
        for tab in (page, laptop):
            for text in ("晚上七点老地方见", "断线时写的一条", "发出后马上断线"):
                assert _lines(tab, text).count() == 1, (text, tab.inner_text("#chat-log"))

        # After a reload, the history shows each message once
        page.reload()
        _wait_connected(page)
        for text in ("晚上七点老地方见", "断线时写的一条", "发出后马上断线"):
            assert _lines(page, text).count() == 1

        # A non-member gets no chat page, and their socket is refused
        log_in(other, OUTSIDER)
        refused = other.goto(group_url + "chat/")
        assert refused is not None and refused.status == 403
        code = other.evaluate("""(path) => new Promise((resolve) => {
            const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://')
                                     + location.host + path);
            ws.onclose = (event) => resolve(event.code);
        })""", f"/ws/groups/{match.group(1)}/chat/")
        assert code == 4403
    finally:
        second.close()
