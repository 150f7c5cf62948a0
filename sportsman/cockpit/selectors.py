"""Finding the region a cockpit page or API call is about, inside the actor's scope."""

from __future__ import annotations

from sportsman.core.errors import NotFound
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import Region
from sportsman.regions.selectors import find_by_code


def region_for(access: Access, code: str, perm: Perm = Perm.COCKPIT_VIEW) -> Region:
    """The region with statistical ``code`` if ``access`` holds ``perm`` over it; otherwise 404,
    whether it does not exist or lies outside the actor's subtrees (existence is not leaked)."""
    region = find_by_code(code) if code.isdigit() else None
    if region is None or not access.can(perm, region):
        raise NotFound()
    return region


def home_region(access: Access, perm: Perm = Perm.COCKPIT_VIEW) -> Region:
    """The actor's topmost region holding ``perm`` (where their cockpit opens)."""
    region = access.root_regions(perm).first()
    if region is None:
        raise NotFound()
    return region
