"""The .ics documents parse with ``icalendar`` and carry Asia/Shanghai with its VTIMEZONE; the
personal feed answers only its token; an online challenge's leaderboard counts the exercise
record in its window; reminders go out once, before the start (a frozen clock)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.test import Client

from sportsman.activity.models import ActivityRecord
from sportsman.events import challenge, reminders, services
from sportsman.events.models import Event, EventStatus, Registration, RegStatus
from sportsman.events.tests.factories import make_event

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_an_events_ics_parses_with_its_time_zone(tree):
    event = make_event(tree.k1, title="花园社区趣味运动会", place="花园社区广场")

    response = Client().get(f"/events/{event.pk}.ics")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    (item,) = cal.walk("VEVENT")
    assert str(item["SUMMARY"]) == "花园社区趣味运动会" and str(item["LOCATION"]) == "花园社区广场"
    assert item["DTSTART"].params["TZID"] == "Asia/Shanghai"
    start = item.decoded("DTSTART")
    assert start.utcoffset() == dt.timedelta(hours=8)
    assert start == event.starts_at and item.decoded("DTEND") == event.ends_at
    assert str(item["UID"]).startswith(f"event-{event.pk}@")


def test_a_draft_has_no_ics(tree):
    event = make_event(tree.k1, status=EventStatus.DRAFT)
    assert Client().get(f"/events/{event.pk}.ics").status_code == 404


def test_the_personal_feed_lists_my_registrations_by_its_token_only(tree, api_client):
    mine = make_event(tree.k1, title="我的比赛")
    cancelled = make_event(tree.k1, title="取消的比赛")
    other = make_event(tree.k1, title="别人的比赛")
    services.register(actor=tree.resident, event_id=mine.pk)
    services.register(actor=tree.resident, event_id=cancelled.pk)
    services.cancel_event(actor=tree.town_admin, event_id=cancelled.pk)
    services.register(actor=tree.user(), event_id=other.pk)

    url = api_client.as_user(tree.resident).get("/api/v1/me/event-calendar").json()["url"]
    path = url.split("testserver", 1)[1]
    cal = icalendar.Calendar.from_ical(Client().get(path).content)

    items = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert set(items) == {"我的比赛", "取消的比赛"}
    assert str(items["取消的比赛"]["STATUS"]) == "CANCELLED"
    assert all(e["DTSTART"].params["TZID"] == "Asia/Shanghai" for e in items.values())
    assert cal.walk("VTIMEZONE")
    assert Client().get("/events/feed/" + "x" * 43 + ".ics").status_code == 404
    new = api_client.as_user(tree.resident).post("/api/v1/me/event-calendar/reset").json()["url"]
    assert new != url and Client().get(path).status_code == 404


def _record(user, start, minutes, distance=None, key=""):
    return ActivityRecord.objects.create(
        user=user, source="manual", source_key=key or f"manual:{user.pk}:{start.isoformat()}",
        started_at=start, ended_at=start + dt.timedelta(minutes=minutes),
        duration_minutes=minutes, counted_minutes=minutes, distance_m=distance)


def test_the_leaderboard_counts_the_record_inside_the_window_only(tree):
    event = make_event(tree.city, mode="online", challenge_metric="minutes", starts_in_days=-2,
                       hours=24 * 5, challenge_goal=60)
    a, b, c = (tree.user(nickname=n) for n in ("甲", "乙", "丙"))
    for u in (a, b, c):
        Registration.objects.create(event=event, user=u)
    inside = event.starts_at + dt.timedelta(hours=1)
    _record(a, inside, 50)
    _record(a, inside + dt.timedelta(hours=3), 20)
    _record(b, inside, 30)
    _record(b, event.starts_at - dt.timedelta(hours=2), 500)  # before the window
    flagged = _record(c, inside, 900)
    ActivityRecord.objects.filter(pk=flagged.pk).update(flags=["too_long"])

    board = challenge.leaderboard(event)

    assert [(line.name, line.value, line.rank, line.reached_goal) for line in board] == [
        ("甲", 70.0, 1, True), ("乙", 30.0, 2, False), ("丙", 0.0, 3, False)]
    response = Client().get(f"/api/v1/events/{event.pk}/leaderboard").json()
    assert [line["value"] for line in response["lines"]] == [70.0, 30.0, 0.0]


def test_reminders_go_out_once_within_a_day_of_the_start(tree):
    at = dt.datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI)  # a year's end, local time
    with time_machine.travel(at, tick=False):
        soon = make_event(tree.k1, starts_in_days=0.5)
        later = make_event(tree.k1, starts_in_days=3)
        Registration.objects.create(event=soon, user=tree.resident)

        with pytest.MonkeyPatch.context() as mp:
            sent = []
            mp.setattr(reminders, "_send", lambda event_id: sent.append(event_id))
            from django.db import transaction

            with transaction.atomic():
                first = reminders.send_reminders()
            second = reminders.send_reminders()

    assert (first, second) == (1, 0)
    assert Event.objects.get(pk=soon.pk).reminded_at == at
    assert Event.objects.get(pk=later.pk).reminded_at is None


def test_ended_events_finish_and_a_challenge_freezes_its_ranks(tree):
    at = dt.datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)
    with time_machine.travel(at, tick=False):
        done = make_event(tree.city, mode="online", challenge_metric="sessions",
                          starts_in_days=-3, hours=24)
        running = make_event(tree.k1, starts_in_days=-0.01, hours=5)
        reg = Registration.objects.create(event=done, user=tree.resident)
        _record(tree.resident, done.starts_at + dt.timedelta(hours=1), 30)
        assert reminders.finish_ended() == 1

    assert Event.objects.get(pk=done.pk).status == EventStatus.FINISHED
    assert Event.objects.get(pk=running.pk).status == EventStatus.PUBLISHED
    reg.refresh_from_db()
    assert (reg.score, reg.rank, reg.status) == (1.0, 1, RegStatus.REGISTERED)
