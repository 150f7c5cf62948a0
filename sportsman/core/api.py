"""Core API: health and the audit log."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from sportsman.regions.access import public

router = Router(tags=["core"])


class HealthOut(Schema):
    ok: bool


@router.get("/health", auth=None, response=HealthOut)
@public
def health(request: HttpRequest):
    return {"ok": True}
