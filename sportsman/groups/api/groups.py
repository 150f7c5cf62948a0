"""Groups API: discovery (public), my groups, creating and running a group, joining, members;
and the staff's review of new groups and the creation rule of a region."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import ValidationError as NinjaValidationError

from sportsman.accounts.auth import optional_user
from sportsman.core.errors import InvalidInput
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In, Ok
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.groups import chat, services
from sportsman.groups.models import Group, JoinPolicy, Membership, Visibility
from sportsman.regions.access import Perm, access_for, for_self, public, scoped
from sportsman.regions.models import Region

router = Router(tags=["groups"])


class GroupOut(Schema):
    id: int
    name: str
    sport: str
    sport_name: str
    region_id: int
    region_name: str
    description: str
    cover_url: str | None
    join_policy: str
    status: str
    members: int
    max_members: int
    lat: float | None
    lng: float | None
    last_active_at: dt.datetime | None


class MyGroupOut(GroupOut):
    role: str
    unread: int


class GroupPageOut(Schema):
    items: list[GroupOut]
    next_page: int | None


class MembershipOut(Schema):
    group_id: int
    user_id: int
    role: str
    status: str
    visibility: str
    muted_until: dt.datetime | None
    joined_at: dt.datetime | None


class MemberOut(Schema):
    user_id: int
    nickname: str
    role: str
    joined_at: dt.datetime | None
    muted: bool


class DiscoverQuery(Schema):
    sport: str | None = Field(None, max_length=32)
    region: int | None = Field(None, ge=1, lt=2**63)
    q: str = Field("", max_length=40)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    radius_m: int = Field(5000, ge=100, le=50_000)
    order: str = Field("active", pattern="^(active|members|new)$")
    page: int = Field(1, ge=1, le=500)
    limit: int = Field(20, ge=1, le=100)


class GroupIn(In):
    name: str = Field(..., min_length=1, max_length=40)
    sport: str = Field(..., min_length=1, max_length=32)
    description: str = Field("", max_length=2000)
    join_policy: JoinPolicy = JoinPolicy.OPEN
    region_id: int | None = Field(None, ge=1, lt=2**63)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class GroupPatchIn(In):
    name: str | None = Field(None, min_length=1, max_length=40)
    sport: str | None = Field(None, min_length=1, max_length=32)
    description: str | None = Field(None, max_length=2000)
    join_policy: JoinPolicy | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class JoinIn(In):
    invite_code: str = Field("", max_length=64)


class DecideIn(In):
    accept: bool


class RoleIn(In):
    role: str = Field(..., pattern="^(leader|admin|member)$")


class MuteIn(In):
    minutes: int = Field(..., ge=0, le=43_200)


class VisibilityIn(In):
    visibility: Visibility


class InviteOut(Schema):
    invite_code: str


class ReviewIn(In):
    approve: bool
    note: str = Field("", max_length=200)


class RuleIn(In):
    needs_approval: bool


class RuleOut(Schema):
    region_id: int
    needs_approval: bool


def _optional_json(request: HttpRequest) -> dict[str, Any]:
    """An optional JSON object body ({} when there is none, or the body is not JSON)."""
    import json

    if request.content_type != "application/json" or not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise InvalidInput(_("The body is not valid JSON."), code="malformed_json") from None
    if not isinstance(body, dict):
        raise InvalidInput(_("The body is not valid JSON."), code="malformed_json")
    return body


def group_out(g: Group) -> dict[str, Any]:
    return {"id": g.pk, "name": g.name, "sport": g.sport.slug, "sport_name": g.sport.name,
            "region_id": g.region_id, "region_name": g.region.name,
            "description": g.description, "cover_url": g.cover.url if g.cover else None,
            "join_policy": g.join_policy, "status": g.status, "members": g.members,
            "max_members": g.max_members, "lat": g.lat, "lng": g.lng,
            "last_active_at": g.last_active_at}


def membership_out(m: Membership) -> dict[str, Any]:
    return {"group_id": m.group_id, "user_id": m.user_id, "role": m.role, "status": m.status,
            "visibility": m.visibility, "muted_until": m.muted_until, "joined_at": m.joined_at}


@router.get("/groups", auth=None, response=GroupPageOut)
@public
def discover(request: HttpRequest, query: Query[DiscoverQuery]):
    """Active groups: by sport (slug), region subtree, name, near a point, ordered by most
    recently active (``active``), most members or newest."""
    region = Region.objects.filter(pk=query.region).first() if query.region else None
    if query.region and region is None:
        return {"items": [], "next_page": None}
    near = (query.lat, query.lng) if query.lat is not None and query.lng is not None else None
    qs = services.discover(sport=query.sport, region=region, q=query.q, near=near,
                           radius_m=query.radius_m, order=query.order)
    start = (query.page - 1) * query.limit
    rows = list(qs[start:start + query.limit + 1])
    return {"items": [group_out(g) for g in rows[:query.limit]],
            "next_page": query.page + 1 if len(rows) > query.limit else None}


@router.get("/me/groups", response=list[MyGroupOut])
@for_self
def mine(request: HttpRequest):
    """The groups I am in, most recently active first, with my role and unread messages."""
    groups = list(services.my_groups(request.user))
    user: Any = request.user
    roles = dict(Membership.objects.filter(user_id=user.pk,
                                           group_id__in=[g.pk for g in groups])
                 .values_list("group_id", "role"))
    unread = chat.unread_counts(request.user)
    return [{**group_out(g), "role": roles.get(g.pk, "member"), "unread": unread.get(g.pk, 0)}
            for g in groups]


@router.post("/groups", response={201: GroupOut})
@for_self
@idempotent
def create(request: HttpRequest, data: GroupIn):
    """Start a group and lead it. Where the region asks for approval it starts ``pending``."""
    group = services.create_group(actor=request.user, **data.model_dump())
    return Status(201, group_out(group))


@router.get("/groups/{group_id}", auth=None, response=GroupOut)
@public
def detail(request: HttpRequest, group_id: int):
    group, _mine = services.visible_group(optional_user(request), group_id)
    return group_out(group)


@router.patch("/groups/{group_id}", response=GroupOut)
@for_self
def update(request: HttpRequest, group_id: int, data: GroupPatchIn):
    """The leader and administrators change the group (only the fields sent)."""
    group = services.update_group(actor=request.user, group_id=group_id,
                                  changes=data.model_dump(exclude_unset=True))
    return group_out(services.get_group(group.pk))


@router.post("/groups/{group_id}/cover", response=GroupOut)
@for_self
def cover(request: HttpRequest, group_id: int, image: File[UploadedFile]):
    """A new cover photo (JPEG/PNG/WebP up to 5 MB; stored re-encoded, without EXIF)."""
    group = services.set_cover(actor=request.user, group_id=group_id,
                               content=image.read(PHOTO_MAX_BYTES + 1))
    return group_out(group)


@router.post("/groups/{group_id}/close", response=GroupOut)
@for_self
def close(request: HttpRequest, group_id: int):
    """The leader closes the group (its staff close it from the console)."""
    return group_out(services.close_group(actor=request.user, group_id=group_id,
                                          request=request))


@router.post("/groups/{group_id}/join", response={200: MembershipOut, 202: MembershipOut},
             openapi_extra={"requestBody": {"required": False, "content": {
                 "application/json": {"schema": JoinIn.model_json_schema()}}}})
@for_self
@idempotent
def join(request: HttpRequest, group_id: int):
    """Join (200, ``active``) or ask to join (202, ``pending``; the leader decides). The body is
    optional: ``{"invite_code": ...}`` from an invitation link. Refusals: ``already_member``,
    ``already_asked``, ``invitation_needed``, ``group_full``, ``group_not_active``."""
    try:
        data = JoinIn.model_validate(_optional_json(request))
    except pydantic.ValidationError as exc:
        raise NinjaValidationError([dict(e) for e in exc.errors(include_url=False)]) from None
    mine = services.join(actor=request.user, group_id=group_id, invite_code=data.invite_code)
    return Status(200 if mine.status == "active" else 202, membership_out(mine))


@router.post("/groups/{group_id}/leave", response=Ok)
@for_self
def leave(request: HttpRequest, group_id: int):
    services.leave(actor=request.user, group_id=group_id)
    return {"ok": True}


@router.get("/groups/{group_id}/members", auth=None, response=list[MemberOut])
@public
def members(request: HttpRequest, group_id: int):
    """Members as each chose to be shown (the leader and administrators see everyone)."""
    group, _mine = services.visible_group(optional_user(request), group_id)
    from django.utils import timezone

    now = timezone.now()
    return [{"user_id": m.user_id, "nickname": m.user.nickname or "", "role": m.role,
             "joined_at": m.joined_at, "muted": services.is_muted(m, now)}
            for m in services.member_list(request.user, group)[:500]]


@router.get("/groups/{group_id}/requests", response=list[MembershipOut])
@for_self
def requests(request: HttpRequest, group_id: int):
    """Pending requests to join (leader and administrators)."""
    services.require_member(request.user, group_id, manager=True)
    return [membership_out(m) for m in Membership.objects.filter(
        group_id=group_id, status="pending").order_by("requested_at")[:200]]


@router.post("/groups/{group_id}/requests/{user_id}", response=MembershipOut)
@for_self
def decide(request: HttpRequest, group_id: int, user_id: int, data: DecideIn):
    return membership_out(services.decide_request(actor=request.user, group_id=group_id,
                                                  user_id=user_id, accept=data.accept))


@router.put("/groups/{group_id}/members/{user_id}/role", response=MembershipOut)
@for_self
def set_role(request: HttpRequest, group_id: int, user_id: int, data: RoleIn):
    return membership_out(services.set_role(actor=request.user, group_id=group_id,
                                            user_id=user_id, role=data.role))


@router.put("/groups/{group_id}/members/{user_id}/mute", response=MembershipOut)
@for_self
def mute(request: HttpRequest, group_id: int, user_id: int, data: MuteIn):
    """Mute a member for ``minutes`` (0 lifts it)."""
    return membership_out(services.mute(actor=request.user, group_id=group_id,
                                        user_id=user_id, minutes=data.minutes))


@router.delete("/groups/{group_id}/members/{user_id}", response=Ok)
@for_self
def remove(request: HttpRequest, group_id: int, user_id: int):
    services.remove_member(actor=request.user, group_id=group_id, user_id=user_id)
    return {"ok": True}


@router.put("/groups/{group_id}/me", response=MembershipOut)
@for_self
def my_visibility(request: HttpRequest, group_id: int, data: VisibilityIn):
    """Who sees me in the member list: ``public``, ``members`` or ``hidden``."""
    return membership_out(services.set_visibility(actor=request.user, group_id=group_id,
                                                  visibility=data.visibility))


@router.post("/groups/{group_id}/invite", response=InviteOut)
@for_self
def invite(request: HttpRequest, group_id: int):
    """A new invitation code (the old link stops working)."""
    return {"invite_code": services.new_invite_code(actor=request.user, group_id=group_id)}


# --- staff --------------------------------------------------------------------------------------


class StaffQuery(Schema):
    status: str | None = Field(None, pattern="^(pending|active|rejected|closed)$")
    limit: int = Field(50, ge=1, le=200)


@router.get("/console/groups", response=list[GroupOut])
@scoped(Perm.GROUP_MANAGE)
def staff_list(request: HttpRequest, query: Query[StaffQuery]):
    """The groups of my subtree (``status=pending``: those awaiting approval)."""
    qs = services.groups_in_scope(access_for(request))
    if query.status:
        qs = qs.filter(status=query.status)
    return [group_out(g) for g in qs.order_by("-id")[:query.limit]]


@router.post("/console/groups/{group_id}/review", response=GroupOut)
@scoped(Perm.GROUP_MANAGE)
def review(request: HttpRequest, group_id: int, data: ReviewIn):
    """Approve or reject a pending group of my subtree (audited; its leader is told)."""
    return group_out(services.review_group(actor=request.user, group_id=group_id,
                                           approve=data.approve, note=data.note,
                                           request=request))


@router.post("/console/groups/{group_id}/close", response=GroupOut)
@scoped(Perm.GROUP_MANAGE)
def staff_close(request: HttpRequest, group_id: int):
    """Close a group of my subtree (audited)."""
    group = services.groups_in_scope(access_for(request)).filter(pk=group_id).first()
    if group is None:
        raise services.GroupNotFound()
    return group_out(services.close_group(actor=request.user, group_id=group_id,
                                          request=request))


@router.put("/console/regions/{region_id}/group-rule", response=RuleOut)
@scoped(Perm.GROUP_MANAGE)
def rule(request: HttpRequest, region_id: int, data: RuleIn):
    """Whether new groups in this region's subtree wait for approval (audited)."""
    made = services.set_rule(actor=request.user, region_id=region_id,
                             needs_approval=data.needs_approval, request=request)
    return {"region_id": made.region_id, "needs_approval": made.needs_approval}
