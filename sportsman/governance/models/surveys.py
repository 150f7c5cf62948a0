"""Tables of the governance area `surveys`."""
