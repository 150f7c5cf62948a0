"""Cockpit figures of the governance area `reports`."""
