"""Reads of associations used by more than one caller: which associations a user manages (the
object-level access of association administrators; staff access goes through regions.access)."""

from __future__ import annotations

from django.db.models import QuerySet

from sportsman.associations.models import Association


def managed_by(user) -> QuerySet[Association]:
    """The associations whose profile and members ``user`` manages."""
    if not user.is_authenticated:
        return Association.objects.none()
    return Association.objects.filter(memberships__user=user, memberships__manages=True,
                                      memberships__left_on__isnull=True).distinct()


def manages(user, association_id: int) -> bool:
    return managed_by(user).filter(pk=association_id).exists()
