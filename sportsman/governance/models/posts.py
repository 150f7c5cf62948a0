"""Tables of the governance area `posts`."""
