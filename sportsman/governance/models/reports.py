"""Tables of the governance area `reports`."""
