"""Scope-matrix cases for the cockpit's figures: t1's cockpit counts a tally of k2 (in t1)."""

from __future__ import annotations

from tests.scope import Case

STAFF = {"right", "parent", "child", "sibling"}


def _k2_tally(tree):
    from django.utils import timezone

    from sportsman.cockpit import tallies
    from sportsman.cockpit.models import Tally, Watermark

    today = timezone.localdate()
    Tally.objects.create(region=tree.k2, day=today, metric="exercise_minutes", value=42)
    Watermark.objects.update_or_create(metric="exercise_minutes", defaults={"through": today})
    tallies.roll_up_months(["exercise_minutes"])
    return {"period": f"{today:%Y-%m}"}


CASES: list[Case] = [
    Case("cockpit.summary of t1 (counts k2's minutes)", op="GET /cockpit/{region_code}/summary",
         setup=_k2_tally,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.t1.code}/summary?period={s['period']}"),
         sees=lambda r, t, s: (r.status_code == 200
                               and r.json()["figures"]["exercise_minutes"] == 42)),
    Case("cockpit.series of t1 (counts k2's minutes)", op="GET /cockpit/{region_code}/series",
         setup=_k2_tally,
         call=lambda c, t, s: c.get(f"/api/v1/cockpit/{t.t1.code}/series?metric=exercise_minutes"
                                    f"&period={s['period']}"),
         sees=lambda r, t, s: (r.status_code == 200 and sum(
             p["values"]["exercise_minutes"] for p in r.json()["points"]) == 42)),
    Case("cockpit.metrics (any cockpit holder)", op="GET /cockpit/metrics",
         call=lambda c, t, s: c.get("/api/v1/cockpit/metrics"),
         sees=lambda r, t, s: r.status_code == 200 and any(
             m["key"] == "exercise_minutes" for m in r.json()["metrics"]),
         allowed=STAFF),
]
