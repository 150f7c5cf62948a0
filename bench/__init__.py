"""Benchmarks: ``python -m bench`` (``make bench``) prints one JSON document of figures.

See docs/bench.md for what each figure means and how it is measured.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any


def run_part(argv: list[str], parts: dict[str, Callable[[list[str]], Any]]) -> int:
    """A bench module's entry point: set Django up, run the part named by ``argv[0]`` with the
    rest of the arguments, print its figures as one JSON line."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    part = parts.get(argv[0] if argv else "")
    if part is None:
        raise SystemExit(f"unknown part {argv[:1]!r}; known: {', '.join(parts)}")
    print(json.dumps(part(argv[1:]), ensure_ascii=False))
    return 0
