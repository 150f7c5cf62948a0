"""Regions API: the part of the tree an actor governs."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from sportsman.core.errors import NotFound
from sportsman.regions.access import Perm, access_for, public, scoped
from sportsman.regions.models import Region

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
