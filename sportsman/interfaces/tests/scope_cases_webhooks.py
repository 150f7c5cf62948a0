"""Scope-matrix cases of the webhook operations (collected by tests/test_scope_matrix.py): a
subscription on town t1 with one failed delivery."""

from __future__ import annotations

from tests.scope import Case, ids

ALL_STAFF = {"right", "parent", "child", "sibling"}


def _sub(tree):
    from django.utils import timezone

    from sportsman.core import crypto
    from sportsman.interfaces import webhooks
    from sportsman.interfaces.models import WebhookDelivery, WebhookSubscription

    sub = WebhookSubscription.objects.create(
        region=tree.t1, name="政务平台", url="https://hooks.example.org/in",
        event_types=["booking.created"], owner=tree.town_admin,
        secret_encrypted=crypto.encrypt(webhooks.new_secret()))
    d = WebhookDelivery.objects.create(subscription=sub, msg_id="msg_matrix", body="{}",
                                       event_type="booking.created", status="failed",
                                       not_before=timezone.now(), attempts=1)
    return {"sub": sub, "delivery": d, "secret": sub.secret_encrypted}


def _fresh(obj):
    obj.refresh_from_db()
    return obj


def _base(s) -> str:
    return f"/api/v1/console/webhooks/{s['sub'].pk}"


CASES: list[Case] = [
    Case("webhooks.event types", op="GET /console/webhooks/event-types",
         call=lambda c, t, s: c.get("/api/v1/console/webhooks/event-types"),
         sees=lambda r, t, s: r.status_code == 200 and any(
             row["name"] == "booking.created" for row in r.json()),
         allowed=ALL_STAFF),
    Case("webhooks.list (sees t1's subscription)", op="GET /console/webhooks", setup=_sub,
         call=lambda c, t, s: c.get("/api/v1/console/webhooks"),
         sees=lambda r, t, s: r.status_code == 200 and s["sub"].pk in ids(r)),
    Case("webhooks.create on t1", op="POST /console/webhooks",
         call=lambda c, t, s: c.json("post", "/api/v1/console/webhooks", {
             "region_id": t.t1.pk, "name": "矩阵平台", "url": "https://hooks.example.org/m",
             "event_types": ["voucher.redeemed"]}),
         changed=lambda t, s: __import__(
             "sportsman.interfaces.models", fromlist=["x"]).WebhookSubscription.objects.filter(
             name="矩阵平台").exists()),
    Case("webhooks.detail of t1's subscription", op="GET /console/webhooks/{subscription_id}",
         setup=_sub, call=lambda c, t, s: c.get(_base(s)),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["sub"].pk),
    Case("webhooks.edit t1's subscription", op="PATCH /console/webhooks/{subscription_id}",
         setup=_sub, call=lambda c, t, s: c.json("patch", _base(s), {"name": "改名平台"}),
         changed=lambda t, s: _fresh(s["sub"]).name == "改名平台"),
    Case("webhooks.rotate t1's secret",
         op="POST /console/webhooks/{subscription_id}/rotate-secret", setup=_sub,
         call=lambda c, t, s: c.post(_base(s) + "/rotate-secret"),
         changed=lambda t, s: _fresh(s["sub"]).secret_encrypted != s["secret"]),
    Case("webhooks.deliveries of t1's subscription",
         op="GET /console/webhooks/{subscription_id}/deliveries", setup=_sub,
         call=lambda c, t, s: c.get(_base(s) + "/deliveries"),
         sees=lambda r, t, s: r.status_code == 200 and s["delivery"].pk in ids(r)),
    Case("webhooks.one delivery of t1's subscription",
         op="GET /console/webhooks/{subscription_id}/deliveries/{delivery_id}", setup=_sub,
         call=lambda c, t, s: c.get(_base(s) + f"/deliveries/{s['delivery'].pk}"),
         sees=lambda r, t, s: r.status_code == 200 and r.json()["id"] == s["delivery"].pk),
    Case("webhooks.replay a delivery of t1's subscription",
         op="POST /console/webhooks/{subscription_id}/deliveries/{delivery_id}/replay",
         setup=_sub, call=lambda c, t, s: c.post(_base(s) + f"/deliveries/{s['delivery'].pk}/replay"),
         changed=lambda t, s: _fresh(s["delivery"]).is_replay),
    Case("webhooks.replay the failed of t1's subscription",
         op="POST /console/webhooks/{subscription_id}/replay-failed", setup=_sub,
         call=lambda c, t, s: c.post(_base(s) + "/replay-failed"),
         changed=lambda t, s: _fresh(s["delivery"]).status == "pending"),
]
