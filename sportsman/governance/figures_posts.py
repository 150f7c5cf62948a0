"""Cockpit figures of the governance area `posts`."""
