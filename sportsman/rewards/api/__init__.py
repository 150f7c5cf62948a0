"""The rewards API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.rewards.api import catalogue, merchants, points, vouchers

    return [points.router, catalogue.router, merchants.router, vouchers.router]
