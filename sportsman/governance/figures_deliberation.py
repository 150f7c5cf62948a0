"""Cockpit figures of the governance area `deliberation`."""
