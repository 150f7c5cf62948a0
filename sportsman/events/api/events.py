"""Events API for everyone and for residents: the list and an event (public), its leaderboard
and results (public), registering (individual or team; idempotent), my registrations, cancelling
one, its QR code and certificate, and my calendar feed's address.

Refusals use the one error shape: a full event without a waitlist answers 409 ``event_full``;
others ``not_eligible``, ``already_registered``, ``registration_closed``, ``unknown_field``,
``invalid_answers`` …
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.events import certificates, challenge, ical, selectors, services
from sportsman.events.api.common import event_out, page_response, registration_out
from sportsman.events.api.schemas import EventOut, EventPageOut, RegistrationOut
from sportsman.events.models import Mode
from sportsman.regions.access import for_self, public

router = Router(tags=["events"])


class EventsQuery(Schema):
    level: Literal["city", "district", "town", "community"] | None = None
    region: int | None = Field(None, ge=1, lt=2**63, description="events of this subtree")
    sport: str | None = Field(None, max_length=32, description="a sport's slug")
    upcoming: bool | None = Field(None, description="true: not yet ended; false: ended")
    mode: Literal["offline", "online"] | None = None
    cursor: str | None = Field(None, max_length=60)
    limit: int = Field(20, ge=1, le=selectors.MAX_PAGE)


class MemberIn(In):
    name: str = Field(..., min_length=1, max_length=32)
    phone: str | None = Field(None, max_length=20, description="finds the member's account")


class RegisterIn(In):
    answers: dict[str, Any] = Field(default_factory=dict)
    team_name: str = Field("", max_length=40)
    members: list[MemberIn] = Field(default_factory=list, max_length=50)


class MineQuery(Schema):
    when: Literal["upcoming", "past"] = "upcoming"


class LineOut(Schema):
    rank: int
    registration_id: int
    name: str
    value: float
    reached_goal: bool


class LeaderboardOut(Schema):
    event_id: int
    metric: str
    goal: int | None
    lines: list[LineOut]


class ResultOut(Schema):
    registration_id: int
    rank: int
    name: str
    team_name: str
    score: float | None
    note: str
    is_qualifier: bool


class FeedOut(Schema):
    url: str


@router.get("/events", response=EventPageOut, auth=None)
@public
def list_events(request: HttpRequest, params: Query[EventsQuery]):
    """Published events (and cancelled or finished ones), by start; filter by level, region
    subtree, sport, upcoming, online/offline; follow ``next_cursor``."""
    page = selectors.list_events(level=params.level, region_id=params.region, sport=params.sport,
                                 upcoming=params.upcoming, mode=params.mode,
                                 cursor=params.cursor, limit=params.limit)
    return page_response(page)


@router.get("/events/{event_id}", response=EventOut, auth=None)
@public
def event_detail(request: HttpRequest, event_id: int):
    return event_out(services.get_public_event(event_id))


@router.get("/events/{event_id}/leaderboard", response=LeaderboardOut, auth=None)
@public
def leaderboard(request: HttpRequest, event_id: int):
    """An online challenge's live leaderboard (the registrants' totals from the exercise
    record over the challenge's window)."""
    event = services.get_public_event(event_id)
    if event.mode != Mode.ONLINE:
        from sportsman.core.errors import InvalidInput

        raise InvalidInput(code="not_a_challenge")
    return {"event_id": event.pk, "metric": event.challenge_metric,
            "goal": event.challenge_goal,
            "lines": [vars(line) for line in challenge.leaderboard(event)]}


@router.get("/events/{event_id}/results", response=list[ResultOut], auth=None)
@public
def event_results(request: HttpRequest, event_id: int):
    """The ranking of an event's results."""
    event = services.get_public_event(event_id)
    return [{"registration_id": r.pk, "rank": r.rank, "team_name": r.team_name,
             "name": "" if r.user.hide_from_rankings else r.user.nickname,
             "score": r.score, "note": r.result_note, "is_qualifier": r.is_qualifier}
            for r in selectors.results(event)]


@router.post("/events/{event_id}/registrations", response={201: RegistrationOut})
@for_self
@idempotent
def register(request: HttpRequest, event_id: int, data: RegisterIn):
    """Register myself (for a team event: my team, me as captain, ``members`` by name and
    optionally phone). When full: on the waitlist if the event has one (status
    ``waitlisted``), else 409 ``event_full``. Send an ``Idempotency-Key`` to retry safely."""
    reg = services.register(actor=request.user, event_id=event_id, answers=data.answers,
                            team_name=data.team_name,
                            members=[m.model_dump() for m in data.members])
    return Status(201, registration_out(reg))


@router.get("/me/registrations", response=list[RegistrationOut])
@for_self
def my_registrations(request: HttpRequest, params: Query[MineQuery]):
    return [registration_out(r) for r in
            selectors.my_registrations(request.user, when=params.when)]


@router.get("/me/registrations/{registration_id}", response=RegistrationOut)
@for_self
def my_registration(request: HttpRequest, registration_id: int):
    return registration_out(services.get_own_registration(request.user, registration_id))


@router.post("/me/registrations/{registration_id}/cancel", response=RegistrationOut)
@for_self
@idempotent
def cancel_registration(request: HttpRequest, registration_id: int):
    """Cancel my registration or leave the waitlist (before the event starts); the place goes
    to the first on the waitlist."""
    services.cancel_registration(actor=request.user, registration_id=registration_id)
    return registration_out(services.get_own_registration(request.user, registration_id))


@router.get("/me/registrations/{registration_id}/qr.svg")
@for_self
def registration_qr(request: HttpRequest, registration_id: int):
    """My registration's QR code (staff scan it at check-in)."""
    reg = services.get_own_registration(request.user, registration_id)
    response = HttpResponse(selectors.qr_svg(reg.code), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@router.get("/me/registrations/{registration_id}/certificate.pdf")
@for_self
def registration_certificate(request: HttpRequest, registration_id: int):
    """My certificate (PDF) once I took part."""
    reg = services.get_own_registration(request.user, registration_id)
    response = HttpResponse(certificates.pdf(reg), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{reg.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _feed_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(f"/events/feed/{token}.ics")


@router.get("/me/event-calendar", response=FeedOut)
@for_self
def my_calendar(request: HttpRequest):
    """The address of my calendar of registrations, for a calendar app (keep it private)."""
    return {"url": _feed_url(request, ical.feed_token(request.user))}


@router.post("/me/event-calendar/reset", response=FeedOut)
@for_self
def reset_my_calendar(request: HttpRequest):
    """A new address; the old one stops working."""
    return {"url": _feed_url(request, ical.reset_feed_token(request.user))}



