"""The one window's pages: an association's managers fill in an application of a kind, attach
its documents, submit, follow its timeline and download the decision; staff work the inbox of
their level (with the SLA clocks), take each step, and open annual inspection seasons with the
list of who is overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.associations import documents, registry, window
from sportsman.associations.models import (
    Application,
    ApplicationKind,
    InspectionResult,
)
from sportsman.core.errors import DomainError
from sportsman.regions.access import Perm, for_self, scoped
from sportsman.regions.views import _render, console_state

SECTION = "associations"


def _clock(app: Application, now: dt.datetime) -> dict[str, Any]:
    """The handling clock shown beside a waiting application: days left or late."""
    if app.status not in window.WAITING or app.due_at is None:
        return {"due": None}
    days = round((app.due_at - now).total_seconds() / 86400, 1)
    return {"due": app.due_at, "days": abs(days), "late": days < 0}


def _sheet(app: Application, as_whom: str, user: Any) -> dict[str, Any]:
    docs = list(app.documents.all())
    have = {d.requirement for d in docs}
    required = set(window.required_documents(app))
    from sportsman.regions.access import access_for_user

    steps = [a for (s, a) in window.TRANSITIONS if s == app.status]
    if as_whom == "applicant":
        actions = [a for a in steps if a in window.APPLICANT_ACTIONS]
    elif window.reviews_at(access_for_user(user), app.reviewing_region_id):
        actions = [a for a in steps if a in window.STAFF_ACTIONS]
    else:
        actions = []
    labels = {f.name: f.label for f in window.FIELDS[app.kind]}
    return {
        "app": app, "timeline": list(window.timeline(app)), "documents": docs,
        "requirements": [{"key": d.key, "label": d.label, "required": d.key in required,
                          "attached": d.key in have} for d in window.DOCUMENTS[app.kind]],
        "fields": [(labels.get(k, k), v) for k, v in app.data.items()],
        "actions": actions, "clock": _clock(app, timezone.now()),
        "results": InspectionResult.choices,
        "needs_result": app.kind == ApplicationKind.ANNUAL_REPORT
        and app.step + 1 >= len(app.level_list),
        "editable": as_whom == "applicant" and app.status in ("draft", "returned"),
        "has_result": app.status in window.DECIDED,
    }


# --- the applicant -------------------------------------------------------------------------------

@for_self
def new(request: HttpRequest, association_id: int, kind: str) -> HttpResponse:
    try:
        association = registry.managed(request.user, association_id)
    except DomainError:
        raise Http404() from None
    if kind not in window.FIELDS:
        raise Http404()
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        values = {f.name: request.POST.get(f.name, "") for f in window.FIELDS[kind]}
        for f in window.FIELDS[kind]:
            if f.type == "bool":
                values[f.name] = request.POST.get(f.name) == "1"
        try:
            app = window.create_application(actor=request.user, association_id=association.pk,
                                            kind=kind, data=values)
        except DomainError as exc:
            errors = exc.as_dict()
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Draft saved: attach the documents, then submit."))
            return HttpResponseRedirect(reverse("associations:application", args=[app.pk]))
    events = []
    if any(f.name == "event_id" for f in window.FIELDS[kind]):
        from sportsman.events.models import Event

        events = list(Event.objects.filter(organiser_kind="association",
                                           organiser_id=association.pk)
                      .order_by("-starts_at").only("id", "title", "starts_at")[:50])
    defaults = {"year": timezone.localdate().year - 1} if kind == "annual_report" else {}
    return render(request, "associations/apply.html", {
        "association": association, "kind": kind, "kind_name": ApplicationKind(kind).label,
        "fields": window.FIELDS[kind], "values": values or defaults, "errors": errors,
        "documents": window.DOCUMENTS[kind], "events": events,
        "levels": window.chain_for(association.region, kind)[0],
        "days": window.chain_for(association.region, kind)[1]},
        status=400 if errors else 200)


@for_self
def application(request: HttpRequest, application_id: int) -> HttpResponse:
    """An application as its applicant (or staff of its subtree) sees it: status, receipt,
    the form, documents (upload while a draft or returned), the timeline, the decision."""
    try:
        app, as_whom = window.visible(request.user, application_id)
    except DomainError:
        raise Http404() from None
    if request.method == "POST" and as_whom == "applicant":
        try:
            if request.POST.get("what") == "document":
                upload = request.FILES.get("file")
                window.attach_document(
                    actor=request.user, application_id=app.pk,
                    requirement=request.POST.get("requirement", ""),
                    content=upload.read(registry.DOCUMENT_MAX_BYTES + 1) if upload else b"",
                    name=(upload.name or "") if upload else "")
                messages.success(request, _("Document attached."))
            else:
                window.transition_application(actor=request.user, application_id=app.pk,
                                              action=request.POST.get("action", ""))
                messages.success(request, _("Saved."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("associations:application", args=[app.pk]))
    return render(request, "associations/application.html", _sheet(app, as_whom, request.user))


@for_self
def result(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        app, _as_whom = window.visible(request.user, application_id)
        body = documents.result_pdf(app)
    except DomainError:
        raise Http404() from None
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (f'attachment; filename="result-{app.receipt_no or app.pk}'
                                       '.pdf"')
    return response


@for_self
def document(request: HttpRequest, application_id: int, document_id: int) -> HttpResponse:
    try:
        app, _as_whom = window.visible(request.user, application_id)
    except DomainError:
        raise Http404() from None
    doc = app.documents.filter(pk=document_id).first()
    if doc is None:
        raise Http404()
    with doc.file.open("rb") as handle:
        body = handle.read()
    response = HttpResponse(body, content_type="application/pdf" if doc.file_type == "pdf"
                            else "image/jpeg")
    response["Content-Disposition"] = f'attachment; filename="document-{doc.pk}.{doc.file_type}"'
    return response


# --- staff ---------------------------------------------------------------------------------------

@scoped(Perm.APPLICATION_REVIEW)
def inbox(request: HttpRequest) -> HttpResponse:
    """What waits at my level (oldest due first, the clock beside each); or, with ``all``,
    every application of the current region's subtree."""
    from sportsman.regions.models import subtree_q

    state = console_state(request)
    kind = request.GET.get("kind", "")[:20]
    overdue = request.GET.get("overdue") == "1"
    show_all = request.GET.get("all") == "1"
    now = timezone.now()
    if show_all:
        qs = (window.staff_applications(state.access)
              .filter(subtree_q(state.region.path, "region")).order_by("-id"))
        if kind:
            qs = qs.filter(kind=kind)
        if overdue:
            qs = qs.filter(status__in=window.WAITING, due_at__lt=now)
    else:
        qs = window.inbox(state.access, kind=kind, overdue=overdue, now=now)
    rows = list(qs[:200])
    return _render(request, "associations/console_inbox.html", state, SECTION,
                   rows=[(a, _clock(a, now)) for a in rows],
                   filters={"kind": kind, "overdue": overdue, "all": show_all},
                   kinds=ApplicationKind.choices,
                   waiting=window.inbox(state.access, now=now).count(),
                   late=window.inbox(state.access, overdue=True, now=now).count())


@scoped(Perm.APPLICATION_REVIEW)
def console_application(request: HttpRequest, application_id: int) -> HttpResponse:
    state = console_state(request)
    try:
        app, as_whom = window.visible(request.user, application_id)
    except DomainError:
        raise Http404() from None
    if as_whom != "staff":
        raise Http404()
    return _render(request, "associations/console_application.html", state, SECTION,
                   **_sheet(app, as_whom, request.user))


@scoped(Perm.APPLICATION_REVIEW)
@require_POST
def console_step(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        window.transition_application(actor=request.user, application_id=application_id,
                                      action=request.POST.get("action", ""),
                                      note=request.POST.get("note", ""),
                                      result=request.POST.get("result", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("associations:console_application",
                                        args=[application_id]))


@scoped(Perm.ASSOCIATION_MANAGE)
def seasons(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    if request.method == "POST":
        try:
            due = dt.date.fromisoformat(request.POST.get("due_on", ""))
            window.open_season(actor=request.user, region_id=state.region.pk,
                               year=int(request.POST.get("year", "0") or 0), due_on=due)
        except ValueError:
            messages.error(request, _("Enter a date."))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The season is open; the associations due are being "
                                        "told."))
        return HttpResponseRedirect(reverse("associations:console_seasons"))
    year = timezone.localdate().year - 1
    return _render(request, "associations/console_seasons.html", state, SECTION,
                   seasons=list(window.seasons_for(state.access)[:50]), year=year,
                   due=dt.date(year + 1, *window.ANNUAL_DUE),
                   can_open=state.access.can(Perm.ASSOCIATION_MANAGE, state.region))


@scoped(Perm.ASSOCIATION_MANAGE)
def season(request: HttpRequest, season_id: int) -> HttpResponse:
    state = console_state(request)
    try:
        found = window.season_in_scope(state.access, season_id)
    except DomainError:
        raise Http404() from None
    rows = window.season_rows(found, overdue_only=request.GET.get("overdue") == "1")
    return _render(request, "associations/console_season.html", state, SECTION, season=found,
                   rows=rows, overdue=sum(1 for r in rows if r["overdue"]))


urlpatterns: list[URLPattern] = [
    path("<int:association_id>/apply/<slug:kind>/", new, name="apply"),
    path("applications/<int:application_id>/", application, name="application"),
    path("applications/<int:application_id>/result.pdf", result, name="application_result"),
    path("applications/<int:application_id>/documents/<int:document_id>/", document,
         name="application_document"),
    path("console/applications/", inbox, name="console_inbox"),
    path("console/applications/<int:application_id>/", console_application,
         name="console_application"),
    path("console/applications/<int:application_id>/step/", console_step,
         name="console_step"),
    path("console/seasons/", seasons, name="console_seasons"),
    path("console/seasons/<int:season_id>/", season, name="console_season"),
]
