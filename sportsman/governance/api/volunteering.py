"""API of the governance area `volunteering`."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["volunteering"])
