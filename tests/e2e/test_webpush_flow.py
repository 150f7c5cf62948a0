"""End to end in Chromium: web push on the notification settings page and in the service worker.

Headless Chromium has no push service to subscribe with (Debian's build has no Google API keys,
so ``pushManager.subscribe()`` fails with AbortError: the test checks that the page says so).
With ``pushManager.subscribe`` replaced by one returning a subscription as a browser makes it,
the page's own code posts it to the API and unsubscribes it again (checked in the database).
The service worker's ``push`` handler is driven through the DevTools protocol
(``ServiceWorker.deliverPushMessage``, the message a push service would bring) and shows the
notification; ``notificationclick`` is not driven (headless shows no notification to click).
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.e2e

DEMO_RESIDENT = "13800000000"
ENDPOINT = "https://push.example/e2e-browser"
FAKE_SUBSCRIBE = """
(() => {
  const made = { endpoint: "ENDPOINT", expirationTime: null,
                 keys: { p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", auth: "tBHItJI5svbpez7KI4CCXg" } };
  let current = null;
  const fake = (sub) => ({ endpoint: sub.endpoint, toJSON: () => sub,
                           unsubscribe: () => { current = null; return Promise.resolve(true); } });
  PushManager.prototype.subscribe = function (options) {
    window.__applicationServerKey = Array.from(new Uint8Array(options.applicationServerKey));
    current = fake(made);
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
""".replace("ENDPOINT", ENDPOINT)


def _subscriptions(server) -> list[str]:
    out = server.manage("shell", "-c", (
        "import json; from sportsman.notifications.models import PushSubscription as P; "
        "print(json.dumps(list(P.objects.values_list('endpoint', flat=True))))"))
    return json.loads(out.strip().splitlines()[-1])


def _public_key(page) -> list[int]:
    key = page.locator("#web-push").get_attribute("data-vapid-key")
    return page.evaluate("""(k) => {
      const b64 = (k + "===".slice((k.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
      return Array.from(atob(b64), (c) => c.charCodeAt(0));
    }""", key)


def test_the_real_subscribe_fails_visibly_without_a_push_service(page, server):
    page.context.grant_permissions(["notifications"])
    log_in(page, DEMO_RESIDENT)
    page.goto("/notifications/preferences/")
    page.wait_for_selector("#web-push[data-state=off]")  # the service worker is ready
    page.locator("#web-push-on").click()
    page.wait_for_selector("#web-push[data-state=failed], #web-push[data-state=on]")
    state = page.locator("#web-push").get_attribute("data-state")
    if state == "failed":
        assert "AbortError" in (page.locator("#web-push").get_attribute("data-error") or "")
        assert _subscriptions(server) == []
    else:  # a Chromium with a push service: the real subscription reached the server
        assert len(_subscriptions(server)) == 1


def test_the_page_subscribes_and_unsubscribes_with_the_vapid_key(page, server):
    page.context.grant_permissions(["notifications"])
    page.add_init_script(FAKE_SUBSCRIBE)
    log_in(page, DEMO_RESIDENT)
    page.goto("/notifications/preferences/")
    page.wait_for_selector("#web-push[data-state=off]")

    page.locator("#web-push-on").click()
    page.wait_for_selector("#web-push[data-state=on]")
    # The key handed to subscribe() is the server's VAPID public key (65 bytes, uncompressed).
    sent_key = page.evaluate("window.__applicationServerKey")
    assert sent_key == _public_key(page) and len(sent_key) == 65 and sent_key[0] == 4
    assert ENDPOINT in _subscriptions(server)

    page.locator("#web-push-off").click()
    page.wait_for_selector("#web-push[data-state=off]")
    assert ENDPOINT not in _subscriptions(server)


def test_the_service_worker_shows_a_pushed_message(page, server):
    page.context.grant_permissions(["notifications"])
    log_in(page, DEMO_RESIDENT)
    page.goto("/notifications/preferences/")
    page.wait_for_selector("#web-push[data-state]")
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    for _ in range(50):
        if registrations:
            break
        page.wait_for_timeout(100)
    [registration] = [r for r in registrations if not r.get("isDeleted")]
    message = {"id": 7, "category": "event", "title": "晨跑改到 8:00", "body": "滨江步道",
               "url": "/events/12"}
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": server.url, "registrationId": registration["registrationId"],
        "data": json.dumps(message, ensure_ascii=False)})
    shown = None
    for _ in range(50):  # the push event runs in the worker: poll its notifications
        shown = page.evaluate("""() => navigator.serviceWorker.ready
            .then((reg) => reg.getNotifications())
            .then((list) => list.map((n) => ({title: n.title, body: n.body, tag: n.tag,
                                              data: n.data})))""")
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == [{"title": "晨跑改到 8:00", "body": "滨江步道", "tag": "n7",
                      "data": {"url": "/events/12", "id": 7}}]
