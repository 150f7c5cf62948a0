"""The instructors API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.instructors.api import videos

    return [videos.router]
