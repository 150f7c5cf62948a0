"""Demo data of the governance area `deliberation`."""
