"""Volunteering (志愿服务联盟): teams, opportunities, sign-up, QR check-in/out and approved hours.

Who may do what:

- staff with ``VOLUNTEER_MANAGE`` over a team's region create and close teams and run them like
  a leader (community, town, district and city administrators, and ``volunteer_leader`` staff);
- a team's leaders (members with the leader role) run their team: accept members, offer
  opportunities, show the check-in code, approve hours;
- residents apply to join a team, sign up for an opportunity (for themself, or for a resident
  who authorised them: ``proxy.acting``), scan the code when they come and when they go.

Places move by conditional UPDATEs (``taken < capacity``): concurrent sign-ups never overfill.
Hours move through one transition table by conditional UPDATEs (``core.db.transition``): of two
approvals racing, only one wins, and only it publishes ``governance.volunteer_hours_approved``
(inside its transaction) with a key per sign-up; the rewards consumer awards the points under
that key, so a replayed event never pays twice.

The check-in code is short-lived: a signed, timestamped token (``django.core.signing``) naming
the opportunity, valid for ``QR_TTL``; the leader's page shows a fresh one every minute, so a
photo of the code shared later does not work.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core import audit
from sportsman.core.db import transition
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.core.events import publish
from sportsman.core.wording import check_text
from sportsman.governance import proxy
from sportsman.governance.models import (
    MemberRole,
    MemberStatus,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    TeamMember,
    TeamStatus,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerTeam,
)
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Level, Region, subtree_q

HOURS_APPROVED = "governance.volunteer_hours_approved"
QR_SALT = "governance.volunteering.scan"
QR_TTL = dt.timedelta(minutes=3)
QR_REFRESH_SECONDS = 60
CHECK_IN_EARLY = dt.timedelta(minutes=30)
CHECK_OUT_LATE = dt.timedelta(hours=2)
MAX_CAPACITY = 500
MAX_LENGTH = dt.timedelta(hours=12)

# The hours workflow: a volunteer checks in, then out; a leader approves (possibly adjusting the
# minutes, with a reason) or rejects. A volunteer who forgot to check out can still be approved
# with the minutes the leader gives.
HOURS_FLOW: dict[str, frozenset[str]] = {
    VolunteerStatus.SIGNED_UP: frozenset({VolunteerStatus.CANCELLED, VolunteerStatus.CHECKED_IN}),
    VolunteerStatus.CHECKED_IN: frozenset({VolunteerStatus.CHECKED_OUT, VolunteerStatus.APPROVED,
                                           VolunteerStatus.REJECTED}),
    VolunteerStatus.CHECKED_OUT: frozenset({VolunteerStatus.APPROVED, VolunteerStatus.REJECTED}),
}
STAMPS: dict[str, str] = {VolunteerStatus.CANCELLED: "cancelled_at", VolunteerStatus.CHECKED_IN: "checked_in_at",
          VolunteerStatus.CHECKED_OUT: "checked_out_at", VolunteerStatus.APPROVED: "decided_at",
          VolunteerStatus.REJECTED: "decided_at"}
LIVE = [VolunteerStatus.SIGNED_UP, VolunteerStatus.CHECKED_IN, VolunteerStatus.CHECKED_OUT,
        VolunteerStatus.APPROVED, VolunteerStatus.REJECTED]


class TeamNotFound(NotFound):
    code = "volunteer_team_not_found"
    default_message = gettext_lazy("No such volunteer team.")


class OpportunityNotFound(NotFound):
    code = "volunteer_opportunity_not_found"
    default_message = gettext_lazy("No such volunteer opportunity.")


class SignupNotFound(NotFound):
    code = "volunteer_signup_not_found"
    default_message = gettext_lazy("No such volunteer sign-up.")


class NotLeader(Forbidden):
    code = "not_volunteer_leader"
    default_message = gettext_lazy("Only the team's leaders and the region's staff may do this.")


class TeamClosed(Conflict):
    code = "volunteer_team_closed"
    default_message = gettext_lazy("This volunteer team is closed.")


class AlreadyApplied(Conflict):
    code = "already_team_member"
    default_message = gettext_lazy("You have already applied to or joined this team.")


class NotTeamMember(Forbidden):
    code = "not_team_member"
    default_message = gettext_lazy("Join the team first: its opportunities are for members.")


class OpportunityFull(Conflict):
    code = "volunteer_opportunity_full"
    default_message = gettext_lazy("All places are taken.")


class OpportunityClosed(Conflict):
    code = "volunteer_opportunity_closed"
    default_message = gettext_lazy("This opportunity no longer takes sign-ups.")


class AlreadySignedUp(Conflict):
    code = "already_volunteering"
    default_message = gettext_lazy("Already signed up for this opportunity.")


class BadCode(InvalidInput):
    code = "volunteer_code_invalid"
    default_message = gettext_lazy("This code is not valid or has expired: scan the code shown "
                                   "now.")


class OutsideWindow(InvalidInput):
    code = "outside_check_in"
    default_message = gettext_lazy("Check-in opens 30 minutes before the start; check-out closes "
                                   "two hours after the end.")


class HoursDecided(Conflict):
    code = "volunteer_hours_decided"
    default_message = gettext_lazy("These hours have already been decided, or cannot be yet.")


# --- reading ---------------------------------------------------------------------------------

def _access(actor: Any) -> Access:
    return actor if isinstance(actor, Access) else access_for_user(actor)


def get_team(team_id: int) -> VolunteerTeam:
    team = VolunteerTeam.objects.select_related("region").filter(pk=team_id).first()
    if team is None:
        raise TeamNotFound()
    return team


def get_opportunity(opportunity_id: int) -> Opportunity:
    found = (Opportunity.objects.select_related("team__region")
             .filter(pk=opportunity_id).first())
    if found is None:
        raise OpportunityNotFound()
    return found


def is_member(user: Any, team_id: int) -> bool:
    return bool(user is not None and user.is_authenticated and TeamMember.objects.filter(
        team_id=team_id, user_id=user.pk, status=MemberStatus.ACTIVE).exists())


def can_lead(actor: Any, team: VolunteerTeam) -> bool:
    """A leader of ``team``, or staff with ``VOLUNTEER_MANAGE`` over its region."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if TeamMember.objects.filter(team=team, user_id=actor.pk, role=MemberRole.LEADER,
                                 status=MemberStatus.ACTIVE).exists():
        return True
    return access_for_user(actor).can(Perm.VOLUNTEER_MANAGE, team.region)


def require_leader(actor: Any, team: VolunteerTeam) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        from sportsman.core.errors import NotAuthenticated

        raise NotAuthenticated()
    if not can_lead(actor, team):
        raise NotLeader()


def teams_in_scope(actor: Any) -> QuerySet[VolunteerTeam]:
    return _access(actor).scope(VolunteerTeam.objects.select_related("region"),
                                Perm.VOLUNTEER_MANAGE)


def near(user: Any) -> Region | None:
    """Where "near me" looks: the town of my home community (else the community itself)."""
    home = getattr(user, "home_community", None) if user is not None \
        and user.is_authenticated else None
    if home is None:
        return None
    town = Region.objects.filter(id__in=home.ancestor_ids, level=Level.TOWN).first()
    return town or home


def list_teams(*, region: Region | None = None) -> QuerySet[VolunteerTeam]:
    qs = (VolunteerTeam.objects.select_related("region").filter(status=TeamStatus.ACTIVE)
          .order_by("-members", "id"))
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "region"))
    return qs


def list_opportunities(*, region: Region | None = None, team_id: int | None = None,
                       now: dt.datetime | None = None) -> QuerySet[Opportunity]:
    """Open opportunities not yet over, soonest first."""
    now = now or timezone.now()
    qs = (Opportunity.objects.select_related("team__region")
          .filter(status=OpportunityStatus.OPEN, ends_at__gte=now,
                  team__status=TeamStatus.ACTIVE).order_by("starts_at", "id"))
    if region is not None:
        qs = qs.filter(subtree_q(region.path, "team__region"))
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return qs


def my_signups(user: Any) -> QuerySet[VolunteerSignup]:
    return (VolunteerSignup.objects.select_related("opportunity__team", "acted_by")
            .filter(user_id=user.pk).order_by("-opportunity__starts_at", "-id"))


def my_totals(user: Any) -> dict[str, int]:
    """My approved volunteer hours and the points they earned (the ledger's ``volunteer``
    entries)."""
    from sportsman.rewards.models import PointEntry

    hours = (VolunteerSignup.objects.filter(user_id=user.pk, status=VolunteerStatus.APPROVED)
             .aggregate(h=Sum("hours"), m=Sum("approved_minutes")))
    points = (PointEntry.objects.filter(user_id=user.pk, source="volunteer")
              .aggregate(p=Sum("amount"))["p"])
    return {"hours": hours["h"] or 0, "minutes": hours["m"] or 0, "points": points or 0}


def attendance(opportunity: Opportunity) -> QuerySet[VolunteerSignup]:
    return (opportunity.signups.exclude(status=VolunteerStatus.CANCELLED)
            .select_related("user", "acted_by").order_by("id"))


def hours_awaiting(actor: Any) -> QuerySet[VolunteerSignup]:
    """Attendance awaiting a decision in the teams of the staff member's scope."""
    return (_access(actor).scope(VolunteerSignup.objects.select_related(
        "user", "opportunity__team"), Perm.VOLUNTEER_MANAGE, field="opportunity__team__region")
        .filter(status__in=[VolunteerStatus.CHECKED_IN, VolunteerStatus.CHECKED_OUT])
        .order_by("opportunity__starts_at", "id"))


def credited_hours(minutes: int) -> int:
    """Whole hours credited for ``minutes`` (to the nearest hour; half an hour rounds up)."""
    return (minutes + 30) // 60


# --- teams ----------------------------------------------------------------------------------

def create_team(*, actor: Any, region_id: int, name: str, description: str = "",
                leader_id: int | None = None, request: Any = None) -> VolunteerTeam:
    """Staff with ``VOLUNTEER_MANAGE`` over ``region_id`` (a town or a community) found a team,
    optionally naming a resident as its first leader. Audited."""
    region = Region.objects.filter(pk=region_id).first()
    access = _access(actor)
    access.require_login()
    if region is None or not access.can(Perm.VOLUNTEER_MANAGE, region):
        raise Forbidden()
    if region.level not in (Level.TOWN, Level.COMMUNITY):
        raise InvalidInput(_("A team belongs to a town or a community."), code="not_local",
                           fields={"region_id": [_("Choose a town or a community.")]})
    name = check_text(name, field="name", max_length=60)
    description = check_text(description, field="description", max_length=2000, required=False)
    user = access.user
    try:
        with transaction.atomic():
            team = VolunteerTeam.objects.create(region=region, name=name, description=description,
                                                created_by=user)
            if leader_id is not None:
                _appoint(team, leader_id, by=user)
            audit.record(actor=user, action="governance.volunteer_team.create", obj=team,
                         region=region, request=request,
                         data={"name": name, "leader_id": leader_id})
    except IntegrityError:
        raise Conflict(_("This region already has a team of that name."),
                       code="volunteer_team_exists") from None
    team.refresh_from_db()
    return team


def _appoint(team: VolunteerTeam, user_id: int, *, by: Any) -> TeamMember:
    from django.contrib.auth import get_user_model

    if not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
        raise InvalidInput(code="user_not_found", fields={"leader_id": [_("No such resident.")]})
    now = timezone.now()
    live = (TeamMember.objects.select_for_update()
            .filter(team=team, user_id=user_id,
                    status__in=[MemberStatus.PENDING, MemberStatus.ACTIVE]).first())
    if live is None:
        live = TeamMember.objects.create(team=team, user_id=user_id, role=MemberRole.LEADER,
                                         status=MemberStatus.ACTIVE, joined_at=now, decided_by=by)
        VolunteerTeam.objects.filter(pk=team.pk).update(members=F("members") + 1)
        return live
    if live.status == MemberStatus.PENDING:
        VolunteerTeam.objects.filter(pk=team.pk).update(members=F("members") + 1)
        live.joined_at = now
    live.role, live.status, live.decided_by = MemberRole.LEADER, MemberStatus.ACTIVE, by
    live.save()
    return live


def close_team(*, actor: Any, team_id: int, request: Any = None) -> VolunteerTeam:
    """Staff close a team: its open opportunities stay visible to those signed up but take no
    more sign-ups. Audited."""
    team = get_team(team_id)
    access = _access(actor)
    if not access.can(Perm.VOLUNTEER_MANAGE, team.region):
        raise TeamNotFound()
    with transaction.atomic():
        if not VolunteerTeam.objects.filter(pk=team.pk, status=TeamStatus.ACTIVE).update(
                status=TeamStatus.CLOSED, updated_at=timezone.now()):
            raise TeamClosed()
        audit.record(actor=access.user, action="governance.volunteer_team.close", obj=team,
                     region=team.region, request=request)
    team.status = TeamStatus.CLOSED
    return team


def apply(*, actor: Any, team_id: int) -> TeamMember:
    """A resident applies to join a team; a leader accepts or declines. ``already_team_member``
    for a second application while one is pending or accepted."""
    proxy.acting(actor, None)  # logged in
    team = get_team(team_id)
    if team.status != TeamStatus.ACTIVE:
        raise TeamClosed()
    try:
        with transaction.atomic():
            made = TeamMember.objects.create(team=team, user=actor)
    except IntegrityError:
        raise AlreadyApplied() from None
    leaders = list(team.memberships.filter(role=MemberRole.LEADER, status=MemberStatus.ACTIVE)
                   .values_list("user_id", flat=True))
    _notify_on_commit(leaders, _("%(name)s applied to join %(team)s")
                      % {"name": actor.nickname or _("A resident"), "team": team.name},
                      link=_team_link(team.pk), key=f"volunteer-apply:{made.pk}")
    return made


def decide_member(*, actor: Any, team_id: int, user_id: int, accept: bool,
                  leader: bool = False, request: Any = None) -> TeamMember:
    """A leader (or staff) accepts or declines an application; with ``leader`` an accepted (or
    already active) member becomes a leader too. Staff decisions are audited."""
    team = get_team(team_id)
    require_leader(actor, team)
    now = timezone.now()
    with transaction.atomic():
        found = (TeamMember.objects.select_for_update()
                 .filter(team=team, user_id=user_id,
                         status__in=[MemberStatus.PENDING, MemberStatus.ACTIVE]).first())
        if found is None:
            raise NotFound(_("No application or membership of this resident."),
                           code="team_member_not_found")
        if not accept:
            if found.status == MemberStatus.ACTIVE:
                raise Conflict(_("Already a member."), code="already_team_member")
            found.status, found.decided_by = MemberStatus.REJECTED, actor
            found.save()
        else:
            if found.status == MemberStatus.PENDING:
                # the conditional UPDATE: two leaders accepting at once count the member once
                if not TeamMember.objects.filter(pk=found.pk, status=MemberStatus.PENDING).update(
                        status=MemberStatus.ACTIVE, joined_at=now, decided_by=actor,
                        updated_at=now):
                    raise Conflict(code="already_team_member")
                VolunteerTeam.objects.filter(pk=team.pk).update(members=F("members") + 1)
            if leader:
                TeamMember.objects.filter(pk=found.pk).update(role=MemberRole.LEADER)
            found.refresh_from_db()
        if access_for_user(actor).can(Perm.VOLUNTEER_MANAGE, team.region):
            audit.record(actor=actor, action="governance.volunteer_member.decide", obj=found,
                         region=team.region, request=request,
                         data={"user_id": user_id, "accept": accept, "leader": leader})
        _notify_on_commit([user_id], _("Welcome to %(team)s") % {"team": team.name}
                          if accept else _("%(team)s did not accept your application")
                          % {"team": team.name}, link=_team_link(team.pk),
                          key=f"volunteer-member:{found.pk}:{found.status}")
    return found


def leave(*, actor: Any, team_id: int) -> None:
    """Leave a team (or withdraw an application)."""
    proxy.acting(actor, None)
    with transaction.atomic():
        found = (TeamMember.objects.select_for_update()
                 .filter(team_id=team_id, user_id=actor.pk,
                         status__in=[MemberStatus.PENDING, MemberStatus.ACTIVE]).first())
        if found is None:
            raise NotFound(_("You are not in this team."), code="team_member_not_found")
        was_active = found.status == MemberStatus.ACTIVE
        if TeamMember.objects.filter(pk=found.pk, status=found.status).update(
                status=MemberStatus.LEFT, updated_at=timezone.now()) and was_active:
            VolunteerTeam.objects.filter(pk=team_id, members__gt=0).update(
                members=F("members") - 1)


# --- opportunities --------------------------------------------------------------------------

def create_opportunity(*, actor: Any, team_id: int, kind: str, title: str, place: str,
                       starts_at: dt.datetime, ends_at: dt.datetime, capacity: int,
                       description: str = "", now: dt.datetime | None = None,
                       request: Any = None) -> Opportunity:
    """A leader (or staff) offers a shift of ``capacity`` places. Refusals: ``invalid`` (times,
    capacity, kind), ``in_the_past``, ``volunteer_team_closed``. Members are told."""
    now = now or timezone.now()
    team = get_team(team_id)
    require_leader(actor, team)
    if team.status != TeamStatus.ACTIVE:
        raise TeamClosed()
    if kind not in OpportunityKind.values:
        raise InvalidInput(fields={"kind": [_("Unknown kind.")]})
    title = check_text(title, field="title", max_length=60)
    place = check_text(place, field="place", max_length=100)
    description = check_text(description, field="description", max_length=2000, required=False)
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(fields={"capacity": [_("Between 1 and 500.")]})
    if ends_at <= starts_at:
        raise InvalidInput(_("The end must come after the start."),
                           fields={"ends_at": [_("The end must come after the start.")]})
    if ends_at - starts_at > MAX_LENGTH:
        raise InvalidInput(fields={"ends_at": [_("At most 12 hours long.")]})
    if starts_at < now:
        raise InvalidInput(_("The opportunity must start in the future."), code="in_the_past",
                           fields={"starts_at": [_("This time has passed.")]})
    with transaction.atomic():
        made = Opportunity.objects.create(team=team, kind=kind, title=title, place=place,
                                          description=description, starts_at=starts_at,
                                          ends_at=ends_at, capacity=capacity, created_by=actor)
        if access_for_user(actor).can(Perm.VOLUNTEER_MANAGE, team.region):
            audit.record(actor=actor, action="governance.volunteer_opportunity.create",
                         obj=made, region=team.region, request=request,
                         data={"team_id": team.pk, "capacity": capacity})
        members = list(team.memberships.filter(status=MemberStatus.ACTIVE)
                       .exclude(user_id=actor.pk).values_list("user_id", flat=True))
        _notify_on_commit(members, _("New volunteer opportunity: %(title)s") % {"title": title},
                          link=_opportunity_link(made.pk), key=f"volunteer-opportunity:{made.pk}")
    return made


def _take_place(opportunity_id: int) -> bool:
    return bool(Opportunity.objects.filter(pk=opportunity_id, status=OpportunityStatus.OPEN,
                                           taken__lt=F("capacity"))
                .update(taken=F("taken") + 1))


def sign_up(*, actor: Any, opportunity_id: int, for_user_id: int | None = None,
            now: dt.datetime | None = None) -> VolunteerSignup:
    """Take a place on an opportunity of a team I am a member of — or, with ``for_user_id``,
    for a resident who authorised me (the sign-up is theirs; ``acted_by`` is me). Refusals:
    ``volunteer_opportunity_full``, ``already_volunteering``, ``volunteer_opportunity_closed``,
    ``not_team_member``, ``proxy_not_authorised``."""
    now = now or timezone.now()
    who = proxy.acting(actor, for_user_id)
    found = get_opportunity(opportunity_id)
    if (found.status != OpportunityStatus.OPEN or found.starts_at <= now
            or found.team.status != TeamStatus.ACTIVE):
        raise OpportunityClosed()
    if not is_member(who.subject, found.team_id):
        raise NotTeamMember()
    try:
        with transaction.atomic():
            if not _take_place(found.pk):
                raise OpportunityFull()
            return VolunteerSignup.objects.create(opportunity=found, user=who.subject,
                                                  acted_by=who.acted_by)
    except IntegrityError:  # a live sign-up exists: the place taken above is rolled back
        raise AlreadySignedUp() from None


def cancel(*, actor: Any, opportunity_id: int, for_user_id: int | None = None,
           now: dt.datetime | None = None) -> VolunteerSignup:
    """Give my place back (or the place of the resident I act for) before the start."""
    now = now or timezone.now()
    who = proxy.acting(actor, for_user_id)
    found = get_opportunity(opportunity_id)
    if found.starts_at <= now:
        raise OpportunityClosed(_("The opportunity has started; it can no longer be cancelled."))
    with transaction.atomic():
        mine = VolunteerSignup.objects.filter(opportunity=found, user_id=who.subject.pk,
                                              status=VolunteerStatus.SIGNED_UP).first()
        if mine is None:
            raise SignupNotFound(_("Not signed up for this opportunity."))
        transition(mine, VolunteerStatus.CANCELLED, table=HOURS_FLOW, stamps=STAMPS,
                   error=SignupNotFound, at=now)
        Opportunity.objects.filter(pk=found.pk, taken__gt=0).update(taken=F("taken") - 1)
    return mine


def call_off(*, actor: Any, opportunity_id: int, request: Any = None) -> Opportunity:
    """A leader (or staff) calls an opportunity off; everyone signed up is told."""
    found = get_opportunity(opportunity_id)
    require_leader(actor, found.team)
    with transaction.atomic():
        if not Opportunity.objects.filter(pk=found.pk, status=OpportunityStatus.OPEN).update(
                status=OpportunityStatus.CANCELLED, updated_at=timezone.now()):
            raise OpportunityClosed()
        people = list(found.signups.filter(status=VolunteerStatus.SIGNED_UP)
                      .values_list("user_id", flat=True))
        if access_for_user(actor).can(Perm.VOLUNTEER_MANAGE, found.team.region):
            audit.record(actor=actor, action="governance.volunteer_opportunity.call_off",
                         obj=found, region=found.team.region, request=request)
        _notify_on_commit(people, _("Called off: %(title)s") % {"title": found.title},
                          link=_opportunity_link(found.pk),
                          key=f"volunteer-called-off:{found.pk}")
    found.status = OpportunityStatus.CANCELLED
    return found


# --- QR check-in and check-out --------------------------------------------------------------

def scan_code(*, actor: Any, opportunity_id: int) -> tuple[str, dt.datetime]:
    """The code the leader shows (a fresh one each call) and when it stops working."""
    found = get_opportunity(opportunity_id)
    require_leader(actor, found.team)
    code = signing.TimestampSigner(salt=QR_SALT).sign_object({"o": found.pk}, compress=True)
    return code, timezone.now() + QR_TTL


def opportunity_of_code(code: str) -> int:
    try:
        value = signing.TimestampSigner(salt=QR_SALT).unsign_object(
            (code or "").strip(), max_age=QR_TTL)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadCode() from None
    if not isinstance(value, dict) or not isinstance(value.get("o"), int):
        raise BadCode()
    return int(value["o"])


def minutes_attended(found: Opportunity, checked_in_at: dt.datetime,
                     checked_out_at: dt.datetime) -> int:
    """Minutes between check-in and check-out, counted only inside the opportunity's window."""
    start = max(checked_in_at, found.starts_at)
    end = min(checked_out_at, found.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


def scan(*, actor: Any, code: str, for_user_id: int | None = None,
         now: dt.datetime | None = None) -> VolunteerSignup:
    """A volunteer scans the code shown at the place: the first scan checks in (from 30 minutes
    before the start until the end), the next checks out (until two hours after the end) and
    records the minutes attended inside the window. A scan after check-out answers the sign-up
    unchanged. Refusals: ``volunteer_code_invalid`` (forged or expired), ``outside_check_in``,
    ``volunteer_signup_not_found`` (no place on it)."""
    now = now or timezone.now()
    who = proxy.acting(actor, for_user_id)
    found = get_opportunity(opportunity_of_code(code))
    if found.status != OpportunityStatus.OPEN:
        raise OpportunityClosed()
    with transaction.atomic():
        mine = (VolunteerSignup.objects.select_for_update()
                .filter(opportunity=found, user_id=who.subject.pk).exclude(
                    status=VolunteerStatus.CANCELLED).first())
        if mine is None:
            raise SignupNotFound(_("You have no place on this opportunity."))
        if mine.status == VolunteerStatus.SIGNED_UP:
            if not found.starts_at - CHECK_IN_EARLY <= now <= found.ends_at:
                raise OutsideWindow()
            return transition(mine, VolunteerStatus.CHECKED_IN, table=HOURS_FLOW, stamps=STAMPS,
                              error=HoursDecided, at=now)
        if mine.status == VolunteerStatus.CHECKED_IN:
            if now > found.ends_at + CHECK_OUT_LATE:
                raise OutsideWindow()
            assert mine.checked_in_at is not None
            minutes = minutes_attended(found, mine.checked_in_at, now)
            transition(mine, VolunteerStatus.CHECKED_OUT, table=HOURS_FLOW, stamps=STAMPS,
                       error=HoursDecided, at=now)
            VolunteerSignup.objects.filter(pk=mine.pk).update(minutes=minutes)
            mine.minutes = minutes
        return mine


# --- hours ----------------------------------------------------------------------------------

def get_signup(signup_id: int) -> VolunteerSignup:
    found = (VolunteerSignup.objects.select_related("opportunity__team__region", "user")
             .filter(pk=signup_id).first())
    if found is None:
        raise SignupNotFound()
    return found


def hours_key(signup_id: int) -> str:
    return f"volunteer:{signup_id}"


def decide_hours(*, actor: Any, signup_id: int, approve: bool, minutes: int | None = None,
                 reason: str = "", now: dt.datetime | None = None,
                 request: Any = None) -> VolunteerSignup:
    """A team's leader (or staff) approves a volunteer's hours — as attended, or adjusted to
    ``minutes`` with a ``reason`` — or rejects them (a reason required). Once: the decision is a
    conditional status transition, so of two approvals at once one wins and the other gets
    ``volunteer_hours_decided``. The approval publishes ``governance.volunteer_hours_approved``
    (user, credited hours, key ``volunteer:<sign-up id>``) in its transaction; the rewards
    consumer turns it into points. Staff decisions are audited."""
    now = now or timezone.now()
    found = get_signup(signup_id)
    team = found.opportunity.team
    require_leader(actor, team)
    if found.status not in (VolunteerStatus.CHECKED_IN, VolunteerStatus.CHECKED_OUT):
        raise HoursDecided()
    reason = (reason or "").strip()[:200]
    if approve:
        window = minutes_attended(found.opportunity, found.opportunity.starts_at,
                                  found.opportunity.ends_at)
        if minutes is None:
            if found.status != VolunteerStatus.CHECKED_OUT:
                raise InvalidInput(_("No check-out: give the minutes attended."),
                                   code="minutes_required",
                                   fields={"minutes": [_("Required.")]})
            minutes = found.minutes
        elif (minutes != found.minutes or found.status != VolunteerStatus.CHECKED_OUT) \
                and not reason:
            raise InvalidInput(_("Say why the hours are adjusted."), code="reason_required",
                               fields={"reason": [_("Required.")]})
        if not 0 <= minutes <= window:
            raise InvalidInput(fields={"minutes": [
                _("Between 0 and %(n)d (the opportunity's length).") % {"n": window}]})
    elif not reason:
        raise InvalidInput(_("Say why the hours are not approved."), code="reason_required",
                           fields={"reason": [_("Required.")]})
    to = VolunteerStatus.APPROVED if approve else VolunteerStatus.REJECTED
    with transaction.atomic():
        transition(found, to, table=HOURS_FLOW, stamps=STAMPS, error=HoursDecided, at=now)
        hours = credited_hours(minutes or 0) if approve else 0
        VolunteerSignup.objects.filter(pk=found.pk).update(
            approved_minutes=minutes if approve else None, hours=hours,
            decision_reason=reason, decided_by=actor)
        found.approved_minutes, found.hours = (minutes if approve else None), hours
        found.decision_reason, found.decided_by = reason, actor
        if approve:
            publish(HOURS_APPROVED, {"user_id": found.user_id, "hours": hours,
                                     "minutes": minutes, "signup_id": found.pk,
                                     "team_id": team.pk, "key": hours_key(found.pk)})
        if access_for_user(actor).can(Perm.VOLUNTEER_MANAGE, team.region):
            audit.record(actor=actor, action="governance.volunteer_hours.decide", obj=found,
                         region=team.region, request=request,
                         data={"approve": approve, "minutes": minutes, "reason": reason})
        _notify_on_commit(
            [found.user_id],
            _("%(hours)d volunteer hours approved: %(title)s")
            % {"hours": hours, "title": found.opportunity.title} if approve
            else _("Volunteer hours not approved: %(title)s")
            % {"title": found.opportunity.title},
            link=_opportunity_link(found.opportunity_id), key=f"volunteer-hours:{found.pk}")
    return found


# --- helpers --------------------------------------------------------------------------------

def _team_link(team_id: int) -> str:
    from django.urls import reverse

    return reverse("governance:volunteer_team", args=[team_id])


def _opportunity_link(opportunity_id: int) -> str:
    from django.urls import reverse

    return reverse("governance:volunteer_opportunity", args=[opportunity_id])


def _notify_on_commit(user_ids: list[int], title: Any, *, link: str, key: str) -> None:
    if not user_ids:
        return
    from sportsman.notifications.categories import Category
    from sportsman.notifications.services import notify

    def send() -> None:
        from django.contrib.auth import get_user_model

        notify(users=get_user_model().objects.filter(pk__in=user_ids), category=Category.GOVERNANCE, title=str(title)[:120], link=link,
               dedupe_key=key)

    transaction.on_commit(send)

