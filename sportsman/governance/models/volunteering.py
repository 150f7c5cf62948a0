"""Tables of the governance area `volunteering`."""
