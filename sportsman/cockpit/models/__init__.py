"""The cockpit's tables, one module per area."""

from sportsman.cockpit.models.supervision import (
    SupervisionTask,
    TaskAssignment,
    TaskEvidence,
    TaskReport,
)
from sportsman.cockpit.models.tally import Tally, Watermark

__all__ = ["SupervisionTask", "Tally", "TaskAssignment", "TaskEvidence", "TaskReport",
           "Watermark"]
