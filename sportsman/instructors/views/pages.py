"""Residents' and instructors' pages: find an instructor, their profile with free times, book
(optionally with a court), my guidance bookings (cancel, rate); the instructor's own page
(profile, weekly windows, days away, sessions to answer and to record, promotion progress,
exports) and a session's page with the record form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from sportsman.core import xlsx
from sportsman.core.errors import InvalidInput
from sportsman.core.models import Sport
from sportsman.core.uploads import PHOTO_MAX_BYTES
from sportsman.instructors import booking, exports, records, registry, selectors
from sportsman.instructors.models import (
    AvailabilityException,
    AvailabilityWindow,
    InstructorLevel,
    SessionKind,
)
from sportsman.regions.access import for_self, public
from sportsman.regions.models import Region, subtree_q

WEEKDAYS = [_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")]


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


def _aware(raw: str | None) -> dt.datetime | None:
    value = parse_datetime(raw or "")
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, registry.zone())
    return value


def _hours(windows: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime,
                                                                         dt.datetime]]:
    """Whole-hour starts inside the free windows, one hour each (what the page offers)."""
    out = []
    for start, end in windows:
        at = start.astimezone(registry.zone())
        if at.minute or at.second:
            at = (at + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        while at + dt.timedelta(hours=1) <= end:
            out.append((at, at + dt.timedelta(hours=1)))
            at += dt.timedelta(hours=1)
    return out


@public
def find(request: HttpRequest) -> HttpResponse:
    """Search instructors by sport and level, near me (my home community's town) or all."""
    sport = request.GET.get("sport", "")[:32]
    level = request.GET.get("level", "")[:10]
    region = None
    if request.GET.get("where") == "mine" and request.user.is_authenticated \
            and request.user.home_community_id:
        home = Region.objects.filter(pk=int(request.user.home_community_id)).first()
        parent = Region.objects.filter(pk=home.parent_id).first() \
            if home is not None and home.parent_id is not None else None
        region = parent or home
    page = selectors.search_instructors(
        sport=sport or None, level=level if level in InstructorLevel.values else None,
        region=region, cursor=request.GET.get("cursor") or None, limit=20)
    return render(request, "instructors/find.html", {
        "page": page, "sport": sport, "level": level, "where": request.GET.get("where", ""),
        "sports": Sport.objects.order_by("family", "slug"), "levels": InstructorLevel.choices})


@public
def profile(request: HttpRequest, instructor_id: int) -> HttpResponse:
    """An instructor's profile, their free hours this week and their group sessions to join."""
    found = registry.get_instructor(instructor_id, public=True)
    days = booking.availability(found, timezone.localdate(), 7)
    return render(request, "instructors/profile.html", {
        "instructor": found, "info": selectors.profile(found),
        "days": [(d.day, _hours(d.windows), [s for s in d.sessions
                                             if s.kind == SessionKind.GROUP and s.places_left])
                 for d in days]})


@for_self
def book_page(request: HttpRequest, instructor_id: int) -> HttpResponse:
    """The booking form for one chosen hour: kind, group size, sport, a court slot that covers
    the hour (open slots of the instructor's town), a note. POST books."""
    found = registry.get_instructor(instructor_id, public=True)
    if request.method == "POST":
        made = booking.book(
            actor=request.user, instructor_id=found.pk,
            starts_at=_aware(request.POST.get("starts_at")),
            ends_at=_aware(request.POST.get("ends_at")),
            kind=request.POST.get("kind", SessionKind.ONE_TO_ONE),
            group_size=_int(request.POST.get("group_size")) or 1,
            sport=request.POST.get("sport") or None, note=request.POST.get("note", ""),
            slot_id=_int(request.POST.get("slot_id")),
            session_id=_int(request.POST.get("session_id")))
        messages.success(request, _("Booked: the instructor will confirm."))
        return HttpResponseRedirect(reverse("instructors:my_bookings") + f"#b{made.pk}")
    starts, ends = _aware(request.GET.get("start")), _aware(request.GET.get("end"))
    if starts is None or ends is None:
        raise InvalidInput(_("Choose a time first."))
    return render(request, "instructors/book.html", {
        "instructor": found, "starts": starts, "ends": ends,
        "sports": list(found.sports.all()), "slots": _courts(found, starts, ends),
        "sizes": range(2, found.max_group_size + 1)})


COURT_FACILITIES = 12


def _courts(instructor: Any, starts: dt.datetime, ends: dt.datetime) -> list[Any]:
    """Open first-come slots covering [starts, ends) at bookable venues of the instructor's
    town (their slots of the day made first, as the venue page does)."""
    from django.db.models import F

    from sportsman.facilities import booking as court
    from sportsman.facilities.models import Facility, Slot, SlotStatus

    area = Region.objects.filter(pk=instructor.region.parent_id).first() or instructor.region
    day = starts.astimezone(registry.zone()).date()
    for facility in (Facility.objects.filter(subtree_q(area.path, "region"), is_bookable=True,
                                             units__is_active=True)
                     .distinct().select_related("region").order_by("id")[:COURT_FACILITIES]):
        court.ensure_slots(facility, day)
    return list(Slot.objects.select_related("facility", "unit")
                .filter(subtree_q(area.path, "facility__region"), start__lte=starts,
                        end__gte=ends, status=SlotStatus.OPEN, booked__lt=F("capacity"),
                        mode="first_come")
                .order_by("facility__name", "unit__position")[:30])


@for_self
def my_bookings(request: HttpRequest) -> HttpResponse:
    return render(request, "instructors/my_bookings.html", {
        "upcoming": booking.my_bookings(request.user, when="upcoming"),
        "past": booking.my_bookings(request.user, when="past", limit=30)})


@for_self
@require_POST
def booking_action(request: HttpRequest, booking_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    if action == "cancel":
        booking.cancel_booking(actor=request.user, booking_id=booking_id)
        messages.info(request, _("Cancelled."))
    elif action == "rate":
        records.rate(actor=request.user, booking_id=booking_id,
                     stars=_int(request.POST.get("stars")) or 0)
        messages.success(request, _("Thank you for rating."))
    else:
        raise InvalidInput()
    return HttpResponseRedirect(reverse("instructors:my_bookings"))


# --- the instructor's own ---------------------------------------------------------------------

@for_self
def dashboard(request: HttpRequest) -> HttpResponse:
    me = registry.instructor_of(request.user)
    today = timezone.localdate()
    return render(request, "instructors/dashboard.html", {
        "me": me, "info": selectors.profile(me),
        "progress": registry.promotion_progress(me),
        "upcoming": booking.sessions_of(me, when="upcoming"),
        "to_record": booking.sessions_of(me, when="to_record"),
        "windows": list(AvailabilityWindow.objects.filter(instructor=me)),
        "exceptions": list(AvailabilityException.objects.filter(instructor=me,
                                                                date__gte=today)[:50]),
        "weekdays": list(enumerate(WEEKDAYS)), "sports": Sport.objects.order_by("family", "slug"),
        "mine": set(me.sports.values_list("slug", flat=True)), "year": today.year})


@for_self
@require_POST
def dashboard_action(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    if action == "profile":
        photo = request.FILES.get("photo")
        registry.update_profile(
            actor=request.user, bio=request.POST.get("bio", ""),
            sports=request.POST.getlist("sports"),
            accepts_bookings=request.POST.get("accepts_bookings") == "1",
            max_group_size=_int(request.POST.get("max_group_size")) or 1,
            photo=photo.read(PHOTO_MAX_BYTES + 1) if photo else None)
    elif action == "windows":
        windows = []
        for day, starts, ends, place in zip(request.POST.getlist("weekday"),
                                            request.POST.getlist("starts"),
                                            request.POST.getlist("ends"),
                                            request.POST.getlist("place"), strict=False):
            a, b = parse_time(starts or ""), parse_time(ends or "")
            if day.isdigit() and a and b:
                windows.append(registry.WindowIn(int(day), a, b, place))
        registry.set_weekly(actor=request.user, windows=windows)
    elif action == "away":
        away_on = parse_date(request.POST.get("date", ""))
        if away_on is None:
            raise InvalidInput(_("Give the date."))
        registry.add_exception(actor=request.user, date=away_on,
                               starts=parse_time(request.POST.get("starts") or ""),
                               ends=parse_time(request.POST.get("ends") or ""),
                               is_available=request.POST.get("is_available") == "1",
                               note=request.POST.get("note", ""))
    elif action == "remove_exception":
        registry.remove_exception(actor=request.user,
                                  exception_id=_int(request.POST.get("id")) or 0)
    elif action in ("confirm", "decline", "call_off"):
        session_id = _int(request.POST.get("session")) or 0
        reason = request.POST.get("reason", "")
        if action == "confirm":
            booking.confirm(actor=request.user, session_id=session_id, request=request)
        elif action == "decline":
            booking.decline(actor=request.user, session_id=session_id, reason=reason,
                            request=request)
        else:
            booking.cancel_session(actor=request.user, session_id=session_id, reason=reason,
                                   request=request)
    else:
        raise InvalidInput()
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("instructors:dashboard"))


@for_self
def session_page(request: HttpRequest, session_id: int) -> HttpResponse:
    """A session for its instructor (places, the record form once it has begun) or for a
    resident holding a place in it."""
    found = booking.session_for(request.user, session_id)
    is_instructor = found.instructor.user_id == request.user.pk
    if request.method == "POST":
        booking.require_instructor_of(request.user, found)
        records.record_session(
            actor=request.user, session_id=found.pk, content=request.POST.get("content", ""),
            attended=[int(u) for u in request.POST.getlist("attended") if u.isdigit()],
            notes=request.POST.get("notes", ""),
            photos=[f.read(PHOTO_MAX_BYTES + 1) for f in request.FILES.getlist("photos")],
            request=request)
        messages.success(request, _("Recorded: the residents who came have it in their "
                                    "exercise record."))
        return HttpResponseRedirect(reverse("instructors:session", args=[found.pk]))
    record = getattr(found, "record", None) if found.status == "recorded" else None
    return render(request, "instructors/session.html", {
        "session": found, "is_instructor": is_instructor, "record": record,
        "places": list(found.bookings.select_related("user").order_by("id"))
        if is_instructor else [],
        "can_record": is_instructor and found.status in ("pending", "confirmed")
        and found.starts_at <= timezone.now()})


@for_self
def my_records(request: HttpRequest, fmt: str) -> HttpResponse:
    """My guidance records of a year (``?year=``, default all) as xlsx or PDF."""
    me = registry.instructor_of(request.user)
    year = _int(request.GET.get("year"))
    sessions = exports.of_instructor(me, year=year)
    if fmt == "xlsx":
        return xlsx.download(exports.workbook(sessions), "guidance-records")
    response = HttpResponse(exports.pdf(sessions, title=_("Guidance records of %(name)s")
                                        % {"name": me.name}), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="guidance-records.pdf"'
    return response


urlpatterns: list[URLPattern] = [
    path("", find, name="find"),
    path("<int:instructor_id>/", profile, name="profile"),
    path("<int:instructor_id>/book/", book_page, name="book"),
    path("bookings/", my_bookings, name="my_bookings"),
    path("bookings/<int:booking_id>/do/", booking_action, name="booking_action"),
    path("me/", dashboard, name="dashboard"),
    path("me/do/", dashboard_action, name="dashboard_action"),
    path("me/records.<str:fmt>", my_records, name="my_records"),
    path("sessions/<int:session_id>/", session_page, name="session"),
]
