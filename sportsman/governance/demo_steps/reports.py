"""Demo data of the governance area `reports`."""
