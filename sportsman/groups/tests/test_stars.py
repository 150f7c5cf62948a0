"""The group activity index (activities held, attendance, new members, posts) by month, top
lists per region, star groups confirmed by staff — and the nightly job at month and year ends."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from sportsman.facilities import hours
from sportsman.groups import activities, space, stars
from sportsman.groups.models import GroupActivity, GroupMonth, StarGroup
from sportsman.groups.tests.fixtures import leader_of, make_activity, make_group, member

pytestmark = pytest.mark.django_db


def _busy_group(tree, name: str, attendees: int, **extra):
    group = make_group(tree, name=name, **extra)
    act = make_activity(group, capacity=50, starts_in=dt.timedelta(hours=2))
    for _ in range(attendees):
        who = member(tree, group)
        activities.sign_up(actor=who, activity_id=act.pk)
        activities.check_in(actor=who, code=act.check_in_code, now=act.starts_at)
    activities.finish(act, now=act.ends_at)
    space.create_post(actor=leader_of(group), group_id=group.pk, text="活动照片")
    return group, act


MID_MONTH = "2026-06-15T10:00:00+08:00"  # joins, activity and posts all in one month


@time_machine.travel(MID_MONTH, tick=True)
def test_the_index_counts_a_month_and_ranks_the_groups_of_a_region(tree, api_client):
    busy, act = _busy_group(tree, "长纤塘健步走", attendees=4)
    quiet, _ = _busy_group(tree, "艾尚舞", attendees=1)
    month = hours.local(act.starts_at).date().replace(day=1)
    assert stars.refresh_month(month) == 2
    row = GroupMonth.objects.get(group=busy, month=month)
    assert (row.activities, row.attendance, row.member_growth, row.posts) == (1, 4, 4, 1)
    assert row.score == stars.score(1, 4, 4, 1)
    top = api_client.get(f"/api/v1/groups/top?region={tree.t1.pk}&year={month.year}").json()
    assert [t["group_id"] for t in top] == [busy.pk, quiet.pk]
    assert api_client.get(f"/api/v1/groups/top?region={tree.t3.pk}&year={month.year}").json() \
        == []
    # recomputing gives the same rows, not more
    stars.refresh_month(month)
    assert GroupMonth.objects.filter(month=month).count() == 2


@time_machine.travel(MID_MONTH, tick=True)
def test_staff_confirm_star_groups_that_residents_see(tree, api_client):
    busy, act = _busy_group(tree, "茶园排舞群", attendees=3)
    year = timezone.localdate().year
    stars.refresh_month(hours.local(act.starts_at).date())
    r = api_client.as_user(tree.town_admin).json("put", "/api/v1/console/group-stars", {
        "region_id": tree.t1.pk, "year": year, "group_ids": [busy.pk]})
    assert r.status_code == 200, r.content
    shown = api_client.get(f"/api/v1/groups/stars?year={year}").json()
    assert [(s["group_id"], s["region_id"]) for s in shown] == [(busy.pk, tree.t1.pk)]
    # a community is not a star level; a group outside the region is refused
    bad = api_client.as_user(tree.sibling_community_admin).json(
        "put", "/api/v1/console/group-stars",
        {"region_id": tree.k2.pk, "year": year, "group_ids": [busy.pk]})
    assert bad.status_code == 400 and bad.json()["code"] == "not_star_level"
    outside = api_client.as_user(tree.district_admin).json(
        "put", "/api/v1/console/group-stars",
        {"region_id": tree.t2.pk, "year": year, "group_ids": [busy.pk]})
    assert outside.status_code == 404
    assert StarGroup.objects.count() == 1


@pytest.mark.parametrize("local_now", ["2027-01-01T00:30:00+08:00", "2027-12-31T23:30:00+08:00"])
def test_the_page_shows_last_years_stars_until_this_years_are_chosen(tree, client, local_now):
    with time_machine.travel(local_now, tick=False):
        this = timezone.localdate().year
        group = make_group(tree, name="长纤塘健步走")
        StarGroup.objects.create(year=this - 1, region=tree.city, group=group, score=3.0)
        assert stars.shown_year() == this - 1
        page = client.get("/groups/stars/")
        assert page.status_code == 200 and page.context["year"] == this - 1
        assert [s.group_id for s in page.context["stars"]] == [group.pk]
        # once this year's are chosen they are the ones shown; a later year never is
        StarGroup.objects.create(year=this, region=tree.city, group=group, score=1.0)
        StarGroup.objects.create(year=this + 1, region=tree.city, group=group, score=1.0)
        assert stars.shown_year() == this
        assert client.get("/groups/stars/").context["year"] == this


@pytest.mark.parametrize("local_now, months", [
    ("2026-12-31T23:30:00+08:00", ["2026-12-01"]),
    ("2027-01-01T00:30:00+08:00", ["2027-01-01", "2026-12-01"]),
    ("2027-03-01T00:30:00+08:00", ["2027-03-01", "2027-02-01"]),
    ("2027-06-30T23:30:00+08:00", ["2027-06-01"]),
])
def test_the_nightly_job_at_month_and_year_ends(tree, local_now, months):
    group = make_group(tree)
    at = dt.datetime.fromisoformat(local_now)
    # an activity on the last evening of the previous month, finished after midnight
    previous_month_end = at.replace(day=1, hour=19, minute=0) - dt.timedelta(days=1)
    GroupActivity.objects.create(group=group, title="跨月", starts_at=previous_month_end,
                                 ends_at=previous_month_end + dt.timedelta(hours=1), capacity=5,
                                 status="finished", check_in_code=f"c-{local_now}")
    with time_machine.travel(at, tick=False):
        stars.refresh_due()
    last_month = (at.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    counted = GroupMonth.objects.filter(group=group, month=last_month).first()
    if months[1:]:  # the first days of a month also recount the month before
        assert str(last_month) == months[1]
        assert counted is not None and counted.activities == 1
    else:
        assert counted is None


def _exercise(user, minutes: int) -> None:
    from sportsman.activity.records import record_session

    start = timezone.localtime().replace(hour=0, minute=1, second=0, microsecond=0)
    record_session(user_id=user.pk, source="group", source_key=f"group:t:{user.pk}",
                   sport_id=None, started_at=start,
                   ended_at=start + dt.timedelta(minutes=minutes), verified=True)


@pytest.mark.usefixtures("midday")
def test_fitness_stars_from_the_years_verified_minutes(tree, api_client):
    from sportsman.groups.models import FitnessStar
    from sportsman.groups.tests.fixtures import resident

    year = timezone.localdate().year
    keen, steady, hidden = (resident(tree, nickname=n) for n in ("跑得快", "天天练", "隐身"))
    hidden.hide_from_rankings = True
    hidden.save()
    for person, minutes in ((keen, 28), (steady, 20), (hidden, 29)):
        _exercise(person, minutes)
    staff = api_client.as_user(tree.town_admin)
    candidates = staff.get(f"/api/v1/console/fitness-stars/candidates?region={tree.t1.pk}"
                           f"&year={year}").json()
    assert [c["user_id"] for c in candidates] == [keen.pk, steady.pk]  # the hidden never listed
    r = staff.json("put", "/api/v1/console/fitness-stars",
                   {"region_id": tree.t1.pk, "year": year, "user_ids": [keen.pk]})
    assert r.status_code == 200 and r.json()[0]["verified_minutes"] == 28
    shown = api_client.get(f"/api/v1/fitness-stars?year={year}").json()
    assert [(s["nickname"], s["region_id"]) for s in shown] == [("跑得快", tree.t1.pk)]
    # someone outside the candidates cannot be chosen; nothing changes
    bad = staff.json("put", "/api/v1/console/fitness-stars",
                     {"region_id": tree.t1.pk, "year": year, "user_ids": [hidden.pk]})
    assert bad.status_code == 404 and bad.json()["code"] == "not_a_candidate"
    assert list(FitnessStar.objects.values_list("user_id", flat=True)) == [keen.pk]
