"""The lottery draw as a pure function: the same seed and entrants always give the same winners.
One draw for every lottery of the platform (hot booking slots, voucher campaigns).

A draw records its seed and publishes the ordered entrants, so anyone can re-run
``draw(seed, entrants, places)`` (or ``shuffled(seed, entrants)``) and check the result. ``random.Random`` seeded with a
string hashes it with SHA-512 (seed version 2), which is stable across Python versions and
machines. The permutation depends only on the seed and the number of entrants, so the public
check can run on masked entrant tokens in the same order as the user ids.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def shuffled(seed: str, entrants: Sequence[T]) -> list[T]:
    """``entrants`` (in the order given: pass user ids sorted ascending) in drawn order; the
    first ones win (for a budget that runs out, take them in this order)."""
    order = list(entrants)
    random.Random(seed).shuffle(order)
    return order


def draw(seed: str, entrants: Sequence[T], places: int) -> list[T]:
    """The winners among ``entrants`` for ``places`` places, in drawn order."""
    if places <= 0 or not entrants:
        return []
    return shuffled(seed, entrants)[:places]
