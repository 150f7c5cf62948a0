"""Figures of a region's cockpit: ``GET /cockpit/{region_code}/summary``."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["cockpit"])
