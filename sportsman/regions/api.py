"""Regions API: the part of the tree an actor governs."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from sportsman.core.errors import NotFound
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.regions import roles
from sportsman.regions.access import Perm, access_for, public, scoped
from sportsman.regions.models import Region, RoleAssignment

router = Router(tags=["regions"])


class RegionOut(Schema):
    id: int
    code: str
    edition: int
    name: str
    level: str
    parent_id: int | None
    management_zone: str
    is_synthetic: bool


@router.get("/mine", response=list[RegionOut])
@scoped(Perm.REGION_VIEW)
def my_roots(request: HttpRequest):
    """The regions at the top of my scope (the console's region switcher starts here)."""
    return list(access_for(request).root_regions(Perm.REGION_VIEW))


@router.get("/{region_id}/children", response=list[RegionOut])
@scoped(Perm.REGION_VIEW)
def children(request: HttpRequest, region_id: int):
    access = access_for(request)
    region = access.regions(Perm.REGION_VIEW).filter(pk=region_id).first()
    if region is None:
        raise NotFound()
    return list(region.children.order_by("code"))


@router.get("/public", response=list[RegionOut], auth=None)
@public
def public_list(request: HttpRequest, parent: int | None = None):
    """Regions for pickers (home community on registration): children of ``parent`` or roots."""
    qs = Region.objects.filter(parent_id=parent) if parent else Region.objects.filter(
        parent__isnull=True)
    return list(qs.order_by("code")[:500])


class RoleIn(In):
    user_id: int
    role: str
    region_id: int


class RoleAssignmentOut(Schema):
    id: int
    user_id: int
    user_label: str
    role: str
    region_id: int
    region_code: str
    region_name: str


def _assignment_out(a: RoleAssignment) -> dict:
    return {"id": a.pk, "user_id": a.user_id, "user_label": a.user.nickname or a.user.masked_phone,
            "role": a.role, "region_id": a.region_id, "region_code": a.region.code,
            "region_name": a.region.name}


roles_router = Router(tags=["roles"])


@roles_router.get("", response=list[RoleAssignmentOut])
@scoped(Perm.ROLE_MANAGE)
def list_roles(request: HttpRequest, region_id: int | None = None,
               limit: Annotated[int, Field(ge=1, le=500)] = 100,
               offset: Annotated[int, Field(ge=0)] = 0):
    """Role assignments I may manage (within my subtree), optionally under one region."""
    qs = roles.list_assignments_for(access_for(request), region_id=region_id)
    return [_assignment_out(a) for a in qs[offset:offset + limit]]


@roles_router.post("", response={201: RoleAssignmentOut})
@scoped(Perm.ROLE_MANAGE)
@idempotent
def grant(request: HttpRequest, data: RoleIn):
    """Grant a role. Send an ``Idempotency-Key`` to retry safely: a retry gets the first answer."""
    assignment = roles.grant_role(access=access_for(request), user_id=data.user_id,
                                  role=data.role, region_id=data.region_id, request=request)
    return Status(201, _assignment_out(assignment))


@roles_router.delete("/{assignment_id}", response={204: None})
@scoped(Perm.ROLE_MANAGE)
def revoke(request: HttpRequest, assignment_id: int):
    roles.revoke_role(access=access_for(request), assignment_id=assignment_id, request=request)
    return Status(204, None)
