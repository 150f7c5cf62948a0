"""The one window (一窗受理、即收即办): an association's managers draft an application of a kind
(its form fields validated, its documents attached), submit it; the window of the first review
level accepts it (受理: a receipt number unique per city and year, ``JX-2026-000123``) or
returns or rejects it; each further level the region configures for the kind approves it on
(the last approval decides), returns it for correction (the applicant corrects and resubmits;
it starts again at the first level) or rejects it. Approvals take effect on the registry
(registration, filing, a change; an annual report's inspection result).

Workflow (``TRANSITIONS``; one conditional UPDATE per step in ``transition_application``)::

    draft → submitted → accepted (level 1 … n) → approved
              ↓   ↘ rejected ↙   ↓ rejected
           returned ← ─ ─ ─ ─ returned → submitted again
    draft / returned → withdrawn

Levels: ``ReviewRule`` (nearest up the tree) or ``DEFAULT_LEVELS``, those at or above the
association's own level; a level's staff review at that level only (their grant is on the
region the application waits at). SLA: ``handle_days`` from submission; deciding within it is
recorded as on time. See docs/associations.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.associations import registry
from sportsman.associations.models import (
    Application,
    ApplicationDocument,
    ApplicationKind,
    ApplicationStatus,
    ApplicationStep,
    Association,
    AssociationStatus,
    InspectionResult,
    InspectionSeason,
    LegalStatus,
    ReceiptCounter,
    ReviewRule,
    WindowAction,
)
from sportsman.associations.selectors import managed_by
from sportsman.core import audit, events
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound, bad_field
from sportsman.regions.access import PERMISSIONS, Access, Perm, access_for_user, own_holders
from sportsman.regions.models import LEVEL_DEPTH, Level, Region, subtree_q

K = ApplicationKind
S = ApplicationStatus
A = WindowAction

# (status, action) → the statuses the step may lead to. ``approve`` on a level that is not the
# last moves the application on to the next level and keeps it ``accepted``.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, A.SUBMIT): frozenset({S.SUBMITTED}),
    (S.DRAFT, A.WITHDRAW): frozenset({S.WITHDRAWN}),
    (S.SUBMITTED, A.ACCEPT): frozenset({S.ACCEPTED}),
    (S.SUBMITTED, A.RETURN): frozenset({S.RETURNED}),
    (S.SUBMITTED, A.REJECT): frozenset({S.REJECTED}),
    (S.ACCEPTED, A.APPROVE): frozenset({S.ACCEPTED, S.APPROVED}),
    (S.ACCEPTED, A.RETURN): frozenset({S.RETURNED}),
    (S.ACCEPTED, A.REJECT): frozenset({S.REJECTED}),
    (S.RETURNED, A.SUBMIT): frozenset({S.SUBMITTED}),
    (S.RETURNED, A.WITHDRAW): frozenset({S.WITHDRAWN}),
}
APPLICANT_ACTIONS = frozenset({A.SUBMIT, A.WITHDRAW})
STAFF_ACTIONS = frozenset({A.ACCEPT, A.APPROVE, A.RETURN, A.REJECT})
WAITING = (S.SUBMITTED, S.ACCEPTED)  # at a level, on the clock
DECIDED = (S.APPROVED, S.REJECTED)

DEFAULT_LEVELS: dict[str, tuple[str, ...]] = {
    K.PREPARATION: (Level.DISTRICT, Level.CITY),
    K.REGISTRATION: (Level.DISTRICT, Level.CITY),
    K.FILING: (Level.TOWN, Level.DISTRICT),
    K.ANNUAL_REPORT: (Level.TOWN, Level.DISTRICT),
    K.EVENT_FILING: (Level.TOWN,),
    K.HIGH_RISK_PERMIT: (Level.DISTRICT,),
    K.CHANGE: (Level.DISTRICT, Level.CITY),
}
# The handling time limit (days from submission), where no region's rule says otherwise.
DEFAULT_DAYS: dict[str, int] = {
    K.PREPARATION: 60, K.REGISTRATION: 30, K.FILING: 15, K.ANNUAL_REPORT: 20,
    K.EVENT_FILING: 5, K.HIGH_RISK_PERMIT: 10, K.CHANGE: 20,
}
HIGH_RISK_LEAD_DAYS = 20  # a permit is applied for at least this long before the event
PREPARATION_MONTHS = 6  # registration follows preparation within six months
ANNUAL_DUE = (3, 31)  # the annual report on the year before is due by 31 March
MAX_DOCUMENTS = 20
CITY_PREFIX = {"3304": "JX"}  # receipt number prefixes by city code; others use the code


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Any
    type: str  # "text", "int", "date", "bool", "choice"
    required: bool = True
    minimum: int | None = None
    max_length: int = 200
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocSpec:
    key: str
    label: Any
    required: bool = True


_T = gettext_lazy
FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    K.PREPARATION: (
        FieldSpec("proposed_name", _T("proposed name"), "text", max_length=80),
        FieldSpec("individual_members", _T("individual members"), "int", minimum=0),
        FieldSpec("unit_members", _T("unit members"), "int", minimum=0),
        FieldSpec("funds_yuan", _T("activity funds (yuan)"), "int", minimum=30_000),
        FieldSpec("address", _T("fixed address"), "text", max_length=120),
        FieldSpec("founders", _T("founders and proposed officers"), "text", max_length=500),
    ),
    K.REGISTRATION: (
        FieldSpec("assembly_on", _T("date of the general assembly"), "date"),
        FieldSpec("individual_members", _T("individual members"), "int", minimum=0),
        FieldSpec("unit_members", _T("unit members"), "int", minimum=0),
        FieldSpec("funds_yuan", _T("activity funds (yuan)"), "int", minimum=30_000),
        FieldSpec("legal_representative", _T("legal representative"), "text", max_length=30),
        FieldSpec("credit_code", _T("unified social credit code"), "text", max_length=18),
    ),
    K.FILING: (
        FieldSpec("members", _T("members"), "int", minimum=1),
        FieldSpec("leader", _T("team leader"), "text", max_length=30),
        FieldSpec("activity_place", _T("where the team meets"), "text", max_length=120),
        FieldSpec("activity_times", _T("when the team meets"), "text", max_length=120),
    ),
    K.ANNUAL_REPORT: (
        FieldSpec("year", _T("year reported on"), "int", minimum=2000),
        FieldSpec("activities", _T("activities held"), "int", minimum=0),
        FieldSpec("participants", _T("participants"), "int", minimum=0),
        FieldSpec("income_yuan", _T("income (yuan)"), "int", minimum=0),
        FieldSpec("expenditure_yuan", _T("expenditure (yuan)"), "int", minimum=0),
        FieldSpec("summary", _T("summary of the year's work"), "text", max_length=2000),
    ),
    K.EVENT_FILING: (
        FieldSpec("event_id", _T("event"), "int", minimum=1),
        FieldSpec("expected_people", _T("expected participants"), "int", minimum=1),
        FieldSpec("safety_officer", _T("safety officer"), "text", max_length=30),
        FieldSpec("medical_cover", _T("medical cover arranged"), "bool"),
    ),
    K.HIGH_RISK_PERMIT: (
        FieldSpec("event_name", _T("event name"), "text", max_length=100),
        FieldSpec("sport_item", _T("high-risk sport"), "choice",
                  choices=("climbing", "diving", "swimming", "skiing", "paragliding",
                           "rafting", "other")),
        FieldSpec("starts_on", _T("first day of the event"), "date"),
        FieldSpec("place", _T("place"), "text", max_length=120),
        FieldSpec("scale", _T("participants per session"), "int", minimum=1),
        FieldSpec("organisers", _T("organiser, host and co-organisers"), "text", max_length=300),
        FieldSpec("event_id", _T("event"), "int", required=False, minimum=1),
    ),
    K.CHANGE: (
        FieldSpec("item", _T("what changes"), "choice",
                  choices=("name", "address", "contact_name", "contact_phone",
                           "legal_representative")),
        FieldSpec("new_value", _T("new value"), "text", max_length=120),
        FieldSpec("reason", _T("reason"), "text", max_length=500),
    ),
}
DOCUMENTS: dict[str, tuple[DocSpec, ...]] = {
    K.PREPARATION: (
        DocSpec("application_letter", _T("application for preparation (筹备申请书)")),
        DocSpec("sponsor_approval", _T("approval of the supervising unit")),
        DocSpec("capital_report", _T("capital verification report (验资报告)")),
        DocSpec("premises_proof", _T("proof of the right to use the premises")),
        DocSpec("draft_constitution", _T("draft constitution (章程)")),
    ),
    K.REGISTRATION: (
        DocSpec("registration_form", _T("registration application form")),
        DocSpec("constitution", _T("constitution adopted by the general assembly")),
        DocSpec("assembly_minutes", _T("minutes of the general assembly")),
        DocSpec("officers_ids", _T("officers' identity documents")),
    ),
    K.FILING: (
        DocSpec("filing_form", _T("filing form")),
        DocSpec("member_list", _T("list of members")),
    ),
    K.ANNUAL_REPORT: (
        DocSpec("inspection_form", _T("annual inspection report form (年度检查报告书)")),
        DocSpec("audit_report", _T("financial audit report")),
        DocSpec("certificate_copy", _T("copy of the registration certificate")),
        DocSpec("declaration", _T("signed and stamped declaration page (声明签章页)")),
        DocSpec("rectification", _T("rectification report (整改报告)"), required=False),
    ),
    K.EVENT_FILING: (
        DocSpec("event_plan", _T("event plan with the organising committee")),
        DocSpec("emergency_plan", _T("safety and emergency plan")),
    ),
    K.HIGH_RISK_PERMIT: (
        DocSpec("permit_application", _T("permit application")),
        DocSpec("staff_qualifications", _T("qualifications of the staff")),
        DocSpec("venue_proof", _T("proof that venue and equipment meet the standards")),
        DocSpec("duties_agreement", _T("agreement on duties between the organisers")),
        DocSpec("risk_assessment", _T("risk assessment with prevention and emergency plans")),
    ),
    K.CHANGE: (
        DocSpec("change_form", _T("change of registration form")),
        DocSpec("resolution", _T("resolution of the council or assembly")),
    ),
}


# --- errors -------------------------------------------------------------------------------------

class ApplicationNotFound(NotFound):
    code = "application_not_found"
    default_message = gettext_lazy("There is no such application.")


class TransitionNotAllowed(Conflict):
    code = "application_transition_not_allowed"
    default_message = gettext_lazy("The application cannot take this step in its current "
                                   "state.")


class NotYourLevel(Forbidden):
    code = "application_not_your_level"
    default_message = gettext_lazy("The application waits at another level.")


class DocumentsMissing(InvalidInput):
    code = "documents_missing"
    default_message = gettext_lazy("Attach every required document first.")


class TooLate(InvalidInput):
    code = "application_too_late"
    default_message = gettext_lazy("It is too late to apply for this.")


# --- levels and clocks ---------------------------------------------------------------------------

def rule_for(region: Region, kind: str) -> ReviewRule | None:
    from sportsman.regions.selectors import nearest_rule

    return nearest_rule(ReviewRule.objects.filter(kind=kind), region)


def chain_for(region: Region, kind: str) -> tuple[list[str], int]:
    """The review levels (lowest first) and the handling days for an application of ``kind``
    from an association in ``region``: the levels of the nearest rule (or the default) at or
    above the association's own level; at least its own level."""
    rule = rule_for(region, kind)
    levels = ([lv for lv in rule.levels.split(",") if lv] if rule is not None
              else list(DEFAULT_LEVELS[kind]))
    days = rule.handle_days if rule is not None else DEFAULT_DAYS[kind]
    depths: dict[str, int] = {str(k): v for k, v in LEVEL_DEPTH.items()}
    depth = depths.get(region.level, 4)
    kept = [lv for lv in levels if depths.get(lv, 9) <= depth]
    if not kept:
        kept = [region.level if region.level != Level.COMMUNITY else Level.TOWN]
    return kept, days


def region_at(region: Region, level: str) -> Region | None:
    """``region`` itself or its ancestor at ``level``."""
    if region.level == level:
        return region
    return Region.objects.filter(id__in=region.ancestor_ids, level=level).first()


def set_rule(*, actor: Any, region_id: int, kind: str, levels: list[str],
             handle_days: int) -> ReviewRule:
    """Set the review levels and the time limit of ``kind`` for ``region_id``'s subtree (staff
    reviewing there, APPLICATION_REVIEW). Levels go lowest first, each a level at or below
    the city. Audited."""
    access = access_for_user(actor)
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not access.can(Perm.APPLICATION_REVIEW, region):
        access.require_anywhere(Perm.APPLICATION_REVIEW)
        raise NotFound()
    if kind not in K.values:
        raise bad_field("kind", _("Unknown kind of application."), "invalid_kind")
    allowed = (Level.COMMUNITY, Level.TOWN, Level.DISTRICT, Level.CITY)
    depths: dict[str, int] = {str(k): v for k, v in LEVEL_DEPTH.items()}
    if not levels or any(lv not in allowed for lv in levels) or len(set(levels)) != len(levels) \
            or [depths[lv] for lv in levels] != sorted((depths[lv] for lv in levels),
                                                       reverse=True):
        raise bad_field("levels", _("Levels from the lowest up, each once."), "invalid_levels")
    if not 1 <= handle_days <= 180:
        raise bad_field("handle_days", _("Between 1 and 180 days."), "invalid_sla")
    with transaction.atomic():
        rule, _created = ReviewRule.objects.update_or_create(
            region=region, kind=kind, defaults={"levels": ",".join(levels),
                                                "handle_days": handle_days,
                                                "updated_by": actor})
        audit.record(actor=actor, action="associations.review_rule.set", obj=rule,
                     region=region, data={"kind": kind, "levels": levels,
                                          "handle_days": handle_days})
    return rule


def annual_due(region: Region, year: int) -> dt.date:
    """When the annual report on ``year`` is due in ``region``: the nearest season's due date,
    else 31 March of the next year."""
    from sportsman.regions.selectors import nearest_rule

    season = nearest_rule(InspectionSeason.objects.filter(year=year), region)
    return season.due_on if season is not None else dt.date(year + 1, *ANNUAL_DUE)


def last_result(association_id: int, year: int) -> str:
    return (Application.objects.filter(association_id=association_id, kind=K.ANNUAL_REPORT,
                                       year=year, status=S.APPROVED)
            .values_list("result", flat=True).first() or "")


def needs_rectification(association_id: int, year: int) -> bool:
    """The year before was 基本合格 or 不合格: the annual report on ``year`` needs a
    rectification report."""
    return last_result(association_id, year - 1) in (InspectionResult.BASIC,
                                                     InspectionResult.FAIL)


def required_documents(app: Application) -> list[str]:
    keys = [d.key for d in DOCUMENTS[app.kind] if d.required]
    if app.kind == K.ANNUAL_REPORT and app.year and needs_rectification(app.association_id,
                                                                        app.year):
        keys.append("rectification")
    return keys


# --- the form ----------------------------------------------------------------------------------

def clean_data(kind: str, raw: dict[str, Any], *, association: Association,
               today: dt.date) -> dict[str, Any]:
    """The kind's form fields, typed and checked (``invalid_field`` with the field named), plus
    the conditions of the kind: membership and funds for establishment, the year of an annual
    report, the event an association organises, the high-risk permit's lead time."""
    from sportsman.core.wording import check_text

    if kind not in FIELDS:
        raise bad_field("kind", _("Unknown kind of application."), "invalid_kind")
    specs = {f.name: f for f in FIELDS[kind]}
    unknown = set(raw) - set(specs)
    if unknown:
        raise bad_field(sorted(unknown)[0], _("Unknown field."), "unknown_field")
    out: dict[str, Any] = {}
    for spec in FIELDS[kind]:
        value = raw.get(spec.name)
        if value in (None, ""):
            if spec.required and spec.type != "bool":
                raise bad_field(spec.name, _("This is required."), "field_required")
            if spec.type == "bool":
                out[spec.name] = False
            continue
        try:
            if spec.type == "int":
                number = int(value)
                if spec.minimum is not None and number < spec.minimum:
                    raise ValueError
                out[spec.name] = number
            elif spec.type == "date":
                out[spec.name] = (value if isinstance(value, dt.date)
                                  else dt.date.fromisoformat(str(value))).isoformat()
            elif spec.type == "bool":
                out[spec.name] = value in (True, "1", "true", "on", 1)
            elif spec.type == "choice":
                if str(value) not in spec.choices:
                    raise ValueError
                out[spec.name] = str(value)
            else:
                out[spec.name] = check_text(str(value), field=spec.name,
                                            max_length=spec.max_length)
        except (TypeError, ValueError):
            raise bad_field(spec.name, _("This value is not valid."), "invalid_field") from None
    if kind in (K.PREPARATION, K.REGISTRATION):
        individual, unit = out["individual_members"], out["unit_members"]
        if not (individual >= 50 or unit >= 30 or (individual and unit
                                                     and individual + unit >= 50)):
            raise bad_field("individual_members", _("At least 50 individual or 30 unit members."),
                       "too_few_members")
        if kind == K.REGISTRATION and len(out["credit_code"]) != 18:
            raise bad_field("credit_code", _("Eighteen characters."), "invalid_field")
    if kind == K.PREPARATION and any(w in out["proposed_name"] for w in ("中国", "全国", "中华")):
        raise bad_field("proposed_name", _("A local association may not be named 中国, 全国 or "
                                      "中华."), "invalid_name")
    if kind == K.ANNUAL_REPORT and out["year"] >= today.year:
        raise bad_field("year", _("Report on a year that is over."), "year_not_over")
    if kind == K.HIGH_RISK_PERMIT:
        starts = dt.date.fromisoformat(out["starts_on"])
        if starts < today + dt.timedelta(days=HIGH_RISK_LEAD_DAYS):
            raise TooLate(_("Apply at least %(days)d days before the event.")
                          % {"days": HIGH_RISK_LEAD_DAYS}, code="permit_too_late",
                          fields={"starts_on": [_("At least 20 days ahead.")]})
    if "event_id" in out:
        from sportsman.events.models import Event

        if not Event.objects.filter(pk=out["event_id"], organiser_kind="association",
                                    organiser_id=association.pk).exists():
            raise bad_field("event_id", _("Choose an event your association organises."),
                       "event_not_organised")
    return out


# --- reading -----------------------------------------------------------------------------------

def _review_grants(access: Access) -> list[Any]:
    roles = PERMISSIONS[Perm.APPLICATION_REVIEW]
    return [g for g in access.grants if g.role in roles]


def reviews_at(access: Access, region_id: int | None) -> bool:
    """Whether the actor reviews at this region's level: a reviewing grant on the region
    itself."""
    return region_id is not None and any(g.region_id == region_id
                                         for g in _review_grants(access))


def staff_applications(access: Access) -> QuerySet[Application]:
    """Applications from associations of the actor's APPLICATION_REVIEW subtree (not drafts)."""
    return (access.scope(Application.objects.exclude(status=S.DRAFT), Perm.APPLICATION_REVIEW)
            .select_related("association", "region", "reviewing_region"))


def inbox(access: Access, *, kind: str = "", overdue: bool = False,
          now: dt.datetime | None = None) -> QuerySet[Application]:
    """The applications waiting at a level the actor holds (a reviewing grant on the region
    they wait at), oldest due first."""
    ids = [g.region_id for g in _review_grants(access)]
    qs = staff_applications(access).filter(status__in=WAITING, reviewing_region_id__in=ids)
    if kind:
        qs = qs.filter(kind=kind)
    if overdue:
        qs = qs.filter(due_at__lt=now or timezone.now())
    return qs.order_by("due_at", "id")


def mine(user: Any) -> QuerySet[Application]:
    """The applications of the associations I manage, newest first."""
    return (Application.objects.filter(association__in=managed_by(user))
            .select_related("association", "region", "reviewing_region")
            .order_by("-created_at", "-id"))


def visible(actor: Any, application_id: int, *, lock: bool = False) -> tuple[Application, str]:
    """An application the actor may see, and as whom: ``"applicant"`` (they manage its
    association) or ``"staff"`` (it lies in their APPLICATION_REVIEW scope, not a draft)."""
    qs = Application.objects.select_related("association", "region", "reviewing_region")
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.filter(pk=application_id, association__in=managed_by(actor)).first()
    if found is not None:
        return found, "applicant"
    access = access_for_user(actor)
    found = qs.filter(pk__in=staff_applications(access).filter(pk=application_id)
                      .values("pk")).first()
    if found is not None:
        return found, "staff"
    raise ApplicationNotFound()


def timeline(app: Application) -> QuerySet[ApplicationStep]:
    return app.timeline.select_related("region").order_by("at", "id")


def is_overdue(app: Application, now: dt.datetime | None = None) -> bool:
    return (app.status in WAITING and app.due_at is not None
            and app.due_at < (now or timezone.now()))


# --- writing -----------------------------------------------------------------------------------

def _step(app: Application, action: str, *, from_status: str, actor: Any, role: str,
          note: str = "", at: dt.datetime, level: str = "",
          region_id: int | None = None) -> ApplicationStep:
    return ApplicationStep.objects.create(
        application=app, action=action, from_status=from_status, to_status=app.status,
        level=level, region_id=region_id, actor=actor, actor_role=role, note=note[:500], at=at)


def _actor_role(access: Access, region_id: int | None) -> str:
    for g in _review_grants(access):
        if g.region_id == region_id:
            return g.role
    return ""


def create_application(*, actor: Any, association_id: int, kind: str,
                       data: dict[str, Any] | None = None, submit: bool = False) -> Application:
    """Draft an application of ``kind`` for an association the actor manages, its form fields
    validated (``clean_data``); with ``submit`` it is submitted at once (documents first: a kind
    that needs documents is drafted, documents attached, then submitted). A dissolved or
    suspended association may not apply (``association_not_active``), nor one preparing for
    anything but registration. Audited."""
    if kind not in K.values:
        raise bad_field("kind", _("Unknown kind of application."), "invalid_kind")
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        association = registry.managed(actor, association_id)
        allowed = {AssociationStatus.ACTIVE} | (
            {AssociationStatus.PREPARING} if kind in (K.PREPARATION, K.REGISTRATION) else set())
        if association.status not in allowed:
            raise Conflict(_("The association cannot apply for this now."),
                           code="association_not_active")
        clean = clean_data(kind, data or {}, association=association, today=today)
        if kind == K.REGISTRATION:
            approved = association.preparation_approved_on
            if approved is None:
                raise Conflict(_("Its preparation has not been approved."),
                               code="preparation_not_approved")
            if today > _months_after(approved, PREPARATION_MONTHS):
                raise TooLate(_("The six months of preparation are over."),
                              code="preparation_expired")
        if kind == K.FILING and association.legal_status != LegalStatus.GRASSROOTS:
            raise Conflict(_("The association is already filed or registered."),
                           code="already_filed")
        if kind == K.ANNUAL_REPORT and association.legal_status == LegalStatus.GRASSROOTS:
            raise Conflict(_("Grassroots teams do not report yearly."),
                           code="annual_report_not_needed")
        try:
            with transaction.atomic():
                app = Application.objects.create(
                    association=association, region=association.region, kind=kind, data=clean,
                    year=clean.get("year"), event_id=clean.get("event_id"), created_by=actor)
        except IntegrityError:
            raise Conflict(_("There is already an annual report on this year."),
                           code="annual_report_exists") from None
        _step(app, A.CREATE, from_status="", actor=actor, role="association", at=now)
        audit.record(actor=actor, action="associations.application.create", obj=app,
                     region=association.region, data={"kind": kind})
    if submit:
        return transition_application(actor=actor, application_id=app.pk, action=A.SUBMIT)
    return app


def update_draft(*, actor: Any, application_id: int, data: dict[str, Any]) -> Application:
    """Correct the form of a draft or a returned application (the applicant)."""
    with transaction.atomic():
        app, as_whom = visible(actor, application_id, lock=True)
        if as_whom != "applicant" or app.status not in (S.DRAFT, S.RETURNED):
            raise TransitionNotAllowed()
        app.data = clean_data(app.kind, data, association=app.association,
                              today=timezone.localdate())
        app.year = app.data.get("year")
        app.event_id = app.data.get("event_id")
        try:
            with transaction.atomic():
                app.save(update_fields=["data", "year", "event", "updated_at"])
        except IntegrityError:
            raise Conflict(_("There is already an annual report on this year."),
                           code="annual_report_exists") from None
    return app


def attach_document(*, actor: Any, application_id: int, requirement: str, content: bytes,
                    name: str = "") -> ApplicationDocument:
    """Attach a document (PDF or image; ``file_type``, ``file_too_large``) for one of the kind's
    requirements to a draft or returned application (the applicant). Audited."""
    clean, ext = registry.clean_document(content)
    with transaction.atomic():
        app, as_whom = visible(actor, application_id, lock=True)
        if as_whom != "applicant":
            raise ApplicationNotFound()
        if app.status not in (S.DRAFT, S.RETURNED):
            raise TransitionNotAllowed()
        if requirement not in {d.key for d in DOCUMENTS[app.kind]}:
            raise bad_field("requirement", _("Not a document this application needs."),
                       "invalid_requirement")
        if app.documents.count() >= MAX_DOCUMENTS:
            raise bad_field("file", _("At most twenty documents."), "too_many_documents")
        doc = ApplicationDocument(application=app, requirement=requirement,
                                  name=(name or "").strip()[:120] or f"{requirement}.{ext}",
                                  file_type=ext, size=len(clean), uploaded_by=actor,
                                  uploaded_at=timezone.now())
        doc.file.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(clean), save=False)
        doc.save()
        audit.record(actor=actor, action="associations.application.document", obj=app,
                     region=app.region, data={"requirement": requirement, "type": ext})
    return doc


def _months_after(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _receipt(city: Region, at: dt.datetime) -> str:
    """The next receipt number of ``city`` in the local year of ``at`` (one UPDATE under the
    counter's row lock)."""
    year = timezone.localtime(at).year
    # get_or_create re-reads the row when a concurrent acceptance created it first
    ReceiptCounter.objects.get_or_create(city=city, year=year)
    counter = ReceiptCounter.objects.filter(city=city, year=year)
    counter.update(last=F("last") + 1)
    number = counter.values_list("last", flat=True).get()
    prefix = CITY_PREFIX.get(city.code[:4], city.code[:4])
    return f"{prefix}-{year}-{number:06d}"


def transition_application(*, actor: Any, application_id: int, action: str, note: str = "",
                           result: str = "") -> Application:
    """Take one step of ``TRANSITIONS``. The applicant (a manager of the association) submits
    (documents complete), resubmits after a return, or withdraws; the staff of the level the
    application waits at (a reviewing grant on that very region) accept it (受理, with the
    receipt number), approve it on to the next level or finally, return it for correction or
    reject it (a note is required for both). The last approval of an annual report records its
    result (``result``: pass, basic, fail). Each step is ONE conditional UPDATE on the status
    and the level: of two reviewers acting at once exactly one succeeds, the other gets
    ``application_transition_not_allowed``. Timeline step, audit entry; the applicant is told,
    and the next level's staff when it moves on."""
    if action not in {a for _s, a in TRANSITIONS}:
        raise bad_field("action", _("Unknown step."), "invalid_action")
    note = (note or "").strip()
    if len(note) > 500:
        raise bad_field("note", _("At most 500 characters."), "invalid")
    if action in (A.RETURN, A.REJECT) and not note:
        raise bad_field("note", _("Say why."), "reason_required")
    now = timezone.now()
    access = access_for_user(actor)
    with transaction.atomic():
        app, as_whom = visible(actor, application_id)
        current, step = app.status, app.step
        targets = TRANSITIONS.get((current, action))
        if targets is None:
            raise TransitionNotAllowed()
        if action in APPLICANT_ACTIONS:
            if as_whom != "applicant":
                raise Forbidden()
            role, region_id = "association", None
        else:
            if not reviews_at(access, app.reviewing_region_id):
                raise NotYourLevel()
            role, region_id = _actor_role(access, app.reviewing_region_id), \
                app.reviewing_region_id
        level = app.level
        changes: dict[str, Any] = {"updated_at": now}
        chain = app.level_list
        told_next: Region | None = None
        if action == A.SUBMIT:
            missing = [k for k in required_documents(app)
                       if not app.documents.filter(requirement=k).exists()]
            if missing:
                raise DocumentsMissing(fields={"documents": missing})
            if app.kind == K.HIGH_RISK_PERMIT:
                starts = dt.date.fromisoformat(app.data["starts_on"])
                if starts < timezone.localdate(now) + dt.timedelta(days=HIGH_RISK_LEAD_DAYS):
                    raise TooLate(_("Apply at least %(days)d days before the event.")
                                  % {"days": HIGH_RISK_LEAD_DAYS}, code="permit_too_late")
            levels, days = chain_for(app.region, app.kind)
            first = region_at(app.region, levels[0])
            if first is None:
                raise Conflict(_("No region reviews this application."),
                               code="no_review_level")
            changes.update(status=S.SUBMITTED, levels=",".join(levels), step=0,
                           reviewing_region_id=first.pk, submitted_at=now,
                           due_at=now + dt.timedelta(days=days), decided_on_time=None)
            if app.kind == K.ANNUAL_REPORT and app.year:
                changes["is_late"] = timezone.localdate(now) > annual_due(app.region, app.year)
            told_next = first
            level = levels[0]
        elif action == A.WITHDRAW:
            changes.update(status=S.WITHDRAWN)
        elif action == A.ACCEPT:
            changes.update(status=S.ACCEPTED, accepted_at=now)
            if not app.receipt_no:
                city = region_at(app.region, Level.CITY) or app.region
                changes["receipt_no"] = _receipt(city, now)
            if step + 1 < len(chain):  # the window accepts and passes it to the next level
                nxt = region_at(app.region, chain[step + 1])
                if nxt is not None:
                    changes.update(step=step + 1, reviewing_region_id=nxt.pk)
                    told_next = nxt
        elif action == A.APPROVE:
            nxt = region_at(app.region, chain[step + 1]) if step + 1 < len(chain) else None
            if nxt is not None:
                changes.update(step=step + 1, reviewing_region_id=nxt.pk)
                told_next = nxt
            else:
                if app.kind == K.ANNUAL_REPORT and result not in InspectionResult.values:
                    raise bad_field("result", _("Record the inspection result."),
                               "result_required")
                changes.update(status=S.APPROVED, decided_at=now, reviewing_region_id=None,
                               decided_on_time=app.due_at is None or now <= app.due_at,
                               decision_note=note)
                if app.kind == K.ANNUAL_REPORT:
                    changes["result"] = result
        elif action == A.RETURN:
            changes.update(status=S.RETURNED, reviewing_region_id=None, decision_note=note)
        elif action == A.REJECT:
            changes.update(status=S.REJECTED, decided_at=now, reviewing_region_id=None,
                           decided_on_time=app.due_at is None or now <= app.due_at,
                           decision_note=note)
        if changes.get("status", current) not in targets:
            raise TransitionNotAllowed()
        if not Application.objects.filter(pk=app.pk, status=current, step=step).update(
                **changes):
            raise TransitionNotAllowed()
        for name, value in changes.items():
            setattr(app, name, value)
        if "reviewing_region_id" in changes:
            app.reviewing_region = (Region.objects.filter(pk=changes["reviewing_region_id"])
                                    .first() if changes["reviewing_region_id"] else None)
        _step(app, action, from_status=current, actor=actor, role=role, note=note, at=now,
              level=level, region_id=region_id)
        if app.status == S.APPROVED:
            _take_effect(app, actor=actor, now=now)
        audit.record(actor=actor, action=f"associations.application.{action}", obj=app,
                     region=app.region, data={"from": current, "to": app.status,
                                              "step": app.step, "note": note,
                                              "result": result})
        if app.status in DECIDED:
            events.publish("associations.application_decided", {
                "application_id": app.pk, "association_id": app.association_id,
                "kind": app.kind, "status": app.status})
        _tell(app, action, told_next)
    return app


def _take_effect(app: Application, *, actor: Any, now: dt.datetime) -> None:
    """What an approval changes on the registry (inside the approving transaction)."""
    assoc = Association.objects.select_for_update().get(pk=app.association_id)
    fields: list[str] = []
    if app.kind == K.PREPARATION:
        assoc.preparation_approved_on = timezone.localdate(now)
        assoc.status = AssociationStatus.PREPARING
        fields += ["preparation_approved_on", "status"]
        if assoc.name != app.data.get("proposed_name"):
            assoc.name = app.data["proposed_name"]
            fields.append("name")
    elif app.kind == K.REGISTRATION:
        assoc.legal_status, assoc.status = LegalStatus.REGISTERED, AssociationStatus.ACTIVE
        assoc.credit_code = app.data["credit_code"]
        assoc.founded_on = assoc.founded_on or dt.date.fromisoformat(app.data["assembly_on"])
        fields += ["legal_status", "status", "credit_code", "founded_on"]
    elif app.kind == K.FILING:
        assoc.legal_status = LegalStatus.FILED
        if not assoc.credit_code:
            assoc.credit_code = f"BA{app.receipt_no}"  # the filing number
            fields.append("credit_code")
        fields.append("legal_status")
    elif app.kind == K.CHANGE:
        item = app.data["item"]
        if item in ("name", "address", "contact_name", "contact_phone"):
            setattr(assoc, item, app.data["new_value"][:120])
            fields.append(item)
    if fields:
        try:
            with transaction.atomic():
                assoc.save(update_fields=[*fields, "updated_at"])
        except IntegrityError:
            raise registry.NameTaken() from None


def _tell(app: Application, action: str, reviewers_at: Region | None) -> None:
    """The applicant hears of every staff step and of their own submission; the staff of the
    level it reaches are told there is something waiting."""
    from django.contrib.auth import get_user_model

    from sportsman.notifications.categories import Category as Topic
    from sportsman.notifications.services import notify

    kind = ApplicationKind(app.kind).label
    status = ApplicationStatus(app.status).label
    key = f"associations.application:{app.pk}:{action}:{app.step}:{app.status}:" \
          f"{app.timeline.count()}"
    registry.tell_managers(
        [app.association_id], _("%(kind)s: %(status)s") % {"kind": kind, "status": status},
        body=app.decision_note or app.receipt_no, key=key,
        link=f"/associations/applications/{app.pk}/",
        data={"application_id": app.pk, "status": app.status, "action": action})
    if reviewers_at is not None:
        ids = own_holders(Perm.APPLICATION_REVIEW, [reviewers_at.pk])[reviewers_at.pk]
        if ids:
            notify(users=get_user_model().objects.filter(pk__in=ids),
                   category=Topic.ASSOCIATION,
                   title=(_("Waiting for you: %(kind)s of %(name)s")
                          % {"kind": kind, "name": app.association.name})[:200],
                   link=f"/associations/console/applications/{app.pk}/",
                   data={"application_id": app.pk}, dedupe_key=f"{key}:staff")


# --- annual inspection seasons -------------------------------------------------------------------

def due_associations(region: Region, year: int) -> QuerySet[Association]:
    """The associations of ``region``'s subtree that report on ``year``: registered or filed,
    active or suspended, on the registry before the year ended."""
    end = dt.datetime(year + 1, 1, 1, tzinfo=timezone.get_current_timezone())
    return (Association.objects.filter(subtree_q(region.path, "region"))
            .filter(legal_status__in=(LegalStatus.REGISTERED, LegalStatus.FILED),
                    status__in=(AssociationStatus.ACTIVE, AssociationStatus.SUSPENDED),
                    created_at__lt=end))


def open_season(*, actor: Any, region_id: int, year: int, due_on: dt.date) -> InspectionSeason:
    """Open the annual inspection on ``year`` for ``region_id``'s subtree (ASSOCIATION_MANAGE
    there): once per region and year (``season_exists``), due after the year ends. Every
    association due is told after commit, in batches (``tasks.notify_season``). Audited."""
    access = access_for_user(actor)
    region = Region.objects.filter(pk=region_id).first()
    if region is None or not access.can(Perm.ASSOCIATION_MANAGE, region):
        access.require_anywhere(Perm.ASSOCIATION_MANAGE)
        raise NotFound()
    today = timezone.localdate()
    if not 2000 <= year < today.year:
        raise bad_field("year", _("Report on a year that is over."), "year_not_over")
    if due_on <= dt.date(year, 12, 31) or due_on > dt.date(year + 1, 12, 31):
        raise bad_field("due_on", _("A day in the year after."), "invalid_due_date")
    with transaction.atomic():
        try:
            with transaction.atomic():
                season = InspectionSeason.objects.create(region=region, year=year,
                                                         due_on=due_on, opened_by=actor)
        except IntegrityError:
            raise Conflict(_("The season of this year is already open."),
                           code="season_exists") from None
        audit.record(actor=actor, action="associations.season.open", obj=season,
                     region=region, data={"year": year, "due_on": due_on.isoformat()})
        transaction.on_commit(lambda: _enqueue_season(season.pk))
    return season


def _enqueue_season(season_id: int) -> None:
    from sportsman.associations.tasks import notify_season

    notify_season.enqueue(season_id)


SEASON_BATCH = 500


def notify_season_now(season_id: int) -> int:
    """Tell the managers of every association due in the season, SEASON_BATCH associations a
    notification batch; retry-safe (one dedupe key per season). Returns the associations told."""
    season = InspectionSeason.objects.select_related("region").get(pk=season_id)
    ids = list(due_associations(season.region, season.year).order_by("pk")
               .values_list("pk", flat=True))
    title = _("Annual inspection %(year)s: report by %(due)s") % {
        "year": season.year, "due": season.due_on.isoformat()}
    for start in range(0, len(ids), SEASON_BATCH):
        registry.tell_managers(ids[start:start + SEASON_BATCH], title,
                               key=f"associations.season:{season.pk}",
                               link="/associations/mine/",
                               data={"season_id": season.pk, "year": season.year})
    InspectionSeason.objects.filter(pk=season.pk).update(notified=len(ids))
    return len(ids)


def seasons_for(access: Access) -> QuerySet[InspectionSeason]:
    return access.scope(InspectionSeason.objects.select_related("region"),
                        Perm.ASSOCIATION_MANAGE).order_by("-year", "region__path")


def season_in_scope(access: Access, season_id: int) -> InspectionSeason:
    found = seasons_for(access).filter(pk=season_id).first()
    if found is None:
        raise NotFound(_("There is no such season."), code="season_not_found")
    return found


def season_rows(season: InspectionSeason, *, today: dt.date | None = None,
                overdue_only: bool = False) -> list[dict[str, Any]]:
    """Each association due in the season with its report's status and whether it is overdue
    (past the due date with nothing submitted), overdue first. Two queries."""
    today = today or timezone.localdate()
    assocs = list(due_associations(season.region, season.year)
                  .select_related("region").order_by("region__path", "name"))
    reports = {a: (s, r) for a, s, r in Application.objects.filter(
        association_id__in=[a.pk for a in assocs], kind=K.ANNUAL_REPORT, year=season.year)
        .exclude(status__in=(S.REJECTED, S.WITHDRAWN))
        .values_list("association_id", "status", "result")}
    rows = []
    for assoc in assocs:
        status, result = reports.get(assoc.pk, ("", ""))
        overdue = today > season.due_on and status in ("", S.DRAFT, S.RETURNED)
        if overdue_only and not overdue:
            continue
        rows.append({"association": assoc, "status": status, "result": result,
                     "overdue": overdue})
    rows.sort(key=lambda r: not r["overdue"])
    return rows


def result_filter() -> Q:
    return Q(status__in=DECIDED)
