"""Cockpit figures: tallies per region and day, rebuilt from the domains' records."""

from __future__ import annotations


def autodiscover() -> None:
    pass
