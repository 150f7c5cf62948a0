"""Scope-matrix cases of the points API (collected by tests/test_scope_matrix.py). Earning rules
belong to the city (cast at city level); a ledger entry belongs to a resident of community k2,
whose district d1 and city may correct it (cast at district level)."""

from __future__ import annotations

from tests.scope import CITY_LEVEL, Case, ids

# REWARDS_MANAGE is held by district (and city) administrators.
DISTRICT_LEVEL = {"right": "district_admin", "parent": "city_admin", "child": "town_admin",
                  "sibling": "sibling_district_admin", "resident": "resident",
                  "anonymous": None}


def _rule(tree):
    from sportsman.rewards.models import PointRule

    return {"rule": PointRule.objects.create(region=tree.city, kind="per_event", points=5)}


def _entry(tree):
    from sportsman.rewards import points

    user = tree.user(home_community=tree.k2)
    return {"entry": points.award(user_id=user.pk, amount=30, reason="matrix", source="event",
                                  idempotency_key=f"matrix:{user.pk}")}


def _rule_set(tree, state) -> bool:
    from sportsman.rewards.models import PointRule

    return PointRule.objects.filter(region=tree.city, kind="per_30_minutes", points=7).exists()


def _reversed(tree, state) -> bool:
    from sportsman.rewards.models import PointEntry

    return PointEntry.objects.filter(reverses=state["entry"]).exists()


CASES: list[Case] = [
    Case("points.rules of the city", op="GET /regions/{region_id}/point-rules", setup=_rule,
         call=lambda c, t, s: c.get(f"/api/v1/regions/{t.city.pk}/point-rules"),
         sees=lambda r, t, s: r.status_code == 200 and s["rule"].pk in ids(r),
         cast=CITY_LEVEL),
    Case("points.set a rule of the city", op="PUT /regions/{region_id}/point-rules",
         call=lambda c, t, s: c.json("put", f"/api/v1/regions/{t.city.pk}/point-rules",
                                     {"kind": "per_30_minutes", "points": 7, "daily_cap": 70}),
         changed=_rule_set, cast=CITY_LEVEL),
    Case("points.reverse an entry of a k2 resident", op="POST /point-entries/{entry_id}/reverse",
         setup=_entry,
         call=lambda c, t, s: c.json("post", f"/api/v1/point-entries/{s['entry'].pk}/reverse",
                                     {"reason": "matrix"}),
         changed=_reversed, cast=DISTRICT_LEVEL),
]
