"""The events API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.events.api import events, staff

    return [events.router, staff.router]
