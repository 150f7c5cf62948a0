"""Demo data of the governance area `posts`."""
