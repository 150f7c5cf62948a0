"""The exercise record listens to the sources of sessions.

``facilities.visit_completed`` → one verified record per visit, keyed ``visit:<id>``;
``facilities.equipment_session`` → one verified record per session on smart fitness equipment,
keyed ``device:<device event id>``. A replayed event finds the record and changes nothing. The
record's community is the person's home community (rankings are by where people live), not the
facility's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sportsman.activity.models import Source
from sportsman.activity.records import record_session
from sportsman.core.events import consumer
from sportsman.core.models import DomainEvent

VISIT_COMPLETED = "facilities.visit_completed"
EQUIPMENT_SESSION = "facilities.equipment_session"


def session_from_visit(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``visit_completed`` payload (or a row of ``facilities.selectors.completed_visits``) as
    the keyword arguments of :func:`record_session`."""
    return {
        "user_id": int(payload["user_id"]), "source": Source.VISIT,
        "source_key": f"visit:{int(payload['visit_id'])}", "sport_id": payload.get("sport_id"),
        "started_at": dt.datetime.fromisoformat(payload["started_at"]),
        "ended_at": dt.datetime.fromisoformat(payload["ended_at"]),
        "facility_id": payload.get("facility_id"), "verified": True,
    }


@consumer(VISIT_COMPLETED, name="activity.record_visit")
def record_visit(event: DomainEvent) -> None:
    record_session(**session_from_visit(event.payload))


def session_from_equipment(payload: dict[str, Any]) -> dict[str, Any]:
    """An ``equipment_session`` payload as the keyword arguments of :func:`record_session`."""
    return {
        "user_id": int(payload["user_id"]), "source": Source.DEVICE,
        "source_key": f"device:{int(payload['device_event_id'])}",
        "sport_id": payload.get("sport_id"),
        "started_at": dt.datetime.fromisoformat(payload["started_at"]),
        "ended_at": dt.datetime.fromisoformat(payload["ended_at"]),
        "facility_id": payload.get("facility_id"), "verified": True,
    }


@consumer(EQUIPMENT_SESSION, name="activity.record_equipment_session")
def record_equipment_session(event: DomainEvent) -> None:
    record_session(**session_from_equipment(event.payload))


@consumer("accounts.rankings_opt_out", name="activity.forget_in_rankings")
def forget_in_rankings(event: DomainEvent) -> None:
    """A resident opted out of rankings (or their account went): out of the rank tables, their
    counts with them, and off every Redis board."""
    from sportsman.activity.rankings import forget

    forget(user_id=int(event.payload["user_id"]))


@consumer("accounts.rankings_opt_in", name="activity.restore_in_rankings")
def restore_in_rankings(event: DomainEvent) -> None:
    """A resident opted back in: their rank-table entries recomputed from their record (the
    Redis boards take them back at the next rebuild)."""
    from sportsman.activity.rankings import resync

    resync(user_id=int(event.payload["user_id"]))


GROUP_ACTIVITY_FINISHED = "groups.activity_finished"


def sessions_from_group_activity(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """A finished group activity: one verified session per attendee, keyed
    ``group:<activity id>:<user id>``."""
    start = dt.datetime.fromisoformat(payload["started_at"])
    end = dt.datetime.fromisoformat(payload["ended_at"])
    return [{"user_id": int(user_id), "source": Source.GROUP,
             "source_key": f"group:{int(payload['activity_id'])}:{int(user_id)}",
             "sport_id": payload.get("sport_id"), "started_at": start, "ended_at": end,
             "facility_id": payload.get("facility_id"), "verified": True}
            for user_id in payload.get("attendees", [])]


@consumer(GROUP_ACTIVITY_FINISHED, name="activity.record_group_activity")
def record_group_activity(event: DomainEvent) -> None:
    for session in sessions_from_group_activity(event.payload):
        record_session(**session)


@consumer("events.attended", name="activity.record_event")
def record_event(event: DomainEvent) -> None:
    """A check-in at an offline event: one verified session per person on the registration
    (the registrant keyed ``event:<registration id>``, other team members
    ``event:<registration id>:<user id>``), over the event's time (at most four hours)."""
    payload = event.payload
    registration_id = int(payload["registration_id"])
    started = dt.datetime.fromisoformat(payload["started_at"])
    ended = dt.datetime.fromisoformat(payload["ended_at"])
    registrant = int(payload["user_id"])
    for user_id in dict.fromkeys([registrant, *map(int, payload.get("user_ids") or [])]):
        key = (f"event:{registration_id}" if user_id == registrant
               else f"event:{registration_id}:{user_id}")
        record_session(user_id=user_id, source=Source.EVENT, source_key=key,
                       sport_id=payload.get("sport_id"), started_at=started, ended_at=ended,
                       facility_id=payload.get("facility_id"), verified=True)


INSTRUCTOR_SESSION_RECORDED = "instructors.session_recorded"


def sessions_from_guidance(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """A recorded guidance session (约教): one verified session per attendee, keyed
    ``instructor:<session id>:<user id>``."""
    start = dt.datetime.fromisoformat(payload["started_at"])
    end = dt.datetime.fromisoformat(payload["ended_at"])
    return [{"user_id": int(user_id), "source": Source.INSTRUCTOR,
             "source_key": f"instructor:{int(payload['session_id'])}:{int(user_id)}",
             "sport_id": payload.get("sport_id"), "started_at": start, "ended_at": end,
             "facility_id": payload.get("facility_id"), "verified": True}
            for user_id in payload.get("attendees", [])]


@consumer(INSTRUCTOR_SESSION_RECORDED, name="activity.record_instructor_session")
def record_instructor_session(event: DomainEvent) -> None:
    for session in sessions_from_guidance(event.payload):
        record_session(**session)
