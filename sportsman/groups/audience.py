"""The groups' audience filter for staff campaigns (see ``notifications.audience``): the
active members of one group."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.groups.models import Group, Membership, MemberStatus
from sportsman.notifications.audience import source


@source("group", label=_("members of a group"))
def group_members(group_id: int) -> Q | None:
    if not Group.objects.filter(pk=group_id).exists():
        return None
    return Q(pk__in=Membership.objects.filter(group_id=group_id, status=MemberStatus.ACTIVE)
             .values("user_id"))
