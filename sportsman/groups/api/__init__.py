"""The groups API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.groups.api import activities, groups, space

    return [activities.router, groups.router, space.router]
