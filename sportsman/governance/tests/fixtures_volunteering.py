"""Builders for volunteering tests: a team in community k2 (town t1) with a resident leader."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sportsman.governance import volunteering as vol
from sportsman.governance.models import Opportunity, VolunteerTeam


def resident(tree: Any, region: Any = None, **extra: Any) -> Any:
    return tree.user(home_community=region or tree.k2, **extra)


def make_team(tree: Any, *, region: Any = None, leader: Any = None, members: int = 0,
              name: str = "新南社区志愿服务队") -> VolunteerTeam:
    leader = leader or resident(tree, nickname="队长")
    team = vol.create_team(actor=tree.city_admin, region_id=(region or tree.k2).pk, name=name,
                           leader_id=leader.pk)
    for _ in range(members):
        member(tree, team)
    team.refresh_from_db()
    return team


def leader_of(team: VolunteerTeam) -> Any:
    first = (team.memberships.filter(role="leader", status="active").select_related("user")
             .order_by("id").first())
    assert first is not None
    return first.user


def member(tree: Any, team: VolunteerTeam, **extra: Any) -> Any:
    user = resident(tree, **extra)
    vol.apply(actor=user, team_id=team.pk)
    vol.decide_member(actor=leader_of(team), team_id=team.pk, user_id=user.pk, accept=True)
    return user


def make_opportunity(team: VolunteerTeam, *, capacity: int = 10,
                     starts_in: dt.timedelta = dt.timedelta(days=2),
                     hours: int = 2, kind: str = "event_support") -> Opportunity:
    start = timezone.now() + starts_in
    return vol.create_opportunity(actor=leader_of(team), team_id=team.pk, kind=kind,
                                  title="南湖马拉松补给站", place="南湖大道3公里处",
                                  starts_at=start, ends_at=start + dt.timedelta(hours=hours),
                                  capacity=capacity)


def volunteer_rule(tree: Any, points: int = 10) -> Any:
    from sportsman.rewards.models import PointRule

    return PointRule.objects.create(region=tree.city, kind="per_volunteer_hour", points=points)


def attended(tree: Any, team: VolunteerTeam, *, minutes: int = 120) -> Any:
    """A member who signed up, came and went: the sign-up awaits approval (``minutes``
    attended of a two-hour opportunity that starts soon; the scans are made at its times)."""
    person = member(tree, team)
    opp = make_opportunity(team, starts_in=dt.timedelta(minutes=10))
    signup = vol.sign_up(actor=person, opportunity_id=opp.pk)
    code, _exp = vol.scan_code(actor=leader_of(team), opportunity_id=opp.pk)
    vol.scan(actor=person, code=code, now=opp.starts_at)
    vol.scan(actor=person, code=code, now=opp.starts_at + dt.timedelta(minutes=minutes))
    signup.refresh_from_db()
    return signup
