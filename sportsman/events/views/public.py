"""Resident pages: the events list (filters), an event (registration form, leaderboard,
results, calendar link), registering and cancelling, my registrations with their QR codes,
certificates and my calendar feed; the .ics documents.

A refusal comes back as the service's message on the event's page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.errors import DomainError
from sportsman.events import certificates, challenge, ical, selectors, services
from sportsman.events.models import Entry, Mode, RegStatus
from sportsman.regions.access import for_self, public

LEVELS = ("city", "district", "town", "community")


def _host(request: HttpRequest) -> str:
    return request.get_host().split(":")[0] or "sportsman.local"


@public
def event_list(request: HttpRequest) -> HttpResponse:
    """Upcoming events (or past ones), filtered by level and online/offline; paged by cursor."""
    level = request.GET.get("level") if request.GET.get("level") in LEVELS else None
    mode = request.GET.get("mode") if request.GET.get("mode") in Mode.values else None
    past = request.GET.get("when") == "past"
    try:
        page = selectors.list_events(level=level, mode=mode, upcoming=not past,
                                     cursor=request.GET.get("cursor") or None, limit=20)
    except DomainError:
        page = selectors.list_events(level=level, mode=mode, upcoming=not past, limit=20)
    return render(request, "events/list.html", {
        "page": page, "level": level, "mode": mode, "past": past, "levels": LEVELS})


@public
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    try:
        event = services.get_public_event(event_id)
    except DomainError:
        raise Http404 from None
    now = timezone.now()
    user = request.user
    mine = None
    problems: list[tuple[str, str]] = []
    if user.is_authenticated:
        mine = (event.registrations.filter(user_id=user.pk)
                .exclude(status=RegStatus.CANCELLED).first())
        problems = services.eligibility_problems(event, user)
    board = challenge.leaderboard(event, limit=50) if event.mode == Mode.ONLINE else []
    return render(request, "events/detail.html", {
        "event": event, "open": services.registration_open(event, now), "mine": mine,
        "problems": problems, "board": board, "results": selectors.results(event)[:50],
        "is_team": event.entry == Entry.TEAM, "where": services.where_text(event),
        "rounds": list(event.rounds.order_by("starts_at", "id"))})


def _answers(request: HttpRequest, fields: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        raw = request.POST.get(f"q_{f['key']}", "").strip()
        if f["type"] == "bool":
            if raw:
                out[f["key"]] = raw == "yes"
        elif f["type"] == "number" and raw:
            try:
                out[f["key"]] = float(raw) if "." in raw else int(raw)
            except ValueError:
                out[f["key"]] = raw  # refused by the service with the question named
        elif raw:
            out[f["key"]] = raw
    return out


@for_self
@require_POST
def register(request: HttpRequest, event_id: int) -> HttpResponse:
    back = reverse("events:detail", args=[event_id])
    try:
        event = services.get_public_event(event_id)
        members = [{"name": line.strip(), "phone": None}
                   for line in request.POST.get("members", "").splitlines() if line.strip()]
        reg = services.register(actor=request.user, event_id=event.pk,
                                answers=_answers(request, event.form_fields),
                                team_name=request.POST.get("team_name", ""), members=members)
    except DomainError as exc:
        if exc.code == "not_authenticated":
            raise
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(back)
    messages.success(request, _("You are on the waitlist.") if reg.status == RegStatus.WAITLISTED
                     else _("You are registered. Show your code at check-in."))
    return HttpResponseRedirect(reverse("events:mine"))


@for_self
@require_POST
def cancel(request: HttpRequest, registration_id: int) -> HttpResponse:
    try:
        services.cancel_registration(actor=request.user, registration_id=registration_id)
    except DomainError as exc:
        if exc.code == "not_authenticated":
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Your registration is cancelled."))
    return HttpResponseRedirect(reverse("events:mine"))


@for_self
def mine(request: HttpRequest) -> HttpResponse:
    """My upcoming registrations with their QR codes, then past ones with certificates."""
    upcoming = selectors.my_registrations(request.user, when="upcoming")
    past = selectors.my_registrations(request.user, when="past")
    return render(request, "events/mine.html", {
        "upcoming": [{"reg": r, "qr": selectors.qr_svg(r.code, scale=5)
                      if r.status == RegStatus.REGISTERED else ""} for r in upcoming],
        "past": [{"reg": r, "certificate": certificates.can_have(r)} for r in past],
        "feed_url": request.build_absolute_uri(
            reverse("events:feed", args=[ical.feed_token(request.user)]))})


@for_self
def certificate(request: HttpRequest, registration_id: int) -> HttpResponse:
    try:
        reg = services.get_own_registration(request.user, registration_id)
        content = certificates.pdf(reg)
    except DomainError:
        raise Http404 from None
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{reg.pk}.pdf"'
    return response


@public
def event_ics(request: HttpRequest, event_id: int) -> HttpResponse:
    """One event as an iCalendar document (add it to a calendar)."""
    try:
        event = services.get_public_event(event_id)
    except DomainError:
        raise Http404 from None
    response = HttpResponse(ical.event_ics(event, host=_host(request)),
                            content_type=ical.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.ics"'
    return response


@public
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's calendar of registrations, found by the unguessable token in its address
    (calendar apps cannot log in); an unknown token is not found."""
    content = ical.feed_for_token(token, host=_host(request))
    if content is None:
        raise Http404
    response = HttpResponse(content, content_type=ical.CONTENT_TYPE)
    response["Cache-Control"] = "private, max-age=900"
    return response


urlpatterns = [
    path("", event_list, name="list"),
    path("mine/", mine, name="mine"),
    path("<int:event_id>/", event_detail, name="detail"),
    path("<int:event_id>.ics", event_ics, name="ics"),
    path("<int:event_id>/register/", register, name="register"),
    path("registrations/<int:registration_id>/cancel/", cancel, name="cancel"),
    path("registrations/<int:registration_id>/certificate.pdf", certificate,
         name="certificate"),
    path("feed/<str:token>.ics", feed, name="feed"),
]
