"""API of the governance area `deliberation`."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["deliberation"])
