"""The cockpit's tables, one module per area."""

from sportsman.cockpit.models.tally import Tally

__all__ = ["Tally"]
