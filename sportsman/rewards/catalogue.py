"""The rewards catalogue: staff keep rewards with stock; residents redeem them for points and get
an order with a one-time code; a merchant fulfils the order at the counter by scanning the code.

Stock moves by conditional UPDATEs (``stock = stock - 1 WHERE stock > 0``) and points through
``points.spend`` in the same transaction, so under concurrent redemptions neither stock nor a
balance can go below zero and a failed redemption leaves nothing behind. An order is fulfilled by
one conditional UPDATE on its status, so a code works once. Lock order: the user's balance row,
then the reward row.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Region, subtree_q
from sportsman.rewards import merchants as merchant_services
from sportsman.rewards import points
from sportsman.rewards.models import (
    Merchant,
    MerchantStatus,
    OrderStatus,
    PointEntry,
    Reward,
    RewardKind,
    RewardOrder,
)

CODE_PREFIX = "SPR:"  # what the order's QR code holds before the code (the counter strips it)


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _("This reward is out of stock.")


class OverPersonLimit(Conflict):
    code = "over_person_limit"
    default_message = _("You have already redeemed this reward as often as allowed.")


class OrderNotPending(Conflict):
    code = "order_not_pending"
    default_message = _("This order has already been collected or cancelled.")


def _access(actor: Any) -> Access:
    return actor if isinstance(actor, Access) else access_for_user(actor)


# --- staff: the catalogue ----------------------------------------------------------------------

FIELDS = ("name", "kind", "description", "points_cost", "stock", "per_person_limit",
          "merchant_id", "is_active")


def _validated(values: dict[str, Any], region: Region) -> dict[str, Any]:
    problems: dict[str, list[Any]] = {}
    if "name" in values:
        values["name"] = (values["name"] or "").strip()[:100]
        if not values["name"]:
            problems["name"] = [_("Required.")]
    if "kind" in values and values["kind"] not in RewardKind.values:
        problems["kind"] = [_("Unknown kind.")]
    if "points_cost" in values and (values["points_cost"] is None or values["points_cost"] < 1):
        problems["points_cost"] = [_("Must be at least 1.")]
    if "stock" in values and (values["stock"] is None or values["stock"] < 0):
        problems["stock"] = [_("Must not be negative.")]
    if values.get("per_person_limit") is not None and values["per_person_limit"] < 1:
        problems["per_person_limit"] = [_("Must be at least 1.")]
    if values.get("merchant_id") is not None:
        ok = (Merchant.objects.filter(pk=values["merchant_id"], status=MerchantStatus.APPROVED)
              .filter(subtree_q(region.path, "region")).exists())
        if not ok:
            problems["merchant_id"] = [_("Choose an approved merchant in the reward's region.")]
    if problems:
        raise InvalidInput(fields=problems)
    return values


def create_reward(*, actor: Any, region_id: int, name: str, kind: str, points_cost: int,
                  stock: int = 0, description: str = "", per_person_limit: int | None = None,
                  merchant_id: int | None = None, is_active: bool = True,
                  request: Any = None) -> Reward:
    """Add a reward to the catalogue of ``region_id``. Requires ``REWARDS_MANAGE`` over the region
    (else ``not_found``). A merchant, when given, must be approved and inside the region. Audited."""
    access = _access(actor)
    access.require_anywhere(Perm.REWARDS_MANAGE)
    region = access.regions(Perm.REWARDS_MANAGE).filter(pk=region_id).first()
    if region is None:
        raise NotFound()
    values = _validated({"name": name, "kind": kind, "description": description or "",
                         "points_cost": points_cost, "stock": stock,
                         "per_person_limit": per_person_limit, "merchant_id": merchant_id,
                         "is_active": is_active}, region)
    with transaction.atomic():
        reward = Reward.objects.create(region=region, **values)
        audit.record(actor=access.user, action="reward.create", obj=reward, region=region,
                     request=request, data={k: v for k, v in values.items()
                                            if k != "description"})
    return reward


def update_reward(*, actor: Any, reward_id: int, changes: dict[str, Any],
                  request: Any = None) -> Reward:
    """Change fields of a reward (``FIELDS``; ``stock`` sets the count left). Requires
    ``REWARDS_MANAGE`` over the reward's region (else ``not_found``). Audited with the changes."""
    access = _access(actor)
    access.require_anywhere(Perm.REWARDS_MANAGE)
    reward = (access.scope(Reward.objects.select_related("region"), Perm.REWARDS_MANAGE)
              .filter(pk=reward_id).first())
    if reward is None:
        raise NotFound()
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise InvalidInput(fields={k: [_("Unknown field.")] for k in sorted(unknown)})
    values = _validated(dict(changes), reward.region)
    if not values:
        return reward
    with transaction.atomic():
        Reward.objects.filter(pk=reward.pk).update(**values, updated_at=timezone.now())
        audit.record(actor=access.user, action="reward.update", obj=reward, region=reward.region,
                     request=request, data={k: v for k, v in values.items()
                                            if k != "description"})
    reward.refresh_from_db()
    return reward


def list_rewards_for(access: Access) -> QuerySet[Reward]:
    """Every reward in the actor's ``REWARDS_MANAGE`` scope (staff console)."""
    return (access.scope(Reward.objects.select_related("region", "merchant"),
                         Perm.REWARDS_MANAGE).order_by("region__path", "points_cost", "id"))


# --- residents: the catalogue and redeeming ------------------------------------------------------

def catalogue_for(region: Region | None) -> QuerySet[Reward]:
    """The active rewards offered in ``region``: those of the region and of every region above
    it (a city's rewards are offered in all its communities)."""
    if region is None:
        return Reward.objects.none()
    return (Reward.objects.filter(is_active=True, region_id__in=[*region.ancestor_ids, region.pk])
            .select_related("merchant").order_by("points_cost", "id"))


def redeem(*, actor: Any, reward_id: int) -> RewardOrder:
    """Redeem a reward for the actor's points: one order with a one-time code. The reward must
    be active and offered in the actor's home region (else ``not_found``); refused when out of
    stock (``out_of_stock``), past the reward's per-person limit (``over_person_limit``, counting
    orders not cancelled) or short of points (``insufficient_points``) — in every refusal nothing
    is written. Stock and balance are exact under concurrency (conditional UPDATEs in one
    transaction; the points entry is keyed ``order:<order id>``). No audit (the resident's own
    act); the ledger is the record."""
    user = actor.user if isinstance(actor, Access) else actor
    if user is None or not user.is_authenticated:
        from sportsman.core.errors import NotAuthenticated

        raise NotAuthenticated()
    reward = Reward.objects.filter(pk=reward_id, is_active=True).select_related("region").first()
    home = user.home_community
    if reward is None or (home is not None and not reward.region.contains(home)):
        raise NotFound()
    with transaction.atomic():
        points.lock_balance(user.pk)
        if reward.per_person_limit is not None:
            taken = (RewardOrder.objects.filter(user_id=user.pk, reward_id=reward.pk)
                     .exclude(status=OrderStatus.CANCELLED).count())
            if taken >= reward.per_person_limit:
                raise OverPersonLimit()
        moved = (Reward.objects.filter(pk=reward.pk, is_active=True, stock__gt=0)
                 .update(stock=F("stock") - 1, updated_at=timezone.now()))
        if not moved:
            raise OutOfStock()
        # The order goes in first so its id gives the spend a stable, unique key.
        order = RewardOrder.objects.create(user_id=user.pk, reward=reward,
                                           points=reward.points_cost)
        points.spend(user_id=user.pk, amount=reward.points_cost, reason=reward.name,
                     source="order", idempotency_key=f"order:{order.pk}", actor=user)
    return order


def cancel_order(*, actor: Any, order_id: int) -> RewardOrder:
    """Cancel one of the actor's own pending orders: the points come back by a reversal of the
    order's spend entry and the item goes back into stock. Another's order is ``not_found``; a
    collected or cancelled one ``order_not_pending`` (a conditional UPDATE: cancelling and
    collecting at once, only one wins). No audit (the resident's own act)."""
    user = actor.user if isinstance(actor, Access) else actor
    order = RewardOrder.objects.select_related("reward").filter(pk=order_id,
                                                                 user_id=user.pk).first()
    if order is None:
        raise NotFound()
    with transaction.atomic():
        points.lock_balance(user.pk)
        moved = (RewardOrder.objects.filter(pk=order.pk, status=OrderStatus.PENDING)
                 .update(status=OrderStatus.CANCELLED, updated_at=timezone.now()))
        if not moved:
            raise OrderNotPending()
        Reward.objects.filter(pk=order.reward_id).update(stock=F("stock") + 1,
                                                         updated_at=timezone.now())
        spent = PointEntry.objects.get(idempotency_key=f"order:{order.pk}")
        points.reverse(entry=spent, reason=order.reward.name, source="refund", actor=user)
    order.refresh_from_db()
    return order


def my_orders(user: Any) -> QuerySet[RewardOrder]:
    return (RewardOrder.objects.filter(user_id=user.pk)
            .select_related("reward", "reward__merchant").order_by("-id"))


# --- merchants: the counter --------------------------------------------------------------------

def normalise_code(code: str) -> str:
    code = (code or "").strip().upper()
    if code.startswith(CODE_PREFIX):
        code = code[len(CODE_PREFIX):]
    return code.replace(" ", "").replace("-", "")


def _notify_collected(user_id: int, order_id: int, name: str) -> None:
    from django.contrib.auth import get_user_model

    from sportsman.notifications.services import notify

    notify(users=get_user_model().objects.filter(pk=user_id), category="reward",
           title=gettext("You collected %(name)s.") % {"name": name},
           link="/rewards/orders/", dedupe_key=f"order-collected:{order_id}")


def fulfil_order(*, actor: Any, code: str, request: Any = None) -> RewardOrder:
    """A merchant hands over a redeemed reward: the order with ``code`` becomes fulfilled, once.
    The actor must work the counter (``require_merchant``) for the reward's merchant, or, for a
    reward without a merchant, for any approved merchant inside the reward's region; otherwise
    ``forbidden``. An unknown code is ``not_found``; a collected or cancelled order
    ``order_not_pending`` (one conditional UPDATE: two counters scanning at once, one wins).
    Audited; the resident is notified after commit."""
    access = _access(actor)
    access.require_anywhere(Perm.MERCHANT_OPERATE)
    normal = normalise_code(code)
    if not normal:
        raise InvalidInput(_("Please enter the code."), fields={"code": [_("Required.")]})
    order = (RewardOrder.objects.select_related("reward", "reward__region")
             .filter(code=normal).first())
    if order is None:
        raise NotFound(_("No order has this code."), code="unknown_code")
    reward = order.reward
    merchant: Merchant | None
    if reward.merchant_id is not None:
        try:
            merchant = merchant_services.require_merchant(actor=access,
                                                          merchant_id=reward.merchant_id)
        except NotFound:
            raise Forbidden(_("This reward is collected at another merchant.")) from None
    else:
        merchant = next((m for m in merchant_services.operable_merchants(access)
                         if reward.region.contains(m.region)), None)
        if merchant is None:
            raise Forbidden(_("This reward is collected at another merchant."))
    now = timezone.now()
    with transaction.atomic():
        moved = (RewardOrder.objects.filter(pk=order.pk, status=OrderStatus.PENDING)
                 .update(status=OrderStatus.FULFILLED, fulfilled_at=now,
                         fulfilled_by=access.user, updated_at=now))
        if not moved:
            raise OrderNotPending()
        audit.record(actor=access.user, action="reward_order.fulfil", obj=order,
                     region=merchant.region, request=request,
                     data={"merchant_id": merchant.pk, "reward_id": reward.pk})
        transaction.on_commit(partial(_notify_collected, order.user_id, order.pk, reward.name))
    order.refresh_from_db()
    return order


def fulfilled_by_merchants(actor: Any) -> QuerySet[RewardOrder]:
    """Orders the actor handed over at their counter, newest first (the counter's recent list)."""
    access = _access(actor)
    return (RewardOrder.objects.filter(status=OrderStatus.FULFILLED, fulfilled_by=access.user)
            .select_related("reward").order_by("-fulfilled_at", "-id"))

