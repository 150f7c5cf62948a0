"""Web push against the protocol: ``VapidWebPushBackend`` POSTs to a push service running on
127.0.0.1 (``pushservice.PushService``), which verifies the VAPID JWT and decrypts the
aes128gcm body with the browser's private key, as a real push service and browser do."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from config.env import vapid_private_key
from sportsman.notifications import backends, services
from sportsman.notifications.categories import Category
from sportsman.notifications.models import Delivery, PushSubscription
from sportsman.notifications.tests.pushservice import PushService, VapidError, verify_vapid
from sportsman.notifications.tests.test_delivery import quiet_around_now

pytestmark = pytest.mark.django_db

SUBJECT = "mailto:ops@sportsman.test"


@pytest.fixture
def push_service(settings):
    settings.WEBPUSH_BACKEND = "sportsman.notifications.backends.VapidWebPushBackend"
    settings.WEBPUSH_VAPID_PRIVATE_KEY = vapid_private_key()
    settings.WEBPUSH_VAPID_SUBJECT = SUBJECT
    settings.WEBPUSH_TTL_SECONDS = 3600
    settings.WEBPUSH_TIMEOUT_SECONDS = 5
    service = PushService().start()
    yield service
    service.stop()


def subscribe(service: PushService, user, name: str) -> PushSubscription:
    # The service refuses a plain-http endpoint (every real push service is https); the local
    # one is http, so the row is written directly.
    endpoint = service.endpoint(name)
    browser = service.browsers[name]
    return PushSubscription.objects.create(user=user, endpoint=endpoint, p256dh=browser.p256dh,
                                           auth=browser.auth)


def webpush_delivery(user) -> Delivery:
    return Delivery.objects.get(notification__user=user, channel="webpush")


def test_a_push_is_signed_with_vapid_and_decrypts_to_what_was_sent(alice, push_service):
    subscribe(push_service, alice, "phone")
    n_created = services.notify(users=[alice], category=Category.EVENT, title="晨跑改到 8:00",
                                body="周六 · 滨江步道", link="/events/12")
    assert n_created == 1

    assert services.deliver_due().sent == 1

    assert push_service.errors == []
    [got] = push_service.received
    n = webpush_delivery(alice).notification
    assert got.payload == {"id": n.pk, "category": "event", "title": "晨跑改到 8:00",
                           "body": "周六 · 滨江步道", "url": "/events/12"}
    # VAPID: signed by the configured key, for this push service's origin, valid < 24 h.
    assert got.vapid["k"] == backends.vapid_public_key()
    assert got.vapid["aud"] == push_service.url
    assert got.vapid["sub"] == SUBJECT
    assert time.time() < got.vapid["exp"] <= time.time() + 24 * 3600
    # The message headers.
    assert got.headers["content-encoding"] == "aes128gcm"
    assert got.headers["ttl"] == "3600"
    assert got.headers["urgency"] == "normal"
    assert got.headers["topic"] == f"n{n.pk}"
    assert webpush_delivery(alice).status == "sent"


def test_an_urgent_category_is_pushed_with_high_urgency(alice, push_service):
    subscribe(push_service, alice, "phone")
    services.notify(users=[alice], category=Category.ACCOUNT, title="New login")

    services.deliver_due()

    [got] = push_service.received
    assert got.headers["urgency"] == "high"


def test_every_browser_gets_its_own_encryption(alice, push_service):
    subscribe(push_service, alice, "phone")
    subscribe(push_service, alice, "laptop")
    services.notify(users=[alice], category=Category.EVENT, title="Run")

    assert services.deliver_due().sent == 1

    assert sorted(r.path for r in push_service.received) == ["/push/laptop", "/push/phone"]
    assert {r.payload["title"] for r in push_service.received} == {"Run"}
    assert push_service.received[0].body != push_service.received[1].body


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed(alice, push_service, status):
    subscribe(push_service, alice, "old")
    subscribe(push_service, alice, "new")
    push_service.status["old"] = status
    services.notify(users=[alice], category=Category.EVENT, title="Run")

    assert services.deliver_due().sent == 1

    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [
        push_service.endpoint("new")]


def test_the_last_gone_subscription_skips_the_delivery(alice, push_service):
    subscribe(push_service, alice, "old")
    push_service.status["old"] = 410
    services.notify(users=[alice], category=Category.EVENT, title="Run")

    assert services.deliver_due().skipped == 1
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_push_service_is_retried_with_the_delivery_backoff(alice, push_service, status):
    subscribe(push_service, alice, "phone")
    push_service.status["phone"] = status
    services.notify(users=[alice], category=Category.EVENT, title="Run")
    t0 = timezone.now()

    assert services.deliver_due(now=t0).retrying == 1

    d = webpush_delivery(alice)
    assert (d.status, d.attempts, d.not_before) == ("queued", 1, t0 + services.backoff(1))
    assert str(status) in d.last_error
    assert PushSubscription.objects.count() == 1  # kept: it is not gone
    # The push service recovers: the retry is delivered.
    del push_service.status["phone"]
    assert services.deliver_due(now=t0 + timedelta(minutes=2)).sent == 1
    assert [r.payload["title"] for r in push_service.received] == ["Run"]


def test_an_unreachable_push_service_is_retried(alice, push_service):
    subscribe(push_service, alice, "phone")
    push_service.stop()
    services.notify(users=[alice], category=Category.EVENT, title="Run")

    assert services.deliver_due().retrying == 1
    assert "PushServiceError" in webpush_delivery(alice).last_error
    push_service.start()  # for the fixture's stop()


def test_a_long_body_is_cut_to_fit_one_push(alice, push_service):
    subscribe(push_service, alice, "phone")
    body = "长" * 2000  # 6,000 bytes in UTF-8; the channel keeps 500 characters
    services.notify(users=[alice], category=Category.EVENT, title="Run", body=body)

    services.deliver_due()

    [got] = push_service.received
    assert got.payload["body"] == "长" * 500
    assert len(got.body) <= backends.MAX_PUSH_BODY


def test_fit_payload_cuts_the_body_and_refuses_what_cannot_fit():
    payload = {"title": "t", "body": "长" * 3000, "url": "/"}
    fitted = backends.fit_payload(payload)
    assert len(backends.encode_payload(fitted)) <= backends.MAX_PUSH_PLAINTEXT
    assert fitted["body"].endswith("…") and fitted["body"].startswith("长" * 1000)
    assert backends.fit_payload({"title": "t", "body": "b"}) == {"title": "t", "body": "b"}
    with pytest.raises(backends.PushPayloadTooLarge):
        backends.fit_payload({"title": "t" * 5000, "body": "b"})


def test_a_413_from_the_push_service_is_not_retried(alice, push_service):
    subscribe(push_service, alice, "phone")
    push_service.status["phone"] = 413
    services.notify(users=[alice], category=Category.EVENT, title="Run")

    assert services.deliver_due().skipped == 1
    assert PushSubscription.objects.count() == 1


def test_quiet_hours_still_defer_a_real_push(alice, push_service):
    subscribe(push_service, alice, "phone")
    ends = quiet_around_now(alice)
    services.notify(users=[alice], category=Category.EVENT, title="Run")

    assert services.deliver_due().sent == 0
    assert push_service.received == []
    assert webpush_delivery(alice).not_before == ends

    assert services.deliver_due(now=ends + timedelta(seconds=1)).sent == 1
    assert [r.payload["title"] for r in push_service.received] == ["Run"]


# --- the checker itself refuses bad tokens (so the tests above prove something) --------------


def test_the_local_push_service_refuses_a_forged_or_misaddressed_token(push_service):
    from py_vapid import Vapid

    ours = Vapid.from_string(vapid_private_key())
    claims = {"sub": SUBJECT, "aud": push_service.url, "exp": int(time.time()) + 3600}
    header = ours.sign(dict(claims))["Authorization"]
    assert verify_vapid(header, audience=push_service.url)["sub"] == SUBJECT
    with pytest.raises(VapidError):
        verify_vapid(header, audience="https://fcm.googleapis.com")
    other = Vapid.from_string(vapid_private_key()).sign(dict(claims))["Authorization"]
    forged = header.split(",k=")[0] + ",k=" + other.split(",k=")[1]  # someone else's key
    with pytest.raises(VapidError):
        verify_vapid(forged, audience=push_service.url)
    late = ours.sign(claims | {"exp": int(time.time()) + 25 * 3600})["Authorization"]
    with pytest.raises(VapidError):
        verify_vapid(late, audience=push_service.url)


# --- keys --------------------------------------------------------------------------------------


def test_webpush_keys_prints_a_matching_pair(capsys):
    call_command("webpush_keys")
    out = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    assert backends.public_key_of(out["WEBPUSH_VAPID_PRIVATE_KEY"]) == out[
        "WEBPUSH_VAPID_PUBLIC_KEY"]
    assert len(out["WEBPUSH_VAPID_PUBLIC_KEY"]) == 87  # 65 bytes, base64url


def test_the_public_key_is_served_to_the_page(api_client, client, alice, settings):
    settings.WEBPUSH_VAPID_PRIVATE_KEY = vapid_private_key()
    r = api_client.as_user(alice).get("/api/v1/notifications/push-key")
    assert r.status_code == 200
    assert r.json() == {"public_key": backends.vapid_public_key()}
    client.force_login(alice)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert f'data-vapid-key="{backends.vapid_public_key()}"' in page
    assert 'data-push-subscriptions="/api/v1/notifications/push-subscriptions"' in page


def test_the_payload_is_json_the_service_worker_reads():
    raw = backends.encode_payload({"title": "跑", "body": "", "url": "/"})
    assert json.loads(raw) == {"title": "跑", "body": "", "url": "/"}
    assert "跑".encode() in raw  # not \\u-escaped: fewer bytes
