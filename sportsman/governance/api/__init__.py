"""The governance API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.governance.api import (
        deliberation,
        posts,
        proxy,
        reports,
        surveys,
        volunteering,
    )

    return [reports.router, deliberation.router, surveys.router, posts.router,
            volunteering.router, proxy.router]
