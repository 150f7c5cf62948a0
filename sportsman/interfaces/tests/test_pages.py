"""The console's webhook pages: list, create (secret on the answer page), edit, rotate,
disable/enable, the delivery log with a delivery's attempts, replays; another region's
subscription is not found."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from sportsman.interfaces.models import WebhookDelivery, WebhookSubscription
from sportsman.interfaces.tests.fixtures import register_in, subscribe, work

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_create_edit_rotate_disable_and_replay(tree, monkeypatch):
    from sportsman.interfaces import webhooks

    monkeypatch.setattr(webhooks, "post", lambda *a, **k: webhooks.Answer(status=410))
    c = _client(tree.town_admin)
    assert c.get("/console/interfaces/webhooks/").status_code == 200
    made = c.post("/console/interfaces/webhooks/new", {
        "name": "社区平台", "url": "https://hooks.example.org/c", "region_id": tree.t1.pk,
        "event_types": ["event.registration_created"]})
    assert made.status_code == 200
    secret = re.search(rb'id="secret-value">(whsec_[^<]+)<', made.content)
    assert secret is not None
    sub = WebhookSubscription.objects.get()
    page = f"/console/interfaces/webhooks/{sub.pk}/"
    c.post(page, {"action": "edit", "name": "社区平台二", "url": "https://hooks.example.org/d",
                  "event_types": ["event.registration_created", "booking.created"]})
    sub.refresh_from_db()
    assert sub.name == "社区平台二" and sub.event_types == ["booking.created",
                                                          "event.registration_created"]
    rotated = c.post(page, {"action": "rotate"})
    assert secret.group(1) not in rotated.content and b'id="secret-value"' in rotated.content
    register_in(tree, tree.k1)
    work()
    d = WebhookDelivery.objects.get()
    shown = c.get(page + f"?status=failed&delivery={d.pk}")
    assert f'data-delivery="{d.pk}"'.encode() in shown.content
    assert b'data-attempt-status="410"' in shown.content
    c.post(page, {"action": "replay", "delivery_id": d.pk})
    d.refresh_from_db()
    assert d.status == "pending" and d.is_replay
    c.post(page, {"action": "disable"})
    sub.refresh_from_db()
    assert sub.status == "disabled"


def test_another_regions_subscription_is_not_found(tree):
    sub, _ = subscribe(tree)
    assert _client(tree.sibling_town_admin).get(
        f"/console/interfaces/webhooks/{sub.pk}/").status_code == 404
    assert _client(tree.resident).get("/console/interfaces/webhooks/").status_code in (302, 403)


def test_bad_input_on_the_page_changes_nothing(tree):
    c = _client(tree.town_admin)
    c.post("/console/interfaces/webhooks/new", {
        "name": "x", "url": "ftp://nope", "region_id": tree.t1.pk,
        "event_types": ["booking.created"]})
    assert not WebhookSubscription.objects.exists()
