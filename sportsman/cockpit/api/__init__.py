"""The cockpit API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.cockpit.api import assessment, demand, reports, summary, supervision

    return [summary.router, supervision.router, assessment.router, reports.router,
            demand.router]
