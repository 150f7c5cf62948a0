"""The registry's pages: the public directory and profiles (mobile first); an association's
managers edit its profile, members, officers and certificates; staff manage the associations
of the current region's subtree in the console (create, suspend, reinstate, dissolve)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.associations import registry, window
from sportsman.associations.models import (
    AssociationKind,
    AssociationStatus,
    CertificateKind,
    LegalStatus,
    MemberKind,
    Office,
)
from sportsman.associations.selectors import managed_by, manages
from sportsman.core.errors import DomainError
from sportsman.regions.access import Perm, for_self, public, scoped
from sportsman.regions.views import _render, console_state

SECTION = "associations"
PAGE = 20


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else None


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@public
def directory(request: HttpRequest) -> HttpResponse:
    from sportsman.core.models import Sport
    from sportsman.regions.models import Level, Region

    region_id, sport_id = _int(request.GET.get("region")), _int(request.GET.get("sport"))
    kind, legal = request.GET.get("kind", "")[:12], request.GET.get("legal_status", "")[:12]
    q = request.GET.get("q", "")[:40]
    filters: dict[str, Any] = {"region": region_id, "kind": kind, "legal_status": legal,
                               "sport": sport_id, "q": q}
    qs = registry.directory(region_id=region_id, kind=kind, legal_status=legal,
                            sport_id=sport_id, q=q)
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "associations/directory.html", {
        "page": page, "filters": filters, "query": query,
        "kinds": AssociationKind.choices, "legal_statuses": LegalStatus.choices,
        "sports": list(Sport.objects.order_by("name_zh").only("id", "name_zh", "name_en")),
        "regions": list(Region.objects.filter(level__in=(Level.CITY, Level.DISTRICT,
                                                         Level.TOWN))
                        .order_by("path").only("id", "name", "level")[:300])})


@public
def profile(request: HttpRequest, association_id: int) -> HttpResponse:
    try:
        association = registry.public_association(association_id)
    except DomainError:
        raise Http404() from None
    return render(request, "associations/profile.html", {
        "association": association, "officers": registry.officers(association),
        "certificates": list(association.certificates.order_by("-id")),
        "can_manage": request.user.is_authenticated and manages(request.user, association.pk)})


@for_self
def mine(request: HttpRequest) -> HttpResponse:
    associations = list(managed_by(request.user).select_related("region").order_by("name"))
    applications = list(window.mine(request.user)[:50])
    return render(request, "associations/mine.html", {
        "associations": associations, "applications": applications,
        "kinds": [(k, label) for k, label in window.K.choices]})


@for_self
def manage(request: HttpRequest, association_id: int) -> HttpResponse:
    try:
        association = registry.managed(request.user, association_id)
    except DomainError:
        raise Http404() from None
    if request.method == "POST":
        what = request.POST.get("what", "")
        try:
            if what == "profile":
                registry.update_profile(
                    actor=request.user, association_id=association.pk,
                    description=request.POST.get("description", ""),
                    address=request.POST.get("address", ""),
                    contact_name=request.POST.get("contact_name", ""),
                    contact_phone=request.POST.get("contact_phone", ""),
                    sport_id=_int(request.POST.get("sport")),
                    founded_on=_date(request.POST.get("founded_on")))
            elif what == "member":
                registry.add_member(actor=request.user, association_id=association.pk,
                                    name=request.POST.get("name", ""),
                                    office=request.POST.get("office", ""),
                                    kind=request.POST.get("kind", MemberKind.INDIVIDUAL))
            elif what == "member_change":
                registry.update_member(actor=request.user, association_id=association.pk,
                                       member_id=_int(request.POST.get("member")) or 0,
                                       office=request.POST.get("office"),
                                       leave=request.POST.get("leave") == "1")
            elif what == "certificate":
                upload = request.FILES.get("file")
                registry.add_certificate(
                    actor=request.user, association_id=association.pk,
                    kind=request.POST.get("kind", ""),
                    content=upload.read(registry.DOCUMENT_MAX_BYTES + 1) if upload else b"",
                    number=request.POST.get("number", ""),
                    issued_on=_date(request.POST.get("issued_on")),
                    valid_until=_date(request.POST.get("valid_until")))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
        return HttpResponseRedirect(reverse("associations:manage", args=[association.pk]))
    from sportsman.core.models import Sport

    return render(request, "associations/manage.html", {
        "association": association, "members": list(registry.members_of(association)[:500]),
        "certificates": list(association.certificates.order_by("-id")),
        "offices": Office.choices, "member_kinds": MemberKind.choices,
        "certificate_kinds": CertificateKind.choices,
        "sports": list(Sport.objects.order_by("name_zh").only("id", "name_zh", "name_en"))})


@scoped(Perm.ASSOCIATION_MANAGE)
def console(request: HttpRequest) -> HttpResponse:
    """The associations of the current region's subtree, filterable; a form to add one."""
    state = console_state(request)
    if request.method == "POST":
        try:
            made = registry.create_association(
                actor=request.user, region_id=_int(request.POST.get("region")) or state.region.pk,
                name=request.POST.get("name", ""), kind=request.POST.get("kind", ""),
                legal_status=request.POST.get("legal_status", LegalStatus.GRASSROOTS),
                credit_code=request.POST.get("credit_code", ""))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(name)s is on the registry.") % {"name": made.name})
        return HttpResponseRedirect(reverse("associations:console"))
    status = request.GET.get("status", "")[:12]
    q = request.GET.get("q", "")[:40]
    qs = registry.staff_associations(state.access, region=state.region, status=status, q=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts: dict[str, int] = {}
    for row in registry.staff_associations(state.access, region=state.region).values_list(
            "status", "legal_status"):
        counts[row[0]] = counts.get(row[0], 0) + 1
        counts[row[1]] = counts.get(row[1], 0) + 1
    return _render(request, "associations/console_list.html", state, SECTION,
                   page=page, filters={"status": status, "q": q}, counts=counts,
                   statuses=AssociationStatus.choices, kinds=AssociationKind.choices,
                   legal_statuses=LegalStatus.choices,
                   regions=[state.region, *state.children],
                   can_create=state.access.can(Perm.ASSOCIATION_MANAGE, state.region))


@scoped(Perm.ASSOCIATION_MANAGE)
@require_POST
def console_status(request: HttpRequest, association_id: int) -> HttpResponse:
    try:
        registry.set_status(actor=request.user, association_id=association_id,
                            status=request.POST.get("status", ""),
                            reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("associations:console"))


urlpatterns: list[URLPattern] = [
    path("", directory, name="directory"),
    path("mine/", mine, name="mine"),
    path("<int:association_id>/", profile, name="profile"),
    path("<int:association_id>/manage/", manage, name="manage"),
    path("console/", console, name="console"),
    path("console/<int:association_id>/status/", console_status, name="console_status"),
]
