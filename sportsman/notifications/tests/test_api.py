"""/api/v1/notifications: my inbox, preferences, quiet hours and browsers, and nobody else's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.notifications import services
from sportsman.notifications.categories import Category
from sportsman.notifications.models import (
    Notification,
    NotificationSettings,
    Preference,
    PushSubscription,
    QuietHours,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/notifications"


def send(user, n: int = 1, **kw) -> list[Notification]:
    for i in range(n):
        services.notify(users=[user], category=kw.get("category", Category.EVENT),
                        title=f"note {i}", body="b", data={"i": i})
    return list(Notification.objects.filter(user=user).order_by("id"))


# --- inbox -------------------------------------------------------------------------------------


def test_anonymous_is_refused(api_client):
    r = api_client.get(BASE)
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_list_is_newest_first_with_a_keyset_cursor(api_client, alice, bob):
    items = send(alice, 25)
    send(bob, 3)
    client = api_client.as_user(alice)

    seen, cursor = [], None
    while True:
        r = client.get(BASE, {"limit": 10} | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200
        body = r.json()
        seen += [row["id"] for row in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == [n.pk for n in reversed(items)]  # all of alice's, none of bob's, no repeats
    first = client.get(BASE, {"limit": 1}).json()["items"][0]
    assert first["title"] == "note 24" and first["data"] == {"i": 24}
    assert first["is_read"] is False and first["category_label"]


def test_list_query_count_does_not_grow_with_the_page(api_client, alice,
                                                      django_assert_max_num_queries):
    client = api_client.as_user(alice)
    send(alice, 3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(BASE).status_code == 200
    send(alice, 40)

    with django_assert_max_num_queries(len(small.captured_queries)):
        r = client.get(BASE, {"limit": 40})
    assert len(r.json()["items"]) == 40


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"cursor": -1},
                                   {"cursor": "abc"}, {"cursor": 2**64}])
def test_bad_list_parameters_are_refused(api_client, alice, query):
    r = api_client.as_user(alice).get(BASE, query)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"


def test_unread_count_and_mark_read(api_client, alice):
    a, b, c = send(alice, 3)
    client = api_client.as_user(alice)
    assert client.get(f"{BASE}/unread-count").json() == {"count": 3}

    r = client.post(f"{BASE}/{a.pk}/read")
    assert r.status_code == 200 and r.json()["is_read"] is True
    assert client.post(f"{BASE}/{a.pk}/read").status_code == 200  # repeating is harmless
    assert client.get(f"{BASE}/unread-count").json() == {"count": 2}

    r = client.json("post", f"{BASE}/read", {"ids": [b.pk]})
    assert r.json() == {"updated": 1, "unread_count": 1}
    r = client.post(f"{BASE}/read-all")
    assert r.json() == {"updated": 1, "unread_count": 0}
    assert not Notification.objects.filter(user=alice, read_at__isnull=True).exists()
    assert c.pk  # the third was marked by read-all


def test_another_users_notification_is_not_found(api_client, alice, bob):
    [theirs] = send(bob)
    [mine] = send(alice)
    client = api_client.as_user(alice)

    r = client.post(f"{BASE}/{theirs.pk}/read")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    # Mixed with one of mine: refused whole, mine stays unread too.
    r = client.json("post", f"{BASE}/read", {"ids": [mine.pk, theirs.pk]})
    assert r.status_code == 404
    assert client.post(f"{BASE}/999999/read").status_code == 404
    assert client.post(f"{BASE}/{2**70}/read").status_code == 404  # beyond BIGINT: no 500
    # read-all touches only my own inbox.
    client.post(f"{BASE}/read-all")
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- preferences -------------------------------------------------------------------------------


def test_preferences_show_defaults_and_store_changes(api_client, alice):
    client = api_client.as_user(alice)
    cats = {c["category"]: c for c in client.get(f"{BASE}/preferences").json()["categories"]}
    assert cats["booking"]["channels"] == {"in_app": True, "sms": True, "email": False,
                                           "webpush": True}
    assert cats["account"]["urgent"] is True and "sms" in cats["account"]["locked"]

    r = client.json("put", f"{BASE}/preferences", {"preferences": [
        {"category": "booking", "channel": "sms", "enabled": False},
        {"category": "event", "channel": "email", "enabled": True},
    ]})

    assert r.status_code == 200
    cats = {c["category"]: c for c in r.json()["categories"]}
    assert cats["booking"]["channels"]["sms"] is False
    assert cats["event"]["channels"]["email"] is True
    assert Preference.objects.filter(user=alice).count() == 2


@pytest.mark.parametrize(("item", "code"), [
    ({"category": "nonsense", "channel": "sms", "enabled": False}, "unknown_category"),
    ({"category": "event", "channel": "pigeon", "enabled": True}, "unknown_channel"),
    ({"category": "account", "channel": "sms", "enabled": False}, "preference_locked"),
    ({"category": "event", "channel": "sms", "enabled": True, "extra": 1}, "unknown_field"),
    ({"category": "event", "channel": "sms"}, "invalid"),
])
def test_bad_preferences_are_refused_and_nothing_is_written(api_client, alice, item, code):
    good = {"category": "booking", "channel": "sms", "enabled": False}
    r = api_client.as_user(alice).json("put", f"{BASE}/preferences",
                                       {"preferences": [good, item]})

    assert r.status_code == 400
    assert r.json()["code"] == code
    assert not Preference.objects.exists()


# --- quiet hours -------------------------------------------------------------------------------


def test_quiet_hours_round_trip(api_client, alice):
    client = api_client.as_user(alice)
    assert client.get(f"{BASE}/quiet-hours").json() == {
        "enabled": False, "start": "22:00", "end": "07:00", "timezone": "Asia/Shanghai"}

    r = client.json("put", f"{BASE}/quiet-hours", {"enabled": True, "start": "21:30",
                                                    "end": "06:45"})

    assert r.status_code == 200
    assert client.get(f"{BASE}/quiet-hours").json()["start"] == "21:30"
    qh = QuietHours.objects.get(user=alice)
    assert (qh.enabled, qh.start.hour, qh.start.minute, qh.end.hour) == (True, 21, 30, 6)


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"enabled": True, "start": "25:00", "end": "07:00"}, "invalid", "start"),
    ({"enabled": True, "start": "10pm", "end": "07:00"}, "invalid", "start"),
    ({"enabled": True, "start": "22:00", "end": "7:00"}, "invalid", "end"),
    ({"enabled": True, "start": "22:00", "end": "22:00"}, "quiet_hours_empty", "end"),
    ({"enabled": True, "start": "22:00", "end": "07:00", "tz": "UTC"}, "unknown_field", "tz"),
])
def test_bad_quiet_hours_are_refused_and_nothing_is_written(api_client, alice, body, code,
                                                            field):
    r = api_client.as_user(alice).json("put", f"{BASE}/quiet-hours", body)

    assert r.status_code == 400
    assert r.json()["code"] == code
    assert field in r.json()["fields"]
    assert not QuietHours.objects.exists()


# --- email address and web push ----------------------------------------------------------------


def test_email_address_setting(api_client, alice):
    client = api_client.as_user(alice)
    r = client.json("put", f"{BASE}/settings", {"email": "not-an-address"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_email"
    assert not NotificationSettings.objects.exists()

    assert client.json("put", f"{BASE}/settings", {"email": "a@example.org"}).status_code == 200
    assert client.get(f"{BASE}/settings").json() == {"email": "a@example.org"}


SUBSCRIPTION = {"endpoint": "https://push.example/send/abc", "expirationTime": None,
                "keys": {"p256dh": "BNcR", "auth": "tBHI"}}


def test_push_subscribe_and_unsubscribe(api_client, alice, bob):
    client = api_client.as_user(alice)
    assert client.json("post", f"{BASE}/push-subscriptions", SUBSCRIPTION).status_code == 201
    assert client.json("post", f"{BASE}/push-subscriptions", SUBSCRIPTION).status_code == 201
    assert PushSubscription.objects.get().user == alice

    # Bob cannot remove alice's browser.
    r = api_client.as_user(bob).json("delete", f"{BASE}/push-subscriptions",
                                     {"endpoint": SUBSCRIPTION["endpoint"]})
    assert r.json() == {"removed": 0}
    assert PushSubscription.objects.exists()

    r = client.json("delete", f"{BASE}/push-subscriptions", {"endpoint": SUBSCRIPTION["endpoint"]})
    assert r.json() == {"removed": 1}
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(("body", "code"), [
    (SUBSCRIPTION | {"endpoint": "http://push.example/plain"}, "invalid_endpoint"),
    (SUBSCRIPTION | {"keys": {"p256dh": "x"}}, "invalid"),
    (SUBSCRIPTION | {"extra": True}, "unknown_field"),
])
def test_bad_push_subscriptions_are_refused(api_client, alice, body, code):
    r = api_client.as_user(alice).json("post", f"{BASE}/push-subscriptions", body)

    assert r.status_code == 400 and r.json()["code"] == code
    assert not PushSubscription.objects.exists()
