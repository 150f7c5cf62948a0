"""The venue console (mounted at /console/facilities/): my facilities in the current console
region, one facility's day (bookings, check-ins, pass scan, walk-ins, occupancy, tickets), its
settings (details, hours, exceptions, units, photos, booking rules), utilisation, the rotating
check-in QR for the venue screen, imports and exports.

Every view is ``@scoped(Perm.FACILITY_MANAGE)`` and reads the facility through
``registry.facility_for`` (another region's facility is not found). Writes go through the
services (registry, policy, visits, maintenance), which check the permission again and audit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sportsman.core import audit, xlsx
from sportsman.core.errors import InvalidInput, NotFound
from sportsman.core.models import AuditEntry, Sport
from sportsman.facilities import exports, hours, imports, registry, selectors, stats
from sportsman.facilities.models import (
    BookingMode,
    BookingPolicy,
    Category,
    Facility,
    FacilityStatus,
    HolidayHours,
    OwnerKind,
)
from sportsman.regions.access import Perm, access_for, scoped
from sportsman.regions.models import Level, subtree_q
from sportsman.regions.views import _render, console_state

WEEKDAYS = [gettext_lazy("Monday"), gettext_lazy("Tuesday"), gettext_lazy("Wednesday"),
            gettext_lazy("Thursday"), gettext_lazy("Friday"), gettext_lazy("Saturday"),
            gettext_lazy("Sunday")]
PERIODS_PER_DAY = 3  # empty periods shown per weekday in the hours table
MAX_PERIODS_PER_DAY = 10
IMPORT_TTL = 30 * 60
SECTION = "venues"


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return _render(request, template, console_state(request), SECTION, **context)


def _facility(request: HttpRequest, facility_id: int) -> Facility:
    return registry.facility_for(access_for(request), facility_id)


def _error_text(exc: InvalidInput) -> str:
    details = "; ".join(f"{k}: {', '.join(str(m) for m in v) if isinstance(v, list) else v}"
                        for k, v in exc.fields.items())
    return f"{exc.message} {details}".strip()


def _back(facility_id: int, anchor: str = "", name: str = "venues:settings") -> HttpResponse:
    url = reverse(name, args=[facility_id])
    return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)


def _day(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return hours.local(timezone.now()).date()


# --- home ---------------------------------------------------------------------------------------

def _invalid_form_text(form: forms.Form) -> str:
    """A one-line message naming each invalid field, for forms posted from a tab."""
    return str(_("Some fields are not valid.")) + " " + "; ".join(
        f"{k}: {', '.join(str(m) for m in v)}" for k, v in form.errors.items())


@scoped(Perm.FACILITY_MANAGE)
def home(request: HttpRequest) -> HttpResponse:
    """My facilities inside the current console region, with people there now and today's
    bookings."""
    state = console_state(request)
    q = request.GET.get("q", "").strip()[:100]
    qs = selectors.list_venues_for(state.access, q=q or None).filter(
        subtree_q(state.region.path, "region"))
    venues = list(qs[:500])
    return _render(request, "facilities/console/home.html", state, SECTION, venues=venues,
                   q=q, truncated=len(venues) == 500, form=FacilityForm(access=state.access))


# --- forms --------------------------------------------------------------------------------------

class FacilityForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=Category.choices)
    owner_kind = forms.ChoiceField(label=gettext_lazy("Owner"), choices=OwnerKind.choices)
    region = forms.TypedChoiceField(label=gettext_lazy("Community"), coerce=int)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200)
    lat = forms.FloatField(label=gettext_lazy("Latitude (WGS-84)"), min_value=-90, max_value=90)
    lng = forms.FloatField(label=gettext_lazy("Longitude (WGS-84)"), min_value=-180,
                           max_value=180)
    sports = forms.MultipleChoiceField(label=gettext_lazy("Sports"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    capacity = forms.IntegerField(label=gettext_lazy("Capacity (people at once)"), min_value=0,
                                  initial=0)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=FacilityStatus.choices,
                               initial=FacilityStatus.OPEN)
    holiday_hours = forms.ChoiceField(label=gettext_lazy("On public holidays"),
                                      choices=HolidayHours.choices,
                                      initial=HolidayHours.WEEKEND)
    amenities = forms.CharField(label=gettext_lazy("Amenities (separated by 、)"),
                                required=False, max_length=600)
    accessibility = forms.CharField(label=gettext_lazy("Accessibility (separated by 、)"),
                                    required=False, max_length=600)
    description = forms.CharField(label=gettext_lazy("Description"), required=False,
                                  max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    contact_name = forms.CharField(label=gettext_lazy("Contact"), required=False, max_length=32)
    contact_phone = forms.CharField(label=gettext_lazy("Contact phone"), required=False,
                                    max_length=20)
    external_ref = forms.CharField(label=gettext_lazy("Reference in the source register"),
                                   required=False, max_length=64)

    def __init__(self, *args: Any, access: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [  # type: ignore[attr-defined]
            (r.pk, f"{r.name} ({r.code})") for r in access.regions(Perm.FACILITY_MANAGE)
            .filter(level=Level.COMMUNITY).order_by("code")[:2000]]
        self.fields["sports"].choices = [  # type: ignore[attr-defined]
            (s.slug, s.name_zh)
                                         for s in Sport.objects.order_by("family", "slug")]

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for key in ("amenities", "accessibility"):
            data[key] = [p for p in (data[key] or "").replace("，", "、").replace(",", "、")
                         .split("、") if p.strip()]
        return data

    def add_service_errors(self, exc: InvalidInput) -> None:
        for key, msgs in exc.fields.items():
            for m in msgs if isinstance(msgs, list) else [msgs]:
                self.add_error(key if key in self.fields else None, str(m))
        if not exc.fields:
            self.add_error(None, str(exc.message))


def _initial(f: Facility) -> dict[str, Any]:
    return {"name": f.name, "category": f.category, "owner_kind": f.owner_kind,
            "region": f.region_id, "address": f.address, "lat": f.lat, "lng": f.lng,
            "sports": [s.slug for s in f.sports.all()], "capacity": f.capacity,
            "status": f.status, "holiday_hours": f.holiday_hours,
            "amenities": "、".join(f.amenities or []),
            "accessibility": "、".join(f.accessibility or []), "description": f.description,
            "contact_name": f.contact_name, "contact_phone": f.contact_phone,
            "external_ref": f.external_ref}


class ExceptionForm(forms.Form):
    start_date = forms.DateField(label=gettext_lazy("From"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=gettext_lazy("To"),
                               widget=forms.DateInput(attrs={"type": "date"}))
    is_closed = forms.BooleanField(label=gettext_lazy("Closed on these dates"), required=False)
    opens = forms.TimeField(label=gettext_lazy("Opens"), required=False,
                            widget=forms.TimeInput(attrs={"type": "time"}))
    closes = forms.TimeField(label=gettext_lazy("Closes"), required=False,
                             widget=forms.TimeInput(attrs={"type": "time"}))
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=100)


class UnitForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    sport = forms.ChoiceField(label=gettext_lazy("Sport"), required=False)
    capacity = forms.IntegerField(label=gettext_lazy("Places per slot"), min_value=1, initial=1)
    slot_minutes = forms.IntegerField(label=gettext_lazy("Slot length (minutes)"),
                                      min_value=15, max_value=480, initial=60)
    price_yuan = forms.DecimalField(label=gettext_lazy("Price shown (yuan)"), min_value=0,
                                    decimal_places=2, initial=0)
    booking_mode = forms.ChoiceField(label=gettext_lazy("Booking mode"),
                                     choices=BookingMode.choices)
    is_active = forms.BooleanField(label=gettext_lazy("Bookable"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sport"].choices = [  # type: ignore[attr-defined]
            ("", "—"), *[(s.slug, s.name_zh) for s in
                                                     Sport.objects.order_by("family", "slug")]]

    def data_for_service(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"name": d["name"], "sport": d["sport"] or None, "capacity": d["capacity"],
                "slot_minutes": d["slot_minutes"], "price_cents": int(d["price_yuan"] * 100),
                "booking_mode": d["booking_mode"], "is_active": d["is_active"]}


class PolicyForm(forms.Form):
    """The venue's own booking rules; a blank field inherits from the region."""

    window_days = forms.IntegerField(label=gettext_lazy("Bookable days ahead"), required=False)
    window_opens_at = forms.TimeField(label=gettext_lazy("New day opens at"), required=False,
                                      widget=forms.TimeInput(attrs={"type": "time"}))
    max_active = forms.IntegerField(label=gettext_lazy("Active bookings at most"),
                                    required=False)
    max_per_day = forms.IntegerField(label=gettext_lazy("Bookings per day at most"),
                                     required=False)
    cancel_minutes = forms.IntegerField(label=gettext_lazy("Cancel up to (minutes before start)"),
                                        required=False)
    checkin_grace_minutes = forms.IntegerField(
        label=gettext_lazy("Check in within (minutes after start)"), required=False)
    noshow_limit = forms.IntegerField(label=gettext_lazy("No-shows before suspension"),
                                      required=False)
    noshow_period_days = forms.IntegerField(label=gettext_lazy("Counted over (days)"),
                                            required=False)
    suspension_days = forms.IntegerField(label=gettext_lazy("Suspension (days)"),
                                         required=False)
    lottery_draw_hours = forms.IntegerField(
        label=gettext_lazy("Lottery drawn (hours before start)"), required=False)


# --- one facility: the day ------------------------------------------------------------------------

@scoped(Perm.FACILITY_MANAGE)
def facility(request: HttpRequest, facility_id: int) -> HttpResponse:
    """Today at a facility: people now, bookings and check-ins of the day, scan a pass, register
    a walk-in, maintenance tickets."""
    from sportsman.facilities import maintenance

    f = _facility(request, facility_id)
    access = access_for(request)
    day = _day(request)
    bookings = list(selectors.bookings_of_day_for(access, f, day))
    visits = list(selectors.visits_of_day_for(access, f, day)[:200])
    tickets = list(maintenance.tickets_for(access, facility_id=f.pk)[:50])
    managers = list(_managers(f))
    return _page(request, "facilities/console/facility.html", f=f, day=day,
                 bookings=bookings, visits=visits, tickets=tickets, managers=managers,
                 transitions={k: sorted(v) for k, v in maintenance.TRANSITIONS.items()},
                 crowd=selectors.crowd_level(f), open_now=hours.is_open_at(f, timezone.now()))


def _managers(f: Facility) -> Any:
    from sportsman.regions.access import holders

    return holders(Perm.FACILITY_MANAGE, f.region)[:100]


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def scan_pass(request: HttpRequest, facility_id: int) -> HttpResponse:
    """Check a booking pass in (typed or scanned with the camera)."""
    from sportsman.facilities import visits

    f = _facility(request, facility_id)
    code = request.POST.get("pass_code", "").strip()
    # A pass for another venue is refused rather than checked in at this desk unseen.
    visit = visits.check_in_pass(actor=request.user, pass_code=code, facility_id=f.pk)
    messages.success(request, _("Checked in: %(name)s.") % {"name": visit.user})
    return _back(facility_id, "scan", "venues:facility")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def walk_in(request: HttpRequest, facility_id: int) -> HttpResponse:
    """Register a resident who came without a booking, found by phone number."""
    from sportsman.accounts.models import User
    from sportsman.accounts.services import normalise_phone
    from sportsman.facilities import visits

    _facility(request, facility_id)
    try:
        user = User.objects.get_by_phone(normalise_phone(request.POST.get("phone", "")))
    except (User.DoesNotExist, InvalidInput, ValueError):
        raise NotFound(_("No resident with this phone number.")) from None
    visits.walk_in(actor=request.user, facility_id=facility_id, user_id=user.pk)
    messages.success(request, _("Walk-in registered: %(name)s.") % {"name": user})
    return _back(facility_id, "walk-in", "venues:facility")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def ticket(request: HttpRequest, facility_id: int, ticket_id: int) -> HttpResponse:
    from sportsman.facilities import maintenance

    _facility(request, facility_id)
    if not maintenance.tickets_for(access_for(request), facility_id=facility_id).filter(
            pk=ticket_id).exists():
        raise NotFound()
    assignee = request.POST.get("assignee_id", "")
    maintenance.transition_ticket(actor=request.user, ticket_id=ticket_id,
                                  to=request.POST.get("to", ""),
                                  assignee_id=int(assignee) if assignee.isdigit() else None,
                                  note=request.POST.get("note", "")[:2000])
    messages.success(request, _("Ticket updated."))
    return _back(facility_id, "tickets", "venues:facility")


# --- one facility: settings -----------------------------------------------------------------------

@scoped(Perm.FACILITY_MANAGE)
def settings_page(request: HttpRequest, facility_id: int) -> HttpResponse:
    """Details, weekly hours, exceptions, units, photos and booking rules of a facility."""
    access = access_for(request)
    f = _facility(request, facility_id)
    if request.method == "POST":
        form = FacilityForm(request.POST, access=access)
        if form.is_valid():
            try:
                registry.update_facility(actor=request.user, facility_id=f.pk,
                                         changes=form.data_for_service(), request=request)
            except InvalidInput as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Saved."))
                return _back(f.pk)
    else:
        form = FacilityForm(initial=_initial(f), access=access)
    return _settings(request, f, form=form)


def _settings(request: HttpRequest, f: Facility, **context: Any) -> HttpResponse:
    from sportsman.facilities.policy import policy_for, rules_of

    rules = list(f.opening_rules.all())
    week = []
    columns = max([PERIODS_PER_DAY, *[sum(1 for r in rules if r.weekday == wd)
                                      for wd in range(7)]])
    for wd in range(7):
        periods: list[tuple[dt.time | None, dt.time | None]] = [
            (r.opens, r.closes) for r in rules if r.weekday == wd]
        periods += [(None, None)] * (columns - len(periods))
        week.append({"weekday": wd, "label": WEEKDAYS[wd], "periods": periods})
    own = rules_of(BookingPolicy.objects.filter(facility=f).first())
    context.setdefault("policy_form", PolicyForm(initial=own))
    return _page(request, "facilities/console/settings.html", f=f, week=week,
                 exceptions=list(selectors.exceptions_of(f)),
                 units=_units_with_yuan(f),
                 photos=list(f.photos.all()), exception_form=ExceptionForm(),
                 unit_form=UnitForm(), effective=policy_for(f), **context)


def _units_with_yuan(f: Facility) -> list[Any]:
    units = list(f.units.select_related("sport").order_by("position", "id"))
    for u in units:
        u.price_yuan = f"{u.price_cents / 100:.2f}"  # type: ignore[attr-defined]
    return units


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def set_hours(request: HttpRequest, facility_id: int) -> HttpResponse:
    """Replace the week from the table: per weekday up to three periods (opens–closes)."""
    rules = []
    for wd in range(7):
        for i in range(MAX_PERIODS_PER_DAY):
            opens = request.POST.get(f"d{wd}_{i}_opens", "").strip()
            closes = request.POST.get(f"d{wd}_{i}_closes", "").strip()
            if opens or closes:
                rules.append({"weekday": wd, "opens": opens, "closes": closes})
    try:
        registry.set_opening_rules(actor=request.user, facility_id=facility_id, rules=rules,
                                   request=request)
    except InvalidInput as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Opening hours saved."))
    return _back(facility_id, "hours")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def add_exception(request: HttpRequest, facility_id: int) -> HttpResponse:
    form = ExceptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _invalid_form_text(form))
        return _back(facility_id, "exceptions")
    try:
        registry.add_opening_exception(actor=request.user, facility_id=facility_id,
                                       data=form.cleaned_data, request=request)
    except InvalidInput as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Exception added."))
    return _back(facility_id, "exceptions")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def remove_exception(request: HttpRequest, facility_id: int, exception_id: int) -> HttpResponse:
    f = _facility(request, facility_id)
    if not f.opening_exceptions.filter(pk=exception_id).exists():
        raise NotFound()
    registry.remove_opening_exception(actor=request.user, exception_id=exception_id,
                                      request=request)
    messages.success(request, _("Exception removed."))
    return _back(facility_id, "exceptions")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def add_unit(request: HttpRequest, facility_id: int) -> HttpResponse:
    form = UnitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _invalid_form_text(form))
        return _back(facility_id, "units")
    try:
        registry.add_unit(actor=request.user, facility_id=facility_id,
                          data=form.data_for_service(), request=request)
    except InvalidInput as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Unit added."))
    return _back(facility_id, "units")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def update_unit(request: HttpRequest, facility_id: int, unit_id: int) -> HttpResponse:
    f = _facility(request, facility_id)
    if not f.units.filter(pk=unit_id).exists():
        raise NotFound()
    form = UnitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _invalid_form_text(form))
        return _back(facility_id, "units")
    try:
        registry.update_unit(actor=request.user, unit_id=unit_id,
                             changes=form.data_for_service(), request=request)
    except InvalidInput as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Unit saved."))
    return _back(facility_id, "units")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def add_photo(request: HttpRequest, facility_id: int) -> HttpResponse:
    upload = request.FILES.get("image")
    if upload is None:
        messages.error(request, _("Choose a photo."))
        return _back(facility_id, "photos")
    try:
        registry.add_photo(actor=request.user, facility_id=facility_id,
                           content=upload.read(registry.PHOTO_MAX_BYTES + 1),
                           caption=request.POST.get("caption", ""), request=request)
    except InvalidInput as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Photo added."))
    return _back(facility_id, "photos")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def remove_photo(request: HttpRequest, facility_id: int, photo_id: int) -> HttpResponse:
    f = _facility(request, facility_id)
    if not f.photos.filter(pk=photo_id).exists():
        raise NotFound()
    registry.remove_photo(actor=request.user, photo_id=photo_id, request=request)
    messages.success(request, _("Photo removed."))
    return _back(facility_id, "photos")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def set_policy(request: HttpRequest, facility_id: int) -> HttpResponse:
    """The venue's own booking rules (``policy.set_facility_policy``)."""
    from sportsman.facilities.policy import set_facility_policy

    f = _facility(request, facility_id)
    form = PolicyForm(request.POST)
    if not form.is_valid():
        return _settings(request, f, form=FacilityForm(initial=_initial(f),
                                                       access=access_for(request)),
                         policy_form=form)
    try:
        set_facility_policy(actor=request.user, facility=f, values=form.cleaned_data,
                            request=request)
    except InvalidInput as exc:
        for key, msgs in exc.fields.items():
            for m in msgs if isinstance(msgs, list) else [msgs]:
                form.add_error(key if key in form.fields else None, str(m))
        return _settings(request, f, form=FacilityForm(initial=_initial(f),
                                                       access=access_for(request)),
                         policy_form=form)
    messages.success(request, _("Booking rules saved."))
    return _back(facility_id, "policy")


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    """Register a new facility from the form on the home page."""
    access = access_for(request)
    form = FacilityForm(request.POST, access=access)
    if form.is_valid():
        try:
            f = registry.create_facility(actor=request.user, data=form.data_for_service(),
                                         request=request)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Facility registered. Now set its hours and units."))
            return _back(f.pk)
    state = console_state(request)
    return _render(request, "facilities/console/new.html", state, SECTION, form=form)


# --- utilisation, QR, exports -------------------------------------------------------------------

def _range(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = hours.local(timezone.now()).date()
    try:
        date_to = dt.date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        date_to = today
    try:
        date_from = dt.date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        date_from = date_to - dt.timedelta(days=27)
    return date_from, date_to


@scoped(Perm.FACILITY_MANAGE)
def utilisation(request: HttpRequest, facility_id: int) -> HttpResponse:
    """Booked hours ÷ open hours, visits per day, unique visitors and the weekday × hour heat
    map (cells shaded in six steps)."""
    f = _facility(request, facility_id)
    date_from, date_to = _range(request)
    report = stats.utilisation(f, date_from, date_to)
    top = report.heat_max or 1
    heat = [{"label": WEEKDAYS[wd], "cells": [
        {"n": n, "shade": 0 if n == 0 else min(5, 1 + (n * 5 - 1) // top)}
        for n in report.heat[wd]]} for wd in range(7)]
    query = urlencode({"from": date_from.isoformat(), "to": date_to.isoformat()})
    return _page(request, "facilities/console/utilisation.html", f=f, report=report,
                 heat=heat, hours_range=range(24), query=query,
                 rate_percent=round(report.rate * 100, 1) if report.rate is not None else None)


@scoped(Perm.FACILITY_MANAGE)
def qr(request: HttpRequest, facility_id: int) -> HttpResponse:
    """The venue screen: the rotating check-in code as SVG, refreshed every minute."""
    import segno

    from sportsman.facilities import visits

    f = _facility(request, facility_id)
    code = visits.facility_code(f)
    url = visits.checkin_url(request, code)
    svg = segno.make(url, error="m").svg_inline(scale=8, border=2)
    return _page(request, "facilities/console/qr.html", f=f, svg=svg,
                 valid_until=visits.code_valid_until())


def _xlsx(content: bytes, stem: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=xlsx.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.xlsx"'
    return response


@scoped(Perm.FACILITY_MANAGE)
def export_facilities(request: HttpRequest) -> HttpResponse:
    """My facilities in the current console region, in the import format."""
    state = console_state(request)
    qs = (registry.facilities_in_scope(state.access)
          .filter(subtree_q(state.region.path, "region")).order_by("name", "id"))
    count = qs.count()
    if count > exports.EXPORT_MAX_ROWS:
        raise InvalidInput(_("%(count)d facilities match; narrow the region.")
                           % {"count": count}, code="export_too_large")
    content = exports.facilities_workbook(qs)
    audit.record(actor=request.user, action="facility.export", kind=AuditEntry.Kind.VIEW,
                 object_type="facilities.facility", region=state.region, request=request,
                 data={"rows": count})
    return _xlsx(content, "facilities")


@scoped(Perm.FACILITY_MANAGE)
def export_bookings(request: HttpRequest, facility_id: int) -> HttpResponse:
    f = _facility(request, facility_id)
    day = _day(request)
    qs = selectors.bookings_of_day_for(access_for(request), f, day)
    content = exports.bookings_workbook(f, day, qs)
    audit.record(actor=request.user, action="facility.export.bookings",
                 kind=AuditEntry.Kind.VIEW, obj=f, region=f.region, request=request,
                 data={"day": day.isoformat()})
    return _xlsx(content, f"bookings-{f.pk}-{day:%Y%m%d}")


@scoped(Perm.FACILITY_MANAGE)
def export_utilisation(request: HttpRequest, facility_id: int) -> HttpResponse:
    f = _facility(request, facility_id)
    date_from, date_to = _range(request)
    report = stats.utilisation(f, date_from, date_to)
    return _xlsx(exports.utilisation_workbook(f, report), f"utilisation-{f.pk}")


# --- import ---------------------------------------------------------------------------------------

def _import_key(request: HttpRequest, token: str) -> str:
    return f"facility-import:{request.user.pk}:{token}"


@scoped(Perm.FACILITY_MANAGE)
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a register file → every bad row in a table (nothing loaded), or a summary of what
    a good file will create and update → confirm to load it."""
    if request.method != "POST":
        return _page(request, "facilities/console/import.html", columns=imports.COLUMNS)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file."))
        return HttpResponseRedirect(reverse("venues:import"))
    content = upload.read(imports.MAX_BYTES + 1)
    try:
        report = imports.import_facilities(actor=request.user, content=content, dry_run=True)
    except imports.FacilityFileError as exc:
        return _page(request, "facilities/console/import.html", columns=imports.COLUMNS,
                     problems=exc.problems, filename=upload.name)
    token = secrets.token_urlsafe(16)
    # The checked file waits in the cache for the confirmation (same user, 30 minutes).
    cache.set(_import_key(request, token), content, IMPORT_TTL)
    return _page(request, "facilities/console/import.html", columns=imports.COLUMNS,
                 report=report, token=token, filename=upload.name)


@scoped(Perm.FACILITY_MANAGE)
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")[:64]
    content = cache.get(_import_key(request, token))
    if content is None:
        messages.error(request, _("The checked file has expired; upload it again."))
        return HttpResponseRedirect(reverse("venues:import"))
    try:
        report = imports.import_facilities(actor=request.user, content=content,
                                           request=request)
    except imports.FacilityFileError as exc:
        return _page(request, "facilities/console/import.html", columns=imports.COLUMNS,
                     problems=exc.problems)
    cache.delete(_import_key(request, token))
    messages.success(request, _("Imported: %(created)d new, %(updated)d updated, "
                                "%(unchanged)d unchanged.") % report.as_dict())
    return HttpResponseRedirect(reverse("venues:home"))


@scoped(Perm.SUBSIDY_ALLOCATE)
def subsidy_page(request: HttpRequest) -> HttpResponse:
    """The activity index of the current region's facilities over a period, and the split of a
    subsidy budget over them (with the spreadsheet from the API)."""
    from urllib.parse import urlencode

    from sportsman.facilities import subsidy

    state = console_state(request)
    if not state.access.can(Perm.SUBSIDY_ALLOCATE, state.region):
        raise NotFound()
    today = timezone.localdate()
    first = today.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    try:
        date_from = dt.date.fromisoformat(request.GET.get("from") or
                                          last_month_end.replace(day=1).isoformat())
        date_to = dt.date.fromisoformat(request.GET.get("to") or last_month_end.isoformat())
        budget_yuan = float(request.GET.get("budget") or 0)
    except ValueError as exc:
        raise InvalidInput(_("Use dates like 2026-10-31 and a budget in yuan.")) from exc
    if not 0 <= budget_yuan <= subsidy.MAX_BUDGET_CENTS / 100:
        raise InvalidInput(_("The budget is out of range."), code="budget_out_of_range")
    scores = subsidy.evaluate(Facility.objects.filter(subtree_q(state.region.path, "region")),
                              date_from, date_to, budget_cents=round(budget_yuan * 100))
    query = urlencode({"from": date_from.isoformat(), "to": date_to.isoformat(),
                       "budget_yuan": budget_yuan})
    return _render(request, "facilities/console/subsidy.html", state, "subsidy",
                   rows=[{**r, "share_yuan": r["share_cents"] / 100}
                         for r in subsidy.as_rows(scores)[:500]], count=len(scores), date_from=date_from,
                   date_to=date_to, budget=budget_yuan,
                   export_url=f"/api/v1/regions/{state.region.pk}/facility-subsidy.xlsx?{query}")


urlpatterns = [
    path("", home, name="home"),
    path("subsidy/", subsidy_page, name="subsidy"),
    path("new/", create, name="create"),
    path("import/", import_page, name="import"),
    path("import/confirm/", import_confirm, name="import_confirm"),
    path("export.xlsx", export_facilities, name="export"),
    path("<int:facility_id>/", facility, name="facility"),
    path("<int:facility_id>/scan/", scan_pass, name="scan"),
    path("<int:facility_id>/walk-in/", walk_in, name="walk_in"),
    path("<int:facility_id>/tickets/<int:ticket_id>/", ticket, name="ticket"),
    path("<int:facility_id>/settings/", settings_page, name="settings"),
    path("<int:facility_id>/hours/", set_hours, name="hours"),
    path("<int:facility_id>/exceptions/", add_exception, name="add_exception"),
    path("<int:facility_id>/exceptions/<int:exception_id>/delete/", remove_exception,
         name="remove_exception"),
    path("<int:facility_id>/units/", add_unit, name="add_unit"),
    path("<int:facility_id>/units/<int:unit_id>/", update_unit, name="update_unit"),
    path("<int:facility_id>/photos/", add_photo, name="add_photo"),
    path("<int:facility_id>/photos/<int:photo_id>/delete/", remove_photo, name="remove_photo"),
    path("<int:facility_id>/policy/", set_policy, name="policy"),
    path("<int:facility_id>/utilisation/", utilisation, name="utilisation"),
    path("<int:facility_id>/utilisation.xlsx", export_utilisation, name="utilisation_export"),
    path("<int:facility_id>/bookings.xlsx", export_bookings, name="bookings_export"),
    path("<int:facility_id>/qr/", qr, name="qr"),
]
