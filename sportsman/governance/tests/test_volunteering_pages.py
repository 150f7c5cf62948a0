"""Volunteering pages: near me, a team (and its leader's tools), an opportunity with sign-up and
the leader's QR code and attendance, the scan page, my volunteering, and the console."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from sportsman.governance import volunteering as vol
from sportsman.governance.models import VolunteerSignup, VolunteerTeam
from sportsman.governance.tests.fixtures_volunteering import (
    attended,
    leader_of,
    make_opportunity,
    make_team,
    member,
    resident,
)

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.force_login(user)
    return client


def test_near_me_shows_my_towns_teams_and_opportunities(tree, client):
    team = make_team(tree)
    opp = make_opportunity(team)
    page = _client(client, resident(tree, tree.k1)).get(reverse("governance:volunteering"))
    assert page.status_code == 200
    text = page.content.decode()
    assert team.name in text and opp.title in text


def test_a_resident_applies_on_the_team_page_and_the_leader_accepts(tree, client):
    team = make_team(tree)
    me = resident(tree, nickname="小李")
    _client(client, me).post(reverse("governance:volunteer_team_action", args=[team.pk]),
                             {"action": "apply"})
    leader_page = _client(client, leader_of(team)).get(
        reverse("governance:volunteer_team", args=[team.pk]))
    assert "小李" in leader_page.content.decode()
    client.post(reverse("governance:volunteer_team_action", args=[team.pk]),
                {"action": "accept", "user": me.pk})
    assert vol.is_member(me, team.pk)


def test_signing_up_on_the_opportunity_page(tree, client):
    team = make_team(tree)
    opp = make_opportunity(team)
    me = member(tree, team)
    c = _client(client, me)
    page = c.get(reverse("governance:volunteer_opportunity", args=[opp.pk]))
    assert 'id="sign-up"' in page.content.decode() and 'class="qr"' not in page.content.decode()
    c.post(reverse("governance:volunteer_opportunity_action", args=[opp.pk]),
           {"action": "sign_up"})
    assert VolunteerSignup.objects.filter(user=me, status="signed_up").exists()


def test_the_leader_sees_a_qr_code_that_opens_the_scan_page(tree, client):
    team = make_team(tree)
    opp = make_opportunity(team, starts_in=dt.timedelta(minutes=10))
    me = member(tree, team)
    vol.sign_up(actor=me, opportunity_id=opp.pk)
    page = _client(client, leader_of(team)).get(
        reverse("governance:volunteer_opportunity", args=[opp.pk]))
    text = page.content.decode()
    assert 'class="qr"' in text and "<svg" in text
    code, _exp = vol.scan_code(actor=leader_of(team), opportunity_id=opp.pk)
    c = _client(client, me)
    url = reverse("governance:volunteer_scan", args=[code])
    assert c.get(url).status_code == 200
    assert VolunteerSignup.objects.get(user=me).status == "signed_up"  # a GET changes nothing
    c.post(url)
    assert VolunteerSignup.objects.get(user=me).status == "checked_in"


def test_the_leader_approves_hours_on_the_opportunity_page(tree, client):
    team = make_team(tree)
    signup = attended(tree, team, minutes=90)
    c = _client(client, leader_of(team))
    page = c.get(reverse("governance:volunteer_opportunity", args=[signup.opportunity_id]))
    assert re.search(rf'volunteering/signups/{signup.pk}/hours/', page.content.decode())
    c.post(reverse("governance:volunteer_hours", args=[signup.pk]), {"approve": "1"})
    signup.refresh_from_db()
    assert (signup.status, signup.hours) == ("approved", 2)


def test_my_volunteering_shows_hours(tree, client):
    team = make_team(tree)
    signup = attended(tree, team, minutes=120)
    vol.decide_hours(actor=leader_of(team), signup_id=signup.pk, approve=True)
    page = _client(client, signup.user).get(reverse("governance:volunteer_mine"))
    assert page.status_code == 200 and signup.opportunity.title in page.content.decode()
    assert "<strong>2</strong>" in page.content.decode()


def test_console_lists_hours_and_founds_teams_for_staff_of_the_region(tree, client):
    team = make_team(tree)
    signup = attended(tree, team)
    c = _client(client, tree.town_admin)
    page = c.get(reverse("governance:volunteer_console"))
    assert page.status_code == 200
    text = page.content.decode()
    assert team.name in text and f"signups/{signup.pk}/hours/" in text
    c.post(reverse("governance:volunteer_console_team"), {"name": "新嘉街道志愿总队"})
    assert VolunteerTeam.objects.filter(region=tree.t1, name="新嘉街道志愿总队").exists()


def test_console_is_refused_to_residents(tree, client):
    page = _client(client, tree.resident).get(reverse("governance:volunteer_console"))
    assert page.status_code in (302, 403)
