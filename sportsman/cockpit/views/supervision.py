"""Supervision task pages (督办) in the console: the list (issued by / assigned to the current
region, filters, overdue badges, xlsx export, printable), the "new task" form (targets among the
current region's children; ``?to=<code>`` preselects one), a task with its assigned units and
the review actions, and one unit's page where it reports progress, hands in evidence and submits.

Every form works without JavaScript. Refusals of the services come back on the page they were
made on, with what was typed; a task or unit outside the actor's regions is a 404 page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.cockpit import supervision as sv
from sportsman.cockpit.api.supervision import evidence_url
from sportsman.cockpit.models.supervision import (
    WORKING,
    AssignmentStatus,
    SupervisionTask,
    TaskAssignment,
    TaskCategory,
    TaskStatus,
)
from sportsman.core import xlsx
from sportsman.core.errors import DomainError
from sportsman.core.views import safe_next
from sportsman.regions.access import Access, Perm, scoped
from sportsman.regions.models import Region
from sportsman.regions.views import ConsoleState, _render, console_state

SECTION = "supervision"
PAGE_SIZE = 50
TEMPLATES = "cockpit/supervision/"


def _shown_on_form(exc: DomainError) -> bool:
    """Refusals about the input or the state go back on the form; 401/403/404 go to the
    middleware's pages."""
    return exc.status in (400, 409)


# --- the list ----------------------------------------------------------------------------------


class ListFilter(forms.Form):
    tab = forms.ChoiceField(choices=[("issued", "issued"), ("assigned", "assigned")],
                            required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", gettext_lazy("all")), *TaskStatus.choices])
    overdue = forms.ChoiceField(label=gettext_lazy("Overdue"), required=False,
                                choices=[("", gettext_lazy("all")),
                                         ("yes", gettext_lazy("overdue only")),
                                         ("no", gettext_lazy("not overdue"))])
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False,
                                 choices=[("", gettext_lazy("all")), *TaskCategory.choices])
    cursor = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self, region: Region | None) -> sv.TaskFilters:
        """The valid filters (an invalid one is dropped, the others kept)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        overdue = {"yes": True, "no": False}.get(data.get("overdue") or "")
        return sv.TaskFilters(role=data.get("tab") or "issued", region=region,
                              status=data.get("status") or None, overdue=overdue,
                              category=data.get("category") or None)


def _current(state: ConsoleState) -> Region | None:
    """The console's region, if the actor supervises there (a venue manager's region may be
    current for someone who is also an administrator elsewhere)."""
    return state.region if state.access.can(Perm.SUPERVISION, state.region) else None


def _line(task: SupervisionTask, rows: list[TaskAssignment], today: dt.date) -> dict[str, Any]:
    for a in rows:
        a.task = task
    return {"task": task, "counts": sv.counts(task, rows, today),
            "rows": [{"a": a, "late": sv.is_overdue(a, today),
                      "days_late": sv.days_late(task.deadline, today)} for a in rows]}


@scoped(Perm.SUPERVISION)
def task_list(request: HttpRequest) -> HttpResponse:
    """Tasks issued by the current region, or assigned to it (``?tab=assigned``), newest first,
    with filters, overdue badges, an xlsx export and a print layout."""
    state = console_state(request)
    region = _current(state)
    form = ListFilter(request.GET or None)
    filters = form.filters(region)
    lines: list[dict[str, Any]] = []
    next_query = None
    if region is not None:
        qs = sv.list_tasks(state.access, filters)
        cursor = getattr(form, "cleaned_data", {}).get("cursor")
        if cursor:
            qs = qs.filter(pk__lt=cursor)
        page = list(qs[:PAGE_SIZE + 1])
        today = sv.today_local()
        lines = [_line(t, t.rows, today) for t in page[:PAGE_SIZE]]  # type: ignore[attr-defined]
        if len(page) > PAGE_SIZE:
            params = {k: v for k, v in request.GET.items() if k != "cursor" and v}
            next_query = urlencode({**params, "cursor": page[PAGE_SIZE - 1].pk})
    params = {k: v for k, v in request.GET.items() if k not in ("cursor", "tab") and v}
    return _render(request, TEMPLATES + "list.html", state, SECTION, form=form, lines=lines,
                   tab=filters.role, region=region, next_query=next_query,
                   export_query=urlencode({**params, "tab": filters.role}),
                   issued_query=urlencode({**params, "tab": "issued"}),
                   assigned_query=urlencode({**params, "tab": "assigned"}),
                   can_issue=region is not None and bool(state.children))


@scoped(Perm.SUPERVISION)
def task_export(request: HttpRequest) -> HttpResponse:
    """The list as it is filtered, as xlsx: one row per task and assigned unit."""
    state = console_state(request)
    region = _current(state)
    if region is None:
        raise sv.RegionNotFound()
    filters = ListFilter(request.GET or None).filters(region)
    content = sv.export_xlsx(access=state.access, filters=filters, request=request)
    response = xlsx.download(content, f"supervision-{filters.role}")
    response["Cache-Control"] = "private, no-store"
    return response


# --- a new task --------------------------------------------------------------------------------


class TaskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=sv.TITLE_MAX)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=TaskCategory.choices)
    custom_category = forms.CharField(
        label=gettext_lazy("Category name"), max_length=sv.CUSTOM_CATEGORY_MAX, required=False,
        help_text=gettext_lazy("Only for “Other”: name the category."))
    body = forms.CharField(label=gettext_lazy("What is to be done"), required=False,
                           max_length=sv.BODY_MAX, widget=forms.Textarea(attrs={"rows": 6}))
    deadline = forms.DateField(label=gettext_lazy("Deadline"),
                               widget=forms.DateInput(attrs={"type": "date"}))
    all_targets = forms.BooleanField(label=gettext_lazy("All units below"), required=False)
    targets = forms.MultipleChoiceField(label=gettext_lazy("Assigned units"), required=False,
                                        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, units: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = {r.code: r for r in units}
        self.fields["targets"].choices = [(r.code, r.name) for r in units]  # type: ignore[attr-defined]

    def target_ids(self) -> list[int]:
        if self.cleaned_data.get("all_targets"):
            return [r.pk for r in self.units.values()]
        return [self.units[code].pk for code in self.cleaned_data.get("targets") or []]

    def add_service_errors(self, exc: DomainError) -> None:
        placed = False
        for name, problems in exc.fields.items():
            if name in self.fields:
                for problem in problems if isinstance(problems, list) else [problems]:
                    self.add_error(name, str(problem))
                placed = True
        if not placed:
            self.add_error(None, str(exc.message))


def _issuer_and_units(access: Access, state: ConsoleState,
                      to: str) -> tuple[Region | None, list[Region], Region | None]:
    """(the issuing region, the units it may choose, the unit ``?to=`` preselects).

    The issuer is the console's region. A ``to`` that is not strictly below it (the cockpit's
    link while the console stands on that region itself) makes the target's parent the
    issuer, if the actor supervises there; otherwise ``to`` is ignored. A ``to`` deeper than a
    child joins the choices."""
    from sportsman.regions.selectors import find_by_code

    issuer = _current(state)
    target = find_by_code(to) if to else None
    if target is not None and not access.can(Perm.SUPERVISION, target):
        target = None
    if target is not None and (issuer is None or target.pk == issuer.pk
                               or not issuer.contains(target)):
        parent = target.parent
        if parent is not None and access.can(Perm.SUPERVISION, parent):
            issuer = parent
        else:
            target = None
    if issuer is None:
        return None, [], None
    units = list(issuer.children.order_by("code"))
    if target is not None and target.pk not in {r.pk for r in units}:
        units.append(target)
    return issuer, units, target


@scoped(Perm.SUPERVISION)
def task_new(request: HttpRequest) -> HttpResponse:
    """Issue a task from the current region to some or all of its units."""
    state = console_state(request)
    to = request.GET.get("to", "").strip()
    issuer, units, target = _issuer_and_units(state.access, state, to)
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, units=units)
        if issuer is None:
            raise sv.RegionNotFound()
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = sv.issue_task(
                    actor=state.access, issuer_region_id=issuer.pk, title=data["title"],
                    body=data["body"], category=data["category"],
                    custom_category=data["custom_category"], deadline=data["deadline"],
                    target_region_ids=form.target_ids(), request=request)
            except DomainError as exc:
                if not _shown_on_form(exc):
                    raise
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(request, _("The task was issued to %(n)d units.")
                                 % {"n": task.assignments.count()})
                return HttpResponseRedirect(reverse("cockpit:task", args=[task.pk]))
        else:
            status = 400
    else:
        initial: dict[str, Any] = {"deadline": sv.today_local() + dt.timedelta(days=14)}
        if target is not None:
            initial["targets"] = [target.code]
        form = TaskForm(initial=initial, units=units)
    response = _render(request, TEMPLATES + "new.html", state, SECTION, form=form,
                       issuer=issuer, to=to if target is not None else "")
    response.status_code = status
    return response


# --- a task ------------------------------------------------------------------------------------


@scoped(Perm.SUPERVISION)
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """A task: what, by whom, until when; its units with status, progress and overdue badges;
    on the issuing side the review actions and cancelling."""
    state = console_state(request)
    task = sv.get_task(state.access, task_id)
    rows = list(sv.visible_assignments(state.access, task))
    today = sv.today_local()
    return _render(request, TEMPLATES + "task.html", state, SECTION, task=task,
                   line=_line(task, rows, today), can_review=sv.can_review(state.access, task),
                   is_open=task.status == TaskStatus.OPEN, submitted=AssignmentStatus.SUBMITTED,
                   late=task.status == TaskStatus.OPEN and task.deadline < today)


@scoped(Perm.SUPERVISION)
@require_POST
def task_cancel(request: HttpRequest, task_id: int) -> HttpResponse:
    state = console_state(request)
    try:
        sv.cancel_task(actor=state.access, task_id=task_id,
                       reason=request.POST.get("reason", ""), request=request)
    except DomainError as exc:
        if not _shown_on_form(exc):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The task was cancelled."))
    return HttpResponseRedirect(reverse("cockpit:task", args=[task_id]))


# --- one unit's part ---------------------------------------------------------------------------


class ProgressForm(forms.Form):
    progress = forms.IntegerField(label=gettext_lazy("Progress (%)"), min_value=0,
                                  max_value=100)
    text = forms.CharField(label=gettext_lazy("What has been done"), max_length=sv.TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 4}))


class SubmitForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Summary of the work done"),
                           max_length=sv.TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}))


def _files(request: HttpRequest) -> list[sv.Upload]:
    return [sv.Upload(f.name or "", f.read(sv.EVIDENCE_MAX_BYTES + 1))
            for f in request.FILES.getlist("files")]


def _assignment_page(request: HttpRequest, assignment_id: int, *,
                     progress_form: ProgressForm | None = None,
                     submit_form: SubmitForm | None = None, evidence_error: str = "",
                     status: int = 200) -> HttpResponse:
    state = console_state(request)
    access = state.access
    a = sv.get_assignment(access, assignment_id)
    task = a.task
    today = sv.today_local()
    can_answer = sv.can_answer(access, a) and a.status in WORKING
    reports = list(a.reports.select_related("author").order_by("created_at", "id"))
    evidence = list(a.evidence.select_related("uploaded_by").order_by("created_at", "id"))
    for e in evidence:
        e.url = evidence_url(e.pk)  # type: ignore[attr-defined]
    response = _render(
        request, TEMPLATES + "assignment.html", state, SECTION, a=a, task=task,
        late=sv.is_overdue(a, today), days_late=sv.days_late(task.deadline, today),
        can_answer=can_answer,
        can_review=sv.can_review(access, task) and a.status == AssignmentStatus.SUBMITTED,
        progress_form=progress_form or ProgressForm(initial={"progress": a.progress}),
        submit_form=submit_form or SubmitForm(auto_id="id_submit_%s"),
        evidence_error=evidence_error,
        reports=reports, evidence=evidence, returned=a.status == AssignmentStatus.RETURNED,
        max_files=sv.EVIDENCE_PER_CALL)
    response.status_code = status
    return response


@scoped(Perm.SUPERVISION)
def assignment_detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """One unit's part of a task: its history and evidence; for the unit the progress,
    evidence and submit forms; for the issuing side the review."""
    return _assignment_page(request, assignment_id)


def _done(request: HttpRequest, assignment_id: int, message: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseRedirect(reverse("cockpit:assignment", args=[assignment_id]))


@scoped(Perm.SUPERVISION)
@require_POST
def assignment_progress(request: HttpRequest, assignment_id: int) -> HttpResponse:
    form = ProgressForm(request.POST)
    if not form.is_valid():
        return _assignment_page(request, assignment_id, progress_form=form, status=400)
    try:
        sv.report_progress(actor=console_state(request).access, assignment_id=assignment_id,
                           progress=form.cleaned_data["progress"], text=form.cleaned_data["text"],
                           files=_files(request), request=request)
    except DomainError as exc:
        if not _shown_on_form(exc):
            raise
        _place(form, exc)
        return _assignment_page(request, assignment_id, progress_form=form, status=exc.status)
    return _done(request, assignment_id, _("Progress reported."))


@scoped(Perm.SUPERVISION)
@require_POST
def assignment_evidence(request: HttpRequest, assignment_id: int) -> HttpResponse:
    try:
        stored = sv.add_evidence(actor=console_state(request).access,
                                 assignment_id=assignment_id, files=_files(request),
                                 request=request)
    except DomainError as exc:
        if not _shown_on_form(exc):
            raise
        return _assignment_page(request, assignment_id, evidence_error=str(exc.message),
                                status=exc.status)
    return _done(request, assignment_id, _("%(n)d files handed in.") % {"n": len(stored)})


@scoped(Perm.SUPERVISION)
@require_POST
def assignment_submit(request: HttpRequest, assignment_id: int) -> HttpResponse:
    form = SubmitForm(request.POST, auto_id="id_submit_%s")
    if not form.is_valid():
        return _assignment_page(request, assignment_id, submit_form=form, status=400)
    try:
        sv.submit(actor=console_state(request).access, assignment_id=assignment_id,
                  text=form.cleaned_data["text"], files=_files(request), request=request)
    except DomainError as exc:
        if not _shown_on_form(exc):
            raise
        _place(form, exc)
        return _assignment_page(request, assignment_id, submit_form=form, status=exc.status)
    return _done(request, assignment_id, _("Submitted for review."))


def _place(form: forms.Form, exc: DomainError) -> None:
    """A service refusal on the form: on its field when the form has it, else on top."""
    for name, problems in exc.fields.items():
        target = name if name in form.fields else None
        for problem in problems if isinstance(problems, list) else [problems]:
            form.add_error(target, str(problem))
    if not exc.fields:
        form.add_error(None, str(exc.message))


@scoped(Perm.SUPERVISION)
@require_POST
def assignment_review(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Accept (``decision=accept``) or return (``decision=return`` with a ``comment``); back to
    ``next`` (the task page) or the unit's page."""
    back = safe_next(request, reverse("cockpit:assignment", args=[assignment_id]))
    decision = request.POST.get("decision")
    if decision not in ("accept", "return"):
        messages.error(request, _("Choose accept or return."))
        return HttpResponseRedirect(back)
    try:
        sv.review(actor=console_state(request).access, assignment_id=assignment_id,
                  accept=decision == "accept", comment=request.POST.get("comment", ""),
                  request=request)
    except DomainError as exc:
        if not _shown_on_form(exc):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Accepted.") if decision == "accept"
                         else _("Returned for more work."))
    return HttpResponseRedirect(back)


urlpatterns = [
    path("tasks/", task_list, name="tasks"),
    path("tasks/export.xlsx", task_export, name="tasks_export"),
    path("tasks/new/", task_new, name="task_new"),
    path("tasks/<int:task_id>/", task_detail, name="task"),
    path("tasks/<int:task_id>/cancel/", task_cancel, name="task_cancel"),
    path("assignments/<int:assignment_id>/", assignment_detail, name="assignment"),
    path("assignments/<int:assignment_id>/progress/", assignment_progress,
         name="assignment_progress"),
    path("assignments/<int:assignment_id>/evidence/", assignment_evidence,
         name="assignment_evidence"),
    path("assignments/<int:assignment_id>/submit/", assignment_submit, name="assignment_submit"),
    path("assignments/<int:assignment_id>/review/", assignment_review, name="assignment_review"),
]
