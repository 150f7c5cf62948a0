"""Every state change of events: the event's life cycle (draft → filed → published → cancelled /
finished), registration (individual or team, custom questions, eligibility), the waitlist,
cancellation, check-in by QR code, results, rankings and qualifiers advancing to the next round.

Concurrency policy (docs/events.md):

- ``Event.registered`` moves only by one conditional UPDATE (``registered < capacity`` and
  ``status = published`` to take a place; ``registered > 0`` to give one back); the check
  constraint ``registered <= capacity`` backs it up. No read-modify-write.
- One live registration per person and event, one per team name, one team per member: partial
  unique constraints. A losing insert rolls back its whole block, the place it took included.
- A waitlist entry is promoted by a conditional UPDATE on its status, after the freed place has
  been taken by the counter, so a freed place promotes exactly one entry however many
  cancellations race.
- Registration is a handful of statements; notifications go out after commit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit, crypto
from sportsman.core.db import transition
from sportsman.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from sportsman.core.events import publish
from sportsman.events.models import (
    HOLDS_PLACE,
    LIVE,
    VISIBLE,
    ChallengeMetric,
    Entry,
    Event,
    EventStatus,
    Mode,
    OrganiserKind,
    Registration,
    RegStatus,
    ResultOrder,
    TeamMember,
)
from sportsman.regions.access import Perm, access_for_user
from sportsman.regions.models import Level, Region

ATTENDED = "events.attended"
EVENT_LEVELS = (Level.CITY, Level.DISTRICT, Level.TOWN, Level.COMMUNITY)
MAX_FIELDS = 20
FIELD_TYPES = ("text", "number", "choice", "bool")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
QR_PREFIX = "SPE:"
# An attended event becomes an exercise session of at most this long.
SESSION_CAP = dt.timedelta(hours=4)


# --- errors ------------------------------------------------------------------------------------


class EventNotFound(NotFound):
    code = "event_not_found"
    default_message = _("This event does not exist.")


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    default_message = _("This registration does not exist.")


class RegistrationClosed(InvalidInput):
    code = "registration_closed"
    default_message = _("Registration for this event is not open.")


class NotEligible(Forbidden):
    code = "not_eligible"
    default_message = _("You do not meet the entry conditions of this event.")


class AlreadyRegistered(Conflict):
    code = "already_registered"
    default_message = _("You have already registered for this event.")


class TeamTaken(Conflict):
    code = "team_already_registered"
    default_message = _("A team of this name is already registered for this event.")


class MemberTaken(Conflict):
    code = "member_already_registered"
    default_message = _("Someone on this roster is already registered for this event.")


class EventFull(Conflict):
    code = "event_full"
    default_message = _("This event is full.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("This cannot change that way any more.")


class CancelClosed(InvalidInput):
    code = "cancel_closed"
    default_message = _("The event has started: the registration can no longer be cancelled.")


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"
    default_message = _("This registration has already been checked in.")


class NotCheckable(Conflict):
    code = "not_checkable"
    default_message = _("Only a registration holding a place can be checked in.")


class WrongEvent(InvalidInput):
    code = "wrong_event"
    default_message = _("This code belongs to another event.")


class NoNextRound(InvalidInput):
    code = "no_next_round"
    default_message = _("This event has no next round.")


class NextRoundFull(Conflict):
    code = "next_round_full"
    default_message = _("The next round has no places left for these qualifiers.")


# --- loading -----------------------------------------------------------------------------------


def _valid_id(value: int) -> bool:
    return isinstance(value, int) and 0 < value < 2**63


def visible_events() -> QuerySet[Event]:
    """Events residents may see: published, and the cancelled and finished ones they knew."""
    return Event.objects.filter(status__in=VISIBLE)


def get_public_event(event_id: int) -> Event:
    if not _valid_id(event_id):
        raise EventNotFound()
    found = (visible_events().select_related("region", "sport", "facility", "parent")
             .filter(pk=event_id).first())
    if found is None:
        raise EventNotFound()
    return found


def staff_events(actor: Any) -> QuerySet[Event]:
    """Events in ``actor``'s EVENT_MANAGE subtrees (every status)."""
    return access_for_user(actor).scope(Event.objects.all(), Perm.EVENT_MANAGE)


def get_staff_event(actor: Any, event_id: int, *, lock: bool = False) -> Event:
    """An event the actor governs, else ``event_not_found`` (one outside looks missing)."""
    if not _valid_id(event_id):
        raise EventNotFound()
    qs = staff_events(actor).select_related("region", "sport", "facility", "parent")
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.filter(pk=event_id).first()
    if found is None:
        raise EventNotFound()
    return found


def get_own_registration(user: Any, registration_id: int) -> Registration:
    if not _valid_id(registration_id):
        raise RegistrationNotFound()
    found = (Registration.objects.select_related("event__region", "event__facility")
             .filter(pk=registration_id, user_id=user.pk).first())
    if found is None:
        raise RegistrationNotFound()
    return found


# --- validation of what organisers define -------------------------------------------------------


def clean_form_fields(raw: Any) -> list[dict[str, Any]]:
    """The organiser's questions, normalised; ``invalid`` naming each bad one."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        raise InvalidInput(fields={"form_fields": [
            _("At most %(n)d questions, as a list.") % {"n": MAX_FIELDS}]})
    out: list[dict[str, Any]] = []
    problems: dict[str, list[Any]] = {}
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"form_fields.{i}"
        if not isinstance(item, dict) or set(item) - {"key", "label", "type", "required",
                                                      "choices"}:
            problems[where] = [_("A question has key, label, type, required and choices.")]
            continue
        key, label, kind = item.get("key"), item.get("label"), item.get("type", "text")
        choices = item.get("choices") or []
        if not isinstance(key, str) or not _KEY.match(key) or key in seen:
            problems[where] = [_("The key must be unique: lower-case letters, digits, _.")]
        elif not isinstance(label, str) or not 0 < len(label.strip()) <= 60:
            problems[where] = [_("The label must be 1 to 60 characters.")]
        elif kind not in FIELD_TYPES:
            problems[where] = [_("The type must be text, number, choice or bool.")]
        elif kind == "choice" and (not isinstance(choices, list) or not 0 < len(choices) <= 20
                                   or not all(isinstance(c, str) and 0 < len(c) <= 40
                                              for c in choices)):
            problems[where] = [_("A choice question needs 1 to 20 choices of up to 40 "
                                 "characters.")]
        else:
            seen.add(key)
            out.append({"key": key, "label": label.strip(), "type": kind,
                        "required": bool(item.get("required", False)),
                        "choices": list(choices) if kind == "choice" else []})
    if problems:
        raise InvalidInput(fields=problems)
    return out


def _fits(kind: str, value: Any, choices: list[str]) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    return kind == "choice" and value in choices


def clean_answers(form_fields: list[dict[str, Any]], answers: Any) -> dict[str, Any]:
    """A registrant's answers checked against the event's questions: ``unknown_field`` for a key
    the event does not ask, ``invalid_answers`` naming each missing or bad one."""
    answers = answers or {}
    if not isinstance(answers, dict):
        raise InvalidInput(code="invalid_answers", fields={"answers": [_("Not an object.")]})
    known = {f["key"]: f for f in form_fields}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise InvalidInput(_("This event does not ask: %(keys)s.") % {"keys": ", ".join(unknown)},
                           code="unknown_field",
                           fields={f"answers.{k}": [_("Unknown question.")] for k in unknown})
    out: dict[str, Any] = {}
    problems: dict[str, list[Any]] = {}
    for key, spec in known.items():
        value = answers.get(key)
        if value is None or value == "":
            if spec.get("required"):
                problems[f"answers.{key}"] = [_("This question must be answered.")]
            continue
        kind = spec.get("type", "text")
        if kind == "text" and isinstance(value, str) and len(value) <= 200:
            out[key] = value.strip()
        elif _fits(kind, value, spec.get("choices") or []):
            out[key] = value
        else:
            problems[f"answers.{key}"] = [_("Not a valid answer to this question.")]
    if problems:
        raise InvalidInput(_("Some answers are missing or not valid."), code="invalid_answers",
                           fields=problems)
    return out


# --- the event's life cycle ---------------------------------------------------------------------

TRANSITIONS: dict[str, frozenset[str]] = {
    EventStatus.DRAFT: frozenset({EventStatus.PENDING, EventStatus.PUBLISHED,
                                  EventStatus.CANCELLED}),
    EventStatus.PENDING: frozenset({EventStatus.PUBLISHED, EventStatus.DRAFT,
                                    EventStatus.CANCELLED}),
    EventStatus.PUBLISHED: frozenset({EventStatus.CANCELLED, EventStatus.FINISHED}),
    EventStatus.CANCELLED: frozenset(),
    EventStatus.FINISHED: frozenset(),
}

EDITABLE = ("title", "description", "sport_id", "facility_id", "place", "starts_at", "ends_at",
            "registration_opens_at", "registration_closes_at", "capacity", "has_waitlist",
            "entry", "team_min", "team_max", "form_fields", "age_min", "age_max", "sex",
            "eligible_region_id", "target_interested", "qualifiers_only", "challenge_metric",
            "challenge_goal", "result_order", "organiser_kind", "organiser_id", "organiser_name",
            "mode", "parent_id")
# Changes residents who registered are told about.
NOTEWORTHY = ("starts_at", "ends_at", "facility_id", "place")


def transition_event(event: Event, to: str, *, at: dt.datetime | None = None) -> Event:
    """Move ``event`` to ``to`` if the table allows it, by a conditional UPDATE on its current
    status (a concurrent change makes it fail with ``invalid_transition``)."""
    return transition(event, to, table=TRANSITIONS, error=InvalidTransition, at=at,
                      stamps={EventStatus.PUBLISHED: "published_at",
                              EventStatus.CANCELLED: "cancelled_at"})


def _check_event_values(values: dict[str, Any], *, region: Region, registered: int = 0) -> None:
    problems: dict[str, list[Any]] = {}
    title = values.get("title")
    if not isinstance(title, str) or not 0 < len(title.strip()) <= 100:
        problems["title"] = [_("A title of 1 to 100 characters is needed.")]
    starts: Any = values.get("starts_at")
    ends: Any = values.get("ends_at")
    opens: Any = values.get("registration_opens_at")
    closes: Any = values.get("registration_closes_at")
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        if not isinstance(values.get(name), dt.datetime) or timezone.is_naive(values[name]):
            problems[name] = [_("A date and time with its time zone is needed.")]
    if not problems:
        if ends < starts:
            problems["ends_at"] = [_("The event cannot end before it starts.")]
        if closes < opens:
            problems["registration_closes_at"] = [_("Registration cannot close before it "
                                                    "opens.")]
        if closes > ends:
            problems["registration_closes_at"] = [_("Registration must close by the end of "
                                                    "the event.")]
    capacity = values.get("capacity")
    if not isinstance(capacity, int) or not 1 <= capacity <= 100_000:
        problems["capacity"] = [_("Between 1 and 100,000 places.")]
    elif capacity < registered:
        problems["capacity"] = [_("%(n)d places are already taken.") % {"n": registered}]
    if values.get("entry") == Entry.TEAM and not (
            1 <= values.get("team_min", 0) <= values.get("team_max", 0) <= 50):
        problems["team_max"] = [_("A team has between 1 and 50 members, the minimum first.")]
    a, b = values.get("age_min"), values.get("age_max")
    if (a is not None and not 0 <= a <= 120) or (b is not None and not 0 <= b <= 120) or (
            a is not None and b is not None and a > b):
        problems["age_max"] = [_("The age range must run from a lower to a higher age.")]
    if values.get("sex", "") not in ("", "F", "M"):
        problems["sex"] = [_("F, M or empty.")]
    if values.get("mode") == Mode.ONLINE and values.get("challenge_metric") not in \
            ChallengeMetric.values:
        problems["challenge_metric"] = [_("An online challenge counts minutes, distance or "
                                          "sessions.")]
    if values.get("organiser_kind") not in OrganiserKind.values:
        problems["organiser_kind"] = [_("Government, association or group.")]
    if values.get("result_order", ResultOrder.HIGHER) not in ResultOrder.values:
        problems["result_order"] = [_("Higher or lower.")]
    if problems:
        raise InvalidInput(fields=problems)


def _resolve_refs(actor: Any, values: dict[str, Any], region: Region) -> None:
    """Check the ids an organiser gave: a venue, an eligibility region and a next round inside
    what the actor governs (a parent round may be at the level above)."""
    from sportsman.core.models import Sport
    from sportsman.facilities.models import Facility

    access = access_for_user(actor)
    if values.get("sport_id") is not None and not Sport.objects.filter(
            pk=values["sport_id"]).exists():
        raise InvalidInput(fields={"sport_id": [_("Unknown sport.")]})
    if values.get("facility_id") is not None:
        facility = Facility.objects.select_related("region").filter(
            pk=values["facility_id"]).first()
        if facility is None or not facility.region.path.startswith(region.path):
            raise InvalidInput(fields={"facility_id": [_("Choose a venue inside the event's "
                                                         "region.")]})
    if values.get("eligible_region_id") is not None:
        found = Region.objects.filter(pk=values["eligible_region_id"]).first()
        if found is None:
            raise InvalidInput(fields={"eligible_region_id": [_("Unknown region.")]})
    if values.get("parent_id") is not None:
        parent = Event.objects.select_related("region").filter(pk=values["parent_id"]).first()
        if parent is None or not region.path.startswith(parent.region.path) or (
                parent.region_id == region.pk) or not (
                access.can(Perm.EVENT_MANAGE, parent.region) or access.can(
                    Perm.EVENT_MANAGE, region)):
            raise InvalidInput(fields={"parent_id": [_("The next round must be an event of a "
                                                       "region above this one.")]})


def create_event(*, actor: Any, region_id: int, request: Any = None, **fields: Any) -> Event:
    """A draft event in ``region_id`` (a city, district, town or community), which decides its
    level and who governs it. Requires ``EVENT_MANAGE`` there. Audited as ``event.create``."""
    region = Region.objects.filter(pk=region_id).first() if _valid_id(region_id) else None
    access_for_user(actor).require(Perm.EVENT_MANAGE, region)
    assert region is not None
    if region.level not in EVENT_LEVELS:
        raise InvalidInput(fields={"region_id": [_("Events belong to a city, district, town or "
                                                   "community.")]})
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput(code="unknown_field", fields={k: [_("Unknown field.")]
                                                         for k in sorted(unknown)})
    values = {"organiser_kind": OrganiserKind.GOVERNMENT, "organiser_name": region.name,
              "mode": Mode.OFFLINE, "entry": Entry.INDIVIDUAL, "team_min": 2, "team_max": 10,
              "has_waitlist": True, "sex": "", "result_order": ResultOrder.HIGHER,
              **{k: v for k, v in fields.items() if v is not None or k.endswith("_id")}}
    values["form_fields"] = clean_form_fields(values.get("form_fields"))
    values["organiser_name"] = (values.get("organiser_name") or region.name).strip()[:100]
    if values.get("mode") != Mode.ONLINE:
        values["challenge_metric"] = ""
    _check_event_values(values, region=region)
    _resolve_refs(actor, values, region)
    with transaction.atomic():
        event = Event.objects.create(region=region, level=region.level, created_by=actor,
                                     **values)
        audit.record(actor=actor, action="event.create", obj=event, region=region,
                     request=request, data={"title": event.title})
    return event


def update_event(*, actor: Any, event_id: int, request: Any = None,
                 **changes: Any) -> Event:
    """Change an event that is not cancelled or finished. Its places cannot drop below those
    taken; more places promote the waitlist. Residents who registered are told, after commit,
    when the time or the place changed. Audited as ``event.update``."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(code="unknown_field", fields={k: [_("Unknown field.")]
                                                         for k in sorted(unknown)})
    now = timezone.now()
    with transaction.atomic():
        event = get_staff_event(actor, event_id, lock=True)
        if event.status in (EventStatus.CANCELLED, EventStatus.FINISHED):
            raise InvalidTransition(_("A cancelled or finished event cannot be changed."))
        if "form_fields" in changes:
            changes["form_fields"] = clean_form_fields(changes["form_fields"])
        values = {k: getattr(event, k) for k in EDITABLE}
        values.update(changes)
        if values.get("mode") != Mode.ONLINE:
            values["challenge_metric"] = ""
        _check_event_values(values, region=event.region, registered=event.registered)
        _resolve_refs(actor, {k: v for k, v in changes.items() if k.endswith("_id")},
                      event.region)
        moved = [k for k in NOTEWORTHY if k in changes and changes[k] != getattr(event, k)]
        grew = values["capacity"] > event.capacity
        # The counter moves only by conditional UPDATEs: capacity is set by one that checks it
        # still covers the places taken (a registration may have come in meanwhile).
        plain = {k: v for k, v in values.items() if k != "capacity"}
        for name, value in plain.items():
            setattr(event, name, value)
        event.save(update_fields=[*plain, "updated_at"])
        if not Event.objects.filter(pk=event.pk, registered__lte=values["capacity"]).update(
                capacity=values["capacity"]):
            raise InvalidInput(fields={"capacity": [_("More places are already taken.")]})
        event.capacity = values["capacity"]
        if grew:
            while _promote_waitlist(event.pk, now) is not None:
                pass
        audit.record(actor=actor, action="event.update", obj=event, region=event.region,
                     request=request, data={"fields": sorted(changes)})
        if moved and event.status == EventStatus.PUBLISHED:
            _notify_registrants_on_commit(
                event, title=gettext("Event changed: %(title)s") % {"title": event.title},
                body=gettext("The time or place has changed. Now: %(when)s, %(where)s.")
                % {"when": local_text(event.starts_at), "where": where_text(event)},
                dedupe_key=f"event:{event.pk}:changed:{int(now.timestamp())}")
    return event


def file_event(*, actor: Any, event_id: int, request: Any = None) -> Event:
    """Draft → filed (pending review): what the association window will review. Audited."""
    with transaction.atomic():
        event = get_staff_event(actor, event_id)
        transition_event(event, EventStatus.PENDING)
        audit.record(actor=actor, action="event.file", obj=event, region=event.region,
                     request=request)
    return event


def publish_event(*, actor: Any, event_id: int, request: Any = None) -> Event:
    """Draft or filed → published: registration follows its window, and the event's audience
    (region, age band, sex, sport interest) is told after commit. Audited."""
    with transaction.atomic():
        event = get_staff_event(actor, event_id)
        transition_event(event, EventStatus.PUBLISHED)
        audit.record(actor=actor, action="event.publish", obj=event, region=event.region,
                     request=request)
        transaction.on_commit(partial(_announce, event.pk))
    return event


def _announce(event_id: int) -> None:
    from sportsman.events import audience

    audience.announce(event_id)


def cancel_event(*, actor: Any, event_id: int, reason: str = "", request: Any = None) -> Event:
    """Cancel an event (not yet finished): everyone registered or waiting is told after commit;
    their registrations stay as they were (the event's status says it all). Audited."""
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        event = get_staff_event(actor, event_id)
        transition_event(event, EventStatus.CANCELLED)
        Event.objects.filter(pk=event.pk).update(cancel_reason=reason)
        event.cancel_reason = reason
        audit.record(actor=actor, action="event.cancel", obj=event, region=event.region,
                     request=request, data={"reason": reason})
        _notify_registrants_on_commit(
            event, title=gettext("Event cancelled: %(title)s") % {"title": event.title},
            body=reason or gettext("The organiser has cancelled this event."),
            dedupe_key=f"event:{event.pk}:cancelled", waitlist=True)
    return event


def finish_event(*, actor: Any, event_id: int, request: Any = None) -> Event:
    """Published → finished (results are final). An online challenge's leaderboard is frozen
    into scores and ranks. Audited."""
    with transaction.atomic():
        event = get_staff_event(actor, event_id)
        transition_event(event, EventStatus.FINISHED)
        if event.is_online:
            freeze_challenge(event)
        audit.record(actor=actor, action="event.finish", obj=event, region=event.region,
                     request=request)
    return event


def set_cover(*, actor: Any, event_id: int, content: bytes, request: Any = None) -> Event:
    """The event's cover photo: sniffed, re-encoded and stripped by ``uploads.clean_photo``
    (``photo_too_large``, ``photo_invalid``: nothing stored). Audited."""
    from django.core.files.base import ContentFile

    from sportsman.core.uploads import clean_photo

    event = get_staff_event(actor, event_id)
    cleaned = clean_photo(content, field="cover")
    with transaction.atomic():
        old = event.cover.name if event.cover else ""
        event.cover.save("cover.jpg", ContentFile(cleaned), save=False)
        Event.objects.filter(pk=event.pk).update(cover=event.cover.name)
        audit.record(actor=actor, action="event.cover", obj=event, region=event.region,
                     request=request)
        if old:
            transaction.on_commit(partial(event.cover.storage.delete, old))
    return event


# --- eligibility -------------------------------------------------------------------------------


def age_at(user: Any, event: Event) -> int | None:
    if not user.birth_year:
        return None
    return local(event.starts_at).year - int(user.birth_year)


def eligibility_problems(event: Event, user: Any, *, home_path: str | None = None
                         ) -> list[tuple[str, str]]:
    """Why ``user`` may not enter ``event``: (reason code, message) pairs, empty when they may.
    ``home_path`` is the home community's path when the caller has it."""
    out: list[tuple[str, str]] = []
    if event.age_min is not None or event.age_max is not None:
        age = age_at(user, event)
        if age is None:
            out.append(("age_unknown", gettext("Add your birth year to your profile.")))
        elif (event.age_min is not None and age < event.age_min) or (
                event.age_max is not None and age > event.age_max):
            out.append(("age", gettext("Open to ages %(low)s to %(high)s.")
                        % {"low": event.age_min if event.age_min is not None else 0,
                           "high": event.age_max if event.age_max is not None else "∞"}))
    if event.sex and user.sex != event.sex:
        out.append(("sex", gettext("Open to women only.") if event.sex == "F"
                    else gettext("Open to men only.")))
    if event.eligible_region_id is not None:
        if home_path is None and user.home_community_id:
            home_path = (Region.objects.filter(pk=user.home_community_id)
                         .values_list("path", flat=True).first())
        region_path = (Region.objects.filter(pk=event.eligible_region_id)
                       .values_list("path", flat=True).first()) or "-"
        if not home_path or not home_path.startswith(region_path):
            out.append(("region", gettext("Open to residents of a region you do not live in.")))
    if event.qualifiers_only:
        out.append(("qualifiers_only", gettext("Only qualifiers of the earlier rounds take part.")))
    return out


def registration_open(event: Event, now: dt.datetime) -> bool:
    return (event.status == EventStatus.PUBLISHED
            and event.registration_opens_at <= now < event.registration_closes_at)


# --- registering -------------------------------------------------------------------------------


def _roster(actor: Any, event: Event, members: Iterable[dict[str, Any]] | None
            ) -> tuple[list[dict[str, Any]], list[int]]:
    """The roster (captain first) and the user ids on it. A member is a name and optionally a
    phone number that finds their account (one query for all)."""
    User = get_user_model()
    rows = list(members or [])
    captain = {"name": actor.nickname or gettext("Captain"), "user_id": actor.pk}
    phones = {crypto.keyed_hash(str(m["phone"])): i for i, m in enumerate(rows)
              if m.get("phone")}
    found = dict(User.objects.filter(phone_hash__in=list(phones), is_active=True)
                 .values_list("phone_hash", "pk")) if phones else {}
    roster = [captain]
    user_ids = [actor.pk]
    for i, member in enumerate(rows):
        uid = next((found[h] for h, j in phones.items() if j == i and h in found), None)
        if uid is not None and uid in user_ids:
            raise InvalidInput(code="invalid_roster",
                               fields={f"members.{i}": [_("Listed twice.")]})
        roster.append({"name": str(member["name"])[:32], "user_id": uid})
        if uid is not None:
            user_ids.append(uid)
    if not event.team_min <= len(roster) <= event.team_max:
        raise InvalidInput(_("A team has %(low)d to %(high)d members, the captain included.")
                           % {"low": event.team_min, "high": event.team_max},
                           code="invalid_roster",
                           fields={"members": [_("Wrong number of members.")]})
    return roster, user_ids


def _take_place(event_id: int) -> bool:
    return bool(Event.objects.filter(pk=event_id, status=EventStatus.PUBLISHED,
                                     registered__lt=F("capacity"))
                .update(registered=F("registered") + 1))


def _give_back_place(event_id: int) -> None:
    Event.objects.filter(pk=event_id, registered__gt=0).update(registered=F("registered") - 1)


def register(*, actor: Any, event_id: int, answers: dict[str, Any] | None = None,
             team_name: str = "", members: list[dict[str, Any]] | None = None,
             now: dt.datetime | None = None) -> Registration:
    """Register ``actor`` (for a team: as its captain) for a published event while registration
    is open. Refuses with a stable code, writing nothing: ``event_not_found``,
    ``registration_closed``, ``not_eligible`` (the reasons in ``fields.eligibility``),
    ``unknown_field`` / ``invalid_answers`` (the organiser's questions), ``invalid_roster``,
    ``already_registered``, ``team_already_registered``, ``member_already_registered`` and
    ``event_full`` (409, when full and without a waitlist). When full with a waitlist the
    registration is ``waitlisted``. A few statements: the event, a look for a live
    registration, the counter's UPDATE and the insert."""
    now = now or timezone.now()
    event = Event.objects.filter(pk=event_id).first() if _valid_id(event_id) else None
    if event is None or event.status in (EventStatus.DRAFT, EventStatus.PENDING):
        raise EventNotFound()
    if not actor.is_active or not registration_open(event, now):
        raise RegistrationClosed()
    problems = eligibility_problems(event, actor)
    if problems:
        raise NotEligible(fields={"eligibility": [code for code, _m in problems]}) \
            if len(problems) > 1 else NotEligible(problems[0][1],
                                                   fields={"eligibility": [problems[0][0]]})
    clean = clean_answers(event.form_fields, answers)
    roster: list[dict[str, Any]] = []
    member_ids: list[int] = []
    team_name = (team_name or "").strip()
    if event.entry == Entry.TEAM:
        if not 0 < len(team_name) <= 40:
            raise InvalidInput(fields={"team_name": [_("A team name of 1 to 40 characters.")]})
        roster, member_ids = _roster(actor, event, members)
    elif team_name or members:
        raise InvalidInput(code="unknown_field",
                           fields={"team_name": [_("This event takes individual entries.")]})
    if Registration.objects.filter(event_id=event.pk, user_id=actor.pk,
                                   status__in=LIVE).exists():
        raise AlreadyRegistered()
    try:
        with transaction.atomic():
            if _take_place(event.pk):
                status = RegStatus.REGISTERED
            elif event.has_waitlist and Event.objects.filter(
                    pk=event.pk, status=EventStatus.PUBLISHED).exists():
                status = RegStatus.WAITLISTED
            else:
                raise EventFull() if event.status == EventStatus.PUBLISHED \
                    else RegistrationClosed()
            reg = Registration.objects.create(event=event, user_id=actor.pk, status=status,
                                              team_name=team_name, roster=roster, answers=clean)
            if member_ids:
                TeamMember.objects.bulk_create(
                    [TeamMember(registration=reg, event_id=event.pk, user_id=uid)
                     for uid in member_ids])
            publish("events.registered", {"registration_id": reg.pk, "event_id": event.pk,
                                          "status": status})
    except IntegrityError:  # the whole block (the place taken too) was rolled back
        raise _which_conflict(event.pk, actor.pk, team_name, member_ids) from None
    reg.event = event
    return reg


def _which_conflict(event_id: int, user_id: int, team_name: str,
                    member_ids: list[int]) -> DomainError:
    if Registration.objects.filter(event_id=event_id, user_id=user_id, status__in=LIVE).exists():
        return AlreadyRegistered()
    if team_name and Registration.objects.filter(event_id=event_id, team_name=team_name,
                                                 status__in=LIVE).exists():
        return TeamTaken()
    return MemberTaken()


def cancel_registration(*, actor: Any, registration_id: int,
                        now: dt.datetime | None = None) -> Registration:
    """Cancel one of ``actor``'s registrations (or leave the waitlist) before the event starts
    (``cancel_closed`` after; ``invalid_transition`` once checked in or cancelled). A place goes
    back to the event and, in the same transaction, to the first on the waitlist, who is told
    after commit."""
    now = now or timezone.now()
    reg = get_own_registration(actor, registration_id)
    if reg.status not in (RegStatus.REGISTERED, RegStatus.WAITLISTED):
        raise InvalidTransition(_("Only a registration that is still open can be cancelled."))
    if now >= reg.event.starts_at and not reg.event.is_online:
        raise CancelClosed()
    with transaction.atomic():
        if not Registration.objects.filter(pk=reg.pk, status=reg.status).update(
                status=RegStatus.CANCELLED, cancelled_at=now, updated_at=now):
            raise InvalidTransition()
        TeamMember.objects.filter(registration_id=reg.pk).delete()
        if reg.status == RegStatus.REGISTERED:
            _give_back_place(reg.event_id)
            _promote_waitlist(reg.event_id, now)
        reg.status, reg.cancelled_at = RegStatus.CANCELLED, now
    return reg


def _promote_waitlist(event_id: int, now: dt.datetime) -> Registration | None:
    """Give a free place to the first on the waitlist: the place is taken by the counter, then
    the entry is claimed by a conditional UPDATE (waitlisted → registered); an entry someone
    else claimed (or that left) gives the place back and the next is tried. Runs inside the
    caller's transaction; the promoted person is told after commit."""
    candidates = list(Registration.objects.filter(event_id=event_id,
                                                  status=RegStatus.WAITLISTED)
                      .order_by("created_at", "id").values_list("pk", "user_id")[:20])
    for pk, user_id in candidates:
        if not _take_place(event_id):
            return None
        if Registration.objects.filter(pk=pk, status=RegStatus.WAITLISTED).update(
                status=RegStatus.REGISTERED, from_waitlist=True, updated_at=now):
            title = Event.objects.filter(pk=event_id).values_list("title", flat=True).first()
            _notify_on_commit([user_id], title=gettext("A place opened up: you are registered"),
                              body=gettext("You got a place from the waitlist of %(title)s.")
                              % {"title": title}, link=reverse("events:mine"),
                              dedupe_key=f"registration:{pk}:promoted",
                              data={"registration_id": pk, "event_id": event_id})
            return Registration.objects.get(pk=pk)
        _give_back_place(event_id)
    return None


# --- check-in, results, qualifiers ---------------------------------------------------------------


def check_in(*, actor: Any, code: str, event_id: int | None = None, request: Any = None,
             now: dt.datetime | None = None) -> Registration:
    """Staff scan a registration's QR code (``SPE:<code>``, or the code typed). Requires
    ``EVENT_MANAGE`` on the event's region (outside it the code is not found). Checks in once
    (``already_checked_in``), only a registration holding a place (``not_checkable``), of the
    event being scanned for when given (``wrong_event``). In the same transaction it publishes
    ``events.attended`` (the exercise record makes a verified session of it) and writes the
    audit entry."""
    now = now or timezone.now()
    code = (code or "").strip().removeprefix(QR_PREFIX)
    if not 0 < len(code) <= 24:
        raise RegistrationNotFound()
    reg = (Registration.objects.select_related("event__region").filter(code=code).first())
    if reg is None or not access_for_user(actor).can(Perm.EVENT_MANAGE, reg.event.region):
        raise RegistrationNotFound()
    if event_id is not None and reg.event_id != event_id:
        raise WrongEvent()
    if reg.event.is_online:
        raise InvalidInput(_("Online challenges have no check-in."), code="online_event")
    if reg.status == RegStatus.CHECKED_IN:
        raise AlreadyCheckedIn()
    if reg.status != RegStatus.REGISTERED or reg.event.status != EventStatus.PUBLISHED:
        raise NotCheckable()
    with transaction.atomic():
        if not Registration.objects.filter(pk=reg.pk, status=RegStatus.REGISTERED).update(
                status=RegStatus.CHECKED_IN, checked_in_at=now, updated_at=now):
            raise AlreadyCheckedIn()
        reg.status, reg.checked_in_at = RegStatus.CHECKED_IN, now
        event = reg.event
        member_ids = [m["user_id"] for m in reg.roster if m.get("user_id")] or [reg.user_id]
        publish(ATTENDED, {
            "registration_id": reg.pk, "event_id": event.pk, "user_id": reg.user_id,
            "user_ids": member_ids, "sport_id": event.sport_id,
            "facility_id": event.facility_id, "started_at": event.starts_at.isoformat(),
            "ended_at": min(event.ends_at, event.starts_at + SESSION_CAP).isoformat()})
        audit.record(actor=actor, action="event.check_in", obj=reg, region=event.region,
                     request=request, data={"event": event.pk})
    return reg


def _rank(event: Event) -> None:
    """Competition ranks (1, 1, 3) of the event's scored registrations, by its result order."""
    rows: list[tuple[int, float]] = [
        (pk, float(score)) for pk, score in Registration.objects.filter(
            event_id=event.pk, score__isnull=False, status__in=HOLDS_PLACE)
        .values_list("pk", "score") if score is not None]
    higher = event.result_order == ResultOrder.HIGHER
    rows.sort(key=lambda r: -r[1] if higher else r[1])
    Registration.objects.filter(event_id=event.pk).exclude(
        pk__in=[pk for pk, _s in rows]).update(rank=None)
    rank, previous = 0, None
    for i, (pk, score) in enumerate(rows, start=1):
        if score != previous:
            rank, previous = i, score
        Registration.objects.filter(pk=pk).update(rank=rank)


def enter_results(*, actor: Any, event_id: int, results: list[dict[str, Any]],
                  request: Any = None) -> list[Registration]:
    """Scores of an offline event's checked-in registrations (``score`` null clears one), then
    the ranks recomputed. All or nothing: a registration not of this event or not checked in is
    refused by id (``bad_results``). Audited as ``event.results``."""
    with transaction.atomic():
        event = get_staff_event(actor, event_id, lock=True)
        if event.status not in (EventStatus.PUBLISHED, EventStatus.FINISHED):
            raise InvalidTransition(_("Results are entered for a published event."))
        ids = [r["registration_id"] for r in results]
        known = dict(Registration.objects.filter(event_id=event.pk, pk__in=ids)
                     .values_list("pk", "status"))
        problems = {f"results.{i}": [_("Not a checked-in registration of this event.")]
                    for i, rid in enumerate(ids)
                    if known.get(rid) != RegStatus.CHECKED_IN and not (
                        event.is_online and known.get(rid) in HOLDS_PLACE)}
        if len(set(ids)) != len(ids):
            problems["results"] = [_("A registration is listed twice.")]
        if problems:
            raise InvalidInput(code="bad_results", fields=problems)
        for r in results:
            Registration.objects.filter(pk=r["registration_id"]).update(
                score=r.get("score"), result_note=(r.get("note") or "")[:60])
        _rank(event)
        audit.record(actor=actor, action="event.results", obj=event, region=event.region,
                     request=request, data={"count": len(results)})
    return list(Registration.objects.filter(event_id=event.pk, pk__in=ids).order_by("rank", "id"))


def mark_qualifiers(*, actor: Any, event_id: int, registration_ids: list[int],
                    request: Any = None) -> list[Registration]:
    """Mark ranked registrations of a round as qualifiers and register each (and its roster)
    in the next round (the parent event), taking its places by the same counter. Once per
    registration (advanced ones are skipped); ``next_round_full`` rolls back the lot.
    Qualifiers are told after commit. Audited as ``event.qualifiers``."""
    with transaction.atomic():
        event = get_staff_event(actor, event_id, lock=True)
        if event.parent_id is None:
            raise NoNextRound()
        parent = Event.objects.get(pk=event.parent_id)
        if parent.status != EventStatus.PUBLISHED:
            raise InvalidTransition(_("The next round is not published."))
        regs = list(Registration.objects.filter(event_id=event.pk, pk__in=registration_ids,
                                                rank__isnull=False).order_by("rank", "id"))
        if len(regs) != len(set(registration_ids)):
            raise InvalidInput(code="bad_results", fields={"registration_ids": [
                _("Only ranked registrations of this round can qualify.")]})
        advanced: list[Registration] = []
        for reg in regs:
            Registration.objects.filter(pk=reg.pk).update(is_qualifier=True)
            if Registration.objects.filter(advanced_from_id=reg.pk).exists():
                continue
            if Registration.objects.filter(event_id=parent.pk, user_id=reg.user_id,
                                           status__in=LIVE).exists():
                continue
            if not _take_place(parent.pk):
                raise NextRoundFull()
            nxt = Registration.objects.create(event=parent, user_id=reg.user_id,
                                              team_name=reg.team_name, roster=reg.roster,
                                              answers=reg.answers, advanced_from=reg)
            ids = [m["user_id"] for m in reg.roster if m.get("user_id")]
            if ids:
                TeamMember.objects.bulk_create(
                    [TeamMember(registration=nxt, event_id=parent.pk, user_id=uid)
                     for uid in ids])
            advanced.append(nxt)
        audit.record(actor=actor, action="event.qualifiers", obj=event, region=event.region,
                     request=request, data={"qualifiers": [r.pk for r in regs],
                                            "advanced": [r.pk for r in advanced]})
        for nxt in advanced:
            _notify_on_commit([nxt.user_id], title=gettext("You qualified for %(title)s")
                              % {"title": parent.title},
                              body=gettext("You are registered for the next round on %(when)s.")
                              % {"when": local_text(parent.starts_at)},
                              link=reverse("events:detail", args=[parent.pk]),
                              dedupe_key=f"registration:{nxt.pk}:qualified",
                              data={"registration_id": nxt.pk, "event_id": parent.pk})
    return advanced


def freeze_challenge(event: Event) -> None:
    """An online challenge's leaderboard stored as scores and ranks (at its finish)."""
    from sportsman.events.challenge import totals

    values = totals(event)
    for reg_id, value in values.items():
        Registration.objects.filter(pk=reg_id).update(score=value)
    _rank(event)


# --- texts and notifications -----------------------------------------------------------------


def local(at: dt.datetime) -> dt.datetime:
    return timezone.localtime(at)


def local_text(at: dt.datetime) -> str:
    return local(at).strftime("%Y-%m-%d %H:%M")


def where_text(event: Event) -> str:
    if event.is_online:
        return gettext("online")
    if event.facility_id is not None and event.facility is not None:
        return event.facility.name
    return event.place or "—"


def _notify(user_ids: list[int], *, title: str, body: str = "", link: str = "",
            dedupe_key: str, data: dict | None = None) -> None:
    from sportsman.notifications.services import notify

    User = get_user_model()
    notify(users=User.objects.filter(pk__in=user_ids), category="event", title=str(title)[:120],
           body=str(body), link=link, dedupe_key=dedupe_key, data=data)


def _notify_on_commit(user_ids: list[int], **kwargs: Any) -> None:
    if user_ids:
        transaction.on_commit(partial(_notify, list(user_ids), **kwargs))


def _notify_registrants_on_commit(event: Event, *, title: str, body: str, dedupe_key: str,
                                  waitlist: bool = False) -> None:
    statuses = [*HOLDS_PLACE, RegStatus.WAITLISTED] if waitlist else list(HOLDS_PLACE)
    user_ids = list(Registration.objects.filter(event_id=event.pk, status__in=statuses)
                    .values_list("user_id", flat=True))
    _notify_on_commit(user_ids, title=title, body=body,
                      link=reverse("events:detail", args=[event.pk]), dedupe_key=dedupe_key,
                      data={"event_id": event.pk})
