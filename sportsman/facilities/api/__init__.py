"""The facilities API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.facilities.api import bookings, devices, facilities, visits

    return [facilities.router, bookings.router, visits.router, devices.router]
