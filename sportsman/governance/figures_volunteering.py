"""Cockpit figures of the governance area `volunteering`."""
