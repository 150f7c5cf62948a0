"""Sending: quiet hours, urgency, retries with backoff, idempotence, and each channel."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from sportsman.notifications import selectors, services, tasks
from sportsman.notifications.backends import read_sms_outbox, read_webpush_outbox
from sportsman.notifications.categories import Category
from sportsman.notifications.models import Delivery, PushSubscription, QuietHours
from sportsman.notifications.quiet import LOCAL_TZ, quiet_until

pytestmark = pytest.mark.django_db


def local(hh: int, mm: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 6, day, hh, mm, tzinfo=LOCAL_TZ)


def quiet_around_now(user) -> datetime:
    """Quiet hours from an hour ago to an hour ahead (local time); returns when they end."""
    now = timezone.now().astimezone(LOCAL_TZ)
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=1)).time()
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    services.set_quiet_hours(user=user, enabled=True, start=start, end=end)
    ends = quiet_until(start, end, timezone.now())
    assert ends is not None
    return ends


def sms_delivery(user) -> Delivery:
    return Delivery.objects.get(notification__user=user, channel="sms")


# --- quiet hours arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(("now", "expected"), [
    (local(23, 30), local(7, 0, day=11)),  # after the start, before midnight
    (local(3, 0), local(7, 0)),            # after midnight
    (local(22, 0), local(7, 0, day=11)),   # the start itself is quiet
    (local(7, 0), None),                   # the end is not
    (local(12, 0), None),
])
def test_quiet_period_spanning_midnight(now, expected):
    assert quiet_until(time(22, 0), time(7, 0), now) == expected


def test_quiet_period_within_a_day_and_utc_input():
    assert quiet_until(time(12, 0), time(14, 0), local(13, 0)) == local(14, 0)
    assert quiet_until(time(12, 0), time(14, 0), local(14, 30)) is None
    # 05:00 UTC is 13:00 in Shanghai.
    utc = datetime(2026, 6, 10, 5, 0, tzinfo=UTC)
    assert quiet_until(time(12, 0), time(14, 0), utc) == local(14, 0)


# --- quiet hours and urgency -------------------------------------------------------------------


def test_quiet_hours_defer_sms_but_not_the_inbox(alice):
    ends = quiet_around_now(alice)

    services.notify(users=[alice], category=Category.BOOKING, title="Booked")
    report = services.deliver_due()

    assert selectors.unread_count(alice) == 1  # in-app is immediate
    assert report.sent == 0 and read_sms_outbox(alice.phone) == []
    assert sms_delivery(alice).not_before == ends
    # When the quiet period is over, the sender sends it.
    assert services.deliver_due(now=ends + timedelta(seconds=1)).sent == 1
    assert [m["text"] for m in read_sms_outbox(alice.phone)] == ["Booked"]


def test_urgent_notifications_ignore_quiet_hours(alice):
    quiet_around_now(alice)

    services.notify(users=[alice], category=Category.ACCOUNT, title="Your password was reset")
    report = services.deliver_due()

    assert report.sent == 1
    assert read_sms_outbox(alice.phone)[0]["text"] == "Your password was reset"


def test_quiet_hours_begun_after_notify_still_hold_at_send_time(alice):
    services.notify(users=[alice], category=Category.BOOKING, title="Booked")
    ends = quiet_around_now(alice)

    report = services.deliver_due()

    d = sms_delivery(alice)
    assert report.deferred == 1 and report.sent == 0
    assert (d.status, d.attempts, d.not_before) == ("queued", 0, ends)


def test_disabled_quiet_hours_do_not_defer(alice):
    quiet_around_now(alice)
    QuietHours.objects.filter(user=alice).update(enabled=False)

    services.notify(users=[alice], category=Category.BOOKING, title="Booked")

    assert services.deliver_due().sent == 1


# --- retries and idempotence -------------------------------------------------------------------


def test_a_failing_backend_is_retried_with_backoff_until_it_succeeds(alice, flaky_sms):
    flaky_sms.failures = 2
    services.notify(users=[alice], category=Category.BOOKING, title="Booked")
    t0 = timezone.now()

    first = services.deliver_due(now=t0)
    d = sms_delivery(alice)
    assert first.retrying == 1
    assert (d.status, d.attempts) == ("queued", 1)
    assert d.not_before == t0 + services.backoff(1)
    assert "gateway timed out" in d.last_error
    # Not due yet: nothing happens.
    assert services.deliver_due(now=t0 + timedelta(seconds=30)).as_dict() == {
        "sent": 0, "failed": 0, "skipped": 0, "retrying": 0, "deferred": 0}

    services.deliver_due(now=t0 + timedelta(minutes=2))        # second failure
    done = services.deliver_due(now=t0 + timedelta(minutes=30))  # third try succeeds

    d.refresh_from_db()
    assert done.sent == 1
    assert (d.status, d.attempts, d.last_error) == ("sent", 3, "")
    assert d.sent_at is not None
    assert flaky_sms.calls == 3
    assert len(read_sms_outbox(alice.phone)) == 1


def test_a_sent_delivery_is_never_sent_again(alice, flaky_sms):
    services.notify(users=[alice], category=Category.BOOKING, title="Booked")
    d = sms_delivery(alice)

    services.deliver_due()
    # The task runs again (a duplicate enqueue, a replay after a crash), much later.
    tasks.deliver.call([d.pk])
    services.deliver_due(now=timezone.now() + timedelta(days=2))

    assert flaky_sms.calls == 1
    assert len(read_sms_outbox(alice.phone)) == 1


def test_a_delivery_fails_for_good_after_max_attempts(alice, flaky_sms):
    flaky_sms.failures = 100
    services.notify(users=[alice], category=Category.BOOKING, title="Booked")

    at = timezone.now()
    for _ in range(services.MAX_ATTEMPTS + 2):
        services.deliver_due(now=at)
        at += timedelta(hours=3)

    d = sms_delivery(alice)
    assert (d.status, d.attempts) == ("failed", services.MAX_ATTEMPTS)
    assert flaky_sms.calls == services.MAX_ATTEMPTS


def test_a_claimed_delivery_is_not_claimed_by_a_second_worker(alice):
    services.notify(users=[alice], category=Category.BOOKING, title="Booked")
    now = timezone.now()

    _token, mine = services._claim(now=now, batch=None, ids=None, size=10)
    _token2, theirs = services._claim(now=now, batch=None, ids=None, size=10)

    assert len(mine) == 1 and theirs == []
    # A crashed worker's claim lapses after the lease: the sweep takes the row again.
    assert services.deliver_due(now=now + services.LEASE + timedelta(seconds=1)).sent == 1


def test_notify_enqueues_delivery_after_commit(alice, immediate_tasks,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(users=[alice], category=Category.BOOKING, title="Booked")

    assert len(callbacks) == 1
    assert sms_delivery(alice).status == "sent"
    assert read_sms_outbox(alice.phone)[0]["text"] == "Booked"


def test_inactive_user_deliveries_are_skipped(alice):
    services.notify(users=[alice], category=Category.BOOKING, title="Booked")
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert services.deliver_due().skipped == 1
    assert sms_delivery(alice).status == "skipped"
    assert read_sms_outbox() == []


# --- web push ----------------------------------------------------------------------------------


def test_web_push_goes_to_every_browser_of_the_user(alice):
    for name in ("phone", "laptop"):
        services.subscribe_push(user=alice, endpoint=f"https://push.example/{name}",
                                p256dh="key", auth="secret")
    services.notify(users=[alice], category=Category.EVENT, title="Run", link="/events/1")

    assert services.deliver_due().sent == 1
    pushed = read_webpush_outbox()
    assert sorted(p["endpoint"] for p in pushed) == ["https://push.example/laptop",
                                                     "https://push.example/phone"]
    assert pushed[0]["payload"]["title"] == "Run"
    assert pushed[0]["payload"]["url"] == "/events/1"


def test_a_gone_push_subscription_is_forgotten_and_the_delivery_skipped(alice, settings):
    settings.WEBPUSH_BACKEND = "sportsman.notifications.tests.fakes.GonePushBackend"
    services.subscribe_push(user=alice, endpoint="https://push.example/x", p256dh="k", auth="a")
    services.notify(users=[alice], category=Category.EVENT, title="Run")

    assert services.deliver_due().skipped == 1
    assert not PushSubscription.objects.exists()


def test_the_sweep_is_on_the_schedule_every_minute():
    from sportsman.core.scheduler import SCHEDULE

    job = next(j for j in SCHEDULE if j.name == "notifications.deliver_due")
    assert job.task == "sportsman.notifications.tasks.deliver_due_task"
    assert job.every == timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_racing_senders_send_each_delivery_exactly_once(make_user):
    from sportsman.core.testing import failures, race

    users = [make_user() for _ in range(30)]
    services.notify(users=users, category=Category.BOOKING, title="Booked")
    assert failures(race(lambda i: services.deliver_due(), 3)) == []
    assert len(read_sms_outbox()) == 30
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}
