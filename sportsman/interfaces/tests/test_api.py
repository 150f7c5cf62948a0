"""The webhook API: the secret shown once, error codes, idempotent creation, filters, pages."""

from __future__ import annotations

import pytest

from sportsman.interfaces.models import WebhookSubscription
from sportsman.interfaces.tests.fixtures import register_in, subscribe

pytestmark = pytest.mark.django_db

BASE = "/api/v1/console/webhooks"


def _new(tree, **extra):
    return {"region_id": tree.t1.pk, "name": "政务平台", "url": "https://hooks.example.org/in",
            "event_types": ["booking.created", "report.status_changed"], **extra}


def test_create_shows_the_secret_once(tree, api_client):
    c = api_client.as_user(tree.town_admin)
    made = c.json("post", BASE, _new(tree))
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["region_code"] == tree.t1.code
    again = c.get(f"{BASE}/{body['id']}")
    assert "secret" not in again.json()
    rotated = c.post(f"{BASE}/{body['id']}/rotate-secret").json()
    assert rotated["secret"] != body["secret"]


def test_create_is_idempotent_with_a_key(tree, api_client):
    c = api_client.as_user(tree.town_admin)
    first = c.json("post", BASE, _new(tree), HTTP_IDEMPOTENCY_KEY="k-1")
    second = c.json("post", BASE, _new(tree), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.json() == second.json() and WebhookSubscription.objects.count() == 1


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"url": "javascript:alert(1)"}, 400, "invalid_url"),
    ({"url": "http://192.168.1.10/hook"}, 400, "url_not_allowed"),
    ({"event_types": ["nope"]}, 400, "unknown_event_type"),
    ({"event_types": []}, 400, "no_event_types"),
    ({"name": ""}, 400, "invalid_name"),
    ({"region_id": 2**62}, 404, "region_not_found"),
    ({"secret": "whsec_mine"}, 400, "unknown_field"),
    ({"event_types": "booking.created"}, 400, "invalid"),
])
def test_bad_input_gets_its_code(tree, api_client, change, status, code):
    c = api_client.as_user(tree.town_admin)
    answer = c.json("post", BASE, _new(tree, **change))
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert not WebhookSubscription.objects.exists()


def test_malformed_json_and_unknown_ids(tree, api_client):
    c = api_client.as_user(tree.town_admin)
    bad = c.post(BASE, data="{", content_type="application/json")
    assert bad.json()["code"] == "malformed_json"
    assert c.get(f"{BASE}/999999").json()["code"] == "subscription_not_found"
    sub, _ = subscribe(tree)
    assert c.get(f"{BASE}/{sub.pk}/deliveries/999").json()["code"] == "delivery_not_found"
    assert c.get(f"{BASE}/{sub.pk}/deliveries?status=lost").json()["code"] == "invalid"


def test_replay_on_a_disabled_subscription_is_refused(tree, api_client):
    c = api_client.as_user(tree.town_admin)
    sub, _ = subscribe(tree)
    assert c.json("patch", f"{BASE}/{sub.pk}", {"enabled": False}).json()["status"] == "disabled"
    answer = c.post(f"{BASE}/{sub.pk}/replay-failed")
    assert (answer.status_code, answer.json()["code"]) == (409, "subscription_disabled")


def test_delivery_log_filters_and_pages(tree, api_client, monkeypatch):
    from sportsman.interfaces import webhooks
    from sportsman.interfaces.tests.fixtures import work

    monkeypatch.setattr(webhooks, "post", lambda *a, **k: webhooks.Answer(status=200))
    sub, _ = subscribe(tree)
    for _ in range(3):
        register_in(tree, tree.k1)
    work()
    c = api_client.as_user(tree.town_admin)
    page = c.get(f"{BASE}/{sub.pk}/deliveries?limit=2").json()
    assert len(page["items"]) == 2 and page["next_before"]
    rest = c.get(f"{BASE}/{sub.pk}/deliveries?limit=2&before={page['next_before']}").json()
    assert len(rest["items"]) == 1 and rest["next_before"] is None
    assert c.get(f"{BASE}/{sub.pk}/deliveries?status=failed").json()["items"] == []
    one = c.get(f"{BASE}/{sub.pk}/deliveries/{page['items'][0]['id']}").json()
    assert one["attempt_log"][0]["status_code"] == 200 and '"type"' in one["body"]


def test_the_list_reads_a_fixed_number_of_queries(tree, api_client, django_assert_max_num_queries):
    c = api_client.as_user(tree.town_admin)
    subscribe(tree)
    c.get(BASE)
    for _ in range(5):
        subscribe(tree)
    with django_assert_max_num_queries(6):
        assert len(c.get(BASE).json()["items"]) == 6
