"""Demo data of the governance area `volunteering`."""
