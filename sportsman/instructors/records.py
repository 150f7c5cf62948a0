"""Session records: after a session the instructor writes what was taught, who came, notes and
photos; the residents who came rate it once.

Recording is exactly once: the session moves to ``recorded`` by one conditional UPDATE, so a
retried or concurrent second save fails (``session_already_recorded``) and changes nothing. In
the same transaction the instructor's ``sessions`` and ``service_minutes`` move by one UPDATE,
and ``instructors.session_recorded`` is published with the attendees: the exercise record's
consumer (``activity.record_instructor_session``) makes one verified record (source
``instructor``) per attendee, keyed ``instructor:<session>:<user>`` — a replayed event finds them
and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, bad_field
from sportsman.core.events import publish
from sportsman.instructors.booking import (
    GuidanceBookingNotFound,
    InvalidTransition,
    _own_session,
    transition_session,
)
from sportsman.instructors.models import (
    BookingState,
    GuidanceBooking,
    Instructor,
    SessionPhoto,
    SessionRecord,
    SessionStatus,
)

RECORDED_EVENT = "instructors.session_recorded"
MAX_PHOTOS = 6


class AlreadyRecorded(Conflict):
    code = "session_already_recorded"
    default_message = _("This session is already recorded.")


class NotStarted(InvalidInput):
    code = "session_not_started"
    default_message = _("A session is recorded once it has begun.")


class AlreadyRated(Conflict):
    code = "already_rated"
    default_message = _("You have already rated this session.")


class NotAttended(InvalidInput):
    code = "not_attended"
    default_message = _("Only residents who came to the session can rate it.")


def record_session(*, actor: Any, session_id: int, content: str, attended: Sequence[int],
                   notes: str = "", photos: Sequence[bytes] = (), request: Any = None,
                   now: dt.datetime | None = None) -> SessionRecord:
    """The instructor (``actor``, their own session only) records a session that has begun:
    ``content`` taught, ``attended`` the user ids of booked residents who came (others are
    marked absent), ``notes``, up to 6 photos (re-encoded without EXIF). Refuses
    ``session_already_recorded``, ``session_not_started``, ``not_booked``. Side effects: see the
    module docstring; audited as ``guidance.recorded``."""
    from sportsman.core.uploads import clean_photo

    now = now or timezone.now()
    session = _own_session(actor, session_id)
    if session.status == SessionStatus.RECORDED:
        raise AlreadyRecorded()
    if session.starts_at > now:
        raise NotStarted()
    if not content.strip():
        raise bad_field("content", _("Write what was taught."))
    if len(photos) > MAX_PHOTOS:
        raise bad_field("photos", _("At most 6 photos."), code="too_many_photos")
    booked = set(GuidanceBooking.objects.filter(session=session, status=BookingState.BOOKED)
                 .values_list("user_id", flat=True))
    came = list(dict.fromkeys(int(u) for u in attended))
    if set(came) - booked:
        raise bad_field("attended", _("Only residents booked on the session can attend it."),
                   code="not_booked")
    cleaned = [clean_photo(p, field="photos") for p in photos]
    minutes = session.minutes
    with transaction.atomic():
        try:
            transition_session(session, SessionStatus.RECORDED, at=now)
        except InvalidTransition:
            raise AlreadyRecorded() from None
        record = SessionRecord.objects.create(session=session, content=content.strip()[:2000],
                                              notes=notes.strip()[:2000], minutes=minutes,
                                              attendees=len(came), recorded_by=actor)
        for i, data in enumerate(cleaned):
            photo = SessionPhoto(record=record, position=i)
            photo.image.save(f"session-{session.pk}-{i}.jpg", ContentFile(data), save=False)
            photo.save()
        GuidanceBooking.objects.filter(session=session, status=BookingState.BOOKED,
                                       user_id__in=came).update(status=BookingState.ATTENDED,
                                                                updated_at=now)
        GuidanceBooking.objects.filter(session=session, status=BookingState.BOOKED).update(
            status=BookingState.ABSENT, updated_at=now)
        Instructor.objects.filter(pk=session.instructor_id).update(
            sessions=F("sessions") + 1, service_minutes=F("service_minutes") + minutes)
        publish(RECORDED_EVENT, {
            "session_id": session.pk, "instructor_id": session.instructor_id,
            "sport_id": session.sport_id, "facility_id": session.facility_id,
            "started_at": session.starts_at.isoformat(), "ended_at": session.ends_at.isoformat(),
            "attendees": came})
        audit.record(actor=actor, action="guidance.recorded", obj=session,
                     region=session.instructor.region, request=request,
                     data={"attendees": len(came), "minutes": minutes})
    return record


def rate(*, actor: Any, booking_id: int, stars: int,
         now: dt.datetime | None = None) -> GuidanceBooking:
    """A resident who came rates the session 1–5, once (``already_rated``; one conditional
    UPDATE on an empty rating). The instructor's rating sum and count move by one UPDATE."""
    now = now or timezone.now()
    if not 1 <= stars <= 5:
        raise bad_field("stars", _("Give 1 to 5 stars."))
    found = (GuidanceBooking.objects.select_related("session")
             .filter(pk=booking_id, user_id=actor.pk).first() if 0 < booking_id < 2**63
             else None)
    if found is None:
        raise GuidanceBookingNotFound()
    if found.status != BookingState.ATTENDED:
        raise NotAttended()
    with transaction.atomic():
        if not GuidanceBooking.objects.filter(pk=found.pk, rating__isnull=True,
                                              status=BookingState.ATTENDED).update(
                rating=stars, rated_at=now, updated_at=now):
            raise AlreadyRated()
        Instructor.objects.filter(pk=found.session.instructor_id).update(
            rating_sum=F("rating_sum") + stars, rating_count=F("rating_count") + 1)
    found.rating, found.rated_at = stars, now
    return found
