"""Volunteering API (志愿服务): teams and opportunities (public), applying to a team, sign-up
(also for a resident who authorised me), QR check-in and check-out, my hours and points; leaders'
operations (members, opportunities, the check-in code, attendance, approving hours); and the
staff's teams of their scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.accounts.auth import optional_user
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In, Ok
from sportsman.governance import volunteering as vol
from sportsman.governance.models import Opportunity, TeamMember, VolunteerSignup, VolunteerTeam
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import Region

router = Router(tags=["volunteering"])


class TeamOut(Schema):
    id: int
    name: str
    description: str
    region_id: int
    region_name: str
    status: str
    members: int


class MemberOut(Schema):
    team_id: int
    user_id: int
    nickname: str
    role: str
    status: str


class OpportunityOut(Schema):
    id: int
    team_id: int
    team_name: str
    kind: str
    title: str
    description: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    taken: int
    status: str


class SignupOut(Schema):
    id: int
    opportunity_id: int
    user_id: int
    acted_by_id: int | None
    status: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    minutes: int
    approved_minutes: int | None
    hours: int
    decision_reason: str


class AttendanceOut(SignupOut):
    nickname: str


class MineOut(Schema):
    hours: int
    minutes: int
    points: int
    signups: list[SignupOut]


class CodeOut(Schema):
    code: str
    expires_at: dt.datetime
    refresh_seconds: int


class ListQuery(Schema):
    region: int | None = Field(None, ge=1, lt=2**63)
    mine: bool = False  # near me: the town of my home community


class TeamIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    name: str = Field(..., min_length=1, max_length=60)
    description: str = Field("", max_length=2000)
    leader_id: int | None = Field(None, ge=1, lt=2**63)


class DecideMemberIn(In):
    accept: bool
    leader: bool = False


class OpportunityIn(In):
    kind: str = Field(..., max_length=16)
    title: str = Field(..., min_length=1, max_length=60)
    description: str = Field("", max_length=2000)
    place: str = Field(..., min_length=1, max_length=100)
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int = Field(..., ge=1, le=500)


class ForIn(In):
    for_user_id: int | None = Field(None, ge=1, lt=2**63)


class ScanIn(ForIn):
    code: str = Field(..., min_length=1, max_length=200)


class HoursIn(In):
    approve: bool
    minutes: int | None = Field(None, ge=0, le=720)
    reason: str = Field("", max_length=200)


def team_out(t: VolunteerTeam) -> dict[str, Any]:
    return {"id": t.pk, "name": t.name, "description": t.description, "region_id": t.region_id,
            "region_name": t.region.name, "status": t.status, "members": t.members}


def member_out(m: TeamMember) -> dict[str, Any]:
    return {"team_id": m.team_id, "user_id": m.user_id, "nickname": m.user.nickname or "",
            "role": m.role, "status": m.status}


def opportunity_out(o: Opportunity) -> dict[str, Any]:
    return {"id": o.pk, "team_id": o.team_id, "team_name": o.team.name, "kind": o.kind,
            "title": o.title, "description": o.description, "place": o.place,
            "starts_at": o.starts_at, "ends_at": o.ends_at, "capacity": o.capacity,
            "taken": o.taken, "status": o.status}


def signup_out(s: VolunteerSignup) -> dict[str, Any]:
    return {"id": s.pk, "opportunity_id": s.opportunity_id, "user_id": s.user_id,
            "acted_by_id": s.acted_by_id, "status": s.status, "checked_in_at": s.checked_in_at,
            "checked_out_at": s.checked_out_at, "minutes": s.minutes,
            "approved_minutes": s.approved_minutes, "hours": s.hours,
            "decision_reason": s.decision_reason}


def _where(request: HttpRequest, query: ListQuery) -> Region | None:
    if query.mine:
        return vol.near(optional_user(request))
    if query.region is not None:
        return Region.objects.filter(pk=query.region).first()
    return None


@router.get("/volunteer-teams", auth=None, response=list[TeamOut])
@public
def teams(request: HttpRequest, query: Query[ListQuery]):
    """Active teams of a region's subtree (``region``) or near me (``mine``), biggest first."""
    return [team_out(t) for t in vol.list_teams(region=_where(request, query))[:100]]


@router.get("/volunteer-teams/{team_id}", auth=None, response=TeamOut)
@public
def team(request: HttpRequest, team_id: int):
    return team_out(vol.get_team(team_id))


@router.post("/volunteer-teams/{team_id}/applications", response={201: MemberOut})
@for_self
@idempotent
def apply(request: HttpRequest, team_id: int):
    """Apply to join a team; a leader accepts. ``already_team_member`` for a second time."""
    made = vol.apply(actor=request.user, team_id=team_id)
    return Status(201, member_out(TeamMember.objects.select_related("user").get(pk=made.pk)))


@router.delete("/volunteer-teams/{team_id}/members/me", response=Ok)
@for_self
def leave(request: HttpRequest, team_id: int) -> Ok:
    vol.leave(actor=request.user, team_id=team_id)
    return Ok()


@router.get("/volunteer-teams/{team_id}/members", response=list[MemberOut])
@for_self
def members(request: HttpRequest, team_id: int):
    """Members and applications (the team's leaders and the region's staff)."""
    found = vol.get_team(team_id)
    vol.require_leader(request.user, found)
    rows = (found.memberships.filter(status__in=["pending", "active"]).select_related("user")
            .order_by("status", "id")[:1000])
    return [member_out(m) for m in rows]


@router.post("/volunteer-teams/{team_id}/members/{user_id}", response=MemberOut)
@for_self
@idempotent
def decide_member(request: HttpRequest, team_id: int, user_id: int, data: DecideMemberIn):
    """Accept or decline an application; ``leader`` makes the member a leader too."""
    made = vol.decide_member(actor=request.user, team_id=team_id, user_id=user_id,
                             accept=data.accept, leader=data.leader, request=request)
    return member_out(TeamMember.objects.select_related("user").get(pk=made.pk))


@router.get("/volunteer-opportunities", auth=None, response=list[OpportunityOut])
@public
def opportunities(request: HttpRequest, query: Query[ListQuery]):
    """Open opportunities not yet over, soonest first, of a region's subtree or near me."""
    return [opportunity_out(o)
            for o in vol.list_opportunities(region=_where(request, query))[:100]]


@router.post("/volunteer-teams/{team_id}/opportunities", response={201: OpportunityOut})
@for_self
@idempotent
def create_opportunity(request: HttpRequest, team_id: int, data: OpportunityIn):
    """Offer an opportunity (the team's leaders and the region's staff)."""
    made = vol.create_opportunity(actor=request.user, team_id=team_id, request=request,
                                  **data.model_dump())
    return Status(201, opportunity_out(vol.get_opportunity(made.pk)))


@router.get("/volunteer-opportunities/{opportunity_id}", auth=None, response=OpportunityOut)
@public
def opportunity(request: HttpRequest, opportunity_id: int):
    return opportunity_out(vol.get_opportunity(opportunity_id))


@router.post("/volunteer-opportunities/{opportunity_id}/signups", response={201: SignupOut})
@for_self
@idempotent
def sign_up(request: HttpRequest, opportunity_id: int, data: ForIn):
    """Take a place (for me, or ``for_user_id``: a resident who authorised me). Refusals:
    ``volunteer_opportunity_full``, ``already_volunteering``, ``not_team_member``,
    ``volunteer_opportunity_closed``, ``proxy_not_authorised``."""
    return Status(201, signup_out(vol.sign_up(actor=request.user, opportunity_id=opportunity_id,
                                              for_user_id=data.for_user_id)))


@router.post("/volunteer-opportunities/{opportunity_id}/cancellations", response=SignupOut)
@for_self
@idempotent
def cancel(request: HttpRequest, opportunity_id: int, data: ForIn):
    """Give the place back before the start."""
    return signup_out(vol.cancel(actor=request.user, opportunity_id=opportunity_id,
                                 for_user_id=data.for_user_id))


@router.post("/volunteer-opportunities/{opportunity_id}/call-off", response=OpportunityOut)
@for_self
def call_off(request: HttpRequest, opportunity_id: int):
    vol.call_off(actor=request.user, opportunity_id=opportunity_id, request=request)
    return opportunity_out(vol.get_opportunity(opportunity_id))


@router.get("/volunteer-opportunities/{opportunity_id}/code", response=CodeOut)
@for_self
def code(request: HttpRequest, opportunity_id: int):
    """A fresh check-in/check-out code to show as a QR code (valid a few minutes)."""
    made, expires = vol.scan_code(actor=request.user, opportunity_id=opportunity_id)
    return {"code": made, "expires_at": expires, "refresh_seconds": vol.QR_REFRESH_SECONDS}


@router.get("/volunteer-opportunities/{opportunity_id}/attendance",
            response=list[AttendanceOut])
@for_self
def attendance(request: HttpRequest, opportunity_id: int):
    """Who signed up, checked in and out, and their hours (leaders and the region's staff)."""
    found = vol.get_opportunity(opportunity_id)
    vol.require_leader(request.user, found.team)
    return [{**signup_out(s), "nickname": s.user.nickname or ""}
            for s in vol.attendance(found)[:1000]]


@router.post("/volunteer-scans", response=SignupOut)
@for_self
@idempotent
def scan(request: HttpRequest, data: ScanIn):
    """Scan the code shown at the place: check in, then (the next scan) check out."""
    return signup_out(vol.scan(actor=request.user, code=data.code,
                               for_user_id=data.for_user_id))


@router.post("/volunteer-signups/{signup_id}/hours", response=SignupOut)
@for_self
@idempotent
def decide_hours(request: HttpRequest, signup_id: int, data: HoursIn):
    """Approve the hours (as attended, or ``minutes`` with a ``reason``) or reject them (a
    reason). Once: ``volunteer_hours_decided`` for a second decision."""
    return signup_out(vol.decide_hours(actor=request.user, signup_id=signup_id,
                                       approve=data.approve, minutes=data.minutes,
                                       reason=data.reason, request=request))


@router.get("/volunteer/me", response=MineOut)
@for_self
def mine(request: HttpRequest):
    """My volunteering: approved hours, the points they earned, my sign-ups newest first."""
    totals = vol.my_totals(request.user)
    return {**totals, "signups": [signup_out(s) for s in vol.my_signups(request.user)[:100]]}


# --- staff --------------------------------------------------------------------------------

@router.get("/console/volunteer-teams", response=list[TeamOut])
@scoped(Perm.VOLUNTEER_MANAGE)
def console_teams(request: HttpRequest):
    """The teams of my scope, active and closed."""
    return [team_out(t) for t in vol.teams_in_scope(access_for(request)).order_by("id")[:500]]


@router.post("/console/volunteer-teams", response={201: TeamOut})
@scoped(Perm.VOLUNTEER_MANAGE)
@idempotent
def console_create_team(request: HttpRequest, data: TeamIn):
    """Found a team in a town or community of my scope, optionally naming its first leader."""
    made = vol.create_team(actor=access_for(request), request=request, **data.model_dump())
    return Status(201, team_out(vol.get_team(made.pk)))


@router.post("/console/volunteer-teams/{team_id}/close", response=TeamOut)
@scoped(Perm.VOLUNTEER_MANAGE)
def console_close_team(request: HttpRequest, team_id: int):
    vol.close_team(actor=access_for(request), team_id=team_id, request=request)
    return team_out(vol.get_team(team_id))


@router.get("/console/volunteer-hours", response=list[AttendanceOut])
@scoped(Perm.VOLUNTEER_MANAGE)
def console_hours(request: HttpRequest):
    """Attendance awaiting a decision in the teams of my scope."""
    return [{**signup_out(s), "nickname": s.user.nickname or ""}
            for s in vol.hours_awaiting(access_for(request))[:500]]
