"""Facility tasks and periodic jobs (registered with the scheduler at import)."""

from __future__ import annotations
