"""Cockpit pages, one module per area."""
