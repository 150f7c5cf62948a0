"""The volunteering API: lists for everyone, the resident's path (apply, sign up, scan in and
out, my hours and points), retries under Idempotency-Key, the error shape, and list query
counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sportsman.core.events import dispatch
from sportsman.governance import volunteering as vol
from sportsman.governance.models import VolunteerSignup
from sportsman.governance.tests.fixtures_volunteering import (
    leader_of,
    make_opportunity,
    make_team,
    member,
    resident,
    volunteer_rule,
)

pytestmark = pytest.mark.django_db


def test_near_me_lists_the_teams_and_opportunities_of_my_town(tree, api_client):
    here = make_team(tree)
    there = make_team(tree, region=tree.k4, name="蓬莱志愿队")
    opp = make_opportunity(here)
    me = api_client.as_user(resident(tree, tree.k1))

    teams = me.get("/api/v1/volunteer-teams?mine=true").json()
    opps = me.get("/api/v1/volunteer-opportunities?mine=true").json()

    assert [t["id"] for t in teams] == [here.pk]
    assert [o["id"] for o in opps] == [opp.pk]
    everywhere = {t["id"] for t in api_client.get("/api/v1/volunteer-teams").json()}
    assert everywhere == {here.pk, there.pk}


def test_a_resident_applies_signs_up_scans_and_earns_points(tree, api_client):
    volunteer_rule(tree, points=10)
    team = make_team(tree)
    person = resident(tree)
    client = api_client.as_user(person)
    leader = api_client.as_user(leader_of(team))

    assert client.post(f"/api/v1/volunteer-teams/{team.pk}/applications").status_code == 201
    assert leader.json("post", f"/api/v1/volunteer-teams/{team.pk}/members/{person.pk}",
                       {"accept": True}).json()["status"] == "active"
    opp = make_opportunity(team, starts_in=dt.timedelta(minutes=10))
    made = client.json("post", f"/api/v1/volunteer-opportunities/{opp.pk}/signups", {})
    assert made.status_code == 201, made.content
    code = leader.get(f"/api/v1/volunteer-opportunities/{opp.pk}/code").json()["code"]
    assert client.json("post", "/api/v1/volunteer-scans",
                       {"code": code}).json()["status"] == "checked_in"
    signup = VolunteerSignup.objects.get(pk=made.json()["id"])
    # came early, left after an hour of the shift: the scan at check-out is simulated
    vol.scan(actor=person, code=code, now=opp.starts_at + dt.timedelta(hours=1))
    assert leader.json("post", f"/api/v1/volunteer-signups/{signup.pk}/hours",
                       {"approve": True}).json()["hours"] == 1
    dispatch()

    mine = client.get("/api/v1/volunteer/me").json()
    assert (mine["hours"], mine["points"]) == (1, 10)
    assert [s["id"] for s in mine["signups"]] == [signup.pk]


def test_a_retried_sign_up_with_the_same_key_takes_one_place(tree, api_client):
    team = make_team(tree)
    opp = make_opportunity(team, capacity=5)
    client = api_client.as_user(member(tree, team))

    first = client.json("post", f"/api/v1/volunteer-opportunities/{opp.pk}/signups", {},
                        HTTP_IDEMPOTENCY_KEY="vol-1")
    again = client.json("post", f"/api/v1/volunteer-opportunities/{opp.pk}/signups", {},
                        HTTP_IDEMPOTENCY_KEY="vol-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    opp.refresh_from_db()
    assert opp.taken == 1


def test_refusals_carry_a_stable_code_and_change_nothing(tree, api_client):
    team = make_team(tree)
    opp = make_opportunity(team, capacity=1)
    outsider = api_client.as_user(resident(tree))

    r = outsider.json("post", f"/api/v1/volunteer-opportunities/{opp.pk}/signups", {})
    assert (r.status_code, r.json()["code"]) == (403, "not_team_member")
    r = outsider.json("post", "/api/v1/volunteer-scans", {"code": "made-up"})
    assert (r.status_code, r.json()["code"]) == (400, "volunteer_code_invalid")
    r = outsider.json("post", f"/api/v1/volunteer-opportunities/{opp.pk}/signups",
                      {"for_user_id": leader_of(team).pk})
    assert (r.status_code, r.json()["code"]) == (403, "proxy_not_authorised")
    r = outsider.json("post", f"/api/v1/volunteer-opportunities/{opp.pk}/signups",
                      {"surprise": 1})
    assert r.status_code in (400, 422)
    opp.refresh_from_db()
    assert opp.taken == 0


def test_signing_up_for_someone_over_the_api_keeps_both(tree, api_client):
    from sportsman.governance.models import ProxyGrant

    team = make_team(tree)
    opp = make_opportunity(team)
    elder = member(tree, team, nickname="李大爷")
    helper = resident(tree, nickname="网格员")
    ProxyGrant.objects.create(principal=elder, agent=helper, relation="grid_worker")

    r = api_client.as_user(helper).json(
        "post", f"/api/v1/volunteer-opportunities/{opp.pk}/signups", {"for_user_id": elder.pk})

    assert r.status_code == 201
    assert (r.json()["user_id"], r.json()["acted_by_id"]) == (elder.pk, helper.pk)


def test_lists_take_a_fixed_number_of_queries(tree, api_client):
    team = make_team(tree)
    for _ in range(3):
        make_opportunity(team)
    staff = api_client.as_user(tree.town_admin)

    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            assert len(api_client.get("/api/v1/volunteer-opportunities").json()) >= 3
            assert staff.get("/api/v1/console/volunteer-teams").status_code == 200
        counts.append(len(ctx))
        make_opportunity(make_team(tree, name=f"第{len(counts)}队"))
    assert counts[0] == counts[1]
