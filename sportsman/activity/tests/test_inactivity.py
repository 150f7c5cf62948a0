"""Inactivity warnings: who is nudged, once, with a place near home; opt-out; coming back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.activity import inactivity
from sportsman.activity.models import InactivityNudge, UserDay
from sportsman.facilities.tests.factories import make_facility
from sportsman.notifications.models import Notification

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 23)


def _weekly(user, region, minutes_by_week: list[int]) -> None:
    """Verified minutes per week, oldest first, ending with the week before MONDAY."""
    first = MONDAY - dt.timedelta(weeks=len(minutes_by_week))
    for i, minutes in enumerate(minutes_by_week):
        if minutes:
            UserDay.objects.create(user=user, region=region, day=first + dt.timedelta(weeks=i),
                                   minutes=minutes, sessions=1, verified_minutes=minutes,
                                   verified_sessions=1)


def test_a_resident_who_dropped_is_nudged_once_with_a_place_near_home(tree):
    # Given a regular (150 min a week for 8 weeks) who did 20 minutes in the last two weeks,
    # someone steady, and someone who never exercised much
    make_facility(tree.k1, name="花园社区百姓健身房")
    dropped = tree.user(home_community=tree.k1)
    steady = tree.user(home_community=tree.k1)
    light = tree.user(home_community=tree.k1)
    _weekly(dropped, tree.k1, [150] * 8 + [20, 0])
    _weekly(steady, tree.k1, [150] * 10)
    _weekly(light, tree.k1, [40] * 8 + [0, 0])
    # When the Monday job runs (twice)
    assert inactivity.send_nudges(today=MONDAY) == 1
    assert inactivity.send_nudges(today=MONDAY) == 0
    # Then only the resident who dropped is nudged, with their figures and a place near home
    nudge = InactivityNudge.objects.get()
    assert (nudge.user, nudge.week, nudge.baseline_minutes, nudge.recent_minutes) == \
        (dropped, MONDAY, 150, 10)
    note = Notification.objects.get(user=dropped, category="inactivity")
    assert "花园社区百姓健身房" in note.body and note.link.startswith("/places/")
    assert not Notification.objects.filter(user__in=[steady, light]).exists()


def test_other_days_and_recent_nudges_and_opted_out_residents_are_skipped(tree):
    from sportsman.notifications.models import Preference

    quiet = tree.user(home_community=tree.k1)
    _weekly(quiet, tree.k1, [150] * 8 + [0, 0])
    assert inactivity.send_nudges(today=MONDAY + dt.timedelta(days=1)) == 0  # a Tuesday
    for channel in ("in_app", "webpush", "sms", "email"):
        Preference.objects.create(user=quiet, category="inactivity", channel=channel,
                                  enabled=False)
    assert inactivity.send_nudges(today=MONDAY) == 0
    Preference.objects.filter(user=quiet).delete()
    InactivityNudge.objects.create(user=quiet, week=MONDAY - dt.timedelta(weeks=2),
                                   baseline_minutes=150, recent_minutes=0,
                                   sent_at=timezone.now())
    assert inactivity.send_nudges(today=MONDAY) == 0  # nudged two weeks ago


def test_coming_back_within_14_days_is_tracked_per_region(tree, api_client):
    back = tree.user(home_community=tree.k2)
    gone = tree.user(home_community=tree.k2)
    sent = timezone.now() - dt.timedelta(days=20)
    for user in (back, gone):
        InactivityNudge.objects.create(user=user, region=tree.k2, week=sent.date(),
                                       baseline_minutes=120, recent_minutes=0, sent_at=sent)
    UserDay.objects.create(user=back, region=tree.k2, day=(sent + dt.timedelta(days=5)).date(),
                           minutes=30, sessions=1, verified_minutes=30, verified_sessions=1)
    assert inactivity.mark_returns() == 1
    assert inactivity.mark_returns() == 0
    summary = inactivity.region_summary(tree.t1, since=sent.date() - dt.timedelta(days=7))
    assert (summary["sent"], summary["came_back"], summary["came_back_share"]) == (2, 1, 0.5)
    response = api_client.as_user(tree.town_admin).get(
        f"/api/v1/regions/{tree.t1.pk}/inactivity", {"weeks": 8})
    assert response.status_code == 200 and response.json()["came_back"] == 1
    assert api_client.as_user(tree.sibling_town_admin).get(
        f"/api/v1/regions/{tree.t1.pk}/inactivity").status_code in (403, 404)
