"""Group activities: planning (at a place, or at a facility with its slot booked in the same
step), sign-up and waitlist, cancelling hands the place on, QR check-in, and finishing turns
attendance into verified exercise records once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from sportsman.activity.models import ActivityRecord
from sportsman.core.events import dispatch
from sportsman.groups import activities
from sportsman.groups.models import GroupActivity, Signup
from sportsman.groups.tests.fixtures import leader_of, make_activity, make_group, member, resident

pytestmark = pytest.mark.django_db


def _plan(client, group, **body):
    start = timezone.now() + dt.timedelta(days=1)
    data = {"title": "南湖夜跑", "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(), "capacity": 2,
            "place": "南湖南门", **body}
    return client.json("post", f"/api/v1/groups/{group.pk}/activities", data)


def test_a_leader_plans_members_sign_up_then_wait(tree, api_client):
    group = make_group(tree)
    r = _plan(api_client.as_user(leader_of(group)), group)
    assert r.status_code == 201, r.content
    act = r.json()
    assert act["check_in_code"] and act["taken"] == 0
    results = []
    for _ in range(3):
        who = api_client.as_user(member(tree, group))
        results.append(who.post(f"/api/v1/group-activities/{act['id']}/signups").json()["status"])
    assert results == ["signed_up", "signed_up", "waiting"]
    listed = api_client.get(f"/api/v1/groups/{group.pk}/activities").json()
    assert listed[0]["taken"] == 2 and "check_in_code" not in listed[0]


def test_without_a_waitlist_a_full_activity_refuses(tree, api_client):
    group = make_group(tree)
    act = make_activity(group, capacity=1, waitlist=False)
    api_client.as_user(member(tree, group)).post(f"/api/v1/group-activities/{act.pk}/signups")
    r = api_client.as_user(member(tree, group)).post(f"/api/v1/group-activities/{act.pk}/signups")
    assert r.status_code == 409 and r.json()["code"] == "activity_full"
    assert Signup.objects.count() == 1


def test_signing_up_twice_and_outsiders_are_refused(tree, api_client):
    group = make_group(tree)
    act = make_activity(group)
    me = api_client.as_user(member(tree, group))
    assert me.post(f"/api/v1/group-activities/{act.pk}/signups").status_code == 201
    twice = me.post(f"/api/v1/group-activities/{act.pk}/signups")
    assert twice.status_code == 409 and twice.json()["code"] == "already_signed_up"
    outsider = api_client.as_user(resident(tree)).post(f"/api/v1/group-activities/{act.pk}/signups")
    assert outsider.status_code == 403 and outsider.json()["code"] == "not_member"
    act.refresh_from_db()
    assert act.taken == 1


def test_cancelling_hands_the_place_to_the_first_waiting(tree, api_client,
                                                          django_capture_on_commit_callbacks):
    group = make_group(tree)
    act = make_activity(group, capacity=1)
    holder, first, second = (member(tree, group) for _ in range(3))
    for who in (holder, first, second):
        activities.sign_up(actor=who, activity_id=act.pk)
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.as_user(holder).delete(f"/api/v1/group-activities/{act.pk}/signups/me")
    assert r.json()["status"] == "cancelled"
    states = dict(Signup.objects.filter(activity=act).values_list("user_id", "status"))
    assert states == {holder.pk: "cancelled", first.pk: "signed_up", second.pk: "waiting"}
    act.refresh_from_db()
    assert act.taken == 1
    assert first.notifications.filter(category="group").exists()
    # with nobody waiting, a cancellation gives the place back
    activities.cancel(actor=second, activity_id=act.pk)
    activities.cancel(actor=first, activity_id=act.pk)
    act.refresh_from_db()
    assert act.taken == 0


def test_planning_with_a_slot_books_it_in_the_same_step(tree, api_client):
    from sportsman.facilities.models import Booking
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.facilities.tests.test_booking import slot_at

    group = make_group(tree)
    venue = make_facility(tree.k2, unit_capacity=1)
    day = timezone.localdate() + dt.timedelta(days=2)
    slot = slot_at(venue, day, 9)
    leader = api_client.as_user(leader_of(group))
    r = leader.json("post", f"/api/v1/groups/{group.pk}/activities",
                    {"title": "篮球友谊赛", "capacity": 10, "slot_id": slot.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["facility_id"] == venue.pk and body["booking_id"]
    assert Booking.objects.get(pk=body["booking_id"]).slot_id == slot.pk
    # the slot is now full: an administrator's second activity on it is refused and leaves
    # nothing behind
    deputy = member(tree, group)
    activities.services.set_role(actor=leader_of(group), group_id=group.pk, user_id=deputy.pk,
                                 role="admin")
    again = api_client.as_user(deputy).json("post", f"/api/v1/groups/{group.pk}/activities",
                                            {"title": "第二场", "capacity": 10,
                                             "slot_id": slot.pk})
    assert again.status_code == 409 and again.json()["code"] == "slot_full"
    assert GroupActivity.objects.count() == 1


@pytest.mark.parametrize("body, code", [
    ({"capacity": 0}, "invalid"),
    ({"starts_at": "2020-01-01T08:00:00+08:00", "ends_at": "2020-01-01T09:00:00+08:00"},
     "in_the_past"),
    ({"place": ""}, "no_place"),
    ({"title": ""}, "invalid"),
    ({"colour": "red"}, "unknown_field"),
])
def test_bad_activity_input_writes_nothing(tree, api_client, body, code):
    group = make_group(tree)
    r = _plan(api_client.as_user(leader_of(group)), group, **body)
    assert r.status_code == 400 and r.json()["code"] == code, r.content
    assert not GroupActivity.objects.exists()


def test_a_plain_member_cannot_plan(tree, api_client):
    group = make_group(tree)
    r = _plan(api_client.as_user(member(tree, group)), group)
    assert r.status_code == 403 and r.json()["code"] == "not_group_manager"


def test_check_in_by_code_then_finishing_records_verified_exercise_once(tree, api_client):
    group = make_group(tree)
    act = make_activity(group, starts_in=dt.timedelta(days=1))
    came, absent = member(tree, group), member(tree, group)
    for who in (came, absent):
        activities.sign_up(actor=who, activity_id=act.pk)
    early = api_client.as_user(came).json("post", "/api/v1/group-check-ins",
                                          {"code": act.check_in_code})
    assert early.status_code == 400 and early.json()["code"] == "outside_check_in"
    at = act.starts_at + dt.timedelta(minutes=5)
    activities.check_in(actor=came, code=act.check_in_code, now=at)
    again = activities.check_in(actor=came, code=act.check_in_code, now=at)
    assert again.status == "attended"
    wrong = api_client.as_user(came).json("post", "/api/v1/group-check-ins",
                                          {"code": "nope"})
    assert wrong.status_code == 404 and wrong.json()["code"] == "activity_not_found"

    with time_machine.travel(act.ends_at + dt.timedelta(minutes=10)):
        assert activities.finish(act) == 1
        assert activities.finish(act) == 0  # once
        dispatch()
    rows = list(ActivityRecord.objects.filter(source="group"))
    assert [(r.user_id, r.is_verified, r.source_key) for r in rows] == [
        (came.pk, True, f"group:{act.pk}:{came.pk}")]
    assert rows[0].started_at == act.starts_at and rows[0].ended_at == act.ends_at


def test_the_periodic_job_finishes_what_ended_an_hour_ago(tree):
    group = make_group(tree)
    act = make_activity(group, starts_in=dt.timedelta(hours=3))
    assert activities.finish_due(now=act.ends_at + dt.timedelta(minutes=30)) == 0
    activities.finish_due(now=act.ends_at + dt.timedelta(minutes=61))
    act.refresh_from_db()
    assert act.status == "finished"


def test_a_called_off_activity_tells_everyone(tree, api_client, django_capture_on_commit_callbacks):
    group = make_group(tree)
    act = make_activity(group)
    who = member(tree, group)
    activities.sign_up(actor=who, activity_id=act.pk)
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.as_user(leader_of(group)).post(
            f"/api/v1/group-activities/{act.pk}/cancel")
    assert r.json()["status"] == "cancelled"
    assert who.notifications.filter(category="group", title__contains="周末健步走").exists()
    late = api_client.as_user(member(tree, group)).post(f"/api/v1/group-activities/{act.pk}/signups")
    assert late.json()["code"] == "activity_closed"
