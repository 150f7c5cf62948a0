"""Health pages: the resident's prescriptions, progress and consents (mobile-first), and the
clinic console (consenting residents with adherence, the issue form, one prescription)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sportsman.core.errors import InvalidInput, NotFound
from sportsman.health import selectors, services
from sportsman.health.models import Intensity
from sportsman.regions.access import Perm, access_for, for_self, scoped

app_name = "health"


def _int(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**63 else 0


def _opt_int(raw: str | None) -> int | None:
    return _int(raw) or None


# --- the resident ------------------------------------------------------------------------------


@for_self
def mine(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.prescriptions_of_resident(request.user)[:50])
    progress = selectors.progress(rows)
    return render(request, "health/mine.html", {
        "rows": [(p, progress[p.pk]) for p in rows]})


@for_self
def my_prescription(request: HttpRequest, prescription_id: int) -> HttpResponse:
    p = selectors.prescriptions_of_resident(request.user).filter(pk=prescription_id).first()
    if p is None:
        raise NotFound()
    return render(request, "health/prescription.html", {
        "p": p, "prog": selectors.progress([p])[p.pk], "clinic_view": False})


@for_self
def consents(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.consents_of(request.user)[:100])
    live = {c.clinic_id for c in rows if c.is_live}
    return render(request, "health/consents.html", {
        "consents": rows,
        "clinics": [c for c in selectors.clinics_list()[:300] if c.pk not in live],
        "version": services.CONSENT_VERSION})


@for_self
@require_POST
def grant(request: HttpRequest) -> HttpResponse:
    c = services.grant_consent(user=request.user, clinic_id=_int(request.POST.get("clinic_id")),
                               request=request)
    messages.success(request, _("%(clinic)s may now prescribe exercise to you and follow your "
                                "weekly totals for it.") % {"clinic": c.clinic.name})
    return HttpResponseRedirect(reverse("health:consents"))


@for_self
@require_POST
def withdraw(request: HttpRequest, consent_id: int) -> HttpResponse:
    c = services.withdraw_consent(user=request.user, consent_id=consent_id, request=request)
    messages.success(request, _("Consent withdrawn: %(clinic)s no longer sees your exercise "
                                "record.") % {"clinic": c.clinic.name})
    return HttpResponseRedirect(reverse("health:consents"))


# --- the clinic --------------------------------------------------------------------------------


@scoped(Perm.CLINIC_PRACTISE)
def clinic_home(request: HttpRequest, clinic_id: int) -> HttpResponse:
    from sportsman.core.models import Sport

    clinic = selectors.clinic_for(access_for(request), clinic_id)
    rows = list(selectors.prescriptions_of_clinic(clinic)[:300])
    progress = selectors.progress(rows)
    return render(request, "health/clinic/home.html", {
        "clinic": clinic, "rows": [(p, progress[p.pk]) for p in rows],
        "residents": list(selectors.consenting_residents(clinic)[:300]),
        "sports": Sport.objects.order_by("family", "slug"), "intensities": Intensity.choices})


@scoped(Perm.CLINIC_PRACTISE)
@require_POST
def clinic_issue(request: HttpRequest, clinic_id: int) -> HttpResponse:
    raw = request.POST.get("starts_on", "")
    try:
        starts_on = dt.date.fromisoformat(raw)
    except ValueError:
        msg = _("Give the start date as YYYY-MM-DD.")
        raise InvalidInput(msg, code="bad_prescription", fields={"starts_on": [msg]}) from None
    p = services.issue_prescription(
        access=access_for(request), clinic_id=clinic_id,
        resident_id=_int(request.POST.get("resident_id")),
        sport_id=_int(request.POST.get("sport_id")), intensity=request.POST.get("intensity", ""),
        sessions_per_week=_int(request.POST.get("sessions_per_week")),
        minutes_per_session=_int(request.POST.get("minutes_per_session")),
        weeks=_int(request.POST.get("weeks")), starts_on=starts_on,
        notes=request.POST.get("notes", ""),
        heart_rate_low=_opt_int(request.POST.get("heart_rate_low")),
        heart_rate_high=_opt_int(request.POST.get("heart_rate_high")), request=request)
    messages.success(request, _("Prescription issued."))
    return HttpResponseRedirect(reverse("health:clinic_prescription", args=[clinic_id, p.pk]))


@scoped(Perm.CLINIC_PRACTISE)
def clinic_prescription(request: HttpRequest, clinic_id: int,
                        prescription_id: int) -> HttpResponse:
    p = services.prescription_of_clinic(access_for(request), clinic_id=clinic_id,
                                        prescription_id=prescription_id, request=request)
    return render(request, "health/prescription.html", {
        "p": p, "prog": selectors.progress([p])[p.pk], "clinic_view": True})


urlpatterns: list[URLPattern] = [
    path("", mine, name="mine"),
    path("prescriptions/<int:prescription_id>/", my_prescription, name="prescription"),
    path("consents/", consents, name="consents"),
    path("consents/grant/", grant, name="grant"),
    path("consents/<int:consent_id>/withdraw/", withdraw, name="withdraw"),
    path("clinic/<int:clinic_id>/", clinic_home, name="clinic"),
    path("clinic/<int:clinic_id>/issue/", clinic_issue, name="clinic_issue"),
    path("clinic/<int:clinic_id>/prescriptions/<int:prescription_id>/", clinic_prescription,
         name="clinic_prescription"),
]
