"""Supervision tasks (督办): every state change, the scoped reads, the cockpit panel, the daily
reminders and the xlsx export.

Who may do what (``Perm.SUPERVISION``, held by the four administrator roles over a subtree):

- issue a task from region R: SUPERVISION over R; every target a strict descendant of R;
- report progress, hand in evidence, submit an assignment: SUPERVISION over its target region;
- accept or return a submitted assignment, cancel a task: SUPERVISION over the issuing region
  (and a reviewer never accepts or returns a submission of their own: ``self_review``);
- see a task: SUPERVISION over its issuing region (every assignment) or over one of its target
  regions (those assignments only). Anything else looks missing (404); a task one can see but
  not act on this way answers ``forbidden`` (403).

Assignment states (``TRANSITIONS``): issued → in_progress (a progress report) → submitted →
accepted, or submitted → returned (with the reviewer's comment) → in_progress / submitted again.
A task closes by itself once every assignment is accepted; cancelling it withdraws every
assignment not yet accepted. Each move is ONE conditional UPDATE on the assignment's status, so
of two concurrent submits or reviews exactly one applies and the other gets
``assignment_state``. A review and a cancel lock the task row first (lock order: task, then
assignment), so the last two concurrent acceptances still close the task.

Overdue = the deadline (a local date, inclusive) has passed and the assignment is neither
accepted nor withdrawn. Every write is audited (``supervision.*``), publishes a domain event
(``cockpit.supervision.*``) and tells the people concerned (category ``system``): the target
region's own administrators on issue, return, acceptance and cancellation, the issuing region's
own administrators on submission. See docs/supervision.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from sportsman.cockpit.models.supervision import (
    LIVE,
    WORKING,
    AssignmentStatus,
    EvidenceKind,
    ReportKind,
    SupervisionTask,
    TaskAssignment,
    TaskCategory,
    TaskEvidence,
    TaskReport,
    TaskStatus,
)
from sportsman.core import audit, events
from sportsman.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sportsman.core.uploads import PHOTO_MAX_BYTES, clean_pdf, clean_photo, is_image, too_large
from sportsman.regions.access import Access, Perm, access_for_user, own_holders
from sportsman.regions.models import Region

PERM = Perm.SUPERVISION
NOTIFY_CATEGORY = "system"  # staff work notices (as maintenance tickets)
DUE_SOON_DAYS = 2
TITLE_MAX = 100
BODY_MAX = 4000
TEXT_MAX = 2000
REASON_MAX = 500
CUSTOM_CATEGORY_MAX = 40
MAX_TARGETS = 500
MAX_DEADLINE_DAYS = 731
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024  # a PDF; photos stop at PHOTO_MAX_BYTES
EVIDENCE_PER_CALL = 5
EVIDENCE_PER_ASSIGNMENT = 30
FILE_NAME_MAX = 120

# status -> the statuses an assignment may move to (cancelled comes only with its task).
TRANSITIONS: dict[str, frozenset[str]] = {
    AssignmentStatus.ISSUED: frozenset({AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED,
                                        AssignmentStatus.CANCELLED}),
    AssignmentStatus.IN_PROGRESS: frozenset({AssignmentStatus.IN_PROGRESS,
                                             AssignmentStatus.SUBMITTED,
                                             AssignmentStatus.CANCELLED}),
    AssignmentStatus.RETURNED: frozenset({AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED,
                                          AssignmentStatus.CANCELLED}),
    AssignmentStatus.SUBMITTED: frozenset({AssignmentStatus.ACCEPTED, AssignmentStatus.RETURNED,
                                           AssignmentStatus.CANCELLED}),
    AssignmentStatus.ACCEPTED: frozenset(),
    AssignmentStatus.CANCELLED: frozenset(),
}


def sources(to: str) -> tuple[str, ...]:
    """The statuses from which an assignment may move to ``to`` (the conditional UPDATE's
    ``WHERE status IN (...)``)."""
    return tuple(s for s, targets in TRANSITIONS.items() if to in targets)


# --- errors ------------------------------------------------------------------------------------


class TaskNotFound(NotFound):
    code = "task_not_found"
    default_message = gettext_lazy("No such supervision task in your regions.")


class AssignmentNotFound(NotFound):
    code = "assignment_not_found"
    default_message = gettext_lazy("No such assigned unit in your regions.")


class EvidenceNotFound(NotFound):
    code = "evidence_not_found"
    default_message = gettext_lazy("No such evidence file in your regions.")


class RegionNotFound(NotFound):
    code = "region_not_found"
    default_message = gettext_lazy("No such region in your regions.")


class TaskState(Conflict):
    code = "task_state"
    default_message = gettext_lazy("This task is closed or cancelled.")


class AssignmentState(Conflict):
    code = "assignment_state"
    default_message = gettext_lazy("This unit's task cannot do this in its current state.")


class SelfReview(Forbidden):
    code = "self_review"
    default_message = gettext_lazy("You submitted this yourself: another administrator of the "
                                   "issuing region must review it.")


class TooMuchEvidence(Conflict):
    code = "too_much_evidence"
    default_message = gettext_lazy("This unit has handed in as many files as a task takes.")


def _field_error(name: str, message: Any, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, fields={name: [message]})


class _Problems:
    """Field problems of one input, gathered so a refusal names every bad field; the code of
    the refusal is the first problem's."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.code = ""
        self.message: Any = None

    def add(self, name: str, message: Any, code: str = "invalid") -> None:
        if not self.fields:
            self.code, self.message = code, message
        self.fields.setdefault(name, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.fields:
            raise InvalidInput(self.message, code=self.code, fields=self.fields)


# --- access and reads --------------------------------------------------------------------------


def _access(actor: Any) -> Access:
    return actor if isinstance(actor, Access) else access_for_user(actor)


def today_local() -> dt.date:
    return timezone.localdate()


def is_overdue(assignment: TaskAssignment, today: dt.date | None = None) -> bool:
    return (assignment.status in LIVE
            and assignment.task.deadline < (today or today_local()))


def days_late(deadline: dt.date, today: dt.date | None = None) -> int:
    return max(0, ((today or today_local()) - deadline).days)


@dataclass(frozen=True)
class Counts:
    """How a task stands over the assignments shown (all of them on the issuing side)."""

    assigned: int
    accepted: int
    submitted: int
    overdue: int


def counts(task: SupervisionTask, rows: Sequence[TaskAssignment],
           today: dt.date | None = None) -> Counts:
    today = today or today_local()
    return Counts(assigned=len(rows),
                  accepted=sum(a.status == AssignmentStatus.ACCEPTED for a in rows),
                  submitted=sum(a.status == AssignmentStatus.SUBMITTED for a in rows),
                  overdue=sum(a.status in LIVE and task.deadline < today for a in rows))


def _in_scope(access: Access, field_name: str) -> Q:
    return access.region_q(PERM, field_name)


def visible_tasks(access: Access) -> QuerySet[SupervisionTask]:
    """Tasks the actor may see: issued from a region in their SUPERVISION scope, or with an
    assignment to one. Without the permission anywhere: none."""
    if not access.has_anywhere(PERM):
        return SupervisionTask.objects.none()
    assigned = TaskAssignment.objects.filter(_in_scope(access, "region"), task=OuterRef("pk"))
    return (SupervisionTask.objects
            .filter(_in_scope(access, "issuer_region") | Q(Exists(assigned)))
            .select_related("issuer_region", "issued_by"))


def _id_ok(value: int) -> bool:
    return 0 < value < 2**63


def get_task(access: Access, task_id: int) -> SupervisionTask:
    """A task the actor may see (``visible_tasks``); any other is ``task_not_found``."""
    found = visible_tasks(access).filter(pk=task_id).first() if _id_ok(task_id) else None
    if found is None:
        raise TaskNotFound()
    return found


def can_review(access: Access, task: SupervisionTask) -> bool:
    """Whether the actor speaks for the issuing region (review, cancel, every assignment)."""
    return access.can(PERM, task.issuer_region)


def can_answer(access: Access, assignment: TaskAssignment) -> bool:
    """Whether the actor speaks for the assigned unit (report, hand in, submit)."""
    return access.can(PERM, assignment.region)


def visible_assignments(access: Access, task: SupervisionTask) -> QuerySet[TaskAssignment]:
    """The task's assignments the actor may see: all for the issuing side, else those in
    their scope; target order."""
    qs = task.assignments.select_related("region").order_by("region__code", "id")
    return qs if can_review(access, task) else qs.filter(_in_scope(access, "region"))


def get_assignment(access: Access, assignment_id: int) -> TaskAssignment:
    """An assignment the actor may see (its region or its task's issuing region in scope);
    any other is ``assignment_not_found``."""
    found = None
    if _id_ok(assignment_id) and access.has_anywhere(PERM):
        found = (TaskAssignment.objects
                 .select_related("task", "task__issuer_region", "task__issued_by", "region")
                 .filter(_in_scope(access, "region") | _in_scope(access, "task__issuer_region"))
                 .filter(pk=assignment_id).first())
    if found is None:
        raise AssignmentNotFound()
    return found


def get_evidence(access: Access, evidence_id: int) -> TaskEvidence:
    """An evidence file of an assignment the actor may see; any other is
    ``evidence_not_found``."""
    found = None
    if _id_ok(evidence_id) and access.has_anywhere(PERM):
        found = (TaskEvidence.objects.select_related("assignment")
                 .filter(_in_scope(access, "assignment__region")
                         | _in_scope(access, "assignment__task__issuer_region"))
                 .filter(pk=evidence_id).first())
    if found is None:
        raise EvidenceNotFound()
    return found


def region_in_scope(access: Access, code: str) -> Region:
    """The region with this statistical code, if the actor holds SUPERVISION over it; else
    ``region_not_found``."""
    from sportsman.regions.selectors import find_by_code

    region = find_by_code(code) if code else None
    if region is None or not access.can(PERM, region):
        raise RegionNotFound()
    return region


ROLES = ("issued", "assigned")


@dataclass(frozen=True)
class TaskFilters:
    role: str = "issued"  # issued: tasks the region(s) issued; assigned: tasks given to them
    region: Region | None = None  # exactly this region; None: every region in scope
    status: str | None = None  # the task's status
    overdue: bool | None = None
    category: str | None = None


def list_tasks(access: Access, filters: TaskFilters, *,
               today: dt.date | None = None) -> QuerySet[SupervisionTask]:
    """Tasks for a list, newest first, each with ``.rows``: its assignments the list is about
    (every assignment for ``issued``; the region's own — or those in scope — for ``assigned``),
    prefetched with their regions (two queries whatever the page size). The caller has checked
    that ``filters.region`` is in the actor's scope (``region_in_scope``)."""
    today = today or today_local()
    if filters.role not in ROLES:
        raise _field_error("role", _("Choose issued or assigned."))
    qs = visible_tasks(access)
    if filters.role == "issued":
        qs = qs.filter(issuer_region=filters.region) if filters.region is not None \
            else qs.filter(_in_scope(access, "issuer_region"))
        mine = TaskAssignment.objects.all()
    else:
        mine = (TaskAssignment.objects.filter(region=filters.region)
                if filters.region is not None
                else TaskAssignment.objects.filter(_in_scope(access, "region")))
        qs = qs.filter(Exists(mine.filter(task=OuterRef("pk"))))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.overdue is not None:
        late = Exists(mine.filter(task=OuterRef("pk"), status__in=LIVE))
        late_q = Q(late) & Q(deadline__lt=today)
        qs = qs.filter(late_q) if filters.overdue else qs.exclude(late_q)
    rows = mine.select_related("region").order_by("region__code", "id")
    return qs.prefetch_related(Prefetch("assignments", queryset=rows, to_attr="rows")) \
        .order_by("-id")


# --- validation of input -----------------------------------------------------------------------


def _text(problems: _Problems, name: str, value: Any, max_length: int, *,
          required: bool, message: Any = None) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        problems.add(name, _("Text is expected."))
        return ""
    if required and not text:
        problems.add(name, message or _("This field is required."), code=f"{name}_required")
    elif len(text) > max_length:
        problems.add(name, _("At most %(n)d characters.") % {"n": max_length})
    return text[:max_length]


def _progress(problems: _Problems, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        problems.add("progress", _("Progress is a whole number from 0 to 100."),
                     code="invalid_progress")
        return 0
    return value


@dataclass(frozen=True)
class Upload:
    """A file as it came in: its name as the sender gave it and at most cap + 1 bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class _CleanFile:
    kind: str
    name: str
    content: bytes
    ext: str


def _file_name(raw: str, ext: str) -> str:
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>')
    stem = base.rsplit(".", 1)[0].strip() or "evidence"
    return f"{stem[:FILE_NAME_MAX - len(ext) - 1]}.{ext}"


def clean_files(files: Sequence[Upload]) -> list[_CleanFile]:
    """Check every file before anything is written: photos (JPEG, PNG, WebP, GIF; ≤ 5 MB) are
    re-encoded without EXIF, PDFs (≤ 10 MB) recognised by their magic bytes; anything else is
    ``file_type``. At most ``EVIDENCE_PER_CALL`` files (``too_many_files``)."""
    if len(files) > EVIDENCE_PER_CALL:
        raise _field_error("file", _("At most %(n)d files at a time.") % {"n": EVIDENCE_PER_CALL},
                           code="too_many_files")
    out = []
    for upload in files:
        content = upload.content
        if not content:
            raise _field_error("file", _("The file is empty."), code="file_empty")
        if content.startswith(b"%PDF-"):
            out.append(_CleanFile(EvidenceKind.PDF, _file_name(upload.name, "pdf"),
                                  clean_pdf(content, max_bytes=EVIDENCE_MAX_BYTES), "pdf"))
        elif is_image(content):
            if len(content) > PHOTO_MAX_BYTES:
                raise too_large(PHOTO_MAX_BYTES)
            out.append(_CleanFile(EvidenceKind.IMAGE, _file_name(upload.name, "jpg"),
                                  clean_photo(content, field="file"), "jpg"))
        elif len(content) > EVIDENCE_MAX_BYTES:
            raise too_large(EVIDENCE_MAX_BYTES)
        else:
            raise _field_error("file", _("Only photos (JPEG, PNG, WebP, GIF) and PDF documents "
                                         "are accepted."), code="file_type")
    return out


def _store_evidence(assignment: TaskAssignment, report: TaskReport | None,
                    files: list[_CleanFile], actor: Any) -> list[TaskEvidence]:
    """Save the checked files (inside the caller's transaction, after the assignment row was
    locked by its conditional UPDATE, so the per-assignment cap holds under concurrency)."""
    if not files:
        return []
    if assignment.evidence.count() + len(files) > EVIDENCE_PER_ASSIGNMENT:
        raise TooMuchEvidence()
    made = []
    for f in files:
        evidence = TaskEvidence(assignment=assignment, report=report, uploaded_by=actor,
                                kind=f.kind, name=f.name, size=len(f.content))
        evidence.file.save(f"supervision/{assignment.task_id}/{assignment.pk}/"
                           f"{uuid.uuid4().hex}.{f.ext}", ContentFile(f.content), save=False)
        evidence.save()
        made.append(evidence)
    return made


# --- notifications -----------------------------------------------------------------------------


def _tell(user_ids: list[int], *, title: str, body: str, link: str, data: dict[str, Any],
          dedupe_key: str | None = None) -> int:
    from sportsman.notifications.services import notify

    if not user_ids:
        return 0
    return notify(users=get_user_model().objects.filter(pk__in=user_ids),
                  category=NOTIFY_CATEGORY, title=title[:200], body=body, link=link, data=data,
                  dedupe_key=dedupe_key)


def _wording() -> Any:
    """Notifications are stored text: write them in the site's language, whatever the language
    of the request that caused them."""
    return override(settings.LANGUAGE_CODE)


def task_link(task_id: int) -> str:
    return reverse("cockpit:task", args=[task_id])


def assignment_link(assignment_id: int) -> str:
    return reverse("cockpit:assignment", args=[assignment_id])


# --- issue -------------------------------------------------------------------------------------


def issue_task(*, actor: Any, issuer_region_id: int, title: str, body: str = "",
               category: str, custom_category: str = "", deadline: dt.date | None,
               target_region_ids: Sequence[int], request: Any = None,
               today: dt.date | None = None) -> SupervisionTask:
    """Issue a task from ``issuer_region_id`` to each target (one assignment each, status
    issued). Requires SUPERVISION over the issuing region (``forbidden``; an unknown region is
    ``region_not_found``). Refuses, writing nothing: no target (``no_targets``), more than
    ``MAX_TARGETS`` (``too_many_targets``), a target that does not exist or is not strictly
    below the issuing region (``target_not_below``), a deadline before today
    (``deadline_past``) or more than two years ahead (``deadline_too_far``), a missing or too
    long title, body or custom category name, an unknown category. Side effects: audit
    ``supervision.issue``, event ``cockpit.supervision.issued``, a notification to each target
    region's own administrators."""
    access = _access(actor)
    access.require_anywhere(PERM)
    issuer = Region.objects.filter(pk=issuer_region_id).first() if _id_ok(issuer_region_id) \
        else None
    if issuer is None:
        raise RegionNotFound()
    access.require(PERM, issuer)
    today = today or today_local()
    problems = _Problems()
    title = _text(problems, "title", title, TITLE_MAX, required=True,
                  message=_("Give the task a title."))
    body = _text(problems, "body", body, BODY_MAX, required=False)
    if category not in TaskCategory.values:
        problems.add("category", _("Choose a category."), code="invalid_category")
    custom = _text(problems, "custom_category", custom_category, CUSTOM_CATEGORY_MAX,
                   required=category == TaskCategory.CUSTOM,
                   message=_("Name the category."))
    if category != TaskCategory.CUSTOM:
        custom = ""
    if deadline is None:
        problems.add("deadline", _("Give a deadline."), code="deadline_required")
    elif deadline < today:
        problems.add("deadline", _("The deadline cannot be in the past."), code="deadline_past")
    elif deadline > today + dt.timedelta(days=MAX_DEADLINE_DAYS):
        problems.add("deadline", _("The deadline is at most two years ahead."),
                     code="deadline_too_far")
    wanted = sorted({int(t) for t in target_region_ids if isinstance(t, int) and _id_ok(t)})
    targets: list[Region] = []
    if not target_region_ids:
        problems.add("targets", _("Choose at least one unit."), code="no_targets")
    elif len(set(target_region_ids)) > MAX_TARGETS:
        problems.add("targets", _("At most %(n)d units per task.") % {"n": MAX_TARGETS},
                     code="too_many_targets")
    else:
        targets = list(Region.objects.filter(pk__in=wanted).order_by("code"))
        below = [r for r in targets if r.pk != issuer.pk and r.path.startswith(issuer.path)]
        if len(below) != len(set(target_region_ids)):
            problems.add("targets", _("Every unit must lie below %(region)s.")
                         % {"region": issuer.name}, code="target_not_below")
    problems.raise_if_any()
    assert deadline is not None
    with transaction.atomic():
        task = SupervisionTask.objects.create(
            issuer_region=issuer, issued_by=access.user, title=title, body=body,
            category=category, custom_category=custom, deadline=deadline)
        TaskAssignment.objects.bulk_create(
            [TaskAssignment(task=task, region=r) for r in targets])
        audit.record(actor=access.user, action="supervision.issue", obj=task, region=issuer,
                     request=request, data={"targets": [r.code for r in targets],
                                            "deadline": deadline.isoformat(),
                                            "category": category})
        events.publish("cockpit.supervision.issued",
                       {"task_id": task.pk, "issuer_region_id": issuer.pk,
                        "target_region_ids": [r.pk for r in targets]})
        admins = own_holders(PERM, [r.pk for r in targets])
        made = {a.region_id: a.pk for a in task.assignments.all()}
        with _wording():
            notice = _("Supervision task from %(issuer)s: %(title)s") % {
                "issuer": issuer.name, "title": title}
            due = _("Due %(deadline)s.") % {"deadline": deadline.isoformat()}
            for r in targets:
                _tell(admins[r.pk], title=notice, body=due, link=assignment_link(made[r.pk]),
                      data={"task_id": task.pk, "assignment_id": made[r.pk]},
                      dedupe_key=f"supervision:issued:{made[r.pk]}")
    return task


# --- the unit's side ---------------------------------------------------------------------------


def _answerable(access: Access, assignment_id: int) -> TaskAssignment:
    access.require_anywhere(PERM)
    assignment = get_assignment(access, assignment_id)
    if not can_answer(access, assignment):
        raise Forbidden(_("Only the assigned unit reports on its task."))
    return assignment


def _move(assignment: TaskAssignment, to: str, **values: Any) -> None:
    """The one conditional UPDATE of an assignment's status (the transition table as its
    WHERE); ``assignment_state`` when it no longer applies, e.g. a concurrent move won."""
    allowed_from = sources(to)
    now = timezone.now()
    moved = (TaskAssignment.objects.filter(pk=assignment.pk, status__in=allowed_from)
             .update(status=to, updated_at=now, **values))
    if not moved:
        raise AssignmentState()


def _current_status(assignment_id: int) -> str:
    return TaskAssignment.objects.filter(pk=assignment_id).values_list("status",
                                                                       flat=True).first() or ""


def report_progress(*, actor: Any, assignment_id: int, progress: int, text: str,
                    files: Sequence[Upload] = (), request: Any = None) -> TaskReport:
    """The unit reports how far it is (0–100 %) with a note and optional evidence files. The
    assignment moves to in_progress (from issued, in_progress or returned; else
    ``assignment_state``). Requires SUPERVISION over the assigned region. Refuses without
    writing: a progress outside 0..100 (``invalid_progress``), an empty or too long note
    (``text_required``), a bad file (see ``clean_files``). Audited (``supervision.progress``)."""
    access = _access(actor)
    assignment = _answerable(access, assignment_id)
    problems = _Problems()
    progress = _progress(problems, progress)
    text = _text(problems, "text", text, TEXT_MAX, required=True,
                 message=_("Describe the progress."))
    problems.raise_if_any()
    cleaned = clean_files(files)
    now = timezone.now()
    with transaction.atomic():
        _move(assignment, AssignmentStatus.IN_PROGRESS, progress=progress, reported_at=now)
        report = TaskReport.objects.create(assignment=assignment, author=access.user,
                                           kind=ReportKind.PROGRESS, text=text,
                                           progress=progress)
        stored = _store_evidence(assignment, report, cleaned, access.user)
        audit.record(actor=access.user, action="supervision.progress", obj=assignment,
                     region=assignment.region, request=request,
                     data={"progress": progress, "files": [e.pk for e in stored]})
    return report


def add_evidence(*, actor: Any, assignment_id: int, files: Sequence[Upload],
                 request: Any = None) -> list[TaskEvidence]:
    """The unit hands in evidence files while it works on the task (issued, in progress or
    returned; ``assignment_state`` otherwise). Requires SUPERVISION over the assigned region.
    At least one file (``file_required``); see ``clean_files`` for what passes; at most
    ``EVIDENCE_PER_ASSIGNMENT`` in all (``too_much_evidence``). Audited
    (``supervision.evidence``)."""
    access = _access(actor)
    assignment = _answerable(access, assignment_id)
    if not files:
        raise _field_error("file", _("Choose a file."), code="file_required")
    cleaned = clean_files(files)
    with transaction.atomic():
        # Takes the assignment's row lock and checks it is still being worked on.
        moved = (TaskAssignment.objects.filter(pk=assignment.pk, status__in=WORKING)
                 .update(updated_at=timezone.now()))
        if not moved:
            raise AssignmentState()
        stored = _store_evidence(assignment, None, cleaned, access.user)
        audit.record(actor=access.user, action="supervision.evidence", obj=assignment,
                     region=assignment.region, request=request,
                     data={"files": [e.pk for e in stored]})
    return stored


def submit(*, actor: Any, assignment_id: int, text: str, files: Sequence[Upload] = (),
           request: Any = None) -> TaskAssignment:
    """The unit reports the task done and asks for review: progress 100 %, status submitted
    (from issued, in progress or returned; ``assignment_state`` otherwise, so of two concurrent
    submits one applies). Requires SUPERVISION over the assigned region; a note of what was done
    (``text_required``); optional evidence files. Side effects: audit ``supervision.submit``,
    event ``cockpit.supervision.submitted``, a notification to the issuing region's own
    administrators."""
    access = _access(actor)
    assignment = _answerable(access, assignment_id)
    problems = _Problems()
    text = _text(problems, "text", text, TEXT_MAX, required=True,
                 message=_("Describe what was done."))
    problems.raise_if_any()
    cleaned = clean_files(files)
    now = timezone.now()
    task = assignment.task
    with transaction.atomic():
        _move(assignment, AssignmentStatus.SUBMITTED, progress=100, submitted_at=now,
              submitted_by=access.user, reported_at=now)
        report = TaskReport.objects.create(assignment=assignment, author=access.user,
                                           kind=ReportKind.SUBMIT, text=text, progress=100)
        stored = _store_evidence(assignment, report, cleaned, access.user)
        audit.record(actor=access.user, action="supervision.submit", obj=assignment,
                     region=assignment.region, request=request,
                     data={"files": [e.pk for e in stored]})
        events.publish("cockpit.supervision.submitted",
                       {"task_id": task.pk, "assignment_id": assignment.pk,
                        "region_id": assignment.region_id})
        with _wording():
            _tell(own_holders(PERM, [task.issuer_region_id])[task.issuer_region_id],
                  title=_("%(unit)s submitted “%(title)s” for review") % {
                      "unit": assignment.region.name, "title": task.title},
                  body=text[:200], link=assignment_link(assignment.pk),
                  data={"task_id": task.pk, "assignment_id": assignment.pk})
    assignment.refresh_from_db()
    return assignment


# --- the issuer's side -------------------------------------------------------------------------


def review(*, actor: Any, assignment_id: int, accept: bool, comment: str = "",
           request: Any = None) -> TaskAssignment:
    """Accept a submitted assignment (it is closed; the task closes once every assignment is
    accepted) or return it with a comment (``comment_required``) for more work. Requires
    SUPERVISION over the issuing region (``forbidden``); never one's own submission
    (``self_review``); only a submitted assignment (``assignment_state``: of two concurrent
    reviews exactly one applies). The task row is locked first, so two last acceptances racing
    still close the task. Side effects: audit ``supervision.accept`` / ``supervision.return``,
    event ``cockpit.supervision.accepted`` / ``.returned``, a notification to the unit's own
    administrators."""
    access = _access(actor)
    access.require_anywhere(PERM)
    assignment = get_assignment(access, assignment_id)
    task = assignment.task
    if not can_review(access, task):
        raise Forbidden(_("Only the issuing region reviews this task."))
    problems = _Problems()
    comment = _text(problems, "comment", comment, TEXT_MAX, required=not accept,
                    message=_("Say what is still to be done."))
    problems.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        SupervisionTask.objects.select_for_update().filter(pk=task.pk).first()
        if accept:
            values: dict[str, Any] = {"accepted_at": now, "progress": 100}
            to = AssignmentStatus.ACCEPTED
        else:
            values, to = {}, AssignmentStatus.RETURNED
        moved = (TaskAssignment.objects
                 .filter(pk=assignment.pk, status__in=sources(to))
                 .exclude(submitted_by_id=access.user.pk)
                 .update(status=to, updated_at=now, last_comment=comment, **values))
        if not moved:
            current = TaskAssignment.objects.filter(pk=assignment.pk).values_list(
                "status", "submitted_by_id").first()
            if current == (AssignmentStatus.SUBMITTED, access.user.pk):
                raise SelfReview()
            raise AssignmentState()
        TaskReport.objects.create(assignment=assignment, author=access.user,
                                  kind=ReportKind.ACCEPT if accept else ReportKind.RETURN,
                                  text=comment)
        closed = False
        if accept and not task.assignments.filter(status__in=LIVE).exists():
            closed = bool(SupervisionTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN)
                          .update(status=TaskStatus.CLOSED, closed_at=now, updated_at=now))
        action = "accept" if accept else "return"
        audit.record(actor=access.user, action=f"supervision.{action}", obj=assignment,
                     region=task.issuer_region, request=request,
                     data={"comment": comment, "task_closed": closed})
        events.publish(f"cockpit.supervision.{'accepted' if accept else 'returned'}",
                       {"task_id": task.pk, "assignment_id": assignment.pk,
                        "region_id": assignment.region_id, "task_closed": closed})
        with _wording():
            title = (_("“%(title)s” was accepted") if accept
                     else _("“%(title)s” was returned for more work")) % {"title": task.title}
            _tell(own_holders(PERM, [assignment.region_id])[assignment.region_id],
                  title=title, body=comment[:200], link=assignment_link(assignment.pk),
                  data={"task_id": task.pk, "assignment_id": assignment.pk})
    assignment.refresh_from_db()
    return assignment


def cancel_task(*, actor: Any, task_id: int, reason: str, request: Any = None) -> SupervisionTask:
    """Withdraw an open task (``task_state`` otherwise) with a reason (``reason_required``):
    every assignment not yet accepted is cancelled. Requires SUPERVISION over the issuing
    region (``forbidden``). Side effects: audit ``supervision.cancel``, event
    ``cockpit.supervision.cancelled``, a notification to the withdrawn units' administrators."""
    access = _access(actor)
    access.require_anywhere(PERM)
    task = get_task(access, task_id)
    if not can_review(access, task):
        raise Forbidden(_("Only the issuing region cancels this task."))
    problems = _Problems()
    reason = _text(problems, "reason", reason, REASON_MAX, required=True,
                   message=_("Give a reason."))
    problems.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        moved = (SupervisionTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN)
                 .update(status=TaskStatus.CANCELLED, cancelled_at=now, cancel_reason=reason,
                         updated_at=now))
        if not moved:
            raise TaskState()
        withdrawn = list(task.assignments.filter(status__in=LIVE).values_list("pk", "region_id"))
        task.assignments.filter(pk__in=[pk for pk, _r in withdrawn]).update(
            status=AssignmentStatus.CANCELLED, updated_at=now)
        audit.record(actor=access.user, action="supervision.cancel", obj=task,
                     region=task.issuer_region, request=request,
                     data={"reason": reason, "withdrawn": [pk for pk, _r in withdrawn]})
        events.publish("cockpit.supervision.cancelled",
                       {"task_id": task.pk, "assignment_ids": [pk for pk, _r in withdrawn]})
        admins = own_holders(PERM, [r for _pk, r in withdrawn])
        with _wording():
            title = _("“%(title)s” was cancelled") % {"title": task.title}
            for pk, region_id in withdrawn:
                _tell(admins[region_id], title=title, body=reason[:200],
                      link=assignment_link(pk), data={"task_id": task.pk, "assignment_id": pk})
    task.refresh_from_db()
    return task


# --- the daily reminders -----------------------------------------------------------------------


def remind(*, today: dt.date | None = None) -> int:
    """The daily job: units still working on a task due within ``DUE_SOON_DAYS`` days, or
    already overdue, are reminded (their own administrators, once per assignment per local day:
    a conditional UPDATE of ``reminded_on`` claims the day); the issuing region's own
    administrators are told once when an assignment becomes overdue (``overdue_flagged_at``),
    submitted or not. Safe to run again the same day: nothing is sent twice. Returns the number
    of notices sent."""
    today = today or today_local()
    due = (TaskAssignment.objects
           .filter(status__in=LIVE, task__status=TaskStatus.OPEN,
                   task__deadline__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
           .filter(Q(status__in=WORKING, reminded_on__isnull=True)
                   | Q(status__in=WORKING, reminded_on__lt=today)
                   | Q(task__deadline__lt=today, overdue_flagged_at__isnull=True))
           .select_related("task", "task__issuer_region", "region").order_by("pk"))
    found = list(due[:5000])
    admins = own_holders(PERM, [a.region_id for a in found]
                                 + [a.task.issuer_region_id for a in found])
    sent = 0
    for a in found:
        with transaction.atomic(), _wording():
            sent += _remind_one(a, today, admins)
    return sent


def _remind_one(a: TaskAssignment, today: dt.date, admins: dict[int, list[int]]) -> int:
    task = a.task
    sent = 0
    late = task.deadline < today
    if a.status in WORKING:
        claimed = (TaskAssignment.objects.filter(pk=a.pk, status__in=WORKING)
                   .filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))
                   .update(reminded_on=today))
        if claimed:
            if late:
                title = _("Overdue by %(days)d days: %(title)s") % {
                    "days": days_late(task.deadline, today), "title": task.title}
            else:
                left = (task.deadline - today).days
                title = (_("Due today: %(title)s") % {"title": task.title} if left == 0 else
                         _("Due in %(days)d days: %(title)s") % {"days": left,
                                                                "title": task.title})
            sent += bool(_tell(admins.get(a.region_id, []), title=title,
                               body=_("Issued by %(issuer)s, due %(deadline)s.") % {
                                   "issuer": task.issuer_region.name,
                                   "deadline": task.deadline.isoformat()},
                               link=assignment_link(a.pk),
                               data={"task_id": task.pk, "assignment_id": a.pk},
                               dedupe_key=f"supervision:remind:{a.pk}:{today.isoformat()}"))
    if late:
        flagged = (TaskAssignment.objects.filter(pk=a.pk, overdue_flagged_at__isnull=True,
                                                 status__in=LIVE)
                   .update(overdue_flagged_at=timezone.now()))
        if flagged:
            sent += bool(_tell(admins.get(task.issuer_region_id, []),
                               title=_("%(unit)s is overdue on “%(title)s”") % {
                                   "unit": a.region.name, "title": task.title},
                               body=_("The deadline was %(deadline)s.") % {
                                   "deadline": task.deadline.isoformat()},
                               link=task_link(task.pk),
                               data={"task_id": task.pk, "assignment_id": a.pk},
                               dedupe_key=f"supervision:overdue:{a.pk}"))
    return sent


# --- the cockpit panel -------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueLine:
    task_id: int
    assignment_id: int
    title: str
    issuer: str  # the issuing region's name
    unit: str  # the assigned region's name
    deadline: dt.date
    days_late: int
    status: str  # the assignment's status
    url: str  # the page to open: the task (issuer's panel) or the assignment (unit's panel)


@dataclass(frozen=True)
class PanelSide:
    open: int
    overdue: int
    overdue_items: list[OverdueLine] = field(default_factory=list)
    open_items: list[OverdueLine] = field(default_factory=list)


@dataclass(frozen=True)
class SupervisionPanel:
    region_id: int
    issued: PanelSide
    assigned: PanelSide
    list_url: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def panel(region: Region, *, today: dt.date | None = None, limit: int = 10) -> SupervisionPanel:
    """Supervision figures of one region's cockpit (five queries, whatever the numbers):

    - ``issued``: tasks this region issued — ``open`` (tasks still open), ``overdue`` (open tasks
      with at least one overdue assignment) and ``overdue_items`` (the overdue assignments,
      most overdue first, at most ``limit``; ``url`` is the task page);
    - ``assigned``: this region's own assignments — ``open`` (not yet accepted, in open tasks)
      with ``open_items`` (the first ``limit`` by deadline: the region's to-do list),
      ``overdue`` and ``overdue_items`` (``url`` is the assignment page);
    - ``list_url``: the task list page.

    Only tasks issued by, and assignments made to, exactly ``region`` count (not its subtree).
    No access check: the caller has checked that the actor may see ``region``'s cockpit
    (``COCKPIT_VIEW`` over it; every holder of that also holds ``SUPERVISION`` there). Use
    ``.as_dict()`` for a template or JSON."""
    today = today or today_local()
    open_issued = SupervisionTask.objects.filter(issuer_region=region, status=TaskStatus.OPEN)
    late = TaskAssignment.objects.filter(status__in=LIVE, task__status=TaskStatus.OPEN,
                                         task__deadline__lt=today)
    issued_late = late.filter(task__issuer_region=region)
    mine = TaskAssignment.objects.filter(region=region, status__in=LIVE,
                                         task__status=TaskStatus.OPEN)

    def lines(qs: QuerySet[TaskAssignment], link: Any) -> list[OverdueLine]:
        rows = (qs.select_related("task", "task__issuer_region", "region")
                .order_by("task__deadline", "task_id", "region__code")[:limit])
        return [OverdueLine(a.task_id, a.pk, a.task.title, a.task.issuer_region.name,
                            a.region.name, a.task.deadline, days_late(a.task.deadline, today),
                            a.status, link(a)) for a in rows]

    return SupervisionPanel(
        region_id=region.pk,
        issued=PanelSide(open=open_issued.count(),
                         overdue=issued_late.values("task_id").distinct().count(),
                         overdue_items=lines(issued_late, lambda a: task_link(a.task_id))),
        assigned=PanelSide(open=mine.count(),
                           overdue=mine.filter(task__deadline__lt=today).count(),
                           overdue_items=lines(late.filter(region=region),
                                               lambda a: assignment_link(a.pk)),
                           open_items=lines(mine, lambda a: assignment_link(a.pk))),
        list_url=reverse("cockpit:tasks"),
    )


# --- export ------------------------------------------------------------------------------------

EXPORT_MAX_TASKS = 5000


def export_xlsx(*, access: Access, filters: TaskFilters, request: Any = None,
                today: dt.date | None = None) -> bytes:
    """The xlsx of the list ``filters`` selects: one row per task and assigned unit, with
    status, progress, overdue days and the key times (local), through ``cockpit.xlsx`` (text
    typed by people stays text, never a formula). Audited (``supervision.export``, kind
    view)."""
    from sportsman.core import xlsx
    from sportsman.core.models import AuditEntry

    today = today or today_local()
    tasks = list(list_tasks(access, filters, today=today)[:EXPORT_MAX_TASKS])
    statuses = dict(AssignmentStatus.choices)
    rows: list[list[Any]] = []
    for task in tasks:
        for a in task.rows:  # type: ignore[attr-defined]
            a.task = task
            late = is_overdue(a, today)
            rows.append([
                task.pk, task.title, task.category_label, task.issuer_region.name,
                task.created_at, task.deadline,
                str(task.get_status_display()),  # type: ignore[attr-defined]
                a.region.name, str(statuses.get(a.status, a.status)), a.progress,
                _("yes") if late else _("no"), days_late(task.deadline, today) if late else "",
                a.reported_at, a.submitted_at, a.accepted_at, a.last_comment])
    headers = [_("Task ID"), _("Title"), _("Category"), _("Issued by"), _("Issued on"),
               _("Deadline"), _("Task status"), _("Assigned unit"), _("Unit's status"),
               _("Progress (%)"), _("Overdue"), _("Days overdue"), _("Last report"),
               _("Submitted"), _("Accepted"), _("Reviewer's comment")]
    content = xlsx.workbook([(_("Supervision tasks"), headers, rows)])
    audit.record(actor=access.user, action="supervision.export", kind=AuditEntry.Kind.VIEW,
                 object_type="cockpit.supervisiontask", region=filters.region, request=request,
                 data={"role": filters.role, "tasks": len(tasks)})
    return content
