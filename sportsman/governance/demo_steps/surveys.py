"""Demo data of the governance area `surveys`."""
