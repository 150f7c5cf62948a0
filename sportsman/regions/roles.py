"""Granting and revoking staff roles: an administrator hands out roles inside their own subtree.

The rule: an actor holding ``Perm.ROLE_MANAGE`` on region R may grant or revoke
- any role on a region strictly below R, and
- non-administrator roles (venue manager, instructor, ...) on R itself.
Nobody grants a role on their own level's administrator seat or above it, so power only flows down.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.regions.access import Access, Perm
from sportsman.regions.models import ADMIN_ROLE_LEVEL, Region, Role, RoleAssignment, subtree_q


def _may_manage(access: Access, role: str, region: Region) -> bool:
    for grant in access.roots(Perm.ROLE_MANAGE):
        if region.path.startswith(grant.path):
            if region.path != grant.path:
                return True
            if role not in ADMIN_ROLE_LEVEL:
                return True
    return False


def grant_role(*, access: Access, user_id: int, role: str, region_id: int,
               request: Any = None) -> RoleAssignment:
    """Give ``user_id`` the ``role`` on ``region_id``. Audited. Refuses what the actor may not
    grant (``forbidden``), an administrator role on a region of another level
    (``role_level_mismatch``) and a duplicate (``role_exists``)."""
    from sportsman.accounts.models import User

    access.require_anywhere(Perm.ROLE_MANAGE)
    if role not in Role.values:
        raise InvalidInput(_("Unknown role."), code="unknown_role", fields={"role": [_("Unknown role.")]})
    region = access.regions(Perm.ROLE_MANAGE).filter(pk=region_id).first()
    if region is None:
        raise NotFound(_("No such region in your scope."))
    if not _may_manage(access, role, region):
        raise Forbidden(_("You may not grant this role on this region."))
    expected_level = ADMIN_ROLE_LEVEL.get(Role(role))
    if expected_level is not None and region.level != expected_level:
        raise InvalidInput(_("This administrator role belongs on a region of another level."),
                           code="role_level_mismatch", fields={"region_id": [
                               _("This administrator role belongs on a region of another level.")]})
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound(_("No such user."))
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(user=user, role=role, region=region,
                                                       granted_by=access.user)
            audit.record(actor=access.user, action="role.grant", obj=assignment, region=region,
                         request=request, data={"user_id": user.pk, "role": role})
    except IntegrityError:
        raise Conflict(_("This user already holds this role here."), code="role_exists") from None
    return assignment


@transaction.atomic
def revoke_role(*, access: Access, assignment_id: int, request: Any = None) -> None:
    """Take a role back. Audited. The assignment must be one the actor could have granted."""
    access.require_anywhere(Perm.ROLE_MANAGE)
    assignment = (access.scope(RoleAssignment.objects.select_related("region"), Perm.ROLE_MANAGE)
                  .filter(pk=assignment_id).first())
    if assignment is None:
        raise NotFound()
    if not _may_manage(access, assignment.role, assignment.region):
        raise Forbidden(_("You may not revoke this role."))
    audit.record(actor=access.user, action="role.revoke", obj=assignment,
                 region=assignment.region, request=request,
                 data={"user_id": assignment.user_id, "role": assignment.role})
    assignment.delete()


def drop_roles_of_deleted_account(*, user_id: int) -> int:
    """Every role of a user who deleted their own account goes with it (the caller audits the
    deletion). The only write to role assignments outside grant/revoke."""
    deleted, _ = RoleAssignment.objects.filter(user_id=user_id).delete()
    return deleted


def list_assignments_for(access: Access, *, region_id: int | None = None):
    """Role assignments on regions inside the actor's ROLE_MANAGE scope (optionally one subtree)."""
    qs = access.scope(RoleAssignment.objects.select_related("region", "user"), Perm.ROLE_MANAGE)
    if region_id is not None:
        region = access.regions(Perm.ROLE_MANAGE).filter(pk=region_id).first()
        if region is None:
            return qs.none()
        qs = qs.filter(subtree_q(region.path, "region"))
    return qs.order_by("region__path", "role", "id")
