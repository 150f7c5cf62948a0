"""What the recommender reads: every resident's interactions (visits, live bookings, group
memberships, event registrations, guidance bookings), the items that can be recommended now,
the residents' profiles (interests, home community, age, sex) and the region tree around them.

Everything is read with a few flat ``values_list`` queries, so a snapshot of the whole city
costs seconds and one resident's costs a handful of queries. The snapshot is read-only: it is
the boundary between the other apps' tables and the model.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from sportsman.recommend.models import Kind

# How much one interaction of each source counts (a visit is the unit).
WEIGHTS = {"visit": 1.0, "booking": 1.0, "group": 4.0, "event": 3.0, "instructor": 3.0}
# What each source is called in "why am I seeing this" (see explain.DATA_LABELS).
SOURCE_DATA = {"visit": "visits", "booking": "bookings", "group": "groups", "event": "events",
               "instructor": "instructor_bookings"}


@dataclass(frozen=True)
class Interaction:
    user_id: int
    item: str  # "kind:id"
    source: str
    at: dt.datetime
    sport_id: int | None = None
    facility_id: int | None = None


@dataclass
class Item:
    key: str
    kind: str
    object_id: int
    title: str
    link: str
    sports: tuple[int, ...]
    region_id: int | None
    # events: who may enter
    eligible_path: str = ""
    age_min: int | None = None
    age_max: int | None = None
    sex: str = ""
    starts_at: dt.datetime | None = None


@dataclass
class Person:
    user_id: int
    home_id: int | None
    interests: set[int] = field(default_factory=set)
    birth_year: int | None = None
    sex: str = ""


@dataclass
class Snapshot:
    interactions: list[Interaction]
    items: dict[str, Item]  # the candidates: what may be recommended now
    people: dict[int, Person]
    regions: dict[int, tuple[int | None, str, str, str]]  # id → (parent, name, level, path)
    sports: dict[int, str]  # id → name
    free_slots: dict[int, list[tuple[dt.datetime, int]]]  # facility → (local start, slot id)
    now: dt.datetime

    def ancestors(self, region_id: int | None) -> tuple[int | None, int | None, int | None]:
        """(community, town, district) of a region: each None above the region's level."""
        out: dict[str, int | None] = {"community": None, "town": None, "district": None}
        seen = 0
        while region_id is not None and seen < 8:
            row = self.regions.get(region_id)
            if row is None:
                break
            if row[2] in out:
                out[row[2]] = region_id
            region_id, seen = row[0], seen + 1
        return out["community"], out["town"], out["district"]

    def region_name(self, region_id: int | None) -> str:
        row = self.regions.get(region_id) if region_id else None
        return row[1] if row else ""

    def region_path(self, region_id: int | None) -> str:
        row = self.regions.get(region_id) if region_id else None
        return row[3] if row else ""


def _chunks(ids: list[int], size: int = 900) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def load(*, user_ids: list[int] | None = None, now: dt.datetime | None = None,
         with_history_of_everyone: bool = True) -> Snapshot:
    """Read a snapshot. ``user_ids`` limits interactions and people to those residents (the
    one-resident recompute); the candidates are always the whole catalogue."""
    from django.contrib.auth import get_user_model

    from sportsman.core.models import Sport
    from sportsman.regions.models import Region

    now = now or timezone.now()
    User = get_user_model()
    interactions = list(_interactions(user_ids))
    users = User.objects.filter(is_active=True)
    links = User.interests.through.objects.all()
    if user_ids is not None:
        users = users.filter(pk__in=user_ids)
        links = links.filter(user_id__in=user_ids)
    people = {pk: Person(pk, home, set(), year, sex or "") for pk, home, year, sex in
              users.values_list("pk", "home_community_id", "birth_year", "sex")}
    for uid, sid in links.values_list("user_id", "sport_id"):
        if uid in people:
            people[uid].interests.add(sid)
    regions: dict[int, tuple[int | None, str, str, str]] = {
        pk: (parent, name, level, path) for pk, parent, name, level, path in
               Region.objects.values_list("pk", "parent_id", "name", "level", "path")}
    return Snapshot(interactions=interactions, items=_candidates(now), people=people,
                    regions=regions, sports=dict(Sport.objects.values_list("pk", "name_zh")),
                    free_slots=_free_slots(now), now=now)


def _interactions(user_ids: list[int] | None) -> Iterable[Interaction]:
    from sportsman.events.models import Registration, RegStatus
    from sportsman.facilities.models import Booking, BookingStatus, Visit
    from sportsman.groups.models import Membership, MemberStatus
    from sportsman.instructors.models import BookingState, GuidanceBooking

    def mine(qs: Any) -> Any:
        return qs if user_ids is None else qs.filter(user_id__in=user_ids)

    for uid, fid, at, sid in mine(Visit.objects.all()).values_list(
            "user_id", "facility_id", "started_at", "sport_id").iterator(chunk_size=5000):
        yield Interaction(uid, f"facility:{fid}", "visit", at, sid, fid)
    # Booked and not yet visited (a visited booking is counted by its visit).
    for uid, fid, at, sid in mine(Booking.objects.filter(status=BookingStatus.BOOKED)) \
            .values_list("user_id", "facility_id", "start", "slot__unit__sport_id"):
        yield Interaction(uid, f"facility:{fid}", "booking", at, sid, fid)
    for uid, gid, at, sid in mine(Membership.objects.filter(status=MemberStatus.ACTIVE)) \
            .values_list("user_id", "group_id", "requested_at", "group__sport_id"):
        yield Interaction(uid, f"group:{gid}", "group", at, sid)
    for uid, eid, at, sid in mine(Registration.objects.exclude(status=RegStatus.CANCELLED)) \
            .values_list("user_id", "event_id", "created_at", "event__sport_id"):
        yield Interaction(uid, f"event:{eid}", "event", at, sid)
    for uid, iid, at, sid in mine(GuidanceBooking.objects.exclude(
            status=BookingState.CANCELLED)).values_list(
            "user_id", "session__instructor_id", "session__starts_at", "session__sport_id"):
        yield Interaction(uid, f"instructor:{iid}", "instructor", at, sid)


def _candidates(now: dt.datetime) -> dict[str, Item]:
    """What may be recommended now: open places, active groups one can ask to join, events
    whose registration is open, instructors taking bookings."""
    from sportsman.events.models import Event, EventStatus
    from sportsman.facilities.models import Facility, FacilityStatus
    from sportsman.groups.models import Group, GroupStatus, JoinPolicy
    from sportsman.instructors.models import Instructor, InstructorStatus
    from sportsman.regions.models import Region

    out: dict[str, Item] = {}
    fsports: dict[int, list[int]] = defaultdict(list)
    for fid, sid in Facility.sports.through.objects.values_list("facility_id", "sport_id"):
        fsports[fid].append(sid)
    for pk, name, region in Facility.objects.filter(status=FacilityStatus.OPEN).values_list(
            "pk", "name", "region_id"):
        out[f"facility:{pk}"] = Item(f"facility:{pk}", Kind.FACILITY, pk, name[:120],
                                     reverse("facilities:facility", args=[pk]),
                                     tuple(sorted(fsports.get(pk, ()))), region)
    for pk, name, region, sport in Group.objects.filter(
            status=GroupStatus.ACTIVE, members__lt=F("max_members")).exclude(
            join_policy=JoinPolicy.INVITATION).values_list("pk", "name", "region_id",
                                                           "sport_id"):
        out[f"group:{pk}"] = Item(f"group:{pk}", Kind.GROUP, pk, name[:120],
                                  reverse("groups:detail", args=[pk]), (sport,), region)
    events = Event.objects.filter(
        status=EventStatus.PUBLISHED, registration_opens_at__lte=now,
        registration_closes_at__gt=now, starts_at__gt=now).filter(
        Q(registered__lt=F("capacity")) | Q(has_waitlist=True))
    paths = dict(Region.objects.filter(pk__in=events.values("eligible_region_id")).values_list(
        "pk", "path"))
    for pk, title, region, sport, eligible, amin, amax, sex, starts in events.values_list(
            "pk", "title", "region_id", "sport_id", "eligible_region_id", "age_min", "age_max",
            "sex", "starts_at"):
        out[f"event:{pk}"] = Item(f"event:{pk}", Kind.EVENT, pk, title[:120],
                                  reverse("events:detail", args=[pk]),
                                  (sport,) if sport else (), region,
                                  eligible_path=paths.get(eligible, ""), age_min=amin,
                                  age_max=amax, sex=sex or "", starts_at=starts)
    isports: dict[int, list[int]] = defaultdict(list)
    for iid, sid in Instructor.sports.through.objects.values_list("instructor_id", "sport_id"):
        isports[iid].append(sid)
    for pk, name, region in Instructor.objects.filter(
            status=InstructorStatus.ACTIVE, accepts_bookings=True).values_list(
            "pk", "name", "region_id"):
        out[f"instructor:{pk}"] = Item(f"instructor:{pk}", Kind.INSTRUCTOR, pk, name[:120],
                                       reverse("instructors:profile", args=[pk]),
                                       tuple(sorted(isports.get(pk, ()))), region)
    return out


FREE_SLOT_DAYS = 7


def _free_slots(now: dt.datetime) -> dict[int, list[tuple[dt.datetime, int]]]:
    """Slots of the coming week with a free place, per facility, in local time."""
    from sportsman.facilities.models import Slot

    out: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for fid, sid, start in Slot.objects.filter(
            start__gt=now, start__lt=now + dt.timedelta(days=FREE_SLOT_DAYS),
            booked__lt=F("capacity")).order_by("start").values_list(
            "facility_id", "pk", "start").iterator(chunk_size=5000):
        out[fid].append((timezone.localtime(start), sid))
    return out
