"""notify(): inbox rows, deliveries per preference and reach, dedupe, validation, bulk cost."""

from __future__ import annotations

import pytest

from sportsman.core.errors import InvalidInput
from sportsman.notifications import selectors, services
from sportsman.notifications.categories import CATEGORY_SPECS, Category, Channel
from sportsman.notifications.models import (
    Delivery,
    Notification,
    NotificationSettings,
    Preference,
    PushSubscription,
)

pytestmark = pytest.mark.django_db


def channels_of(user) -> set[str]:
    return set(Delivery.objects.filter(notification__user=user).values_list("channel", flat=True))


def test_every_category_has_a_spec_with_an_in_app_default():
    assert set(CATEGORY_SPECS) == set(Category.values)
    assert all(Channel.IN_APP in spec.defaults for spec in CATEGORY_SPECS.values())


def test_notify_creates_one_inbox_item_per_user(alice, bob):
    created = services.notify(users=[alice, bob], category=Category.EVENT, title="Run tomorrow",
                              body="7:00 at the lake", link="/events/3", data={"event": 3})

    assert created == 2
    item = Notification.objects.get(user=alice)
    assert (item.category, item.title, item.body, item.link, item.data) == (
        "event", "Run tomorrow", "7:00 at the lake", "/events/3", {"event": 3})
    assert item.read_at is None
    assert selectors.unread_count(alice) == 1
    assert selectors.unread_count(bob) == 1


def test_notify_accepts_a_queryset_and_leaves_out_inactive_users(alice, bob, make_user):
    from sportsman.accounts.models import User

    make_user(is_active=False)
    created = services.notify(users=User.objects.all(), category=Category.SYSTEM, title="Hi")

    assert created == 2
    assert set(Notification.objects.values_list("user_id", flat=True)) == {alice.pk, bob.pk}


def test_deliveries_follow_defaults_preferences_and_reach(alice, bob):
    # Given: booking defaults to in-app, SMS and push (not email); alice turned SMS off and
    # email on, and has an address and a browser; bob keeps the defaults with no browser.
    services.set_preferences(user=alice, changes=[("booking", "sms", False),
                                                  ("booking", "email", True)])
    services.set_email(user=alice, email="alice@example.org")
    services.subscribe_push(user=alice, endpoint="https://push.example/a", p256dh="k", auth="a")

    services.notify(users=[alice, bob], category=Category.BOOKING, title="Booked")

    assert channels_of(alice) == {"email", "webpush"}
    assert channels_of(bob) == {"sms"}


def test_in_app_switched_off_keeps_the_item_out_of_the_inbox_but_still_delivers(alice):
    services.set_preferences(user=alice, changes=[("event", "in_app", False),
                                                  ("event", "sms", True)])

    services.notify(users=[alice], category=Category.EVENT, title="Quiet news")

    assert selectors.unread_count(alice) == 0
    assert selectors.list_inbox(alice).items == []
    assert channels_of(alice) == {"sms"}


def test_a_user_with_every_channel_off_gets_nothing(alice):
    services.set_preferences(user=alice, changes=[("reward", ch, False) for ch in Channel.values])

    assert services.notify(users=[alice], category=Category.REWARD, title="Points") == 0
    assert not Notification.objects.exists()


def test_urgent_category_ignores_a_stored_opt_out(alice):
    # A row written before the category became urgent (or by hand) must not silence it.
    Preference.objects.create(user=alice, category="account", channel="sms", enabled=False)

    services.notify(users=[alice], category=Category.ACCOUNT, title="Password changed")

    assert "sms" in channels_of(alice)


def test_urgent_channels_cannot_be_switched_off(alice):
    with pytest.raises(services.PreferenceLocked):
        services.set_preferences(user=alice, changes=[("event", "sms", True),
                                                      ("account", "sms", False)])
    assert not Preference.objects.exists()  # the valid first change was not written either


def test_dedupe_key_prevents_duplicates_on_retry(alice, bob):
    first = services.notify(users=[alice], category=Category.BOOKING, title="Booked",
                            dedupe_key="booking:7:confirmed")
    # The caller retries (say, its task ran twice), now with one more recipient.
    again = services.notify(users=[alice, bob], category=Category.BOOKING, title="Booked",
                            dedupe_key="booking:7:confirmed")

    assert (first, again) == (1, 1)
    assert Notification.objects.filter(user=alice).count() == 1
    assert Notification.objects.filter(user=bob).count() == 1
    assert Delivery.objects.filter(notification__user=alice, channel="sms").count() == 1


def test_without_a_dedupe_key_each_call_is_a_new_notification(alice):
    services.notify(users=[alice], category=Category.GROUP, title="New post")
    services.notify(users=[alice], category=Category.GROUP, title="New post")

    assert selectors.unread_count(alice) == 2


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"category": "nonsense", "title": "x"}, "unknown_category"),
    ({"category": "event", "title": "  "}, "invalid"),
    ({"category": "event", "title": "x", "link": "https://evil.example/login"}, "invalid_link"),
    ({"category": "event", "title": "x", "link": "//evil.example"}, "invalid_link"),
    ({"category": "event", "title": "x", "data": {"when": object()}}, "invalid"),
])
def test_bad_notify_input_is_refused_and_writes_nothing(alice, kwargs, code):
    with pytest.raises(InvalidInput) as err:
        services.notify(users=[alice], **kwargs)

    assert err.value.code == code
    assert not Notification.objects.exists()


def test_email_and_push_go_only_to_users_they_can_reach(alice, bob):
    NotificationSettings.objects.create(user=alice, email="a@example.org")
    NotificationSettings.objects.create(user=bob, email="")
    PushSubscription.objects.create(user=bob, endpoint="https://push.example/b", p256dh="k",
                                    auth="a")

    services.notify(users=[alice, bob], category=Category.GOVERNANCE, title="Vote")

    assert channels_of(alice) == {"email"}
    assert channels_of(bob) == {"webpush"}


def test_notifying_thousands_costs_a_bounded_number_of_queries(django_assert_max_num_queries):
    from sportsman.accounts.models import User

    users = []
    for i in range(2500):
        u = User(nickname=f"u{i}")
        u.set_phone(str(13900000000 + i))
        u.set_unusable_password()
        users.append(u)
    User.objects.bulk_create(users, batch_size=500)

    # 3 chunks of 1000: about 7 statements each (21 in all), never one per recipient.
    with django_assert_max_num_queries(30):
        created = services.notify(users=User.objects.all(), category=Category.BOOKING,
                                  title="Pool closed", dedupe_key="pool:closed:1")

    assert created == 2500
    assert Delivery.objects.filter(channel="sms").count() == 2500
