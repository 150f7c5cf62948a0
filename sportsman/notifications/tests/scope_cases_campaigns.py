"""Scope-matrix cases of the campaign operations (collected by tests/test_scope_matrix.py): a
draft campaign on town t1 and one resident of k1."""

from __future__ import annotations

from tests.scope import Case, ids


def _draft(tree):
    from sportsman.notifications.models import Campaign

    c = Campaign.objects.create(region=tree.t1, title="矩阵活动", created_by=tree.town_admin)
    return {"c": c}


def _status(s) -> str:
    s["c"].refresh_from_db()
    return s["c"].status


def _base(s) -> str:
    return f"/api/v1/console/campaigns/{s['c'].pk}"


CASES: list[Case] = [
    Case("campaigns.list (sees t1's campaign)", op="GET /console/campaigns", setup=_draft,
         call=lambda c, t, s: c.get("/api/v1/console/campaigns"),
         sees=lambda r, t, s: r.status_code == 200 and s["c"].pk in ids(r)),
    Case("campaigns.preview on t1 (counts k1's resident)", op="POST /console/campaigns/preview",
         call=lambda c, t, s: c.json("post", "/api/v1/console/campaigns/preview",
                                     {"region_id": t.t1.pk, "audience": {}}),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["count"] >= 1),
    Case("campaigns.create on t1", op="POST /console/campaigns",
         call=lambda c, t, s: c.json("post", "/api/v1/console/campaigns",
                                     {"region_id": t.t1.pk, "title": "矩阵新活动"}),
         changed=lambda t, s: __import__(
             "sportsman.notifications.models", fromlist=["x"]).Campaign.objects.filter(
             title="矩阵新活动").exists()),
    Case("campaigns.detail of t1's campaign", op="GET /console/campaigns/{campaign_id}",
         setup=_draft, call=lambda c, t, s: c.get(_base(s)),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["c"].pk),
    Case("campaigns.send t1's campaign", op="POST /console/campaigns/{campaign_id}/send",
         setup=_draft, call=lambda c, t, s: c.json("post", _base(s) + "/send", {}),
         changed=lambda t, s: _status(s) != "draft"),
    Case("campaigns.cancel t1's campaign", op="POST /console/campaigns/{campaign_id}/cancel",
         setup=_draft, call=lambda c, t, s: c.post(_base(s) + "/cancel"),
         changed=lambda t, s: _status(s) == "cancelled"),
]
