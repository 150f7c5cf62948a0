"""Demo points, catalogue and merchants."""
