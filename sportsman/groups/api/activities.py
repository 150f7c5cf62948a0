"""Group activities API (sign-up, waitlist, QR check-in) and the activity index with the year's
star groups (top lists for everyone, confirmation by staff)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sportsman.accounts.auth import optional_user
from sportsman.core.idempotency import idempotent
from sportsman.core.schemas import In
from sportsman.groups import activities, services, stars
from sportsman.groups.models import GroupActivity, Signup
from sportsman.regions.access import Perm, for_self, public, scoped
from sportsman.regions.models import Region

router = Router(tags=["group activities"])


class ActivityOut(Schema):
    id: int
    group_id: int
    group_name: str
    title: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    facility_id: int | None
    facility_name: str | None
    booking_id: int | None
    place: str
    lat: float | None
    lng: float | None
    capacity: int
    taken: int
    waitlist: bool
    status: str


class ActivityLeaderOut(ActivityOut):
    check_in_code: str


class SignupOut(Schema):
    id: int
    activity_id: int
    user_id: int
    status: str
    created_at: dt.datetime
    checked_in_at: dt.datetime | None


class ActivityIn(In):
    title: str = Field(..., min_length=1, max_length=60)
    description: str = Field("", max_length=2000)
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    capacity: int = Field(..., ge=1, le=500)
    facility_id: int | None = Field(None, ge=1, lt=2**63)
    slot_id: int | None = Field(None, ge=1, lt=2**63)
    place: str = Field("", max_length=100)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    waitlist: bool = True


class CheckInIn(In):
    code: str = Field(..., min_length=1, max_length=64)


class FinishedOut(Schema):
    attendees: int


class TopQuery(Schema):
    region: int = Field(..., ge=1, lt=2**63)
    year: int = Field(..., ge=2000, le=2100)
    month: int | None = Field(None, ge=1, le=12)
    limit: int = Field(20, ge=1, le=100)


class TopOut(Schema):
    group_id: int
    name: str
    sport: str
    region: str
    members: int
    score: float
    activities: int
    attendance: int
    member_growth: int
    posts: int


class StarsIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    year: int = Field(..., ge=2000, le=2100)
    group_ids: list[int] = Field(..., min_length=1, max_length=20)


class StarOut(Schema):
    id: int
    year: int
    region_id: int
    region_name: str
    group_id: int
    group_name: str
    score: float


class StarsQuery(Schema):
    year: int = Field(..., ge=2000, le=2100)
    region: int | None = Field(None, ge=1, lt=2**63)


class FitnessIn(In):
    region_id: int = Field(..., ge=1, lt=2**63)
    year: int = Field(..., ge=2000, le=2100)
    user_ids: list[int] = Field(..., min_length=1, max_length=20)


class FitnessStarOut(Schema):
    year: int
    region_id: int
    region_name: str
    user_id: int
    nickname: str
    verified_minutes: int


class CandidateOut(Schema):
    user_id: int
    nickname: str
    verified_minutes: int
    rank: int


class CandidatesQuery(Schema):
    region: int = Field(..., ge=1, lt=2**63)
    year: int = Field(..., ge=2000, le=2100)


def fitness_out(f: Any) -> dict[str, Any]:
    return {"year": f.year, "region_id": f.region_id, "region_name": f.region.name,
            "user_id": f.user_id, "nickname": f.user.nickname or "",
            "verified_minutes": f.verified_minutes}


def activity_out(a: GroupActivity) -> dict[str, Any]:
    return {"id": a.pk, "group_id": a.group_id, "group_name": a.group.name, "title": a.title,
            "description": a.description, "starts_at": a.starts_at, "ends_at": a.ends_at,
            "facility_id": a.facility_id,
            "facility_name": a.facility.name if a.facility is not None else None,
            "booking_id": a.booking_id, "place": a.place, "lat": a.lat, "lng": a.lng,
            "capacity": a.capacity, "taken": a.taken, "waitlist": a.waitlist,
            "status": a.status}


def signup_out(s: Signup) -> dict[str, Any]:
    return {"id": s.pk, "activity_id": s.activity_id, "user_id": s.user_id, "status": s.status,
            "created_at": s.created_at, "checked_in_at": s.checked_in_at}


def star_out(s: Any) -> dict[str, Any]:
    return {"id": s.pk, "year": s.year, "region_id": s.region_id, "region_name": s.region.name,
            "group_id": s.group_id, "group_name": s.group.name, "score": s.score}


@router.get("/groups/{group_id}/activities", auth=None, response=list[ActivityOut])
@public
def upcoming(request: HttpRequest, group_id: int):
    """The group's activities not yet over, soonest first."""
    services.visible_group(optional_user(request), group_id)
    return [activity_out(a) for a in activities.upcoming(group_id).select_related("group")[:100]]


@router.post("/groups/{group_id}/activities", response={201: ActivityLeaderOut})
@for_self
@idempotent
def create(request: HttpRequest, group_id: int, data: ActivityIn):
    """Plan an activity (leader and administrators); with ``slot_id`` the facility's slot is
    booked in the same step. The answer carries the check-in code to show as a QR code."""
    a = activities.create(actor=request.user, group_id=group_id, **data.model_dump())
    a = activities.get_activity(a.pk)
    return Status(201, {**activity_out(a), "check_in_code": a.check_in_code})


@router.get("/group-activities/{activity_id}", auth=None, response=ActivityOut)
@public
def detail(request: HttpRequest, activity_id: int):
    a = activities.get_activity(activity_id)
    services.visible_group(optional_user(request), a.group_id)
    return activity_out(a)


@router.post("/group-activities/{activity_id}/signups", response={201: SignupOut})
@for_self
@idempotent
def sign_up(request: HttpRequest, activity_id: int):
    """Sign up (``signed_up``) or join the waitlist (``waiting``). Refusals: ``activity_full``
    (no waitlist), ``already_signed_up``, ``activity_closed``, ``not_member``."""
    return Status(201, signup_out(activities.sign_up(actor=request.user,
                                                     activity_id=activity_id)))


@router.delete("/group-activities/{activity_id}/signups/me", response=SignupOut)
@for_self
def cancel(request: HttpRequest, activity_id: int):
    """Cancel my sign-up; my place goes to the first person waiting."""
    return signup_out(activities.cancel(actor=request.user, activity_id=activity_id))


@router.get("/group-activities/{activity_id}/signups", response=list[SignupOut])
@for_self
def signups(request: HttpRequest, activity_id: int):
    """Who signed up (leader and administrators)."""
    a = activities.get_activity(activity_id)
    services.require_member(request.user, a.group_id, manager=True)
    return [signup_out(s) for s in a.signups.order_by("id")[:1000]]


@router.post("/group-check-ins", response=SignupOut)
@for_self
@idempotent
def check_in(request: HttpRequest, data: CheckInIn):
    """Scan the activity's QR code: I attended (from 30 minutes before the start to its end)."""
    return signup_out(activities.check_in(actor=request.user, code=data.code))


@router.post("/group-activities/{activity_id}/finish", response=FinishedOut)
@for_self
def finish(request: HttpRequest, activity_id: int):
    """Close an activity that has started: its attendance becomes exercise records."""
    return {"attendees": activities.finish_by_leader(actor=request.user,
                                                     activity_id=activity_id)}


@router.post("/group-activities/{activity_id}/cancel", response=ActivityOut)
@for_self
def cancel_activity(request: HttpRequest, activity_id: int):
    activities.cancel_activity(actor=request.user, activity_id=activity_id)
    return activity_out(activities.get_activity(activity_id))


@router.get("/groups/top", auth=None, response=list[TopOut])
@public
def top(request: HttpRequest, query: Query[TopQuery]):
    """The most active groups of a region's subtree in a year or one of its months."""
    region = Region.objects.filter(pk=query.region).first()
    if region is None:
        return []
    return stars.top_groups(region, year=query.year, month=query.month, limit=query.limit)


@router.get("/groups/stars", auth=None, response=list[StarOut])
@public
def star_groups(request: HttpRequest, query: Query[StarsQuery]):
    """The star groups of a year, as confirmed by city, district and town staff."""
    region = Region.objects.filter(pk=query.region).first() if query.region else None
    return [star_out(s) for s in stars.stars_of(query.year, region)]


@router.put("/console/group-stars", response=list[StarOut])
@scoped(Perm.GROUP_MANAGE)
def confirm(request: HttpRequest, data: StarsIn):
    """Confirm the star groups of a year for a city, district or town of my scope."""
    made = stars.confirm_stars(actor=request.user, region_id=data.region_id, year=data.year,
                               group_ids=data.group_ids, request=request)
    return [star_out(s) for s in stars.stars_of(data.year).filter(pk__in=[s.pk for s in made])]



@router.get("/fitness-stars", auth=None, response=list[FitnessStarOut])
@public
def fitness_stars(request: HttpRequest, query: Query[StarsQuery]):
    """The fitness stars (健身达人) of a year, as confirmed by city, district and town staff."""
    region = Region.objects.filter(pk=query.region).first() if query.region else None
    return [fitness_out(f) for f in stars.fitness_stars_of(query.year, region)]


@router.get("/console/fitness-stars/candidates", response=list[CandidateOut])
@scoped(Perm.GROUP_MANAGE)
def fitness_candidates(request: HttpRequest, query: Query[CandidatesQuery]):
    """The residents of a city, district or town of my scope with the most verified minutes in
    the year: the candidates for its fitness stars."""
    from sportsman.regions.access import access_for

    region = Region.objects.filter(pk=query.region).first()
    access_for(request).require(Perm.GROUP_MANAGE, region)
    assert region is not None
    return stars.fitness_candidates(region, year=query.year)


@router.put("/console/fitness-stars", response=list[FitnessStarOut])
@scoped(Perm.GROUP_MANAGE)
def confirm_fitness(request: HttpRequest, data: FitnessIn):
    """Confirm the fitness stars of a year for a city, district or town of my scope."""
    made = stars.confirm_fitness_stars(actor=request.user, region_id=data.region_id,
                                       year=data.year, user_ids=data.user_ids, request=request)
    return [fitness_out(f) for f in stars.fitness_stars_of(data.year).filter(
        pk__in=[f.pk for f in made])]
