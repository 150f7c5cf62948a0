"""The registry of sports associations (体育社会组织): legal status, kind, level, region, members,
officers, contact and certificates (DOMAIN.md §5). An association's administrators are its members
who manage it; the association administrator role (regions.RoleAssignment) lets its holder act
for the associations it manages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sportsman.core.models import TimeStampedModel

__all__ = ["Association", "AssociationCertificate", "AssociationKind", "AssociationMember",
           "AssociationStatus", "CertificateKind", "Grade", "LegalStatus", "MemberKind",
           "Office"]


class LegalStatus(models.TextChoices):
    REGISTERED = "registered", _("registered (已登记)")
    FILED = "filed", _("filed (已备案)")
    GRASSROOTS = "grassroots", _("grassroots team (未备案)")


class AssociationKind(models.TextChoices):
    FEDERATION = "federation", _("sports federation")  # 体育总会
    SPORT = "sport", _("single-sport association")  # 单项体育协会
    CROWD = "crowd", _("crowd sports association")  # 人群体育协会 (老年人, 职工 ...)
    CLUB = "club", _("sports club")  # 俱乐部
    TEAM = "team", _("fitness team")  # 健身队, 晨练队, 球队


class AssociationStatus(models.TextChoices):
    PREPARING = "preparing", _("in preparation")  # 筹备
    ACTIVE = "active", _("active")
    SUSPENDED = "suspended", _("suspended")
    DISSOLVED = "dissolved", _("dissolved")


class Grade(models.TextChoices):
    A5 = "5A", "5A"
    A4 = "4A", "4A"
    A3 = "3A", "3A"
    A2 = "2A", "2A"
    A1 = "1A", "1A"


class Association(TimeStampedModel):
    """A sports association, club or team of a region. Its level is its region's level."""

    name = models.CharField(_("name"), max_length=80)
    legal_status = models.CharField(_("legal status"), max_length=12, choices=LegalStatus.choices,
                                    default=LegalStatus.GRASSROOTS)
    kind = models.CharField(_("kind"), max_length=12, choices=AssociationKind.choices,
                            default=AssociationKind.TEAM)
    status = models.CharField(_("status"), max_length=12, choices=AssociationStatus.choices,
                              default=AssociationStatus.ACTIVE, db_index=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT,
                               related_name="associations")
    sport = models.ForeignKey("core.Sport", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="associations")
    # 统一社会信用代码 of a registered body (18 characters), or the filing number of a team.
    credit_code = models.CharField(_("registration number"), max_length=32, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=120, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=30, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    description = models.TextField(_("about the association"), max_length=4000, blank=True)
    members = models.PositiveIntegerField(default=0)  # active members, moved by UPDATEs
    # The last evaluation's grade (等级评估) and until when it holds (5 years).
    grade = models.CharField(max_length=2, choices=Grade.choices, blank=True)
    grade_valid_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # when it was dissolved (the cockpit's stock of associations ends there)
    dissolved_at = models.DateTimeField(null=True, blank=True)
    # when its preparation (筹备) was approved: registration is due within six months
    preparation_approved_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "name"],
                                    condition=~Q(status="dissolved"),
                                    name="association_name_once_per_region"),
            models.UniqueConstraint(fields=["credit_code"], condition=~Q(credit_code=""),
                                    name="association_credit_code_once"),
        ]
        indexes = [models.Index(fields=["region", "status"], name="association_region_status"),
                   models.Index(fields=["kind", "status"], name="association_kind_status")]

    def __str__(self) -> str:
        return self.name


class MemberKind(models.TextChoices):
    INDIVIDUAL = "individual", _("individual member")
    UNIT = "unit", _("unit member")


class Office(models.TextChoices):
    NONE = "", _("member")
    PRESIDENT = "president", _("president")  # 会长
    VICE_PRESIDENT = "vice_president", _("vice president")  # 副会长
    SECRETARY_GENERAL = "secretary_general", _("secretary general")  # 秘书长
    DIRECTOR = "director", _("director")  # 理事
    SUPERVISOR = "supervisor", _("supervisor")  # 监事
    CAPTAIN = "captain", _("team captain")  # 队长


class AssociationMember(TimeStampedModel):
    """A member (a resident, or a unit by name), possibly an officer, possibly one who manages the
    association's profile and members."""

    association = models.ForeignKey(Association, on_delete=models.CASCADE,
                                    related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="association_memberships")
    kind = models.CharField(max_length=12, choices=MemberKind.choices,
                            default=MemberKind.INDIVIDUAL)
    name = models.CharField(_("name"), max_length=60)  # a unit's name, or the resident's
    office = models.CharField(_("office"), max_length=20, choices=Office.choices, blank=True)
    manages = models.BooleanField(default=False)  # may edit the profile and the members
    joined_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["association", "user"], condition=Q(left_on__isnull=True, user__isnull=False),
            name="association_member_once")]
        indexes = [models.Index(fields=["user", "manages"], name="association_member_manages")]

    def __str__(self) -> str:
        return f"{self.name}@{self.association_id}"


class CertificateKind(models.TextChoices):
    REGISTRATION = "registration", _("registration certificate")  # 社会团体法人登记证书
    FILING = "filing", _("filing certificate")  # 备案证明
    GRADE = "grade", _("grade certificate")  # 等级证书
    OTHER = "other", _("other certificate")


class AssociationCertificate(TimeStampedModel):
    association = models.ForeignKey(Association, on_delete=models.CASCADE,
                                    related_name="certificates")
    kind = models.CharField(max_length=12, choices=CertificateKind.choices)
    number = models.CharField(_("certificate number"), max_length=40, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    file = models.FileField(upload_to="associations/certificates/%Y/%m/", blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"
