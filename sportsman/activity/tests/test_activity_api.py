"""The activity API, read side: my data, rankings in my own area only, my report, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.activity.models import UserDay
from sportsman.activity.tests.test_mydata import put_day

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 10)


def test_my_activity_returns_totals_series_and_comparison(tree, api_client):
    put_day(tree.resident, DAY, 30)
    c = api_client.as_user(tree.resident)
    body = c.get(f"/api/v1/me/activity?period=week&date={DAY}").json()
    assert body["minutes"] == 30 and body["key"] == "2026-W24" and len(body["daily"]) == 7
    assert body["compare"]["mine"] == 30
    cal = c.get("/api/v1/me/activity/calendar?year=2026").json()
    assert cal["days"] == [{"day": str(DAY), "minutes": 30}]


def test_my_activity_needs_a_login(api_client):
    assert api_client.get("/api/v1/me/activity").status_code == 401


@pytest.mark.parametrize("query, code", [
    ("/api/v1/me/activity?period=decade", "bad_period"),
    ("/api/v1/me/activity/calendar?year=1066", "bad_year"),
    ("/api/v1/rankings?level=galaxy", "bad_level"),
    ("/api/v1/rankings?metric=kcal", "bad_metric"),
    ("/api/v1/me/report?year=3000", "bad_year"),
])
def test_bad_input_is_a_clear_400_and_writes_nothing(tree, api_client, query, code):
    response = api_client.as_user(tree.resident).get(query)
    assert response.status_code == 400 and response.json()["code"] == code
    assert not UserDay.objects.exists()


def test_rankings_of_my_town_mark_me_and_another_town_is_404(tree, api_client):
    put_day(tree.resident, DAY, 30)
    other = tree.user(home_community=tree.k2, nickname="邻居")
    put_day(other, DAY, 60)
    c = api_client.as_user(tree.resident)
    body = c.get(f"/api/v1/rankings?level=town&period=week&date={DAY}").json()
    assert [(r["nickname"], r["rank"], r["is_me"]) for r in body["items"]] == [
        ("邻居", 1, False), ("resident", 2, True)]
    assert body["my_rank"] == 2 and body["region_id"] == tree.t1.pk
    assert c.get(f"/api/v1/rankings?level=town&region={tree.t2.pk}").status_code == 404
    assert c.get(f"/api/v1/rankings?level=town&region={tree.t1.pk}").status_code == 200


def test_without_home_community_rankings_say_so(tree, api_client):
    lonely = tree.user()
    response = api_client.as_user(lonely).get("/api/v1/rankings?level=city")
    assert response.status_code == 400 and response.json()["code"] == "no_home_community"


def test_ranking_list_query_count_does_not_grow_with_residents(tree, api_client):
    def queries(n):
        for _ in range(n):
            put_day(tree.user(home_community=tree.k1), DAY, 20 + n)
        with CaptureQueriesContext(connection) as q:
            response = api_client.as_user(tree.resident).get(
                f"/api/v1/rankings?level=city&date={DAY}&limit=50")
        assert response.status_code == 200
        return len(q.captured_queries)

    assert queries(3) == queries(30)


def test_my_rankings_and_report_hide_ranks_when_opted_out(tree, api_client):
    me = tree.resident
    put_day(me, DAY, 30)
    c = api_client.as_user(me)
    body = c.get(f"/api/v1/me/rankings?period=year&date={DAY}").json()
    assert [lv["rank"] for lv in body["levels"]] == [1, 1, 1, 1]
    assert c.get("/api/v1/me/report?year=2026").json()["city_rank"] == 1
    me.hide_from_rankings = True
    me.save()
    body = c.get(f"/api/v1/me/rankings?period=year&date={DAY}").json()
    assert body["hidden"] and [lv["rank"] for lv in body["levels"]] == [None] * 4
    assert c.get("/api/v1/me/report?year=2026").json()["city_rank"] is None


def test_report_png_is_served_as_an_image(tree, api_client):
    put_day(tree.resident, DAY, 30)
    response = api_client.as_user(tree.resident).get("/api/v1/me/report.png?year=2026")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_staff_region_activity_adds_the_subtree(tree, api_client):
    from sportsman.activity.models import RegionDay

    for region, minutes in ((tree.k1, 10), (tree.k2, 20), (tree.k3, 40)):
        RegionDay.objects.create(region=region, day=DAY, minutes=minutes, sessions=1,
                                 verified_minutes=minutes, active_users=1)
    c = api_client.as_user(tree.town_admin)
    body = c.get(f"/api/v1/regions/{tree.t1.pk}/activity?period=month&date={DAY}").json()
    assert body["minutes"] == 30 and body["active_user_days"] == 2 and len(body["daily"]) == 30
    assert c.get(f"/api/v1/regions/{tree.t2.pk}/activity").status_code == 403


def test_my_activity_and_region_activity_query_counts_do_not_grow_with_days(tree, api_client):
    from sportsman.activity.models import RegionDay

    def queries(n_days: int) -> tuple[int, int]:
        for k in range(n_days):
            day = dt.date(2026, 1, 1) + dt.timedelta(days=k)
            put_day(tree.resident, day, 10)
            RegionDay.objects.create(region=tree.k1, day=day, minutes=10, sessions=1,
                                     verified_minutes=10, active_users=1)
        with CaptureQueriesContext(connection) as mine:
            api_client.as_user(tree.resident).get("/api/v1/me/activity?period=year&date=2026-12-01")
        with CaptureQueriesContext(connection) as region:
            api_client.as_user(tree.town_admin).get(
                f"/api/v1/regions/{tree.t1.pk}/activity?period=year&date=2026-12-01")
        UserDay.objects.all().delete()
        RegionDay.objects.all().delete()
        return len(mine.captured_queries), len(region.captured_queries)

    assert queries(3) == queries(60)


def test_fitness_stars_of_my_town_include_ties_at_the_cut(tree, api_client):
    first = tree.user(home_community=tree.k2, nickname="甲")
    tied = tree.user(home_community=tree.k1, nickname="乙")
    put_day(first, DAY, 90)
    put_day(tied, DAY, 40)
    put_day(tree.resident, DAY, 40)
    c = api_client.as_user(tree.resident)
    body = c.get(f"/api/v1/rankings/stars?level=town&year={DAY.year}&top=2").json()
    assert body["region_id"] == tree.t1.pk and body["year"] == DAY.year
    # Two stars asked for, three given: the two tied for second are both stars.
    assert sorted((r["rank"], r["nickname"]) for r in body["items"]) == [
        (1, "甲"), (2, "resident"), (2, "乙")]
    assert c.get(f"/api/v1/rankings/stars?level=town&region={tree.t2.pk}").status_code == 404
    assert api_client.get("/api/v1/rankings/stars").status_code == 401
