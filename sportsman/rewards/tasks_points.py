"""Periodic jobs of points and the catalogue."""

from __future__ import annotations
