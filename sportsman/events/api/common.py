"""Turning events and registrations into answers (dicts: idempotent answers are stored as
JSON)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from sportsman.core.schemas import iso
from sportsman.events import certificates
from sportsman.events.models import Event, Registration, RegStatus
from sportsman.events.selectors import Page


def event_out(e: Event) -> dict[str, Any]:
    return {
        "id": e.pk, "title": e.title, "level": e.level, "region_id": e.region_id,
        "region_name": e.region.name, "sport": e.sport.slug if e.sport_id and e.sport else None,
        "mode": e.mode, "status": e.status, "entry": e.entry,
        "organiser_kind": e.organiser_kind, "organiser_name": e.organiser_name,
        "starts_at": e.starts_at, "ends_at": e.ends_at,
        "registration_opens_at": e.registration_opens_at,
        "registration_closes_at": e.registration_closes_at, "place": e.place,
        "facility_id": e.facility_id,
        "facility_name": e.facility.name if e.facility_id and e.facility else None,
        "capacity": e.capacity, "registered": e.registered, "places_left": e.places_left,
        "parent_id": e.parent_id, "description": e.description, "has_waitlist": e.has_waitlist,
        "team_min": e.team_min, "team_max": e.team_max, "form_fields": e.form_fields,
        "age_min": e.age_min, "age_max": e.age_max, "sex": e.sex,
        "eligible_region_id": e.eligible_region_id, "qualifiers_only": e.qualifiers_only,
        "challenge_metric": e.challenge_metric, "challenge_goal": e.challenge_goal,
        "result_order": e.result_order, "cover_url": e.cover.url if e.cover else None,
        "ics_url": f"/events/{e.pk}.ics",
        "rounds": list(e.rounds.order_by("id").values_list("pk", flat=True)),
        "cancel_reason": e.cancel_reason,
    }


def waiting_position(reg: Registration) -> int | None:
    if reg.status != RegStatus.WAITLISTED:
        return None
    return Registration.objects.filter(event_id=reg.event_id, status=RegStatus.WAITLISTED,
                                       created_at__lte=reg.created_at,
                                       pk__lte=reg.pk).count()


def registration_out(r: Registration, *, position: bool = True) -> dict[str, Any]:
    return {
        "id": r.pk, "event_id": r.event_id, "event_title": r.event.title,
        "starts_at": r.event.starts_at, "status": r.status, "team_name": r.team_name,
        "roster": r.roster, "answers": r.answers, "code": r.code,
        "qr_url": f"/api/v1/me/registrations/{r.pk}/qr.svg", "from_waitlist": r.from_waitlist,
        "position": waiting_position(r) if position else None, "rank": r.rank,
        "score": r.score, "is_qualifier": r.is_qualifier,
        "certificate_url": (f"/api/v1/me/registrations/{r.pk}/certificate.pdf"
                            if certificates.can_have(r) else None),
        "created_at": r.created_at, "checked_in_at": r.checked_in_at,
        "cancelled_at": r.cancelled_at,
    }


_TIMES = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")




def page_response(page: Page) -> HttpResponse:
    """A page of the events list as the API answers it (EventPageOut), written as it is: the
    selector's items are already the schema's fields in its order (a test holds the bytes to
    what Ninja's validation and renderer make of them), so the hottest public read is not
    validated again field by field."""
    for item in page.items:
        for name in _TIMES:
            item[name] = iso(item[name])
    return HttpResponse(json.dumps({"items": page.items, "next_cursor": page.next_cursor}),
                        content_type="application/json; charset=utf-8")
