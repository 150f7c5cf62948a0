"""Schemas shared by the events routers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from sportsman.core.schemas import In


class FormFieldIn(In):
    key: str = Field(..., max_length=32)
    label: str = Field(..., max_length=60)
    type: str = Field("text", max_length=10, description="text / number / choice / bool")
    required: bool = False
    choices: list[str] = Field(default_factory=list, max_length=20)


class EventItemOut(Schema):
    id: int
    title: str
    level: str
    region_id: int
    region_name: str
    sport: str | None
    mode: str
    status: str
    entry: str
    organiser_kind: str
    organiser_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    registration_opens_at: dt.datetime
    registration_closes_at: dt.datetime
    place: str
    facility_id: int | None
    capacity: int
    registered: int
    places_left: int
    parent_id: int | None


class EventPageOut(Schema):
    items: list[EventItemOut]
    next_cursor: str | None


class EventOut(EventItemOut):
    description: str
    facility_name: str | None
    has_waitlist: bool
    team_min: int
    team_max: int
    form_fields: list[dict[str, Any]]
    age_min: int | None
    age_max: int | None
    sex: str
    eligible_region_id: int | None
    qualifiers_only: bool
    challenge_metric: str
    challenge_goal: int | None
    result_order: str
    cover_url: str | None
    ics_url: str
    rounds: list[int]
    cancel_reason: str


class RegistrationOut(Schema):
    id: int
    event_id: int
    event_title: str
    starts_at: dt.datetime
    status: str
    team_name: str
    roster: list[dict[str, Any]]
    answers: dict[str, Any]
    code: str
    qr_url: str
    from_waitlist: bool
    position: int | None = Field(None, description="place in the waitlist queue (1 = next)")
    rank: int | None
    score: float | None
    is_qualifier: bool
    certificate_url: str | None
    created_at: dt.datetime
    checked_in_at: dt.datetime | None
    cancelled_at: dt.datetime | None
