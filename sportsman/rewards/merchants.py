"""Merchants: a resident registers a business, staff of its region review it, and the approved
owner works the counter (fulfils reward orders, redeems vouchers) with the merchant role on the
merchant's region.

Services write (``register_merchant``, ``review_merchant``); ``merchants_of`` and
``require_merchant`` are what counter code (orders here, vouchers next door) asks before acting.
A merchant may operate venues (``Merchant.facilities``, inside its region), chosen when it
registers and confirmed or changed by the reviewer: venue-scoped vouchers are redeemed only by
merchants operating one of the campaign's venues.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Region, Role, RoleAssignment, subtree_q
from sportsman.rewards.models import Merchant, MerchantStatus


class MerchantNotApproved(Conflict):
    code = "merchant_not_approved"
    default_message = _("This merchant is not approved.")


class AlreadyReviewed(Conflict):
    code = "merchant_already_reviewed"
    default_message = _("This application has already been reviewed.")


def _access(actor: Any) -> Access:
    return actor if isinstance(actor, Access) else access_for_user(actor)


def _user(actor: Any) -> Any:
    return actor.user if isinstance(actor, Access) else actor


def _field_error(field: str, message: Any) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def venue_ids(region: Region, ids: list[int] | None, message: Any) -> list[int] | None:
    """``ids`` without repeats, sorted, when every one is a facility inside ``region``'s subtree;
    else ``invalid`` on the field ``facilities`` with ``message``. None stays None ("unchanged")."""
    from sportsman.facilities.models import Facility

    if ids is None:
        return None
    unique = sorted(set(ids))
    if unique and (Facility.objects.filter(subtree_q(region.path, "region"), pk__in=unique)
                   .count() != len(unique)):
        raise _field_error("facilities", message)
    return unique


_VENUES_OUTSIDE = _("Every venue must lie inside the merchant's region.")


def register_merchant(*, actor: Any, name: str, region_id: int, address: str,
                      contact_phone: str = "", licence_no: str = "",
                      sports: list[int] | None = None,
                      facilities: list[int] | None = None) -> Merchant:
    """Apply to become a merchant: any logged-in resident may; the application waits for review
    (status pending) by staff of ``region_id``. ``facilities`` are the venues it operates, each
    inside the region. Refuses blank names or addresses, an unknown region, unknown sports,
    venues outside the region (``invalid``). No audit entry (a resident's own write); nothing
    else happens until review."""
    user = _user(actor)
    _access(actor).require_login()
    name, address = (name or "").strip(), (address or "").strip()
    if not name:
        raise _field_error("name", _("Please give the merchant's name."))
    if not address:
        raise _field_error("address", _("Please give the merchant's address."))
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        raise _field_error("region_id", _("No such region."))
    from sportsman.core.models import Sport

    sport_ids = sorted(set(sports or []))
    if sport_ids and Sport.objects.filter(pk__in=sport_ids).count() != len(sport_ids):
        raise _field_error("sports", _("Unknown sport."))
    venues = venue_ids(region, facilities, _VENUES_OUTSIDE)
    with transaction.atomic():
        merchant = Merchant.objects.create(
            name=name[:100], region=region, owner=user, address=address[:200],
            contact_phone=(contact_phone or "").strip()[:20],
            licence_no=(licence_no or "").strip()[:32])
        if sport_ids:
            merchant.sports.set(sport_ids)
        if venues:
            merchant.facilities.set(venues)
    return merchant


def _notify_owner(owner_id: int, merchant_id: int, approved: bool, name: str) -> None:
    from django.contrib.auth import get_user_model

    from sportsman.notifications.services import notify

    title = (gettext("Your merchant application for %(name)s was approved.") if approved
             else gettext("Your merchant application for %(name)s was not approved."))
    notify(users=get_user_model().objects.filter(pk=owner_id), category="reward",
           title=title % {"name": name}, link="/rewards/merchants/mine/",
           dedupe_key=f"merchant-review:{merchant_id}")


def review_merchant(*, actor: Any, merchant_id: int, approve: bool, note: str = "",
                    facilities: list[int] | None = None, request: Any = None) -> Merchant:
    """Approve or reject a pending application. Requires ``MERCHANT_REVIEW`` over the merchant's
    region (else ``not_found``: the merchant is not in the actor's scope). Approving grants the
    owner the merchant role on the merchant's region (once; a role they already hold is kept), so
    they can use the counter; with ``facilities`` it also sets the venues the merchant operates
    (each inside its region, else ``invalid`` and nothing written; None keeps the applicant's
    choice). A merchant reviewed before is refused
    (``merchant_already_reviewed``): the status moves by a conditional UPDATE, so two reviewers
    racing get one winner. Audited; the owner is notified after commit."""
    access = _access(actor)
    user = access.user
    access.require_anywhere(Perm.MERCHANT_REVIEW)
    merchant = (access.scope(Merchant.objects.select_related("region"), Perm.MERCHANT_REVIEW)
                .filter(pk=merchant_id).first())
    if merchant is None:
        raise NotFound()
    venues = venue_ids(merchant.region, facilities, _VENUES_OUTSIDE) if approve else None
    status = MerchantStatus.APPROVED if approve else MerchantStatus.REJECTED
    now = timezone.now()
    note = (note or "").strip()[:200]
    with transaction.atomic():
        moved = (Merchant.objects.filter(pk=merchant.pk, status=MerchantStatus.PENDING)
                 .update(status=status, review_note=note, reviewed_by=user, reviewed_at=now,
                         updated_at=now))
        if not moved:
            raise AlreadyReviewed()
        if approve:
            # The reviewer holds an administrator role over the region, which covers granting the
            # (non-administrator) merchant role there; insert-ignore keeps one role per owner.
            RoleAssignment.objects.bulk_create(
                [RoleAssignment(user_id=merchant.owner_id, role=Role.MERCHANT,
                                region=merchant.region, granted_by=user)],
                ignore_conflicts=True)
        if venues is not None:
            merchant.facilities.set(venues)
        data: dict[str, Any] = {"owner_id": merchant.owner_id, "note": note}
        if venues is not None:
            data["facilities"] = venues
        audit.record(actor=user, action="merchant.approve" if approve else "merchant.reject",
                     obj=merchant, region=merchant.region, request=request, data=data)
        transaction.on_commit(partial(_notify_owner, merchant.owner_id, merchant.pk, approve,
                                      merchant.name))
    merchant.refresh_from_db()
    return merchant


def set_venues(*, actor: Any, merchant_id: int, facilities: list[int],
               request: Any = None) -> Merchant:
    """Change the venues an approved merchant operates (a merchant opens or closes a venue).
    Requires ``MERCHANT_REVIEW`` over the merchant's region (else ``not_found``); each venue
    inside its region (else ``invalid`` on ``facilities`` and nothing written); a merchant not
    approved is refused (``merchant_not_approved``: its venues are chosen at review). Audited with
    the venues before and after."""
    access = _access(actor)
    access.require_anywhere(Perm.MERCHANT_REVIEW)
    with transaction.atomic():
        merchant = (access.scope(Merchant.objects.select_for_update().select_related("region"),
                                 Perm.MERCHANT_REVIEW)
                    .filter(pk=merchant_id).first())
        if merchant is None:
            raise NotFound()
        if merchant.status != MerchantStatus.APPROVED:
            raise MerchantNotApproved()
        venues = venue_ids(merchant.region, facilities, _VENUES_OUTSIDE) or []
        before = sorted(merchant.facilities.values_list("id", flat=True))
        merchant.facilities.set(venues)
        audit.record(actor=access.user, action="merchant.venues", obj=merchant,
                     region=merchant.region, request=request,
                     data={"before": before, "after": sorted(venues)})
    return merchant


def merchants_of(user: Any) -> QuerySet[Merchant]:
    """The approved merchants ``user`` owns (none for an anonymous user)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Merchant.objects.none()
    return Merchant.objects.filter(owner_id=user.pk, status=MerchantStatus.APPROVED)


def applications_of(user: Any) -> QuerySet[Merchant]:
    """Every merchant ``user`` registered, whatever its status (their "my merchants" list)."""
    return Merchant.objects.filter(owner_id=user.pk).select_related("region").order_by("-id")


def require_merchant(*, actor: Any, merchant_id: int) -> Merchant:
    """The merchant ``actor`` works at the counter for: it must exist, be owned by the actor, be
    approved, and the actor must hold ``MERCHANT_OPERATE`` over its region. Raises
    ``not_authenticated``, ``not_found`` (not theirs), ``merchant_not_approved`` or
    ``forbidden`` (no merchant role there)."""
    access = _access(actor)
    access.require_login()
    merchant = (Merchant.objects.select_related("region")
                .filter(pk=merchant_id, owner_id=access.user.pk).first())
    if merchant is None:
        raise NotFound()
    if merchant.status != MerchantStatus.APPROVED:
        raise MerchantNotApproved()
    if not access.can(Perm.MERCHANT_OPERATE, merchant.region):
        raise Forbidden()
    return merchant


def operable_merchants(actor: Any) -> list[Merchant]:
    """Every merchant ``actor`` may work the counter for (approved, owned, merchant role over its
    region): what a counter page offers to choose from."""
    access = _access(actor)
    if not access.is_authenticated:
        return []
    return [m for m in merchants_of(access.user).select_related("region")
            if access.can(Perm.MERCHANT_OPERATE, m.region)]


def list_merchants_for(access: Access, *, status: str | None = None) -> QuerySet[Merchant]:
    """Merchants in the actor's ``MERCHANT_REVIEW`` scope, optionally of one status."""
    qs = access.scope(Merchant.objects.select_related("region", "owner"), Perm.MERCHANT_REVIEW)
    if status:
        if status not in MerchantStatus.values:
            raise _field_error("status", _("Unknown status."))
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")
