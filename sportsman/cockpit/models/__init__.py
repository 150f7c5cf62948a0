"""The cockpit's tables, one module per area."""

from sportsman.cockpit.models.assessment import (
    Assessment,
    AssessmentEntry,
    AssessmentItem,
    IndexConfig,
    IndexIndicator,
    ItemScore,
)
from sportsman.cockpit.models.demand import DemandTally
from sportsman.cockpit.models.report import MonthlyReport, ReportStatus
from sportsman.cockpit.models.supervision import (
    SupervisionTask,
    TaskAssignment,
    TaskEvidence,
    TaskReport,
)
from sportsman.cockpit.models.tally import Tally, TallyMonth, Watermark

__all__ = ["Assessment", "AssessmentEntry", "AssessmentItem", "DemandTally", "IndexConfig",
           "IndexIndicator", "ItemScore", "MonthlyReport", "ReportStatus", "SupervisionTask",
           "Tally", "TallyMonth", "TaskAssignment", "TaskEvidence", "TaskReport", "Watermark"]
