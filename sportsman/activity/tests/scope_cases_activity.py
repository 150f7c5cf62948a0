"""Scope-matrix cases of the activity API (collected by tests/test_scope_matrix.py): the target is
community k2, inside town t1, with a resident who exercised there this week."""

from __future__ import annotations

from tests.scope import Case


def _k2_activity(tree):
    from sportsman.activity.models import RegionDay, UserDay
    from sportsman.activity.selectors import today

    resident = tree.user(home_community=tree.k2, nickname="矩阵居民")
    UserDay.objects.create(user=resident, day=today(), region=tree.k2, minutes=42, sessions=1,
                           verified_minutes=42, verified_sessions=1)
    RegionDay.objects.create(region=tree.k2, day=today(), minutes=42, sessions=1,
                             verified_minutes=42, active_users=1)
    from sportsman.activity import ranktables

    ranktables.sync(resident.pk, [today()])  # rows written directly: the rank tables follow
    return {"resident": resident}


def _sees_k2(response, tree, state) -> bool:
    if response.status_code != 200:
        return False
    body = response.json()
    return body["minutes"] == 42 and [r["user_id"] for r in body["top"]] == [state["resident"].pk]


CASES: list[Case] = [
    Case("activity.of region k2", op="GET /regions/{region_id}/activity", setup=_k2_activity,
         call=lambda c, t, s: c.get(f"/api/v1/regions/{t.k2.pk}/activity?period=week"),
         sees=_sees_k2),
]
