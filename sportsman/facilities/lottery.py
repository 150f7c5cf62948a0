"""The lottery draw as a pure function: the same seed and entrants always give the same winners.

``draw_lottery`` records the seed on the slot and publishes the ordered entrants, so anyone can
re-run ``draw(seed, entrants, places)`` and check the result. ``random.Random`` seeded with a
string hashes it with SHA-512 (seed version 2), which is stable across Python versions and
machines. The permutation depends only on the seed and the number of entrants, so the public
check can run on masked entrant tokens in the same order as the user ids.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def draw(seed: str, entrants: Sequence[T], places: int) -> list[T]:
    """The winners among ``entrants`` (in the order given: pass user ids sorted ascending) for
    ``places`` places, in drawn order."""
    if places <= 0 or not entrants:
        return []
    order = list(entrants)
    random.Random(seed).shuffle(order)
    return order[:places]
