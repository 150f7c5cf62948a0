"""Volunteering: teams and members, opportunities and sign-up (also for someone else), QR
check-in and check-out, minutes capped to the window, the leader's decision on hours, and the
points the approval earns through the event consumer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.utils import timezone

from sportsman.core.errors import DomainError
from sportsman.core.events import dispatch
from sportsman.governance import volunteering as vol
from sportsman.governance.models import Opportunity, TeamMember, VolunteerSignup
from sportsman.governance.tests.fixtures_volunteering import (
    attended,
    leader_of,
    make_opportunity,
    make_team,
    member,
    resident,
    volunteer_rule,
)
from sportsman.rewards.models import PointEntry
from sportsman.rewards.points import balance_of

pytestmark = pytest.mark.django_db


def _code(exc: pytest.ExceptionInfo) -> str:
    assert isinstance(exc.value, DomainError)
    return exc.value.code


# --- teams ---------------------------------------------------------------------------------

def test_staff_found_a_team_with_a_leader_in_their_subtree(tree):
    team = make_team(tree)
    assert team.region == tree.k2 and team.members == 1
    assert vol.can_lead(leader_of(team), team)
    from sportsman.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="governance.volunteer_team.create").exists()


def test_staff_of_another_town_cannot_found_a_team_here(tree):
    with pytest.raises(DomainError) as exc:
        vol.create_team(actor=tree.sibling_town_admin, region_id=tree.k2.pk, name="队")
    assert _code(exc) == "forbidden"
    assert not vol.VolunteerTeam.objects.exists()


def test_a_team_belongs_to_a_town_or_a_community(tree):
    with pytest.raises(DomainError) as exc:
        vol.create_team(actor=tree.district_admin, region_id=tree.d1.pk, name="区队")
    assert _code(exc) == "not_local"


def test_applying_twice_is_refused_and_acceptance_counts_once(tree):
    team = make_team(tree)
    me = resident(tree)
    vol.apply(actor=me, team_id=team.pk)
    with pytest.raises(DomainError) as exc:
        vol.apply(actor=me, team_id=team.pk)
    assert _code(exc) == "already_team_member"
    vol.decide_member(actor=leader_of(team), team_id=team.pk, user_id=me.pk, accept=True)
    team.refresh_from_db()
    assert team.members == 2 and vol.is_member(me, team.pk)


def test_a_plain_member_cannot_accept_applications(tree):
    team = make_team(tree)
    plain = member(tree, team)
    applicant = resident(tree)
    vol.apply(actor=applicant, team_id=team.pk)
    with pytest.raises(DomainError) as exc:
        vol.decide_member(actor=plain, team_id=team.pk, user_id=applicant.pk, accept=True)
    assert _code(exc) == "not_volunteer_leader"
    assert TeamMember.objects.get(team=team, user=applicant).status == "pending"


def test_a_volunteer_leader_on_the_region_leads_its_teams(tree):
    team = make_team(tree)
    staff = tree.user("volunteer_leader", tree.t1)
    assert vol.can_lead(staff, team)
    assert not vol.can_lead(tree.user("volunteer_leader", tree.t2), team)


# --- opportunities and sign-up ------------------------------------------------------------

def test_opportunity_needs_sane_times_and_a_known_kind(tree):
    team = make_team(tree)
    start = timezone.now() + dt.timedelta(days=1)
    for kwargs, code in [({"kind": "party"}, "invalid"),
                         ({"ends_at": start}, "invalid"),
                         ({"starts_at": start - dt.timedelta(days=3),
                           "ends_at": start - dt.timedelta(days=3, hours=-1)}, "in_the_past"),
                         ({"capacity": 0}, "invalid")]:
        args = {"kind": "teaching", "title": "教太极", "place": "社区广场", "starts_at": start,
                "ends_at": start + dt.timedelta(hours=1), "capacity": 5, **kwargs}
        with pytest.raises(DomainError) as exc:
            vol.create_opportunity(actor=leader_of(team), team_id=team.pk, **args)
        assert _code(exc) == code
    assert not Opportunity.objects.exists()


def test_only_members_sign_up_and_the_last_place_goes_once(tree):
    team = make_team(tree)
    opp = make_opportunity(team, capacity=1)
    outsider = resident(tree)
    with pytest.raises(DomainError) as exc:
        vol.sign_up(actor=outsider, opportunity_id=opp.pk)
    assert _code(exc) == "not_team_member"
    first, second = member(tree, team), member(tree, team)
    vol.sign_up(actor=first, opportunity_id=opp.pk)
    with pytest.raises(DomainError) as exc:
        vol.sign_up(actor=first, opportunity_id=opp.pk)
    assert _code(exc) == "volunteer_opportunity_full"
    with pytest.raises(DomainError) as exc:
        vol.sign_up(actor=second, opportunity_id=opp.pk)
    assert _code(exc) == "volunteer_opportunity_full"
    opp.refresh_from_db()
    assert opp.taken == 1


def test_signing_up_twice_is_refused_and_keeps_one_place(tree):
    team = make_team(tree)
    opp = make_opportunity(team, capacity=5)
    me = member(tree, team)
    vol.sign_up(actor=me, opportunity_id=opp.pk)
    with pytest.raises(DomainError) as exc:
        vol.sign_up(actor=me, opportunity_id=opp.pk)
    assert _code(exc) == "already_volunteering"
    opp.refresh_from_db()
    assert opp.taken == 1


def test_cancelling_gives_the_place_back(tree):
    team = make_team(tree)
    opp = make_opportunity(team, capacity=1)
    me, other = member(tree, team), member(tree, team)
    vol.sign_up(actor=me, opportunity_id=opp.pk)
    vol.cancel(actor=me, opportunity_id=opp.pk)
    vol.sign_up(actor=other, opportunity_id=opp.pk)
    opp.refresh_from_db()
    assert opp.taken == 1
    assert VolunteerSignup.objects.get(user=me).status == "cancelled"


def test_signing_up_for_an_elderly_resident_records_who_acted(tree):
    from sportsman.governance import proxy

    team = make_team(tree)
    opp = make_opportunity(team)
    elder = member(tree, team, nickname="王阿姨")
    helper = resident(tree, nickname="小王")
    with pytest.raises(DomainError) as exc:
        vol.sign_up(actor=helper, opportunity_id=opp.pk, for_user_id=elder.pk)
    assert _code(exc) == "proxy_not_authorised"
    from sportsman.governance.models import ProxyGrant

    ProxyGrant.objects.create(principal=elder, agent=helper, relation="family")
    made = vol.sign_up(actor=helper, opportunity_id=opp.pk, for_user_id=elder.pk)
    assert (made.user_id, made.acted_by_id) == (elder.pk, helper.pk)
    assert proxy.acting(helper, elder.pk).subject == elder


# --- QR check-in and check-out ------------------------------------------------------------

def test_check_in_then_out_counts_minutes_inside_the_window(tree):
    team = make_team(tree)
    me = member(tree, team)
    opp = make_opportunity(team, starts_in=dt.timedelta(minutes=20), hours=2)
    vol.sign_up(actor=me, opportunity_id=opp.pk)
    code, _exp = vol.scan_code(actor=leader_of(team), opportunity_id=opp.pk)
    # early arrival and a late leave: only the two hours of the opportunity count
    s = vol.scan(actor=me, code=code, now=opp.starts_at - dt.timedelta(minutes=15))
    assert s.status == "checked_in"
    s = vol.scan(actor=me, code=code, now=opp.ends_at + dt.timedelta(minutes=40))
    assert (s.status, s.minutes) == ("checked_out", 120)
    again = vol.scan(actor=me, code=code, now=opp.ends_at + dt.timedelta(minutes=41))
    assert again.status == "checked_out"


def test_check_in_too_early_is_refused(tree):
    team = make_team(tree)
    me = member(tree, team)
    opp = make_opportunity(team, starts_in=dt.timedelta(hours=5))
    vol.sign_up(actor=me, opportunity_id=opp.pk)
    code, _exp = vol.scan_code(actor=leader_of(team), opportunity_id=opp.pk)
    with pytest.raises(DomainError) as exc:
        vol.scan(actor=me, code=code)
    assert _code(exc) == "outside_check_in"
    assert VolunteerSignup.objects.get(user=me).status == "signed_up"


def test_a_forged_or_expired_code_is_refused(tree, monkeypatch):
    team = make_team(tree)
    me = member(tree, team)
    opp = make_opportunity(team, starts_in=dt.timedelta(minutes=5))
    vol.sign_up(actor=me, opportunity_id=opp.pk)
    forged = signing.dumps({"o": opp.pk})  # signed, but not with the scan salt
    with pytest.raises(DomainError) as exc:
        vol.scan(actor=me, code=forged)
    assert _code(exc) == "volunteer_code_invalid"
    code, _exp = vol.scan_code(actor=leader_of(team), opportunity_id=opp.pk)
    monkeypatch.setattr(vol, "QR_TTL", dt.timedelta(seconds=-1))
    with pytest.raises(DomainError) as exc:
        vol.scan(actor=me, code=code)
    assert _code(exc) == "volunteer_code_invalid"
    assert VolunteerSignup.objects.get(user=me).status == "signed_up"


def test_only_leaders_get_the_code(tree):
    team = make_team(tree)
    opp = make_opportunity(team)
    with pytest.raises(DomainError) as exc:
        vol.scan_code(actor=member(tree, team), opportunity_id=opp.pk)
    assert _code(exc) == "not_volunteer_leader"


def test_scanning_without_a_place_is_refused(tree):
    team = make_team(tree)
    opp = make_opportunity(team, starts_in=dt.timedelta(minutes=5))
    code, _exp = vol.scan_code(actor=leader_of(team), opportunity_id=opp.pk)
    with pytest.raises(DomainError) as exc:
        vol.scan(actor=member(tree, team), code=code)
    assert _code(exc) == "volunteer_signup_not_found"


# --- hours and points ---------------------------------------------------------------------

def test_approval_publishes_the_event_and_the_consumer_awards_points_once(tree):
    volunteer_rule(tree, points=10)
    team = make_team(tree)
    signup = attended(tree, team, minutes=120)

    vol.decide_hours(actor=leader_of(team), signup_id=signup.pk, approve=True)
    dispatch()
    dispatch()  # a replay changes nothing

    entries = PointEntry.objects.filter(user_id=signup.user_id, source="volunteer")
    assert [(e.amount, e.idempotency_key) for e in entries] == [(20, f"volunteer:{signup.pk}")]
    assert balance_of(signup.user_id) == 20
    assert vol.my_totals(signup.user) == {"hours": 2, "minutes": 120, "points": 20}


def test_a_second_approval_is_refused_and_pays_nothing_more(tree):
    volunteer_rule(tree)
    team = make_team(tree)
    signup = attended(tree, team)
    vol.decide_hours(actor=leader_of(team), signup_id=signup.pk, approve=True)
    with pytest.raises(DomainError) as exc:
        vol.decide_hours(actor=leader_of(team), signup_id=signup.pk, approve=True)
    assert _code(exc) == "volunteer_hours_decided"
    dispatch()
    assert PointEntry.objects.filter(user_id=signup.user_id).count() == 1


def test_adjusting_hours_needs_a_reason_and_stays_inside_the_window(tree):
    volunteer_rule(tree, points=5)
    team = make_team(tree)
    signup = attended(tree, team, minutes=50)
    leader = leader_of(team)
    with pytest.raises(DomainError) as exc:
        vol.decide_hours(actor=leader, signup_id=signup.pk, approve=True, minutes=90)
    assert _code(exc) == "reason_required"
    with pytest.raises(DomainError) as exc:
        vol.decide_hours(actor=leader, signup_id=signup.pk, approve=True, minutes=500,
                         reason="多算")
    assert _code(exc) == "invalid"
    signup.refresh_from_db()
    assert signup.status == "checked_out"
    made = vol.decide_hours(actor=leader, signup_id=signup.pk, approve=True, minutes=90,
                            reason="提前到场布置")
    assert (made.approved_minutes, made.hours) == (90, 2)
    dispatch()
    assert balance_of(signup.user_id) == 10


def test_rejected_hours_earn_nothing(tree):
    volunteer_rule(tree)
    team = make_team(tree)
    signup = attended(tree, team)
    with pytest.raises(DomainError) as exc:
        vol.decide_hours(actor=leader_of(team), signup_id=signup.pk, approve=False)
    assert _code(exc) == "reason_required"
    vol.decide_hours(actor=leader_of(team), signup_id=signup.pk, approve=False, reason="未到岗")
    dispatch()
    assert balance_of(signup.user_id) == 0


def test_hours_are_decided_only_by_the_teams_leaders_and_staff(tree):
    team = make_team(tree)
    signup = attended(tree, team)
    for outsider in (member(tree, team), tree.sibling_town_admin, tree.community_admin):
        with pytest.raises(DomainError) as exc:
            vol.decide_hours(actor=outsider, signup_id=signup.pk, approve=True)
        assert _code(exc) == "not_volunteer_leader"
    vol.decide_hours(actor=tree.town_admin, signup_id=signup.pk, approve=True)
    from sportsman.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="governance.volunteer_hours.decide").exists()


def test_without_check_out_the_leader_gives_the_minutes(tree):
    team = make_team(tree)
    me = member(tree, team)
    opp = make_opportunity(team, starts_in=dt.timedelta(minutes=10))
    signup = vol.sign_up(actor=me, opportunity_id=opp.pk)
    code, _exp = vol.scan_code(actor=leader_of(team), opportunity_id=opp.pk)
    vol.scan(actor=me, code=code, now=opp.starts_at)
    with pytest.raises(DomainError) as exc:
        vol.decide_hours(actor=leader_of(team), signup_id=signup.pk, approve=True)
    assert _code(exc) == "minutes_required"
    made = vol.decide_hours(actor=leader_of(team), signup_id=signup.pk, approve=True,
                            minutes=60, reason="忘记签退")
    assert made.hours == 1


@pytest.mark.parametrize(("minutes", "hours"), [(0, 0), (29, 0), (30, 1), (89, 1), (90, 2)])
def test_credited_hours_round_to_the_nearest_hour(minutes, hours):
    assert vol.credited_hours(minutes) == hours
