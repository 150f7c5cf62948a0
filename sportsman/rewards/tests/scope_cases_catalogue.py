"""Scope-matrix cases of the catalogue API (collected by tests/test_scope_matrix.py): rewards of
town t1 / community k2 kept by district d1 and the city; an order collected at a k2 merchant's
counter by its owner only."""

from __future__ import annotations

from sportsman.rewards.tests.scope_cases_points import DISTRICT_LEVEL
from tests.scope import Case

# MERCHANT_OPERATE: the owner of the reward's merchant (k2) may fulfil; a merchant of town t1
# (a merchant role above k2, another shop), of k3, an administrator, a resident may not.
MERCHANT_CAST = {"right": "matrix_k2_merchant", "parent": "matrix_t1_merchant",
                 "child": "community_admin", "sibling": "matrix_k3_merchant",
                 "resident": "resident", "anonymous": None}


def _reward(tree):
    from sportsman.rewards.tests.catalogue_fixtures import make_reward

    return {"reward": make_reward(tree.k2, name="矩阵奖品")}


def _order(tree):
    from sportsman.rewards import catalogue
    from sportsman.rewards.tests.catalogue_fixtures import make_merchant, make_reward, rich

    k2 = make_merchant(tree, region=tree.k2, name="新南店")
    tree.matrix_k2_merchant = k2.owner
    tree.matrix_t1_merchant = make_merchant(tree, region=tree.t1, name="新嘉店").owner
    tree.matrix_k3_merchant = make_merchant(tree, region=tree.k3, name="湘城店").owner
    order = catalogue.redeem(actor=rich(tree, 500), reward_id=make_reward(tree.k2,
                                                                          merchant=k2).pk)
    return {"order": order}


def _fulfilled(tree, state) -> bool:
    state["order"].refresh_from_db()
    return state["order"].status == "fulfilled"


def _created(tree, state) -> bool:
    from sportsman.rewards.models import Reward

    return Reward.objects.filter(name="矩阵新奖品").exists()


def _patched(tree, state) -> bool:
    state["reward"].refresh_from_db()
    return state["reward"].stock == 42


CASES: list[Case] = [
    Case("catalogue.fulfil an order of a k2 merchant", op="POST /merchant/orders/fulfil",
         setup=_order,
         call=lambda c, t, s: c.json("post", "/api/v1/merchant/orders/fulfil",
                                     {"code": s["order"].code}),
         changed=_fulfilled, allowed={"right"}, cast=MERCHANT_CAST),
    Case("catalogue.create a reward in t1", op="POST /rewards",
         call=lambda c, t, s: c.json("post", "/api/v1/rewards", {
             "region_id": t.t1.pk, "name": "矩阵新奖品", "kind": "goods", "points_cost": 10,
             "stock": 3}),
         changed=_created, cast=DISTRICT_LEVEL),
    Case("catalogue.change a reward of k2", op="PATCH /rewards/{reward_id}", setup=_reward,
         call=lambda c, t, s: c.json("patch", f"/api/v1/rewards/{s['reward'].pk}",
                                     {"stock": 42}),
         changed=_patched, cast=DISTRICT_LEVEL),
]
