"""Reporting a problem (报事反馈): a resident (or someone acting for them, or an Open311 client)
reports what is wrong and where, with photos; the report is routed to who handles it, runs
against its category's service levels, escalates one level up when overdue, and ends resolved
and confirmed (or closed by itself), rejected with a reason, or merged into a duplicate.

Workflow (``TRANSITIONS``, one conditional UPDATE per step through ``core.db.transition``)::

    submitted → accepted → in_progress → resolved → closed
        ↘ rejected / merged      ↖ reopened (by the reporter, within REOPEN_DAYS) ↙

Every step is a :class:`ReportEvent` on the report's public timeline (who, when, a note).
Routing: a report naming a facility goes to the facility's venue managers (the facility's own
maintenance queue: ``facilities`` opens a linked ticket from the ``governance.report_submitted``
event and keeps it in step), otherwise to the staff of the report's community; a region's
:class:`RoutingRule` for the category overrides who and how fast, the nearest rule up the tree
winning.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sportsman.core import audit, events
from sportsman.core.db import aware
from sportsman.core.db import transition as db_transition
from sportsman.core.errors import Conflict, NotFound, bad_field
from sportsman.core.schemas import iso
from sportsman.core.throttle import Limit, refuse_over
from sportsman.core.uploads import clean_photo
from sportsman.core.wording import check_text
from sportsman.governance import proxy
from sportsman.governance.models import (
    Category,
    Handler,
    Report,
    ReportEvent,
    ReportPhoto,
    ReportStatus,
    RoutingRule,
    Step,
)
from sportsman.regions.access import Access, Perm, access_for_user, own_holders
from sportsman.regions.models import Level, Region

S = ReportStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.MERGED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.MERGED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.MERGED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
    S.REJECTED: frozenset(),
    S.MERGED: frozenset(),
}
STAMPS: dict[str, str] = {S.ACCEPTED: "accepted_at", S.RESOLVED: "resolved_at",
                         S.CLOSED: "closed_at"}
STAFF_STEPS: dict[str, str] = {S.ACCEPTED: Step.ACCEPTED, S.IN_PROGRESS: Step.IN_PROGRESS,
               S.RESOLVED: Step.RESOLVED, S.REJECTED: Step.REJECTED}
OPEN = (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS)

# Hours to accept, days to resolve, per category, where no region's rule says otherwise.
DEFAULT_SLA: dict[str, tuple[int, int]] = {
    Category.FACILITY_DAMAGE: (24, 5), Category.SAFETY: (4, 2), Category.LIGHTING: (24, 3),
    Category.HYGIENE: (24, 2), Category.NOISE: (12, 3), Category.OCCUPATION: (12, 3),
    Category.SUGGESTION: (72, 15), Category.OTHER: (48, 7),
}
AUTO_CLOSE_DAYS = 7  # a resolved report the reporter does not confirm closes itself after
REOPEN_DAYS = 7  # the reporter may reopen within this many days of the resolution
MAX_PHOTOS = 9
NEARBY_M = 300.0
NEARBY_DAYS = 14
CLIENT_LIMITS = (Limit(60, dt.timedelta(minutes=1)),)
LIMITS = (Limit(3, dt.timedelta(minutes=5)), Limit(20, dt.timedelta(days=1)))


class ReportNotFound(NotFound):
    code = "report_not_found"
    default_message = gettext_lazy("There is no such report.")


class TransitionNotAllowed(Conflict):
    code = "report_transition_not_allowed"
    default_message = gettext_lazy("The report cannot move to this status from its current one.")


class ReopenTooLate(Conflict):
    code = "report_reopen_too_late"
    default_message = gettext_lazy("The report can only be reopened within seven days of being "
                                   "resolved.")


class AlreadyRated(Conflict):
    code = "report_already_rated"
    default_message = gettext_lazy("You have already rated how this report was handled.")


class NotYetResolved(Conflict):
    code = "report_not_resolved"
    default_message = gettext_lazy("The report has not been resolved yet.")


class NotYourReport(NotFound):
    code = "report_not_found"
    default_message = gettext_lazy("There is no such report.")


# --- routing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    handler: str
    region: Region
    accept_hours: int
    resolve_days: int


def rule_for(region: Region, category: str) -> RoutingRule | None:
    """The nearest :class:`RoutingRule` for ``category`` at or above ``region``."""
    from sportsman.regions.selectors import nearest_rule

    return nearest_rule(RoutingRule.objects.filter(category=category), region)


def route(region: Region, category: str, *, has_facility: bool) -> Route:
    """Who handles a new report of ``category`` at a place in ``region`` and how fast."""
    rule = rule_for(region, category)
    accept, resolve = DEFAULT_SLA[category]
    handler: str = Handler.VENUE_MANAGER if has_facility else Handler.REGION_STAFF
    if rule is not None:
        accept, resolve = rule.accept_hours, rule.resolve_days
        handler = rule.handler if has_facility else Handler.REGION_STAFF
    return Route(handler=handler, region=region, accept_hours=accept, resolve_days=resolve)


def set_rule(*, actor: Any, region_id: int, category: str, handler: str, accept_hours: int,
             resolve_days: int) -> RoutingRule:
    """Set how ``category`` is handled in ``region_id``'s subtree (REPORT_RULES there). Audited."""
    region = Region.objects.filter(pk=region_id).first()
    access = access_for_user(actor)
    if region is None or not access.can(Perm.REPORT_RULES, region):
        access.require_anywhere(Perm.REPORT_RULES)
        raise NotFound()
    if category not in Category.values:
        raise bad_field("category", _("Unknown category."), "invalid_category")
    if handler not in Handler.values:
        raise bad_field("handler", _("Unknown handler."), "invalid_handler")
    if not 1 <= accept_hours <= 720:
        raise bad_field("accept_hours", _("Between 1 and 720 hours."), "invalid_sla")
    if not 1 <= resolve_days <= 180:
        raise bad_field("resolve_days", _("Between 1 and 180 days."), "invalid_sla")
    with transaction.atomic():
        rule, _created = RoutingRule.objects.update_or_create(
            region=region, category=category,
            defaults={"handler": handler, "accept_hours": accept_hours,
                      "resolve_days": resolve_days, "updated_by": actor})
        audit.record(actor=actor, action="governance.routing_rule.set", obj=rule, region=region,
                     data={"category": category, "handler": handler,
                           "accept_hours": accept_hours, "resolve_days": resolve_days})
    return rule


def rules_in_scope(access: Access) -> QuerySet[RoutingRule]:
    return access.scope(RoutingRule.objects.select_related("region"), Perm.REPORT_RULES)


def handler_ids(report: Report) -> list[int]:
    """Who is told about the report now: the own staff of the region handling it (its venue
    managers among them for a facility's report)."""
    return own_holders(Perm.REPORT_HANDLE, [report.handling_region_id])[report.handling_region_id]


# --- where -------------------------------------------------------------------------------------

def exif_location(content: bytes) -> tuple[float, float] | None:
    """The GPS position a photo carries in its EXIF, if any (read before the photo is cleaned:
    the kept file never has it)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            gps = image.getexif().get_ifd(0x8825)
    except Exception:  # an unreadable photo is refused by clean_photo later
        return None
    try:
        def degrees(values: Any, ref: str) -> float:
            d, m, s = (float(v) for v in values)
            value = d + m / 60 + s / 3600
            return -value if ref in ("S", "W") else value

        lat, lng = degrees(gps[2], gps[1]), degrees(gps[4], gps[3])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


def _place(facility_id: int | None, lat: float | None, lng: float | None) -> \
        tuple[Region, Any, float | None, float | None]:
    from sportsman.facilities.models import Facility
    from sportsman.facilities.selectors import nearest_community

    if facility_id is not None:
        facility = Facility.objects.select_related("region").filter(pk=facility_id).first()
        if facility is None:
            raise bad_field("facility_id", _("There is no such facility."), "facility_not_found")
        return facility.region, facility, facility.lat, facility.lng
    if lat is None or lng is None:
        raise bad_field("location", _("Pin the place on the map or choose a facility."),
                   "location_required")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise bad_field("location", _("The position is not on the map."), "invalid_location")
    community = nearest_community(lat, lng)
    if community is None:
        raise bad_field("location", _("The place is outside the city's communities."),
                   "location_outside")
    return community, None, lat, lng


# --- submitting --------------------------------------------------------------------------------

def _step(report: Report, step: str, *, actor: Any = None, acted_by: Any = None,
          note: str = "", at: dt.datetime | None = None) -> ReportEvent:
    return ReportEvent.objects.create(
        report=report, step=step, actor=actor, acted_by=acted_by, note=note[:500],
        region_id=report.handling_region_id, at=at or timezone.now())


def submit(*, actor: Any, category: str, description: str, photos: list[bytes] | None = None,
           facility_id: int | None = None, lat: float | None = None, lng: float | None = None,
           address: str = "", share_location: bool = False, for_user_id: int | None = None,
           open311_client: Any = None, contact: dict[str, str] | None = None,
           min_photos: int = 1) -> Report:
    """Report a problem. A resident sends 1–9 photos; an Open311 client may send none
    (``min_photos=0``, no ``actor``). Photos are checked and re-encoded before anything is
    written (a bad one refuses the report) and keep no EXIF; with ``share_location`` and no pin,
    the first photo's GPS position is the place. Routed and timed (``route``), told to its
    handlers, and, for a facility, published as ``governance.report_submitted``."""
    photos = photos or []
    acting = proxy.acting(actor, for_user_id) if open311_client is None else None
    if category not in Category.values:
        raise bad_field("category", _("Choose what kind of problem it is."), "invalid_category")
    description = check_text(description, field="description", max_length=1000)
    if len(photos) > MAX_PHOTOS:
        raise bad_field("photos", _("At most nine photos a report."), "too_many_photos")
    if len(photos) < min_photos:
        raise bad_field("photos", _("Add at least one photo of the problem."), "photo_required")
    if share_location and lat is None and lng is None and facility_id is None and photos:
        found = exif_location(photos[0])
        if found is not None:
            lat, lng = found
    jpegs = [clean_photo(p, field="photos") for p in photos]
    region, facility, lat, lng = _place(facility_id, lat, lng)
    address = (address or "").strip()[:200]
    if not address and facility is not None:
        address = facility.name[:200]
    now = timezone.now()
    way = route(region, category, has_facility=facility is not None)
    reporter = acting.subject if acting else None
    with transaction.atomic():
        if reporter is not None:
            refuse_over(Report.objects.filter(reporter=reporter), "created_at", LIMITS, now,
                        _("You have sent several reports just now; please wait a little."))
        elif open311_client is not None:
            refuse_over(Report.objects.filter(open311_client=open311_client), "created_at",
                        CLIENT_LIMITS, now)
        report = Report.objects.create(
            reporter=reporter, acted_by=acting.acted_by if acting else None,
            open311_client=open311_client, region=region, facility=facility, lat=lat, lng=lng,
            address=address, category=category, description=description,
            handler=way.handler, handling_region=region,
            accept_due=now + dt.timedelta(hours=way.accept_hours),
            resolve_due=now + dt.timedelta(days=way.resolve_days), contact=contact or {})
        for i, jpeg in enumerate(jpegs):
            photo = ReportPhoto(report=report, position=i)
            photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=False)
            photo.save()
        _step(report, Step.SUBMITTED, actor=reporter, acted_by=report.acted_by, at=now)
        if facility is not None:
            events.publish("governance.report_submitted", {
                "report_id": report.pk, "facility_id": facility.pk,
                "title": _title(report)})
        _tell(handler_ids(report), report, _("New report: %(what)s") % {"what": _title(report)},
              key=f"governance.report:{report.pk}:new")
    return report


def from_post(*, actor: Any, post_id: int, category: str, request: Any = None) -> Report:
    """Staff turn a resident's post ("lights at the court, please") into a report of the post's
    community, its author as the reporter, placed at the community's centre (staff may merge it
    or move it on like any other). Needs POST_MODERATE over the post and REPORT_HANDLE over
    its community; a post is turned once (``post_already_turned``). Audited."""
    from sportsman.facilities.selectors import community_centroid
    from sportsman.governance import posts

    with transaction.atomic():
        post = posts.staff_post(actor, post_id, lock=True)
        access_for_user(actor).require(Perm.REPORT_HANDLE, post.region)
        if post.topic_id is not None or post.report_id is not None:
            raise posts.AlreadyTurned()
        centre = community_centroid(post.region)
        if centre is None:
            raise bad_field("location", _("The community has no place to put the report at."),
                       "location_outside")
        report = submit(actor=post.author, category=category, description=post.text[:1000],
                        lat=centre[0], lng=centre[1], address=post.region.name, min_photos=0)
        posts.mark_turned_into_report(post=post, report_id=report.pk)
        _step(report, Step.NOTE, actor=actor,
              note=_("From the resident's post #%(id)s") % {"id": post.pk})
        audit.record(actor=actor, action="governance.post.to_report", obj=post,
                     region=post.region, request=request, data={"report": report.pk})
    return report


def _title(report: Report) -> str:
    return f"{Category(report.category).label} · {report.address or report.region.name}"[:200]


def _tell(user_ids: list[int], report: Report, title: str, *, key: str, body: str = "") -> None:
    from sportsman.notifications.categories import Category as Topic
    from sportsman.notifications.services import notify

    if user_ids:
        from django.contrib.auth import get_user_model

        notify(users=get_user_model().objects.filter(pk__in=user_ids), category=Topic.GOVERNANCE, title=title[:200], body=body[:500],
               link=f"/governance/reports/{report.pk}/",
               data={"report_id": report.pk, "status": report.status}, dedupe_key=key)


def _tell_reporter(report: Report, title: str, *, key: str, body: str = "") -> None:
    ids = [i for i in (report.reporter_id, report.acted_by_id) if i is not None]
    _tell(ids, report, title, key=key, body=body)


# --- reading -----------------------------------------------------------------------------------

def reports_for(access: Access, *, status: str | None = None, category: str | None = None,
                overdue: bool = False, mine: bool = False, facility_id: int | None = None,
                region: Region | None = None, now: dt.datetime | None = None) \
        -> QuerySet[Report]:
    """The staff queue: reports about places in the actor's REPORT_HANDLE scope, newest first.
    ``mine``: routed to a region the actor is staff of; ``overdue``: past its accept or resolve
    time and still open; ``status`` may be "open" (any open status)."""
    qs = access.scope(Report.objects.select_related("region", "facility", "handling_region"),
                      Perm.REPORT_HANDLE)
    if status == "open":
        qs = qs.filter(status__in=OPEN)
    elif status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if facility_id:
        qs = qs.filter(facility_id=facility_id)
    if region is not None:
        from sportsman.regions.models import subtree_q

        qs = qs.filter(subtree_q(region.path, "region"))
    if mine:
        qs = qs.filter(handling_region_id__in=[g.region_id for g in
                                               access.roots(Perm.REPORT_HANDLE)])
    if overdue:
        at = now or timezone.now()
        qs = qs.filter(Q(status=S.SUBMITTED, accept_due__lt=at)
                       | Q(status__in=(S.ACCEPTED, S.IN_PROGRESS), resolve_due__lt=at))
    return qs.order_by("-created_at", "-id")


# The queue's columns, as the API's ReportOut lists them (after the photos are added).
QUEUE_COLUMNS = ("id", "category", "status", "description", "address", "region_id",
                 "facility_id", "lat", "lng", "accept_due", "resolve_due", "public_note",
                 "rating", "merged_into_id", "created_at", "updated_at")
# Scopes of at most this many regions read their reports through the (region, status) index
# and sort them; larger ones walk the reports newest first until the page is full.
SMALL_SCOPE = 64
# A scope's regions (for a small scope) change almost never: each process keeps them a minute.
SCOPE_SECONDS = 60.0
_SCOPES: dict[tuple[str, ...], tuple[float, tuple[int, ...]]] = {}


def _api_time(value: Any) -> str:
    """A time read by plain SQL as the API writes it (``core.schemas.iso``)."""
    return iso(aware(value))


def forget_scopes(**kwargs: Any) -> None:
    """Drop the kept scopes (a region was saved or deleted in this process)."""
    _SCOPES.clear()


def queue_page(access: Access, *, status: str | None = None, category: str | None = None,
               overdue: bool = False, mine: bool = False, facility_id: int | None = None,
               before: int | None = None, limit: int = 50,
               now: dt.datetime | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """The staff queue of :func:`reports_for` as plain rows, newest first, in a fixed handful
    of statements (the scope's regions, kept a minute; the page with its regions' names and
    photos): what the API answers at a hundred thousand reports, its times already as the API
    writes them. Returns the page and the ``before`` of the next one."""
    from django.db import connection

    from sportsman.core.db import db_time
    from sportsman.regions.models import path_upper_bound

    at = now or timezone.now()
    roots = access.roots(Perm.REPORT_HANDLE)
    if not roots:
        return [], None
    qn = connection.ops.quote_name
    table, regions_table = qn(Report._meta.db_table), qn(Region._meta.db_table)
    def fetch(sql: str, args: list[Any]) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall()

    key = tuple(sorted(g.path for g in roots))
    cached = _SCOPES.get(key)
    if cached is None or cached[0] < time.monotonic() - SCOPE_SECONDS:
        ranges = " OR ".join(["(path >= %s AND path < %s)"] * len(roots))
        bounds = [b for p in key for b in (p, path_upper_bound(p))]
        ids = tuple(row[0] for row in fetch(f"SELECT id FROM {regions_table} "  # noqa: S608
                                            f"WHERE {ranges} LIMIT %s",
                                            [*bounds, SMALL_SCOPE + 1]))
        if len(_SCOPES) > 10_000:
            _SCOPES.clear()
        cached = _SCOPES[key] = (time.monotonic(), ids)
    region_ids: tuple[int, ...] = cached[1]
    where: list[str] = []
    params: list[Any] = []
    small = len(region_ids) <= SMALL_SCOPE
    if small:
        where.append(f"r.region_id IN ({', '.join(['%s'] * len(region_ids))})")
        params += list(region_ids)
        order_hint = ""
    else:
        parts = []
        for g in roots:
            parts.append("(g.path >= %s AND g.path < %s)" if connection.vendor == "sqlite"
                         else "g.path LIKE %s")
            params += ([g.path, path_upper_bound(g.path)] if connection.vendor == "sqlite"
                       else [f"{g.path}%"])
        where.append("(" + " OR ".join(parts) + ")")
        # walk the primary key newest first: keep SQLite off the status index
        order_hint = "+" if connection.vendor == "sqlite" else ""
    statuses = list(OPEN) if status == "open" else [status] if status else []
    if statuses:
        where.append(f"{order_hint}r.status IN ({', '.join(['%s'] * len(statuses))})")
        params += statuses
    if category:
        where.append("r.category = %s")
        params.append(category)
    if facility_id:
        where.append("r.facility_id = %s")
        params.append(facility_id)
    if mine:
        where.append(f"r.handling_region_id IN ({', '.join(['%s'] * len(roots))})")
        params += [g.region_id for g in roots]
    if overdue:
        where.append("((r.status = %s AND r.accept_due < %s) OR (r.status IN (%s, %s) "
                     "AND r.resolve_due < %s))")
        params += [S.SUBMITTED, db_time(at), S.ACCEPTED, S.IN_PROGRESS, db_time(at)]
    if before is not None:
        where.append("r.id < %s")
        params.append(before)
    columns = ", ".join(f"r.{qn(c)}" for c in QUEUE_COLUMNS)
    join = ""
    if not small:
        if connection.vendor == "sqlite":
            # CROSS JOIN keeps SQLite's loop on the reports, newest first, until the page is
            # full (left free it walks the regions and sorts their every report)
            join = f" CROSS JOIN {regions_table} g"
            where.append("g.id = r.region_id")
        else:
            join = f" JOIN {regions_table} g ON g.id = r.region_id"
    params.append(limit + 1)
    # the regions' names and the photos come with the page (one statement): a photo list is
    # its names in order, joined by the unit separator
    photo_table = qn(ReportPhoto._meta.db_table)
    if connection.vendor == "sqlite":
        photo_list = (f"(SELECT group_concat(image, char(31)) FROM (SELECT image FROM "  # noqa: S608
                      f"{photo_table} p WHERE p.report_id = r.id ORDER BY position, id))")
    else:
        photo_list = (f"(SELECT string_agg(image, chr(31) ORDER BY position, id) FROM "  # noqa: S608
                      f"{photo_table} p WHERE p.report_id = r.id)")
    rows = fetch(f"SELECT {columns}, r.handling_region_id, "  # noqa: S608
                 f"(SELECT name FROM {regions_table} WHERE id = r.region_id), "
                 f"(SELECT name FROM {regions_table} WHERE id = r.handling_region_id), "
                 f"{photo_list} FROM {table} r{join} "
                 f"WHERE {' AND '.join(where)} ORDER BY r.id DESC LIMIT %s", params)
    more = len(rows) > limit
    rows = rows[:limit]
    from django.core.files.storage import default_storage

    url = default_storage.url
    categories = {code: str(label) for code, label in Category.choices}
    names = {code: str(label) for code, label in ReportStatus.choices}
    out = []
    for (pk, category_code, state, description, address, region_id, facility, lat, lng,
         accept_due, resolve_due, note, rating, merged_into, created, updated,
         _handling, region_name, handling_name, photo_names) in rows:
        out.append({
            "id": pk, "category": category_code,
            "category_name": categories.get(category_code, category_code),
            "status": state, "status_name": names.get(state, state),
            "description": description, "address": address,
            "region_id": region_id, "region": region_name or "",
            "facility_id": facility, "lat": lat, "lng": lng,
            "photos": [url(n) for n in photo_names.split("\x1f")] if photo_names else [],
            "handling_region": handling_name or "",
            "accept_due": _api_time(accept_due), "resolve_due": _api_time(resolve_due),
            "overdue": (state == S.SUBMITTED and aware(accept_due) < at)
            or (state in (S.ACCEPTED, S.IN_PROGRESS) and aware(resolve_due) < at),
            "public_note": note, "rating": rating, "merged_into_id": merged_into,
            "created_at": _api_time(created), "updated_at": _api_time(updated)})
    return out, (out[-1]["id"] if more and out else None)


def report_in_scope(access: Access, report_id: int, *, lock: bool = False) -> Report:
    qs = reports_for(access).filter(pk=report_id)
    found = (qs.select_for_update(of=("self",)) if lock else qs).first()
    if found is None:
        raise ReportNotFound()
    return found


def public_report(report_id: int) -> Report:
    """A report as anyone may see it (its reporter is never shown)."""
    found = (Report.objects.select_related("region", "facility", "handling_region",
                                           "merged_into")
             .prefetch_related("photos").filter(pk=report_id).first())
    if found is None:
        raise ReportNotFound()
    return found


def timeline(report: Report) -> QuerySet[ReportEvent]:
    return report.timeline.select_related("actor", "region").order_by("at", "id")


def my_reports(user: Any) -> QuerySet[Report]:
    """Reports I made, or made for someone I act for, newest first."""
    return (Report.objects.filter(Q(reporter=user) | Q(acted_by=user))
            .select_related("region", "facility").prefetch_related("photos")
            .order_by("-created_at", "-id"))


def nearby(*, category: str | None = None, facility_id: int | None = None,
           lat: float | None = None, lng: float | None = None,
           now: dt.datetime | None = None) -> list[Report]:
    """Open reports that may be the same problem: about the same facility, or of the same
    category within NEARBY_M of the point, in the last NEARBY_DAYS (suggested before
    submitting)."""
    from sportsman.facilities import geo

    since = (now or timezone.now()) - dt.timedelta(days=NEARBY_DAYS)
    qs = (Report.objects.filter(status__in=OPEN, created_at__gte=since)
          .select_related("region", "facility").order_by("-created_at"))
    if facility_id:
        return list(qs.filter(facility_id=facility_id)[:10])
    if lat is None or lng is None or not category:
        return []
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(lat, lng, NEARBY_M)
    rows = qs.filter(category=category, lat__gte=min_lat, lat__lte=max_lat, lng__gte=min_lng,
                     lng__lte=max_lng)[:50]
    return [r for r in rows
            if r.lat is not None and r.lng is not None
            and geo.distance_m(lat, lng, r.lat, r.lng) <= NEARBY_M][:10]


# --- staff steps -------------------------------------------------------------------------------

def transition(*, actor: Any, report_id: int, to: str, note: str = "",
               photos: list[bytes] | None = None) -> Report:
    """Move a report along ``TRANSITIONS`` as its handler: accept, start work, resolve (with a
    note and photos of the work), reject (a reason is required). Needs REPORT_HANDLE over the
    report's place. Told to the reporter; audited."""
    access = access_for_user(actor)
    access.require_anywhere(Perm.REPORT_HANDLE)
    if to not in STAFF_STEPS:
        raise bad_field("to", _("Unknown status."), "invalid_status")
    note = (note or "").strip()
    if to == S.REJECTED and not note:
        raise bad_field("note", _("Say why the report is rejected."), "reason_required")
    if len(note) > 500:
        raise bad_field("note", _("At most 500 characters."))
    jpegs = [clean_photo(p, field="photos") for p in (photos or [])[:MAX_PHOTOS]]
    now = timezone.now()
    with transaction.atomic():
        report = report_in_scope(access, report_id, lock=True)
        if report.status == S.SUBMITTED and to in (S.IN_PROGRESS, S.RESOLVED):
            # starting or finishing work accepts the report on the way
            db_transition(report, S.ACCEPTED, table=TRANSITIONS, stamps=STAMPS,
                          error=TransitionNotAllowed, at=now)
            _step(report, Step.ACCEPTED, actor=actor, at=now)
        db_transition(report, to, table=TRANSITIONS, stamps=STAMPS, error=TransitionNotAllowed,
                      at=now)
        changes = ["public_note"] if note else []
        if note:
            report.public_note = note
        if to == S.RESOLVED:
            report.resolved_on_time = now <= report.resolve_due
            changes.append("resolved_on_time")
        if to == S.REJECTED:
            report.closed_at = now
            changes.append("closed_at")
        if changes:
            report.save(update_fields=changes)
        for i, jpeg in enumerate(jpegs):
            photo = ReportPhoto(report=report, position=100 + i, by_staff=True)
            photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=False)
            photo.save()
        _step(report, STAFF_STEPS[to], actor=actor, note=note, at=now)
        audit.record(actor=actor, action="governance.report.transition", obj=report,
                     region=report.region, data={"to": to, "note": note})
        _changed(report, actor_id=actor.pk)
        _tell_reporter(report, _("Your report is %(status)s") % {
            "status": ReportStatus(to).label}, key=f"governance.report:{report.pk}:{to}:"
            f"{report.reopened}", body=note)
    return report


def merge(*, actor: Any, report_id: int, into_id: int) -> Report:
    """Merge a duplicate into the report it repeats (both in the actor's scope, the target still
    open): the duplicate ends ``merged`` and its reporter follows the target."""
    access = access_for_user(actor)
    access.require_anywhere(Perm.REPORT_HANDLE)
    if report_id == into_id:
        raise bad_field("into_id", _("A report cannot be merged into itself."), "merge_self")
    now = timezone.now()
    with transaction.atomic():
        first, second = sorted((report_id, into_id))
        locked = {r.pk: r for r in (report_in_scope(access, first, lock=True),
                                    report_in_scope(access, second, lock=True))}
        report, into = locked[report_id], locked[into_id]
        if not into.is_open:
            raise Conflict(_("The report to merge into is no longer open."),
                           code="merge_target_closed")
        db_transition(report, S.MERGED, table=TRANSITIONS, stamps=STAMPS,
                      error=TransitionNotAllowed, at=now)
        report.merged_into = into
        report.closed_at = now
        report.save(update_fields=["merged_into", "closed_at"])
        _step(report, Step.MERGED, actor=actor, note=f"#{into.pk}", at=now)
        _step(into, Step.NOTE, actor=actor, note=_("Report #%(id)s merged into this one.")
              % {"id": report.pk}, at=now)
        audit.record(actor=actor, action="governance.report.merge", obj=report,
                     region=report.region, data={"into": into.pk})
        _changed(report, actor_id=actor.pk)
        _tell_reporter(report, _("Your report was merged into report #%(id)s, already being "
                                 "handled") % {"id": into.pk},
                       key=f"governance.report:{report.pk}:merged")
    return report


# --- the reporter's steps ----------------------------------------------------------------------

def _own(actor: Any, report_id: int) -> Report:
    found = (Report.objects.select_for_update().filter(pk=report_id)
             .filter(Q(reporter=actor) | Q(acted_by=actor)).first())
    if found is None:
        raise NotYourReport()
    return found


def confirm(*, actor: Any, report_id: int) -> Report:
    """The reporter confirms the problem is solved: resolved → closed."""
    now = timezone.now()
    with transaction.atomic():
        report = _own(actor, report_id)
        if report.status != S.RESOLVED:
            raise NotYetResolved()
        db_transition(report, S.CLOSED, table=TRANSITIONS, stamps=STAMPS,
                      error=TransitionNotAllowed, at=now)
        _step(report, Step.CONFIRMED, actor=actor, at=now)
        _changed(report, actor_id=actor.pk)
    return report


def reopen(*, actor: Any, report_id: int, reason: str) -> Report:
    """The reporter reopens a resolved or closed report within REOPEN_DAYS of its resolution
    (the problem is back, or was not fixed): back to in progress, with a new resolve time, and
    its handlers are told."""
    reason = check_text(reason, field="reason", max_length=500)
    now = timezone.now()
    with transaction.atomic():
        report = _own(actor, report_id)
        if report.status not in (S.RESOLVED, S.CLOSED) or report.resolved_at is None:
            raise TransitionNotAllowed()
        if now > report.resolved_at + dt.timedelta(days=REOPEN_DAYS):
            raise ReopenTooLate()
        way = route(report.region, report.category, has_facility=report.facility_id is not None)
        db_transition(report, S.IN_PROGRESS, table=TRANSITIONS, stamps=STAMPS,
                      error=TransitionNotAllowed, at=now)
        report.reopened += 1
        report.resolved_at = None
        report.closed_at = None
        report.resolved_on_time = None
        report.resolve_due = now + dt.timedelta(days=way.resolve_days)
        report.save(update_fields=["reopened", "resolved_at", "closed_at", "resolved_on_time",
                                   "resolve_due"])
        _step(report, Step.REOPENED, actor=actor, note=reason, at=now)
        _changed(report, actor_id=actor.pk)
        _tell(handler_ids(report), report, _("Report reopened: %(what)s") % {
            "what": _title(report)}, key=f"governance.report:{report.pk}:reopen:"
            f"{report.reopened}", body=reason)
    return report


def rate(*, actor: Any, report_id: int, rating: int, comment: str = "") -> Report:
    """The reporter rates the handling (1–5) once the report is resolved or closed; once."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise bad_field("rating", _("Rate from 1 to 5."), "invalid_rating")
    comment = check_text(comment, field="comment", max_length=500, required=False)
    with transaction.atomic():
        report = _own(actor, report_id)
        if report.status not in (S.RESOLVED, S.CLOSED):
            raise NotYetResolved()
        if not Report.objects.filter(pk=report.pk, rating=None).update(
                rating=rating, rating_comment=comment):
            raise AlreadyRated()
        report.rating, report.rating_comment = rating, comment
        _step(report, Step.RATED, actor=actor, note=f"{'★' * rating} {comment}".strip())
    return report


def _changed(report: Report, *, actor_id: int | None) -> None:
    """Every status change: a facility's linked maintenance ticket keeps in step
    (``facilities`` consumes those with a facility), other systems hear of all of them
    (``interfaces``: webhooks)."""
    events.publish("governance.report_changed", {
        "report_id": report.pk, "facility_id": report.facility_id,
        "status": report.status, "actor_id": actor_id})


# --- the clock: escalation and closing by itself -----------------------------------------------

def escalate_overdue(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Move every overdue open report (not accepted in time, or not resolved in time) to the
    next level up, with a fresh window there; tell the staff it leaves and the staff it reaches.
    A report already at the city stays there. One conditional UPDATE each (a racing run or a
    staff step in between makes it skip). Returns how many moved."""
    now = now or timezone.now()
    overdue = (Report.objects
               .filter(Q(status=S.SUBMITTED, accept_due__lt=now)
                       | Q(status__in=(S.ACCEPTED, S.IN_PROGRESS), resolve_due__lt=now))
               .exclude(handling_region__level=Level.CITY)
               .select_related("handling_region", "region").order_by("id")[:limit])
    moved = 0
    for report in overdue:
        parent_id = report.handling_region.parent_id
        if parent_id is None:
            continue
        way = route(report.region, report.category, has_facility=report.facility_id is not None)
        changes: dict[str, Any] = {"handling_region_id": parent_id,
                                   "escalations": report.escalations + 1,
                                   "handler": Handler.REGION_STAFF, "updated_at": now}
        if report.status == S.SUBMITTED:
            changes["accept_due"] = now + dt.timedelta(hours=way.accept_hours)
            changes["resolve_due"] = max(report.resolve_due,
                                         now + dt.timedelta(days=way.resolve_days))
        else:
            changes["resolve_due"] = now + dt.timedelta(days=way.resolve_days)
        with transaction.atomic():
            if not Report.objects.filter(pk=report.pk, status=report.status,
                                         escalations=report.escalations,
                                         handling_region_id=report.handling_region_id
                                         ).update(**changes):
                continue
            left = handler_ids(report)
            for name, value in changes.items():
                setattr(report, name, value)
            report.handling_region = Region.objects.get(pk=parent_id)
            late = (_("not accepted in time") if report.status == S.SUBMITTED
                    else _("not resolved in time"))
            _step(report, Step.ESCALATED, note=f"{late} → {report.handling_region.name}",
                  at=now)
            title = _("Overdue report escalated: %(what)s") % {"what": _title(report)}
            key = f"governance.report:{report.pk}:escalated:{report.escalations}"
            _tell(left, report, title, key=key, body=late)
            _tell([u for u in handler_ids(report) if u not in left], report, title, key=key,
                  body=late)
        moved += 1
    return moved


def close_resolved(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Close the reports resolved more than AUTO_CLOSE_DAYS ago that their reporters did not
    confirm. Returns how many closed."""
    now = now or timezone.now()
    due = list(Report.objects.filter(status=S.RESOLVED,
                                     resolved_at__lt=now - dt.timedelta(days=AUTO_CLOSE_DAYS))
               .order_by("id")[:limit])
    closed = 0
    for report in due:
        with transaction.atomic():
            try:
                db_transition(report, S.CLOSED, table=TRANSITIONS, stamps=STAMPS,
                              error=TransitionNotAllowed, at=now)
            except TransitionNotAllowed:
                continue
            _step(report, Step.AUTO_CLOSED, at=now)
            _changed(report, actor_id=None)
        closed += 1
    return closed
