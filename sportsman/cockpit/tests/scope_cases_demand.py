"""Scope-matrix cases for demand analysis: t1's analysis shows a demand tally of k2 (in t1)."""

from __future__ import annotations

from tests.scope import Case


def _k2_demand(tree):
    from django.utils import timezone

    from sportsman.cockpit.models import DemandTally, Watermark

    today = timezone.localdate()
    DemandTally.objects.create(region=tree.k2, day=today, signal="waitlist_unmet",
                               sport="badminton", band="weekday_evening", value=17)
    Watermark.objects.update_or_create(metric="demand:waitlist_unmet",
                                       defaults={"through": today})
    return {"period": f"{today:%Y-%m}"}


CASES: list[Case] = [
    Case("cockpit.demand of t1 (shows k2's waitlist)", op="GET /cockpit/{region_code}/demand",
         setup=_k2_demand,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.t1.code}/demand?period={s['period']}"),
         sees=lambda r, t, s: (r.status_code == 200 and any(
             row["region"]["code"] == t.k2.code and row["signals"].get("waitlist_unmet") == 17
             for row in r.json()["rows"]))),
]
