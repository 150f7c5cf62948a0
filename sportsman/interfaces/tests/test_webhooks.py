"""Webhook subscriptions and deliveries: fan-out from domain events, region isolation, signing,
retries and backoff, giving up, disabling, replays, and refusals with their codes."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
import time_machine
from django.utils import timezone

from sportsman.core.errors import DomainError
from sportsman.core.models import DomainEvent, EventDelivery
from sportsman.interfaces import webhooks
from sportsman.interfaces.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from sportsman.interfaces.tests.fixtures import register_in, subscribe, work
from sportsman.interfaces.webhooks import Answer
from sportsman.regions.access import access_for_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Replace the network: record each POST and answer from ``sent.plan`` (default 200)."""
    class Sent(list):
        plan: list = []

    box = Sent()

    def fake_post(url, body, headers, *, timeout):
        box.append({"url": url, "body": body, "headers": headers})
        step = box.plan.pop(0) if box.plan else 200
        return Answer(error=step) if isinstance(step, str) else Answer(status=step, snippet="x")

    monkeypatch.setattr(webhooks, "post", fake_post)
    return box


def test_an_event_in_the_subtree_becomes_one_signed_delivery(tree, sent):
    sub, secret = subscribe(tree)
    reg = register_in(tree, tree.k2)
    work()
    assert len(sent) == 1
    d = WebhookDelivery.objects.get()
    assert d.status == "succeeded" and d.attempts == 1 and d.subscription_id == sub.pk
    body = json.loads(sent[0]["body"])
    assert body["type"] == "event.registration_created"
    assert body["data"] == {"registration_id": reg.pk, "event_id": reg.event_id,
                            "status": "registered", "region_code": tree.k2.code}
    h = sent[0]["headers"]
    assert h["webhook-id"] == d.msg_id and d.msg_id.startswith("msg_")
    assert h["webhook-signature"] == webhooks.sign(secret, d.msg_id, int(h["webhook-timestamp"]),
                                                   sent[0]["body"].decode())
    assert secret.startswith("whsec_")


def test_region_isolation_an_event_of_another_subtree_never_reaches_the_subscriber(tree, sent):
    subscribe(tree)  # on t1
    register_in(tree, tree.k3)  # k3 lies in t2
    register_in(tree, tree.d1)  # the district above t1 is not inside t1 either
    work()
    assert sent == [] and not WebhookDelivery.objects.exists()
    # …while every pair was handled: nothing is left pending for the consumer
    assert not DomainEvent.objects.filter(settled_at__isnull=True).exists()


def test_only_the_chosen_types_are_delivered_and_a_disabled_subscription_gets_nothing(tree, sent):
    subscribe(tree, types=["report.status_changed"])
    sub, _ = subscribe(tree)
    webhooks.set_enabled(access=access_for_user(tree.town_admin), subscription_id=sub.pk,
                         enabled=False)
    register_in(tree, tree.k1)
    work()
    assert sent == []


def test_a_replayed_event_makes_no_second_delivery(tree, sent):
    subscribe(tree)
    register_in(tree, tree.k1)
    work()
    event = DomainEvent.objects.get(name="events.registered")
    # the pair delivered row gone as if a dispatcher had crashed after the fan-out: the unique
    # (subscription, event) still makes the second fan-out a no-op
    EventDelivery.objects.filter(event=event, consumer="interfaces.webhooks").delete()
    DomainEvent.objects.filter(pk=event.pk).update(settled_at=None)
    work()
    assert WebhookDelivery.objects.count() == 1 and len(sent) == 1


def test_a_failing_fan_out_rolls_back_and_is_retried(tree, sent, monkeypatch):
    from sportsman.interfaces.catalogue import EventType

    subscribe(tree)
    register_in(tree, tree.k1)
    original = webhooks.BY_DOMAIN_EVENT["events.registered"]

    def boom(payload):
        raise RuntimeError("database went away")

    monkeypatch.setitem(webhooks.BY_DOMAIN_EVENT, "events.registered",
                        EventType(original.name, original.domain_event, original.label, boom))
    work()
    assert not WebhookDelivery.objects.exists()
    assert not EventDelivery.objects.filter(consumer="interfaces.webhooks").exists()
    monkeypatch.setitem(webhooks.BY_DOMAIN_EVENT, "events.registered", original)
    work()
    assert WebhookDelivery.objects.get().status == "succeeded" and len(sent) == 1


def test_failures_are_retried_with_backoff_then_delivered_once(tree, sent, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    subscribe(tree)
    register_in(tree, tree.k1)
    sent.plan = ["network", 503, "timeout", 429, 408]
    start = timezone.now()
    work()
    d = WebhookDelivery.objects.get()
    assert d.status == "pending" and d.attempts == 1
    assert dt.timedelta(seconds=9) < d.not_before - start < dt.timedelta(seconds=12)
    waits = []
    for _ in range(5):
        d.refresh_from_db()
        waits.append(d.not_before)
        webhooks.send_due(now=d.not_before - dt.timedelta(seconds=1))  # not yet due
        with time_machine.travel(d.not_before + dt.timedelta(seconds=1), tick=False):
            webhooks.send_due()
    d.refresh_from_db()
    assert d.status == "succeeded" and d.attempts == 6 and len(sent) == 6
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(waits)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps))
    log = list(WebhookAttempt.objects.filter(delivery=d).order_by("at", "id")
               .values_list("status_code", "error"))
    assert log == [(None, "network"), (503, ""), (None, "timeout"), (429, ""), (408, ""),
                   (200, "")]
    with time_machine.travel(timezone.now() + dt.timedelta(days=1), tick=False):
        webhooks.send_due()
    assert len(sent) == 6  # delivered: never again
    assert WebhookSubscription.objects.get().consecutive_failures == 0


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_a_4xx_other_than_408_and_429_gives_up_at_once(tree, sent, status):
    subscribe(tree)
    register_in(tree, tree.k1)
    sent.plan = [status]
    work()
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 1, status)


def test_attempts_run_out_and_the_delivery_fails(tree, sent, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    subscribe(tree)
    register_in(tree, tree.k1)
    sent.plan = [500, 500, 500, 500]
    work()
    for _ in range(3):
        due = WebhookDelivery.objects.get().not_before
        with time_machine.travel(due + dt.timedelta(seconds=1), tick=False):
            webhooks.send_due()
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts) == ("failed", 3) and len(sent) == 3


def test_many_failures_in_a_row_disable_the_subscription_and_tell_its_owner(tree, sent, settings):
    from sportsman.notifications.models import Notification

    settings.WEBHOOK_DISABLE_AFTER = 3
    sub, _ = subscribe(tree)
    sent.plan = [410, 410, 410]
    for _ in range(4):
        register_in(tree, tree.k1)
    work()
    sub.refresh_from_db()
    assert (sub.status, sub.disabled_reason, sub.consecutive_failures) == (
        "disabled", "failures", 3)
    assert len(sent) == 3  # the fourth waits: a disabled subscription sends nothing
    assert WebhookDelivery.objects.filter(status="pending").count() == 1
    note = Notification.objects.get(user=tree.town_admin)
    assert note.data == {"subscription_id": sub.pk}
    # enabled again, the failure count starts afresh and the pending one goes out
    webhooks.set_enabled(access=access_for_user(tree.town_admin), subscription_id=sub.pk,
                         enabled=True)
    webhooks.send_due()
    sub.refresh_from_db()
    assert sub.status == "active" and sub.consecutive_failures == 0 and len(sent) == 4


def test_replay_resends_under_the_same_webhook_id(tree, sent):
    sub, _ = subscribe(tree)
    register_in(tree, tree.k1)
    register_in(tree, tree.k2)
    sent.plan = [410, 410]
    work()
    first, second = WebhookDelivery.objects.order_by("id")
    assert first.status == second.status == "failed"
    access = access_for_user(tree.district_admin)  # the parent may replay too
    webhooks.replay_delivery(access=access, subscription_id=sub.pk, delivery_id=first.pk)
    webhooks.send_due()
    assert sent[-1]["headers"]["webhook-id"] == first.msg_id
    assert sent[-1]["body"] == sent[0]["body"]
    first.refresh_from_db()
    assert first.status == "succeeded" and first.is_replay
    assert WebhookAttempt.objects.filter(delivery=first, is_replay=True).count() == 1
    assert webhooks.replay_failed(access=access, subscription_id=sub.pk) == 1
    webhooks.send_due()
    assert sent[-1]["headers"]["webhook-id"] == second.msg_id
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 2


def test_rotation_signs_with_both_secrets_for_a_day(tree, sent):
    sub, old = subscribe(tree)
    sub, new = webhooks.rotate_secret(access=access_for_user(tree.town_admin),
                                      subscription_id=sub.pk)
    assert new != old and new.startswith("whsec_")
    register_in(tree, tree.k1)
    work()
    h, body = sent[0]["headers"], sent[0]["body"].decode()
    ts = int(h["webhook-timestamp"])
    assert h["webhook-signature"].split(" ") == [webhooks.sign(new, h["webhook-id"], ts, body),
                                                 webhooks.sign(old, h["webhook-id"], ts, body)]
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25), tick=False):
        register_in(tree, tree.k1)
        work()
    assert len(sent[1]["headers"]["webhook-signature"].split(" ")) == 1


def test_the_secret_is_kept_encrypted(tree):
    sub, secret = subscribe(tree)
    assert secret not in WebhookSubscription.objects.filter(pk=sub.pk).values_list(
        "secret_encrypted", flat=True)[0]


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"url": "ftp://hooks.example.org/"}, "invalid_url"),
    ({"url": "https://"}, "invalid_url"),
    ({"url": "https://user:pw@hooks.example.org/"}, "invalid_url"),
    ({"url": "https://hooks.example.org:99999/"}, "invalid_url"),
    ({"url": "https://" + "a" * 500 + ".org/"}, "invalid_url"),
    ({"url": "http://127.0.0.1:8000/"}, "url_not_allowed"),
    ({"url": "http://10.1.2.3/"}, "url_not_allowed"),
    ({"url": "http://[::1]/"}, "url_not_allowed"),
    ({"url": "http://localhost/"}, "url_not_allowed"),
    ({"event_types": []}, "no_event_types"),
    ({"event_types": ["booking.deleted"]}, "unknown_event_type"),
    ({"name": "  "}, "invalid_name"),
    ({"region_id": 0}, "region_not_found"),
])
def test_bad_input_is_refused_with_a_code_and_nothing_is_made(tree, kwargs, code):
    values = {"region_id": tree.t1.pk, "name": "平台", "url": "https://hooks.example.org/in",
              "event_types": ["booking.created"], **kwargs}
    with pytest.raises(DomainError) as refused:
        webhooks.create_subscription(access=access_for_user(tree.town_admin), **values)
    assert refused.value.code == code
    assert not WebhookSubscription.objects.exists()


def test_a_region_outside_the_grant_is_refused(tree):
    with pytest.raises(DomainError) as refused:
        webhooks.create_subscription(access=access_for_user(tree.town_admin),
                                     region_id=tree.t2.pk, name="平台",
                                     url="https://hooks.example.org/", event_types=["booking.created"])
    assert refused.value.code == "region_not_found"


def test_a_name_resolving_to_a_private_address_is_refused_when_sending(tree, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    answer = webhooks.post("http://localhost:1/x", b"{}", {}, timeout=1)
    assert answer.error == "refused_address" and not webhooks.retryable(answer)


def test_booking_voucher_report_and_application_events_are_catalogued():
    from sportsman.core.events import autodiscover, consumers_for
    from sportsman.interfaces.catalogue import TYPES

    autodiscover()
    for t in TYPES:
        assert "interfaces.webhooks" in {c.name for c in consumers_for(t.domain_event)}, t.name
