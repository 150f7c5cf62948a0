"""Scope-matrix cases of the merchants API (collected by tests/test_scope_matrix.py): an
application for a merchant in community k2, reviewed by town t1's staff and above."""

from __future__ import annotations

from tests.scope import Case, ids


def _application(tree):
    from sportsman.rewards.models import MerchantStatus
    from sportsman.rewards.tests.catalogue_fixtures import make_merchant

    return {"merchant": make_merchant(tree, region=tree.k2, status=MerchantStatus.PENDING)}


def _approved(tree, state) -> bool:
    state["merchant"].refresh_from_db()
    return state["merchant"].status == "approved"


def _approved_with_venue(tree):
    from sportsman.facilities.tests.factories import make_facility
    from sportsman.rewards.tests.catalogue_fixtures import make_merchant

    return {"merchant": make_merchant(tree, region=tree.k2),
            "venue": make_facility(tree.k2, name="新南百姓健身房")}


def _operates(tree, state) -> bool:
    return list(state["merchant"].facilities.values_list("id", flat=True)) == [state["venue"].pk]


CASES: list[Case] = [
    Case("merchants.list (sees a k2 application)", op="GET /merchants", setup=_application,
         call=lambda c, t, s: c.get("/api/v1/merchants?status=pending"),
         sees=lambda r, t, s: r.status_code == 200 and s["merchant"].pk in ids(r)),
    Case("merchants.review a k2 application", op="POST /merchants/{merchant_id}/review",
         setup=_application,
         call=lambda c, t, s: c.json("post", f"/api/v1/merchants/{s['merchant'].pk}/review",
                                     {"approve": True, "note": "matrix"}),
         changed=_approved),
    Case("merchants.venues of a k2 merchant", op="PUT /merchants/{merchant_id}/venues",
         setup=_approved_with_venue,
         call=lambda c, t, s: c.json("put", f"/api/v1/merchants/{s['merchant'].pk}/venues",
                                     {"facilities": [s["venue"].pk]}),
         changed=_operates),
]
