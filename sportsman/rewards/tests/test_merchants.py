"""Merchant registration and review; who works a merchant's counter."""

from __future__ import annotations

import pytest

from sportsman.core.errors import DomainError, Forbidden, InvalidInput, NotAuthenticated, NotFound
from sportsman.core.models import AuditEntry
from sportsman.regions.models import RoleAssignment
from sportsman.rewards import merchants
from sportsman.rewards.models import Merchant, MerchantStatus

pytestmark = pytest.mark.django_db


def _apply(tree, user=None, region=None, **kw):
    return merchants.register_merchant(
        actor=user or tree.resident, name=kw.pop("name", "动力体育用品"),
        region_id=(region or tree.k2).pk, address="新南路 1 号", contact_phone="0573-1234567",
        licence_no="91330402MA2B", sports=[], **kw)


def test_a_resident_applies_and_waits_for_review(tree):
    merchant = _apply(tree)

    assert merchant.status == MerchantStatus.PENDING and merchant.owner == tree.resident
    assert not merchants.merchants_of(tree.resident).exists()
    assert list(merchants.applications_of(tree.resident)) == [merchant]


@pytest.mark.parametrize("kw", [{"name": " "}, {"address": ""}, {"region_id": 999999}])
def test_bad_applications_are_refused_and_nothing_is_written(tree, kw):
    base = {"actor": tree.resident, "name": "店", "region_id": tree.k2.pk, "address": "路",
            "contact_phone": "", "licence_no": "", "sports": []}
    with pytest.raises(InvalidInput):
        merchants.register_merchant(**{**base, **kw})
    assert not Merchant.objects.exists()


def test_anonymous_cannot_apply(tree):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        _apply(tree, user=AnonymousUser())


def test_approval_grants_the_merchant_role_is_audited_and_notifies_the_owner(
        tree, django_capture_on_commit_callbacks):
    from sportsman.notifications.models import Notification

    merchant = _apply(tree)
    with django_capture_on_commit_callbacks(execute=True):
        reviewed = merchants.review_merchant(actor=tree.town_admin, merchant_id=merchant.pk,
                                             approve=True, note="ok")

    assert reviewed.status == MerchantStatus.APPROVED and reviewed.reviewed_by == tree.town_admin
    assert RoleAssignment.objects.filter(user=tree.resident, role="merchant",
                                         region=tree.k2).exists()
    assert AuditEntry.objects.filter(action="merchant.approve",
                                     object_id=str(merchant.pk)).exists()
    assert Notification.objects.filter(user=tree.resident, category="reward").count() == 1
    assert list(merchants.merchants_of(tree.resident)) == [merchant]
    assert merchants.require_merchant(actor=tree.resident, merchant_id=merchant.pk) == merchant


def test_rejection_grants_nothing(tree):
    merchant = _apply(tree)
    merchants.review_merchant(actor=tree.district_admin, merchant_id=merchant.pk, approve=False,
                              note="licence unreadable")

    merchant.refresh_from_db()
    assert merchant.status == MerchantStatus.REJECTED and merchant.review_note
    assert not RoleAssignment.objects.filter(user=tree.resident).exists()
    with pytest.raises(DomainError) as exc:
        merchants.require_merchant(actor=tree.resident, merchant_id=merchant.pk)
    assert exc.value.code == "merchant_not_approved"


def test_a_second_review_is_refused(tree):
    merchant = _apply(tree)
    merchants.review_merchant(actor=tree.town_admin, merchant_id=merchant.pk, approve=True,
                              note="")
    with pytest.raises(DomainError) as exc:
        merchants.review_merchant(actor=tree.town_admin, merchant_id=merchant.pk, approve=False,
                                  note="")
    assert exc.value.code == "merchant_already_reviewed"
    merchant.refresh_from_db()
    assert merchant.status == MerchantStatus.APPROVED


def test_a_second_approved_merchant_in_the_region_keeps_one_role(tree):
    for name in ("甲", "乙"):
        m = _apply(tree, name=name)
        merchants.review_merchant(actor=tree.town_admin, merchant_id=m.pk, approve=True, note="")
    assert RoleAssignment.objects.filter(user=tree.resident, role="merchant").count() == 1
    assert merchants.merchants_of(tree.resident).count() == 2


@pytest.mark.parametrize("who", ["sibling_town_admin", "community_admin", "other_city_admin",
                                 "resident", "venue_manager"])
def test_staff_outside_the_merchants_region_cannot_review(tree, who):
    merchant = _apply(tree, user=tree.user())
    with pytest.raises((NotFound, Forbidden)):
        merchants.review_merchant(actor=getattr(tree, who), merchant_id=merchant.pk,
                                  approve=True, note="")
    merchant.refresh_from_db()
    assert merchant.status == MerchantStatus.PENDING


def test_require_merchant_refuses_someone_elses_merchant_and_a_missing_role(tree):
    merchant = _apply(tree)
    merchants.review_merchant(actor=tree.town_admin, merchant_id=merchant.pk, approve=True,
                              note="")
    with pytest.raises(NotFound):
        merchants.require_merchant(actor=tree.user(), merchant_id=merchant.pk)
    RoleAssignment.objects.filter(user=tree.resident, role="merchant").delete()
    with pytest.raises(Forbidden):
        merchants.require_merchant(actor=tree.resident, merchant_id=merchant.pk)
    assert merchants.operable_merchants(tree.resident) == []


def test_review_list_is_scoped_and_filtered_by_status(tree):
    here = _apply(tree, user=tree.user())
    there = _apply(tree, user=tree.user(), region=tree.k3)
    from sportsman.regions.access import access_for_user

    mine = merchants.list_merchants_for(access_for_user(tree.town_admin), status="pending")
    assert list(mine) == [here]
    assert there not in merchants.list_merchants_for(access_for_user(tree.town_admin))
    with pytest.raises(InvalidInput):
        merchants.list_merchants_for(access_for_user(tree.town_admin), status="bogus")
