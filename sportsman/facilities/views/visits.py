"""Resident visit pages: the check-in page the facility's QR code opens (confirm → checked in),
my visits with the open one and its check-out button, and my exercise code for smart equipment
to scan. All are the signed-in resident's own (``@for_self``: a visitor is sent to log in and
comes back to the same code)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sportsman.core.errors import DomainError
from sportsman.facilities import exercise_code, visits
from sportsman.regions.access import for_self

PAGE_SIZE = 20


@for_self
def checkin(request: HttpRequest) -> HttpResponse:
    """GET shows which facility the scanned code belongs to and a confirm button; POST checks
    in. A forged or expired code shows why and asks to scan again."""
    code = (request.POST.get("c") if request.method == "POST" else request.GET.get("c")) or ""
    code = code.strip()[:120]
    facility, error = None, ""
    try:
        facility = visits.verify_code(code)
    except DomainError as exc:
        error = str(exc.message)
    if request.method == "POST" and facility is not None:
        try:
            visits.check_in_with_code(actor=request.user, code=code)
        except DomainError as exc:
            error = str(exc.message)
        else:
            messages.success(request, _("You are checked in at %(facility)s.")
                             % {"facility": facility.name})
            return HttpResponseRedirect(reverse("facilities:my_visits"))
    current = visits.open_visit_of(request.user)
    status = 400 if error else 200
    return render(request, "facilities/visits/checkin.html",
                  {"facility": facility, "code": code, "error": error, "current": current},
                  status=status)


@for_self
def my_visits(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("cursor", "")
    cursor = int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None
    rows, next_cursor = visits.visits_of(request.user, cursor=cursor, limit=PAGE_SIZE)
    return render(request, "facilities/visits/my_visits.html", {
        "current": visits.open_visit_of(request.user),
        "visits": [v for v in rows if v.ended_at is not None], "next_cursor": next_cursor})


@for_self
@require_POST
def check_out(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = visits.check_out(actor=request.user, visit_id=visit_id)
    messages.success(request, _("Checked out. You stayed %(minutes)s minutes.")
                     % {"minutes": visit.duration_minutes or 0})
    return HttpResponseRedirect(reverse("facilities:my_visits"))


@for_self
@never_cache
def my_code(request: HttpRequest) -> HttpResponse:
    """My exercise code as a QR code for smart equipment to scan when a session starts. It
    changes every minute; the page fetches the next one by itself (HTMX asks for the code
    alone)."""
    import segno

    now = timezone.now()
    code = exercise_code.code_for(request.user, now)
    context = {"svg": segno.make(code, error="m").svg_inline(scale=8, border=2),
               "valid_until": visits.code_valid_until(now)}
    if request.headers.get("HX-Request"):
        return render(request, "facilities/visits/_my_code.html", context)
    return render(request, "facilities/visits/my_code.html", context)


urlpatterns = [
    path("me/code/", my_code, name="my_code"),
    path("checkin/", checkin, name="checkin"),
    path("me/visits/", my_visits, name="my_visits"),
    path("me/visits/<int:visit_id>/check-out/", check_out, name="visit_check_out"),
]
