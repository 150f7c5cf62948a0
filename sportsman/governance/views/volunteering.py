"""Volunteering pages (志愿服务): residents' (teams and opportunities near me, a team, an
opportunity with sign-up, the scan page, my volunteering) — where a team's leaders also find the
check-in code, the members and the attendance to approve — and the console's section."""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.errors import InvalidInput
from sportsman.governance import proxy
from sportsman.governance import volunteering as vol
from sportsman.governance.models import (
    MemberStatus,
    OpportunityKind,
    TeamMember,
    VolunteerSignup,
    VolunteerStatus,
)
from sportsman.regions.access import Perm, for_self, public, scoped
from sportsman.regions.models import Level, subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "governance"


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


def _qr(text: str) -> str:
    return segno.make(text, error="m").svg_inline(scale=5, border=2)


@public
def home(request: HttpRequest) -> HttpResponse:
    """Teams and upcoming opportunities near me (the town of my home community), or everywhere
    (``?where=all``), and my teams first."""
    where = request.GET.get("where", "")
    region = None if where == "all" else vol.near(request.user)
    mine = (list(TeamMember.objects.select_related("team")
                 .filter(user_id=request.user.pk, status__in=["pending", "active"])
                 .order_by("id")[:20]) if request.user.is_authenticated else [])
    return render(request, "governance/volunteering/home.html", {
        "region": region, "where": where, "mine": mine,
        "teams": list(vol.list_teams(region=region)[:30]),
        "opportunities": list(vol.list_opportunities(region=region)[:30])})


@public
def team_page(request: HttpRequest, team_id: int) -> HttpResponse:
    team = vol.get_team(team_id)
    user = request.user
    membership = (team.memberships.filter(user_id=user.pk, status__in=["pending", "active"])
                  .first() if user.is_authenticated else None)
    leads = vol.can_lead(user, team)
    return render(request, "governance/volunteering/team.html", {
        "team": team, "membership": membership, "leads": leads,
        "opportunities": list(vol.list_opportunities(team_id=team.pk)[:50]),
        "pending": list(team.memberships.filter(status=MemberStatus.PENDING)
                        .select_related("user").order_by("id")[:200]) if leads else [],
        "members": list(team.memberships.filter(status=MemberStatus.ACTIVE)
                        .select_related("user").order_by("role", "id")[:500]) if leads else [],
        "kinds": OpportunityKind.choices})


@for_self
@require_POST
def team_action(request: HttpRequest, team_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    user_id = _int(request.POST.get("user"))
    if action == "apply":
        vol.apply(actor=request.user, team_id=team_id)
        messages.success(request, _("Applied: a leader will answer."))
    elif action == "leave":
        vol.leave(actor=request.user, team_id=team_id)
        messages.info(request, _("You left the team."))
    elif action in ("accept", "decline", "make_leader") and user_id is not None:
        vol.decide_member(actor=request.user, team_id=team_id, user_id=user_id,
                          accept=action != "decline", leader=action == "make_leader",
                          request=request)
        messages.success(request, _("Saved."))
    else:
        raise InvalidInput()
    return HttpResponseRedirect(reverse("governance:volunteer_team", args=[team_id]))


def _when(raw: str) -> dt.datetime | None:
    value = parse_datetime(raw or "")
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@for_self
@require_POST
def new_opportunity(request: HttpRequest, team_id: int) -> HttpResponse:
    starts, ends = _when(request.POST.get("starts_at", "")), _when(request.POST.get("ends_at", ""))
    if starts is None or ends is None:
        raise InvalidInput(_("Give the start and end."))
    made = vol.create_opportunity(
        actor=request.user, team_id=team_id, kind=request.POST.get("kind", ""),
        title=request.POST.get("title", ""), place=request.POST.get("place", ""),
        description=request.POST.get("description", ""), starts_at=starts, ends_at=ends,
        capacity=_int(request.POST.get("capacity")) or 0, request=request)
    messages.success(request, _("Published: members are told."))
    return HttpResponseRedirect(reverse("governance:volunteer_opportunity", args=[made.pk]))


@public
def opportunity_page(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    found = vol.get_opportunity(opportunity_id)
    user = request.user
    mine: VolunteerSignup | None = None
    held: list[Any] = []
    if user.is_authenticated:
        mine = found.signups.filter(user_id=user.pk).exclude(
            status=VolunteerStatus.CANCELLED).first()
        held = list(proxy.grants_held(user))
    leads = vol.can_lead(user, found.team)
    qr = ""
    if leads and found.status == "open":
        code, _expires = vol.scan_code(actor=user, opportunity_id=found.pk)
        qr = _qr(request.build_absolute_uri(reverse("governance:volunteer_scan", args=[code])))
    return render(request, "governance/volunteering/opportunity.html", {
        "opportunity": found, "team": found.team, "signup": mine, "leads": leads, "qr": qr,
        "refresh": vol.QR_REFRESH_SECONDS, "held": held,
        "is_member": vol.is_member(user, found.team_id),
        "attendance": list(vol.attendance(found)) if leads else []})


@for_self
@require_POST
def opportunity_action(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    for_user_id = _int(request.POST.get("for_user"))
    if action == "sign_up":
        vol.sign_up(actor=request.user, opportunity_id=opportunity_id, for_user_id=for_user_id)
        messages.success(request, _("You have a place. Thank you!"))
    elif action == "cancel":
        vol.cancel(actor=request.user, opportunity_id=opportunity_id, for_user_id=for_user_id)
        messages.info(request, _("The place is given back."))
    elif action == "call_off":
        vol.call_off(actor=request.user, opportunity_id=opportunity_id, request=request)
        messages.info(request, _("Called off; everyone signed up is told."))
    else:
        raise InvalidInput()
    return HttpResponseRedirect(reverse("governance:volunteer_opportunity",
                                        args=[opportunity_id]))


@for_self
@require_POST
def hours_action(request: HttpRequest, signup_id: int) -> HttpResponse:
    """Approve (as attended, or adjusted minutes with a reason) or reject a volunteer's hours;
    back to the opportunity, or to the console when asked from there."""
    raw = request.POST.get("minutes", "").strip()
    minutes = int(raw) if raw.isdigit() and int(raw) <= 720 else None
    made = vol.decide_hours(actor=request.user, signup_id=signup_id,
                            approve=request.POST.get("approve") == "1", minutes=minutes,
                            reason=request.POST.get("reason", ""), request=request)
    messages.success(request, _("Saved."))
    if request.POST.get("back") == "console":
        return HttpResponseRedirect(reverse("governance:volunteer_console") + "#hours")
    return HttpResponseRedirect(reverse("governance:volunteer_opportunity",
                                        args=[made.opportunity_id]) + "#attendance")


@for_self
def scan_page(request: HttpRequest, code: str) -> HttpResponse:
    """What the QR code opens: one button to check in or out (a GET changes nothing)."""
    if request.method == "POST":
        done = vol.scan(actor=request.user, code=code[:200],
                        for_user_id=_int(request.POST.get("for_user")))
        messages.success(request, _("Checked in. Thank you for helping!")
                         if done.status == VolunteerStatus.CHECKED_IN
                         else _("Checked out: %(m)d minutes, awaiting the leader's approval.")
                         % {"m": done.minutes})
        return HttpResponseRedirect(reverse("governance:volunteer_opportunity",
                                            args=[done.opportunity_id]))
    found = vol.get_opportunity(vol.opportunity_of_code(code[:200]))
    mine = found.signups.filter(user_id=int(request.user.pk or 0)).exclude(
        status=VolunteerStatus.CANCELLED).first()
    return render(request, "governance/volunteering/scan.html", {
        "opportunity": found, "code": code[:200], "signup": mine,
        "held": list(proxy.grants_held(request.user))})


@for_self
def mine_page(request: HttpRequest) -> HttpResponse:
    return render(request, "governance/volunteering/mine.html", {
        "totals": vol.my_totals(request.user),
        "signups": list(vol.my_signups(request.user)[:100])})


# --- console ------------------------------------------------------------------------------

@scoped(Perm.VOLUNTEER_MANAGE)
def console(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    access = state.access
    region = state.region
    teams = (vol.teams_in_scope(access).filter(subtree_q(region.path, "region"))
             .order_by("status", "region__code", "id"))
    hours = vol.hours_awaiting(access).filter(subtree_q(region.path, "opportunity__team__region"))
    applications = (TeamMember.objects.select_related("user", "team")
                    .filter(team__in=teams, status=MemberStatus.PENDING).order_by("id"))
    return _render(request, "governance/volunteering/console.html", state, SECTION,
                   teams=list(teams[:200]), hours=list(hours[:200]),
                   applications=list(applications[:200]),
                   can_create=region.level in (Level.TOWN, Level.COMMUNITY)
                   and access.can(Perm.VOLUNTEER_MANAGE, region),
                   upcoming=list(vol.list_opportunities(region=region)
                                 .filter(team__in=teams)[:50]))


@scoped(Perm.VOLUNTEER_MANAGE)
@require_POST
def console_team(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    close = _int(request.POST.get("close"))
    if close is not None:
        vol.close_team(actor=state.access, team_id=close, request=request)
        messages.info(request, _("The team is closed."))
    else:
        vol.create_team(actor=state.access, region_id=state.region.pk,
                        name=request.POST.get("name", ""),
                        description=request.POST.get("description", ""),
                        leader_id=_int(request.POST.get("leader_id")), request=request)
        messages.success(request, _("The team is founded."))
    return HttpResponseRedirect(reverse("governance:volunteer_console") + "#teams")


urlpatterns: list[URLPattern] = [
    path("volunteering/", home, name="volunteering"),
    path("volunteering/me/", mine_page, name="volunteer_mine"),
    path("volunteering/teams/<int:team_id>/", team_page, name="volunteer_team"),
    path("volunteering/teams/<int:team_id>/do/", team_action, name="volunteer_team_action"),
    path("volunteering/teams/<int:team_id>/opportunities/", new_opportunity,
         name="volunteer_new_opportunity"),
    path("volunteering/opportunities/<int:opportunity_id>/", opportunity_page,
         name="volunteer_opportunity"),
    path("volunteering/opportunities/<int:opportunity_id>/do/", opportunity_action,
         name="volunteer_opportunity_action"),
    path("volunteering/signups/<int:signup_id>/hours/", hours_action, name="volunteer_hours"),
    path("volunteering/scan/<str:code>/", scan_page, name="volunteer_scan"),
    path("console/volunteering/", console, name="volunteer_console"),
    path("console/volunteering/teams/", console_team, name="volunteer_console_team"),
]
