"""Against a real local HTTP receiver (a server thread): the signature verifies with the
``standardwebhooks`` library, and a receiver that is down gets the delivery later, exactly once."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from sportsman.interfaces import webhooks
from sportsman.interfaces.models import WebhookAttempt, WebhookDelivery
from sportsman.interfaces.tests.fixtures import register_in, subscribe, work
from sportsman.interfaces.tests.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_receiver_verifies_the_signature_with_standardwebhooks(tree):
    with Receiver() as receiver:
        _sub, secret = subscribe(tree, url=receiver.url)
        reg = register_in(tree, tree.k2)
        work()
    [(headers, body)] = receiver.received
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "event.registration_created"
    assert payload["data"]["registration_id"] == reg.pk
    assert payload["data"]["region_code"] == tree.k2.code
    assert headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"registered", b"cancelled"), headers)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.response_snippet == '{"ok":true}'


def test_a_receiver_that_is_down_gets_the_delivery_later_exactly_once(tree):
    port = _free_port()
    receiver = Receiver(port, start=False)
    _sub, secret = subscribe(tree, url=receiver.url)
    register_in(tree, tree.k1)
    work()  # down: connection refused
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts) == ("pending", 1)
    assert WebhookAttempt.objects.get().error == "network"
    webhooks.send_due()  # before the backoff: nothing is tried
    assert WebhookAttempt.objects.count() == 1
    receiver.start()
    try:
        with time_machine.travel(d.not_before + dt.timedelta(seconds=1), tick=True):
            webhooks.send_due()
            webhooks.send_due()
            with time_machine.travel(timezone.now() + dt.timedelta(days=2), tick=True):
                webhooks.send_due()  # long after: a delivered message is never sent again
    finally:
        receiver.stop()
    assert receiver.count == 1
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("succeeded", 2)
    headers, body = receiver.received[0]
    assert headers["webhook-id"] == d.msg_id
    # verified at the time it was sent (the library checks a five-minute tolerance)
    with time_machine.travel(dt.datetime.fromtimestamp(int(headers["webhook-timestamp"]),
                                                       tz=dt.UTC), tick=False):
        assert json.loads(body) == Webhook(secret).verify(body, headers)


def test_a_slow_receiver_times_out_and_is_retried(tree, settings):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    release = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            release.wait(5)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        subscribe(tree, url=f"http://127.0.0.1:{server.server_address[1]}/in")
        register_in(tree, tree.k1)
        work()
    finally:
        release.set()
        server.shutdown()
        server.server_close()
    attempt = WebhookAttempt.objects.get()
    assert attempt.error == "timeout" and attempt.duration_ms >= 900
    assert WebhookDelivery.objects.get().status == "pending"


def test_replay_keeps_the_webhook_id_at_the_receiver(tree):
    from sportsman.regions.access import access_for_user

    with Receiver(plan=[422]) as receiver:
        sub, secret = subscribe(tree, url=receiver.url)
        register_in(tree, tree.k1)
        work()
        d = WebhookDelivery.objects.get()
        assert d.status == "failed"
        webhooks.replay_delivery(access=access_for_user(tree.town_admin), subscription_id=sub.pk,
                                 delivery_id=d.pk)
        webhooks.send_due()
    (h1, b1), (h2, b2) = receiver.received
    assert h1["webhook-id"] == h2["webhook-id"] == d.msg_id and b1 == b2
    Webhook(secret).verify(b2, h2)
