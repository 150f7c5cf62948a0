"""Group activities: a meetup at a facility (its slot optionally booked in the same step) or at
a place on the map, with a sign-up limit, a waitlist and check-in by QR code.

Places move by conditional UPDATEs (``taken < capacity``), like a slot's: concurrent sign-ups
never exceed the limit. Cancelling a place hands it, in the same transaction, to the first
person waiting — a conditional UPDATE of that one row, so a promotion happens once even when two
places free at the same moment. When the activity is over (the leader finishes it, or the
periodic job does an hour after its end), ``groups.activity_finished`` is published with the
attendees: the exercise record's consumer turns each into a verified session, and the group's
activity index counts it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core.errors import Conflict, DomainError, InvalidInput, NotFound
from sportsman.core.events import publish
from sportsman.core.wording import check_text
from sportsman.groups import services
from sportsman.groups.models import (
    ActivityStatus,
    GroupActivity,
    Signup,
    SignupStatus,
)

FINISHED_EVENT = "groups.activity_finished"
CHECK_IN_EARLY = dt.timedelta(minutes=30)
AUTO_FINISH_AFTER = dt.timedelta(hours=1)
MAX_CAPACITY = 500


class ActivityNotFound(NotFound):
    code = "activity_not_found"
    default_message = gettext_lazy("No such group activity.")


class ActivityFull(Conflict):
    code = "activity_full"
    default_message = gettext_lazy("This activity is full.")


class AlreadySignedUp(Conflict):
    code = "already_signed_up"
    default_message = gettext_lazy("You have already signed up for this activity.")


class ActivityClosed(Conflict):
    code = "activity_closed"
    default_message = gettext_lazy("This activity no longer takes sign-ups.")


def get_activity(activity_id: int, *, lock: bool = False) -> GroupActivity:
    qs = GroupActivity.objects.select_related("group", "group__sport", "facility")
    if lock:
        qs = qs.select_for_update(of=("self",))
    activity = qs.filter(pk=activity_id).first()
    if activity is None:
        raise ActivityNotFound()
    return activity


def upcoming(group_id: int, now: dt.datetime | None = None) -> QuerySet[GroupActivity]:
    now = now or timezone.now()
    return (GroupActivity.objects.filter(group_id=group_id, ends_at__gte=now)
            .exclude(status=ActivityStatus.CANCELLED).select_related("facility")
            .order_by("starts_at", "id"))


def create(*, actor: Any, group_id: int, title: str, starts_at: dt.datetime | None = None,
           ends_at: dt.datetime | None = None, capacity: int, description: str = "",
           facility_id: int | None = None, slot_id: int | None = None, place: str = "",
           lat: float | None = None, lng: float | None = None, waitlist: bool = True,
           now: dt.datetime | None = None) -> GroupActivity:
    """The leader or an administrator plans an activity. With ``slot_id`` the slot is booked for
    the organiser in the same transaction (its facility, start and end are the activity's); a
    refused booking (``slot_full``, …) refuses the activity and writes nothing."""
    from sportsman.facilities import booking as bookings
    from sportsman.facilities.models import Facility, Slot

    now = now or timezone.now()
    services.require_member(actor, group_id, manager=True)
    group = services.get_group(group_id)
    if group.status != "active":
        raise services.GroupNotActive()
    title = check_text(title, field="title", max_length=60)
    description = check_text(description, field="description", max_length=2000, required=False)
    place = check_text(place, field="place", max_length=100, required=False)
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(fields={"capacity": [_("Between 1 and 500.")]})
    slot = None
    if slot_id is not None:
        slot = Slot.objects.filter(pk=slot_id).first()
        if slot is None:
            raise NotFound(_("No such slot."), code="slot_not_found")
        starts_at, ends_at, facility_id = slot.start, slot.end, slot.facility_id
    if starts_at is None or ends_at is None:
        raise InvalidInput(_("Give the start and end."), fields={"starts_at": [_("Required.")]})
    if ends_at <= starts_at:
        raise InvalidInput(_("The end must come after the start."),
                           fields={"ends_at": [_("The end must come after the start.")]})
    if starts_at < now:
        raise InvalidInput(_("The activity must start in the future."), code="in_the_past",
                           fields={"starts_at": [_("This time has passed.")]})
    if ends_at - starts_at > dt.timedelta(hours=12):
        raise InvalidInput(fields={"ends_at": [_("At most 12 hours long.")]})
    if facility_id is not None and not Facility.objects.filter(pk=facility_id).exists():
        raise NotFound(_("No such facility."), code="facility_not_found")
    if facility_id is None and not place and (lat is None or lng is None):
        raise InvalidInput(_("Say where: a facility, a place or a point on the map."),
                           code="no_place", fields={"place": [_("Required.")]})
    with transaction.atomic():
        booking = bookings.book_slot(actor=actor, slot_id=slot.pk, now=now) if slot else None
        activity = GroupActivity.objects.create(
            group_id=group_id, title=title, description=description, starts_at=starts_at,
            ends_at=ends_at, facility_id=facility_id, booking=booking, place=place, lat=lat,
            lng=lng, capacity=capacity, waitlist=waitlist,
            check_in_code=secrets.token_urlsafe(12), created_by=actor)
        services.touch(group_id)
        members = list(group.memberships.filter(status="active").exclude(user_id=actor.pk)
                       .values_list("user_id", flat=True))
        services.notify_on_commit(
            members, title=_("New activity in %(group)s: %(title)s")
            % {"group": group.name, "title": title},
            link=services.group_link(group_id), dedupe_key=f"group-activity:{activity.pk}")
    return activity


def _take_place(activity_id: int) -> bool:
    return bool(GroupActivity.objects.filter(pk=activity_id, status=ActivityStatus.OPEN,
                                             taken__lt=F("capacity"))
                .update(taken=F("taken") + 1))


def sign_up(*, actor: Any, activity_id: int, now: dt.datetime | None = None) -> Signup:
    """A member signs up: a place while any is left, else the waitlist (when the activity keeps
    one), else ``activity_full``. ``already_signed_up`` for a second sign-up."""
    now = now or timezone.now()
    activity = get_activity(activity_id)
    services.require_member(actor, activity.group_id)
    if activity.status != ActivityStatus.OPEN or activity.starts_at <= now:
        raise ActivityClosed()
    try:
        with transaction.atomic():
            if _take_place(activity.pk):
                status = SignupStatus.SIGNED_UP
            elif activity.waitlist:
                status = SignupStatus.WAITING
            else:
                raise ActivityFull()
            return Signup.objects.create(activity=activity, user=actor, status=status)
    except IntegrityError:  # a live sign-up exists: the place taken above is rolled back
        raise AlreadySignedUp() from None


def _promote_next(activity_id: int, now: dt.datetime) -> int | None:
    """Give a freed place to the first person waiting (once: a conditional UPDATE of their
    row); the user id promoted, or None when nobody waits."""
    for _attempt in range(20):
        first = (Signup.objects.filter(activity_id=activity_id, status=SignupStatus.WAITING)
                 .order_by("id").values_list("id", "user_id").first())
        if first is None:
            return None
        if Signup.objects.filter(pk=first[0], status=SignupStatus.WAITING).update(
                status=SignupStatus.SIGNED_UP, promoted_at=now):
            return first[1]
    return None


def cancel(*, actor: Any, activity_id: int, now: dt.datetime | None = None) -> Signup:
    """Cancel my sign-up (or leave the waitlist) before the start; a freed place goes to the
    first person waiting, who is told."""
    now = now or timezone.now()
    activity = get_activity(activity_id)
    if activity.starts_at <= now:
        raise ActivityClosed(_("The activity has started; it can no longer be cancelled."))
    with transaction.atomic():
        mine = (Signup.objects.select_for_update()
                .filter(activity=activity, user_id=actor.pk,
                        status__in=[SignupStatus.SIGNED_UP, SignupStatus.WAITING]).first())
        if mine is None:
            raise NotFound(_("You are not signed up for this activity."), code="not_signed_up")
        held_place = mine.status == SignupStatus.SIGNED_UP
        updated = Signup.objects.filter(pk=mine.pk, status=mine.status).update(
            status=SignupStatus.CANCELLED, cancelled_at=now)
        if not updated:
            raise NotFound(_("You are not signed up for this activity."), code="not_signed_up")
        mine.status, mine.cancelled_at = SignupStatus.CANCELLED, now
        if held_place:
            promoted = _promote_next(activity.pk, now) if activity.status == "open" else None
            if promoted is None:
                GroupActivity.objects.filter(pk=activity.pk, taken__gt=0).update(
                    taken=F("taken") - 1)
            else:
                services.notify_on_commit(
                    [promoted], title=_("A place freed up: you are in for %(title)s")
                    % {"title": activity.title}, link=services.group_link(activity.group_id),
                    dedupe_key=f"group-promoted:{activity.pk}:{promoted}")
    return mine


def check_in(*, actor: Any, code: str, now: dt.datetime | None = None) -> Signup:
    """An attendee scans the activity's QR code (its ``check_in_code``) from 30 minutes before the
    start until the end; a member with no sign-up takes a free place on the spot."""
    now = now or timezone.now()
    activity = GroupActivity.objects.filter(check_in_code=(code or "").strip()).first()
    if activity is None:
        raise NotFound(_("This code is not a group activity's."), code="activity_not_found")
    services.require_member(actor, activity.group_id)
    if activity.status == ActivityStatus.CANCELLED:
        raise ActivityClosed()
    if not activity.starts_at - CHECK_IN_EARLY <= now <= activity.ends_at:
        raise InvalidInput(_("Check-in opens 30 minutes before the start and closes at the end."),
                           code="outside_check_in")
    with transaction.atomic():
        mine = (Signup.objects.select_for_update()
                .filter(activity=activity, user_id=actor.pk,
                        status__in=[SignupStatus.SIGNED_UP, SignupStatus.ATTENDED,
                                    SignupStatus.WAITING]).first())
        if mine is not None and mine.status == SignupStatus.ATTENDED:
            return mine
        if mine is None or mine.status == SignupStatus.WAITING:
            if not _take_place(activity.pk):
                raise ActivityFull()
            if mine is None:
                mine = Signup(activity=activity, user=actor)
        mine.status, mine.checked_in_at = SignupStatus.ATTENDED, now
        mine.save()
    return mine


def finish(activity: GroupActivity, *, now: dt.datetime | None = None) -> int:
    """Close an activity that is over and publish its attendance (once: the status moves from
    open to finished by a conditional UPDATE). Returns the attendees published."""
    now = now or timezone.now()
    with transaction.atomic():
        if not GroupActivity.objects.filter(pk=activity.pk, status=ActivityStatus.OPEN).update(
                status=ActivityStatus.FINISHED, finished_at=now):
            return 0
        attendees = list(Signup.objects.filter(activity=activity, status=SignupStatus.ATTENDED)
                         .order_by("user_id").values_list("user_id", flat=True))
        publish(FINISHED_EVENT, {
            "activity_id": activity.pk, "group_id": activity.group_id,
            "sport_id": activity.group.sport_id, "facility_id": activity.facility_id,
            "started_at": activity.starts_at.isoformat(),
            "ended_at": activity.ends_at.isoformat(), "attendees": attendees})
    return len(attendees)


def finish_by_leader(*, actor: Any, activity_id: int, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    activity = get_activity(activity_id)
    services.require_member(actor, activity.group_id, manager=True)
    if activity.status != ActivityStatus.OPEN:
        raise ActivityClosed()
    if activity.starts_at > now:
        raise InvalidInput(_("The activity has not started yet."), code="not_started")
    return finish(activity, now=now)


def cancel_activity(*, actor: Any, activity_id: int) -> GroupActivity:
    """The leader calls an activity off: everyone signed up or waiting is told; a booked slot is
    cancelled with it where the venue's cancellation window still allows."""
    from sportsman.facilities import booking as bookings

    activity = get_activity(activity_id)
    services.require_member(actor, activity.group_id, manager=True)
    with transaction.atomic():
        if not GroupActivity.objects.filter(pk=activity.pk, status=ActivityStatus.OPEN).update(
                status=ActivityStatus.CANCELLED):
            raise ActivityClosed()
        people = list(Signup.objects.filter(activity=activity,
                                            status__in=[SignupStatus.SIGNED_UP,
                                                        SignupStatus.WAITING])
                      .values_list("user_id", flat=True))
        if activity.booking_id:
            try:
                with transaction.atomic():
                    bookings.cancel_booking(actor=actor, booking_id=activity.booking_id)
            except DomainError:  # the cancellation window has closed: the booking stands
                pass
        services.notify_on_commit(people, title=_("Cancelled: %(title)s")
                                  % {"title": activity.title},
                                  link=services.group_link(activity.group_id),
                                  dedupe_key=f"group-activity-cancelled:{activity.pk}")
    activity.status = ActivityStatus.CANCELLED
    return activity


def finish_due(now: dt.datetime | None = None) -> int:
    """The periodic job: finish every open activity that ended over an hour ago."""
    now = now or timezone.now()
    done = 0
    for activity in (GroupActivity.objects.filter(status=ActivityStatus.OPEN,
                                                  ends_at__lt=now - AUTO_FINISH_AFTER)
                     .select_related("group").order_by("id")[:500]):
        done += finish(activity, now=now)
    return done
