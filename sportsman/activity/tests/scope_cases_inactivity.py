"""Scope-matrix case for the inactivity summary: a nudge to a resident of k2 (in town t1)."""

from __future__ import annotations

from tests.scope import Case


def _k2_nudge(tree):
    from django.utils import timezone

    from sportsman.activity.models import InactivityNudge

    resident = tree.user(home_community=tree.k2)
    return {"nudge": InactivityNudge.objects.create(
        user=resident, region=tree.k2, week=timezone.localdate(), baseline_minutes=100,
        recent_minutes=0, sent_at=timezone.now())}


CASES: list[Case] = [
    Case("activity.inactivity of t1 (counts a k2 nudge)", op="GET /regions/{region_id}/inactivity",
         setup=_k2_nudge,
         call=lambda c, t, s: c.get(f"/api/v1/regions/{t.t1.pk}/inactivity"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["sent"] == 1),
]
