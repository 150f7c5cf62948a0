"""Supervision tasks (督办): a region issues a task to units strictly below it; each unit's part is
an assignment that moves issued → in progress → submitted → accepted, or back from submitted to
returned (with the reviewer's comment) and on again. Progress reports, the review's decisions
and evidence files (re-encoded photos, sniffed PDFs, kept private) are appended to the
assignment. See docs/supervision.md and ``sportsman.cockpit.supervision``.

The database holds what it can: one live assignment per task and unit, progress within 0..100,
a known status and category, a label for a custom category, and an accepted assignment carries
its acceptance time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sportsman.core.models import TimeStampedModel


class TaskCategory(models.TextChoices):
    OVERDUE_REPORTS = "overdue_reports", _("Clear overdue reports")
    SCHOOL_GROUNDS = "school_grounds", _("Raise use of school sports grounds")
    FACILITY_SAFETY = "facility_safety", _("Facility safety and repairs")
    PARTICIPATION = "participation", _("Raise participation in exercise")
    DATA_QUALITY = "data_quality", _("Check and correct data")
    EVENTS = "events", _("Organise mass sports events")
    CUSTOM = "custom", _("Other (named by the issuer)")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("supervision", "open")
    CLOSED = "closed", pgettext_lazy("supervision", "closed")
    CANCELLED = "cancelled", pgettext_lazy("supervision", "cancelled")


class AssignmentStatus(models.TextChoices):
    ISSUED = "issued", pgettext_lazy("supervision", "issued")
    IN_PROGRESS = "in_progress", pgettext_lazy("supervision", "in progress")
    SUBMITTED = "submitted", pgettext_lazy("supervision", "submitted for review")
    RETURNED = "returned", pgettext_lazy("supervision", "returned for more work")
    ACCEPTED = "accepted", pgettext_lazy("supervision", "accepted")
    CANCELLED = "cancelled", pgettext_lazy("supervision", "cancelled")


class ReportKind(models.TextChoices):
    PROGRESS = "progress", pgettext_lazy("supervision", "progress report")
    SUBMIT = "submit", pgettext_lazy("supervision", "submitted for review")
    ACCEPT = "accept", pgettext_lazy("supervision", "accepted")
    RETURN = "return", pgettext_lazy("supervision", "returned")


class EvidenceKind(models.TextChoices):
    IMAGE = "image", pgettext_lazy("supervision", "photo")
    PDF = "pdf", pgettext_lazy("supervision", "PDF document")


# An assignment the target still has to work on (it may report, upload and submit).
WORKING = (AssignmentStatus.ISSUED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)
# Every assignment that is neither finished nor withdrawn: these can be overdue.
LIVE = (*WORKING, AssignmentStatus.SUBMITTED)


class SupervisionTask(TimeStampedModel):
    issuer_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("issued by"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("what is to be done"), blank=True)
    category = models.CharField(_("category"), max_length=24, choices=TaskCategory.choices)
    custom_category = models.CharField(_("category name"), max_length=40, blank=True)
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices,
                              default=TaskStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values),
                                   name="supervision_task_status_known"),
            models.CheckConstraint(condition=Q(category__in=TaskCategory.values),
                                   name="supervision_task_category_known"),
            models.CheckConstraint(
                condition=~Q(category=TaskCategory.CUSTOM) | ~Q(custom_category=""),
                name="supervision_task_custom_category_named"),
        ]
        indexes = [models.Index(fields=["issuer_region", "status"]),
                   models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return self.title

    @property
    def category_label(self) -> str:
        if self.category == TaskCategory.CUSTOM:
            return self.custom_category
        return str(self.get_category_display())  # type: ignore[attr-defined]


class TaskAssignment(models.Model):
    task = models.ForeignKey(SupervisionTask, on_delete=models.CASCADE,
                             related_name="assignments")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                               verbose_name=pgettext_lazy("supervision", "unit"))
    status = models.CharField(_("status"), max_length=12, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.ISSUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    last_comment = models.TextField(_("reviewer's comment"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)  # the unit's latest report
    # The local day of the last reminder and whether the issuer was told it is overdue: the
    # daily job claims each with a conditional UPDATE, so a re-run sends nothing twice.
    reminded_on = models.DateField(null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "region"],
                                    condition=~Q(status=AssignmentStatus.CANCELLED),
                                    name="supervision_assignment_live_once"),
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=100),
                                   name="supervision_assignment_progress_0_100"),
            models.CheckConstraint(condition=Q(status__in=AssignmentStatus.values),
                                   name="supervision_assignment_status_known"),
            models.CheckConstraint(
                condition=~Q(status=AssignmentStatus.ACCEPTED) | Q(accepted_at__isnull=False),
                name="supervision_assignment_accepted_at"),
        ]
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self) -> str:
        return f"{self.task_id}→{self.region_id}:{self.status}"


class TaskReport(models.Model):
    """One entry of an assignment's history: a progress report, a submission, a review."""

    assignment = models.ForeignKey(TaskAssignment, on_delete=models.CASCADE,
                                   related_name="reports")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12, choices=ReportKind.choices)
    text = models.TextField(blank=True)
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(progress__isnull=True) | Q(progress__lte=100),
                                   name="supervision_report_progress_0_100"),
            models.CheckConstraint(condition=Q(kind__in=ReportKind.values),
                                   name="supervision_report_kind_known"),
        ]
        indexes = [models.Index(fields=["assignment", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}@{self.assignment_id}"


class TaskEvidence(models.Model):
    """A file a unit handed in. Stored under ``supervision/`` in the default storage, which no
    public URL serves: it is read only through the scoped evidence view."""

    assignment = models.ForeignKey(TaskAssignment, on_delete=models.CASCADE,
                                   related_name="evidence")
    report = models.ForeignKey(TaskReport, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="evidence")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(max_length=200)
    kind = models.CharField(max_length=8, choices=EvidenceKind.choices)
    name = models.CharField(_("file name"), max_length=120)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(kind__in=EvidenceKind.values),
                                              name="supervision_evidence_kind_known")]

    def __str__(self) -> str:
        return self.name
