"""Builders shared by the catalogue and merchant tests (and their scope cases)."""

from __future__ import annotations

from sportsman.regions.models import RoleAssignment
from sportsman.rewards import points
from sportsman.rewards.models import Merchant, MerchantStatus, Reward


def make_merchant(tree, *, region=None, owner=None, name="动力体育用品",
                  status=MerchantStatus.APPROVED, role=True) -> Merchant:
    region = region or tree.k2
    owner = owner or tree.user(home_community=region if region.level == "community" else None)
    merchant = Merchant.objects.create(name=name, region=region, owner=owner, address="路 1 号",
                                       status=status)
    if role and status == MerchantStatus.APPROVED:
        RoleAssignment.objects.get_or_create(user=owner, role="merchant", region=region)
    return merchant


def make_reward(region, *, cost=100, stock=5, merchant=None, limit=None,
                name="运动水杯") -> Reward:
    return Reward.objects.create(region=region, name=name, kind="goods", points_cost=cost,
                                 stock=stock, merchant=merchant, per_person_limit=limit)


def rich(tree, amount=1000, community=None):
    user = tree.user(home_community=community or tree.k2)
    points.award(user_id=user.pk, amount=amount, reason="seed", source="staff",
                 idempotency_key=f"seed:{user.pk}")
    return user
