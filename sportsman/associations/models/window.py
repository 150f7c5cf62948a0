"""The one window (一窗受理、即收即办): an association's applications to the sports bureau and
民政 — establishment (筹备, then 成立登记), filing of a grassroots team (备案), the annual report
(年检), event filing and the high-risk-event permit, change of registration — their documents,
their timeline, the review levels a region configures per kind, the receipt numbers and the
annual inspection seasons (DOMAIN.md §5; docs/associations.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel

__all__ = ["Application", "ApplicationDocument", "ApplicationKind", "ApplicationStatus",
           "ApplicationStep", "InspectionResult", "InspectionSeason", "ReceiptCounter",
           "ReviewRule", "WindowAction"]


class ApplicationKind(models.TextChoices):
    PREPARATION = "preparation", _("establishment: preparation")  # 筹备
    REGISTRATION = "registration", _("establishment: registration")  # 成立登记
    FILING = "filing", _("filing of a grassroots team")  # 备案
    ANNUAL_REPORT = "annual_report", _("annual inspection report")  # 年检 / 年度工作报告
    EVENT_FILING = "event_filing", _("event filing")  # 赛事活动备案
    HIGH_RISK_PERMIT = "high_risk_permit", _("high-risk event permit")  # 高危险性赛事活动许可
    CHANGE = "change", _("change of registration")  # 变更登记


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted, awaiting acceptance")
    ACCEPTED = "accepted", _("accepted, under review")
    RETURNED = "returned", _("returned for correction")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


class WindowAction(models.TextChoices):
    CREATE = "create", _("drafted")
    SUBMIT = "submit", _("submitted")
    WITHDRAW = "withdraw", _("withdrawn")
    ACCEPT = "accept", _("accepted")  # 受理: the receipt number is given
    APPROVE = "approve", _("approved at this level")
    RETURN = "return", _("returned for correction")
    REJECT = "reject", _("rejected")


class InspectionResult(models.TextChoices):
    PASS = "pass", _("pass (合格)")
    BASIC = "basic", _("basic pass (基本合格)")
    FAIL = "fail", _("fail (不合格)")


class ReviewRule(models.Model):
    """Which levels review applications of ``kind`` from associations in ``region``'s subtree,
    lowest first ("town,district,city"), and the handling time limit in days. The nearest rule
    up the tree wins; without one, ``window.DEFAULT_LEVELS`` and ``DEFAULT_DAYS`` apply."""

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ApplicationKind.choices)
    levels = models.CharField(max_length=60)
    handle_days = models.PositiveSmallIntegerField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="review_rule_once"),
            models.CheckConstraint(condition=Q(handle_days__gte=1, handle_days__lte=180),
                                   name="review_rule_days"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}@{self.region_id}: {self.levels}"


class Application(TimeStampedModel):
    association = models.ForeignKey("associations.Association", on_delete=models.PROTECT,
                                    related_name="applications")
    # the association's region when drafted: where the application counts and who reviews it
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ApplicationKind.choices)
    status = models.CharField(max_length=12, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT)
    data = models.JSONField(default=dict, blank=True)  # the kind's form fields, validated
    year = models.PositiveSmallIntegerField(null=True, blank=True)  # an annual report's year
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # the review chain fixed at submission ("town,district"), where it stands, and the region
    # of the level it waits at
    levels = models.CharField(max_length=60, blank=True)
    step = models.PositiveSmallIntegerField(default=0)
    reviewing_region = models.ForeignKey("regions.Region", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    receipt_no = models.CharField(max_length=24, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)  # the handling time limit
    decided_on_time = models.BooleanField(null=True)
    is_late = models.BooleanField(default=False)  # submitted after the kind's deadline
    result = models.CharField(max_length=8, choices=InspectionResult.choices, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["receipt_no"], condition=~Q(receipt_no=""),
                                    name="application_receipt_once"),
            # one live annual report per association and year
            models.UniqueConstraint(
                fields=["association", "year"],
                condition=Q(kind="annual_report") & ~Q(status__in=["rejected", "withdrawn"]),
                name="application_annual_report_once"),
        ]
        indexes = [
            models.Index(fields=["reviewing_region", "status"], name="application_inbox"),
            models.Index(fields=["association", "kind"], name="application_assoc_kind"),
            models.Index(fields=["region", "decided_at"], name="application_region_decided"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def level_list(self) -> list[str]:
        return [lv for lv in self.levels.split(",") if lv]

    @property
    def level(self) -> str:
        chain = self.level_list
        return chain[self.step] if self.step < len(chain) else ""


class ApplicationDocument(models.Model):
    """A document attached to an application for one of its kind's requirements: a PDF kept as
    it is, or an image re-encoded (core.uploads)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="documents")
    requirement = models.CharField(max_length=32)
    file = models.FileField(upload_to="associations/applications/%Y/%m/")
    name = models.CharField(max_length=120, blank=True)
    file_type = models.CharField(max_length=4)  # "pdf" or "jpg"
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["requirement", "id"]

    def __str__(self) -> str:
        return f"{self.requirement}: {self.name}"


class ApplicationStep(models.Model):
    """One step of an application's timeline: what, at which level, by whom (a role, never the
    person), when, with a note. Append-only."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="timeline")
    action = models.CharField(max_length=10, choices=WindowAction.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    level = models.CharField(max_length=12, blank=True)
    region = models.ForeignKey("regions.Region", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_role = models.CharField(max_length=32, blank=True)  # "association" or a staff role
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.action}"


class ReceiptCounter(models.Model):
    """The last receipt number given in a city in a year (moved by one UPDATE under its row
    lock: two acceptances never share a number)."""

    city = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["city", "year"],
                                               name="receipt_counter_once")]

    def __str__(self) -> str:
        return f"{self.city_id}/{self.year}: {self.last}"


class InspectionSeason(TimeStampedModel):
    """An annual inspection season opened by a region's staff: the associations of its subtree
    report on ``year`` by ``due_on``."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    notified = models.PositiveIntegerField(default=0)  # associations told

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "year"],
                                               name="inspection_season_once")]

    def __str__(self) -> str:
        return f"{self.year}@{self.region_id}"
