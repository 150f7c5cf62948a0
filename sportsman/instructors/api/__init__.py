"""The instructors API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.instructors.api import booking, registry, videos

    # booking first: its /instructors/me/... paths must come before /instructors/{id}
    return [booking.router, registry.router, videos.router]
