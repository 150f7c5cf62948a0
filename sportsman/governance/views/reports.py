"""Report-a-problem pages (报事反馈): residents report (photos, a facility or their position),
see possible duplicates first, follow their reports' timelines, confirm, reopen and rate; staff
work the queue of the current region (filters, service-level clocks, a map), each report's
steps and merges, and the region's routing rules."""

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

from sportsman.core.errors import DomainError
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.governance import proxy, reports
from sportsman.governance.models import Category, Handler, Report, ReportStatus
from sportsman.regions.access import Perm, for_self, public, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "governance"
PAGE = 30


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None  # type: ignore[arg-type]
    except ValueError:
        return None


def _clock(report: Report, now: dt.datetime) -> dict[str, Any]:
    """The service-level clock shown beside an open report: what is due, and in or past how
    many hours."""
    if report.status == ReportStatus.SUBMITTED:
        due, what = report.accept_due, _("accept")
    elif report.status in (ReportStatus.ACCEPTED, ReportStatus.IN_PROGRESS):
        due, what = report.resolve_due, _("resolve")
    else:
        return {"due": None}
    hours = round((due - now).total_seconds() / 3600, 1)
    return {"due": due, "what": what, "hours": abs(hours), "late": hours < 0}


# --- residents ---------------------------------------------------------------------------------

@for_self
def mine(request: HttpRequest) -> HttpResponse:
    rows = list(reports.my_reports(request.user)[:100])
    return render(request, "governance/reports/mine.html", {"reports": rows})


def _facilities_near_home(user: Any) -> list[Any]:
    from sportsman.facilities.models import Facility

    if user.home_community_id is None:
        return []
    return list(Facility.objects.filter(region_id=user.home_community_id)
                .order_by("name").only("id", "name")[:200])


@for_self
def new(request: HttpRequest) -> HttpResponse:
    """The report form. A first submission with possible duplicates nearby shows them instead of
    sending; the resident may follow one of them or send anyway."""
    from sportsman.facilities.models import Facility

    data = request.POST if request.method == "POST" else request.GET
    facility_id = _int(data.get("facility"))
    facility = Facility.objects.filter(pk=facility_id).first() if facility_id else None
    values: dict[str, Any] = {"category": data.get("category", ""), "description": data.get("description", ""),
              "lat": data.get("lat", ""), "lng": data.get("lng", ""),
              "address": data.get("address", ""), "share_location": data.get("share_location"),
              "for_user": data.get("for_user", "")}
    context: dict[str, Any] = {
        "categories": Category.choices, "facility": facility, "values": values,
        "facilities": _facilities_near_home(request.user),
        "principals": list(proxy.grants_held(request.user)), "errors": {}, "duplicates": [],
    }
    if request.method == "POST":
        lat, lng = _float(values["lat"]), _float(values["lng"])
        if not request.POST.get("send_anyway"):
            context["duplicates"] = reports.nearby(category=values["category"] or None,
                                                   facility_id=facility_id, lat=lat, lng=lng)
        if not context["duplicates"]:
            files = request.FILES.getlist("photos")
            try:
                made = reports.submit(
                    actor=request.user, category=values["category"],
                    description=values["description"],
                    photos=[f.read(PHOTO_MAX_BYTES + 1) for f in files[:reports.MAX_PHOTOS + 1]],
                    facility_id=facility_id, lat=lat, lng=lng, address=values["address"],
                    share_location=bool(values["share_location"]),
                    for_user_id=_int(values["for_user"]))
            except DomainError as exc:
                context["errors"] = exc.as_dict()
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Thank you: your report has been sent to %(who)s.")
                                 % {"who": made.handling_region.name})
                return HttpResponseRedirect(reverse("governance:report", args=[made.pk]))
    return render(request, "governance/reports/new.html", context,
                  status=400 if context["errors"] else 200)


@public
def detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """A report's public page: what, where, the photos, and its timeline. The reporter (and
    whoever acted for them) also gets confirm, reopen and rate."""
    try:
        report = reports.public_report(report_id)
    except DomainError:
        raise Http404() from None
    user = request.user
    own = user.is_authenticated and user.pk in (report.reporter_id, report.acted_by_id)
    now = timezone.now()
    reopen_until = (report.resolved_at + dt.timedelta(days=reports.REOPEN_DAYS)
                    if report.resolved_at else None)
    return render(request, "governance/reports/detail.html", {
        "report": report, "timeline": list(reports.timeline(report)), "own": own,
        "photos": [p for p in report.photos.all() if not p.by_staff],
        "work_photos": [p for p in report.photos.all() if p.by_staff],
        "can_reopen": own and report.status in (ReportStatus.RESOLVED, ReportStatus.CLOSED)
        and reopen_until is not None and now <= reopen_until,
        "reopen_until": reopen_until, "clock": _clock(report, now),
        "can_rate": own and report.rating is None
        and report.status in (ReportStatus.RESOLVED, ReportStatus.CLOSED),
    })


def _act(request: HttpRequest, report_id: int, call: Any, done: str) -> HttpResponse:
    try:
        call()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("governance:report", args=[report_id]))


@for_self
@require_POST
def confirm(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(request, report_id,
                lambda: reports.confirm(actor=request.user, report_id=report_id),
                _("Thank you for confirming."))


@for_self
@require_POST
def reopen(request: HttpRequest, report_id: int) -> HttpResponse:
    return _act(request, report_id,
                lambda: reports.reopen(actor=request.user, report_id=report_id,
                                       reason=request.POST.get("reason", "")),
                _("The report is open again; its handlers have been told."))


@for_self
@require_POST
def rate(request: HttpRequest, report_id: int) -> HttpResponse:
    rating = _int(request.POST.get("rating")) or 0
    return _act(request, report_id,
                lambda: reports.rate(actor=request.user, report_id=report_id, rating=rating,
                                     comment=request.POST.get("comment", "")),
                _("Thank you for rating."))


# --- staff -------------------------------------------------------------------------------------

@scoped(Perm.REPORT_HANDLE)
def queue(request: HttpRequest) -> HttpResponse:
    """The current region's reports: open ones first by default, filterable; each with its
    clock; the page's reports on a map."""
    state = console_state(request)
    status = request.GET.get("status", "open")[:12]
    category = request.GET.get("category", "")[:16]
    overdue = request.GET.get("overdue") == "1"
    mine_only = request.GET.get("mine") == "1"
    before = _int(request.GET.get("before"))
    qs = reports.reports_for(state.access, status=status or None, category=category or None,
                             overdue=overdue, mine=mine_only, region=state.region)
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id")[:PAGE + 1])
    now = timezone.now()
    page = rows[:PAGE]
    markers = [{"lat": r.lat, "lng": r.lng, "open": not _clock(r, now).get("late"),
                "name": f"#{r.pk} {r.get_category_display()}",
                "url": reverse("governance:console_report", args=[r.pk])}
               for r in page if r.lat is not None and r.lng is not None]
    in_region = reports.reports_for(state.access, region=state.region)
    return _render(request, "governance/reports/console_queue.html", state, SECTION,
                   reports=[(r, _clock(r, now)) for r in page],
                   next_before=page[-1].pk if len(rows) > PAGE else None,
                   filters={"status": status, "category": category, "overdue": overdue,
                            "mine": mine_only},
                   statuses=[("open", _("all open")), *ReportStatus.choices],
                   categories=Category.choices,
                   counts={"open": in_region.filter(status__in=reports.OPEN).count(),
                           "overdue": reports.reports_for(state.access, region=state.region,
                                                          overdue=True).count()},
                   map_data={"markers": markers, "tiles": ""},
                   can_rules=state.access.has_anywhere(Perm.REPORT_RULES))


@scoped(Perm.REPORT_HANDLE)
def console_report(request: HttpRequest, report_id: int) -> HttpResponse:
    state = console_state(request)
    try:
        report = reports.report_in_scope(state.access, report_id)
    except DomainError:
        raise Http404() from None
    now = timezone.now()
    twins = [r for r in reports.nearby(category=report.category, facility_id=report.facility_id,
                                       lat=report.lat, lng=report.lng) if r.pk != report.pk]
    allowed = reports.TRANSITIONS.get(report.status, frozenset())
    steps = [s for s in (ReportStatus.ACCEPTED, ReportStatus.IN_PROGRESS, ReportStatus.RESOLVED,
                         ReportStatus.REJECTED)
             if s in allowed or (report.status == ReportStatus.SUBMITTED
                                 and s in (ReportStatus.IN_PROGRESS, ReportStatus.RESOLVED))]
    return _render(request, "governance/reports/console_report.html", state, SECTION,
                   report=report, timeline=list(reports.timeline(report)),
                   photos=list(report.photos.all()), clock=_clock(report, now), steps=steps,
                   twins=twins, reporter=report.reporter, acted_by=report.acted_by,
                   map_data={"markers": [{"lat": report.lat, "lng": report.lng, "open": True,
                                          "name": report.address}]
                             if report.lat is not None else [], "tiles": ""})


@scoped(Perm.REPORT_HANDLE)
@require_POST
def console_step(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        if request.POST.get("into"):
            reports.merge(actor=request.user, report_id=report_id,
                          into_id=_int(request.POST.get("into")) or 0)
            messages.success(request, _("Merged."))
        else:
            files = request.FILES.getlist("photos")
            reports.transition(actor=request.user, report_id=report_id,
                               to=request.POST.get("to", ""), note=request.POST.get("note", ""),
                               photos=[f.read(PHOTO_MAX_BYTES + 1)
                                       for f in files[:reports.MAX_PHOTOS]])
            messages.success(request, _("Saved."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("governance:console_report", args=[report_id]))


@scoped(Perm.REPORT_RULES)
def rules(request: HttpRequest) -> HttpResponse:
    """The current region's routing rules and service levels (and those set below it); a form
    to set one for the current region."""
    state = console_state(request)
    if request.method == "POST":
        try:
            reports.set_rule(actor=request.user, region_id=state.region.pk,
                             category=request.POST.get("category", ""),
                             handler=request.POST.get("handler", Handler.REGION_STAFF),
                             accept_hours=_int(request.POST.get("accept_hours")) or 0,
                             resolve_days=_int(request.POST.get("resolve_days")) or 0)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The rule is saved; new reports follow it."))
        return HttpResponseRedirect(reverse("governance:console_rules"))
    set_here = (reports.rules_in_scope(state.access)
                .filter(subtree_q(state.region.path, "region")).order_by("region__path",
                                                                         "category"))
    effective = []
    for code, label in Category.choices:
        way = reports.route(state.region, code, has_facility=False)
        effective.append({"code": code, "label": label, "accept_hours": way.accept_hours,
                          "resolve_days": way.resolve_days})
    return _render(request, "governance/reports/console_rules.html", state, SECTION,
                   rules=list(set_here), effective=effective, categories=Category.choices,
                   handlers=Handler.choices,
                   can_set=state.access.can(Perm.REPORT_RULES, state.region))


urlpatterns: list[URLPattern] = [
    path("reports/", mine, name="my_reports"),
    path("reports/new/", new, name="report_new"),
    path("reports/<int:report_id>/", detail, name="report"),
    path("reports/<int:report_id>/confirm/", confirm, name="report_confirm"),
    path("reports/<int:report_id>/reopen/", reopen, name="report_reopen"),
    path("reports/<int:report_id>/rate/", rate, name="report_rate"),
    path("console/reports/", queue, name="console_reports"),
    path("console/reports/<int:report_id>/", console_report, name="console_report"),
    path("console/reports/<int:report_id>/step/", console_step, name="console_report_step"),
    path("console/report-rules/", rules, name="console_rules"),
]
