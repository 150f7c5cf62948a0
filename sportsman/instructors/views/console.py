"""The console's instructor registry (INSTRUCTOR_MANAGE): the instructors of the current region's
subtree, registering one, an instructor's page (edit, suspend / reinstate, yearly work
registration, promotion progress) and the guidance records of the subtree as xlsx or PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core import audit, crypto, xlsx
from sportsman.core.errors import InvalidInput
from sportsman.core.models import Sport
from sportsman.instructors import exports, registry, selectors
from sportsman.instructors.models import InstructorLevel, InstructorStatus, WorkRegistration
from sportsman.regions.access import Perm, scoped
from sportsman.regions.models import subtree_q
from sportsman.regions.views import _render, console_state

SECTION = "instructors"


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


@scoped(Perm.INSTRUCTOR_MANAGE)
def console(request: HttpRequest) -> HttpResponse:
    state = console_state(request)
    status = request.GET.get("status", "")
    rows = selectors.instructors_for(state.access, region=state.region,
                                     status=status if status in InstructorStatus.values else None,
                                     q=request.GET.get("q", ""))
    return _render(request, "instructors/console/list.html", state, SECTION,
                   instructors=list(rows[:300]), total=rows.count(), status=status,
                   q=request.GET.get("q", ""), levels=InstructorLevel.choices,
                   statuses=InstructorStatus.choices,
                   sports=Sport.objects.order_by("family", "slug"),
                   regions=list(state.access.regions(Perm.INSTRUCTOR_MANAGE)
                                .filter(subtree_q(state.region.path)).order_by("path")[:300]),
                   year=timezone.localdate().year)


@scoped(Perm.INSTRUCTOR_MANAGE)
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    """Register by the resident's phone number (found by its keyed hash)."""
    state = console_state(request)
    phone = request.POST.get("phone", "").strip()
    person = get_user_model().objects.filter(phone_hash=crypto.keyed_hash(phone)).first() \
        if phone else None
    if person is None:
        raise InvalidInput(_("No resident has this phone number."), code="user_not_found")
    made = registry.register_instructor(
        access=state.access, user_id=person.pk, name=request.POST.get("name", ""),
        level=request.POST.get("level", ""),
        certificate_number=request.POST.get("certificate_number", ""),
        region_id=_int(request.POST.get("region_id")) or 0,
        sports=request.POST.getlist("sports"),
        certified_on=parse_date(request.POST.get("certified_on", "") or ""), request=request)
    messages.success(request, _("Registered."))
    return HttpResponseRedirect(reverse("instructors:console_detail", args=[made.pk]))


@scoped(Perm.INSTRUCTOR_MANAGE)
def detail(request: HttpRequest, instructor_id: int) -> HttpResponse:
    state = console_state(request)
    found = registry.in_scope(state.access, instructor_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "edit":
            registry.update_instructor(
                access=state.access, instructor_id=found.pk, name=request.POST.get("name"),
                level=request.POST.get("level"),
                certificate_number=request.POST.get("certificate_number"),
                region_id=_int(request.POST.get("region_id")),
                sports=request.POST.getlist("sports"),
                certified_on=parse_date(request.POST.get("certified_on", "") or ""),
                request=request)
        elif action in InstructorStatus.values:
            registry.transition_instructor(access=state.access, instructor_id=found.pk,
                                           to=action, reason=request.POST.get("reason", ""),
                                           request=request)
        elif action == "registration":
            registry.confirm_registration(
                access=state.access, instructor_id=found.pk,
                year=_int(request.POST.get("year")) or 0, org=request.POST.get("org", ""),
                service_count=int(request.POST.get("service_count") or -1)
                if (request.POST.get("service_count") or "").isdigit() else -1,
                request=request)
        else:
            raise InvalidInput()
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(reverse("instructors:console_detail", args=[found.pk]))
    return _render(request, "instructors/console/detail.html", state, SECTION,
                   instructor=found, progress=registry.promotion_progress(found),
                   registrations=list(WorkRegistration.objects.filter(instructor=found)
                                      .order_by("-year")),
                   levels=InstructorLevel.choices, sports=Sport.objects.order_by("family", "slug"),
                   mine=set(found.sports.values_list("slug", flat=True)),
                   regions=list(state.access.regions(Perm.INSTRUCTOR_MANAGE)
                                .order_by("path")[:300]),
                   year=timezone.localdate().year)


@scoped(Perm.INSTRUCTOR_MANAGE)
def records_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The guidance records of the current region's subtree (a year, or all)."""
    state = console_state(request)
    year = _int(request.GET.get("year"))
    sessions = exports.of_scope(state.access, year=year).filter(
        subtree_q(state.region.path, "instructor__region"))
    audit.record(actor=request.user, action=f"export.guidance_records_{fmt}", request=request,
                 region=state.region, data={"year": year})
    if fmt == "xlsx":
        return xlsx.download(exports.workbook(sessions), "guidance-records")
    title = _("Guidance records of %(name)s") % {"name": state.region.name}
    response = HttpResponse(exports.pdf(sessions, title=title), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="guidance-records.pdf"'
    return response


urlpatterns: list[URLPattern] = [
    path("console/", console, name="console"),
    path("console/register/", register, name="console_register"),
    path("console/<int:instructor_id>/", detail, name="console_detail"),
    path("console/records.<str:fmt>", records_export, name="console_records"),
]
