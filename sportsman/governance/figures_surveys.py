"""Cockpit figures of the governance area `surveys`."""
