"""Tables of the governance area `deliberation`."""
