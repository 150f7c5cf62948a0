"""Benchmarks: ``python -m bench`` (``make bench``) prints one JSON document of figures.

See docs/bench.md for what each figure means and how it is measured.
"""
