"""The associations API, one router per area (each module owns its operations)."""

from __future__ import annotations

from ninja import Router


def routers() -> list[Router]:
    from sportsman.associations.api import board, evaluation, registry, window

    return [registry.router, window.router, evaluation.router, board.router]
