"""Health services: every state change (docs/health.md).

- City and district staff (``CLINIC_MANAGE`` over the region) register clinics and appoint or
  remove their staff.
- A resident grants a named clinic consent (purpose, scope, text version) and withdraws it.
- A clinic's staff (``CLINIC_PRACTISE`` on that clinic) issue prescriptions, only to a resident
  whose consent to that clinic is live at that moment.

Each service validates everything before writing, raises a domain error with a stable code and
writes an audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import audit
from sportsman.core.errors import Conflict, InvalidInput, NotFound
from sportsman.health import selectors
from sportsman.health.models import (
    MAX_MINUTES,
    MAX_NOTES,
    MAX_SESSIONS_PER_WEEK,
    MAX_WEEKS,
    MIN_MINUTES,
    Clinic,
    ClinicConsent,
    ClinicStaff,
    ConsentPurpose,
    ConsentScope,
    Intensity,
    Prescription,
)
from sportsman.regions.access import Access, Perm

CONSENT_VERSION = "1"


def _invalid(field: str, message: Any, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, fields={field: [message]})


# --- clinics and their staff (region staff) ----------------------------------------------------


def register_clinic(*, access: Access, region_id: int, name: str, address: str = "",
                    request: Any = None) -> Clinic:
    """Register a partner clinic in a region of the actor's ``CLINIC_MANAGE`` subtree. Refuses
    a region outside it (``not_found``), a blank or long name (``invalid``) and a second clinic
    of that name in the region (``clinic_exists``). Audited."""
    access.require_anywhere(Perm.CLINIC_MANAGE)
    region = access.regions(Perm.CLINIC_MANAGE).filter(pk=region_id).first()
    if region is None:
        raise NotFound(_("No such region in your scope."))
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise _invalid("name", _("Give the clinic's name (at most 100 characters)."))
    address = (address or "").strip()
    if len(address) > 200:
        raise _invalid("address", _("The address is at most 200 characters."))
    try:
        with transaction.atomic():
            clinic = Clinic.objects.create(region=region, name=name, address=address,
                                           registered_by=access.user)
            audit.record(actor=access.user, action="health.clinic.register", obj=clinic,
                         region=region, request=request, data={"name": name})
    except IntegrityError:
        raise Conflict(_("This region already has a clinic of that name."),
                       code="clinic_exists") from None
    return clinic


def _managed_clinic(access: Access, clinic_id: int) -> Clinic:
    clinic = selectors.clinics_for(access).filter(pk=clinic_id).first()
    if clinic is None:
        raise NotFound()
    return clinic


def appoint_staff(*, access: Access, clinic_id: int, user_id: int,
                  request: Any = None) -> ClinicStaff:
    """Make ``user_id`` staff of a clinic in the actor's ``CLINIC_MANAGE`` subtree. Refuses an
    unknown or inactive user (``not_found``) and a duplicate (``staff_exists``). Audited."""
    from sportsman.accounts.models import User

    access.require_anywhere(Perm.CLINIC_MANAGE)
    clinic = _managed_clinic(access, clinic_id)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound(_("No such user."))
    try:
        with transaction.atomic():
            staff = ClinicStaff.objects.create(clinic=clinic, user=user, appointed_by=access.user)
            audit.record(actor=access.user, action="health.staff.appoint", obj=staff,
                         region=clinic.region, request=request,
                         data={"clinic_id": clinic.pk, "user_id": user.pk})
    except IntegrityError:
        raise Conflict(_("This user already works for this clinic."),
                       code="staff_exists") from None
    return staff


@transaction.atomic
def remove_staff(*, access: Access, clinic_id: int, staff_id: int, request: Any = None) -> None:
    """Take a clinic post back (the user loses the clinic at their next request). Audited."""
    access.require_anywhere(Perm.CLINIC_MANAGE)
    clinic = _managed_clinic(access, clinic_id)
    staff = ClinicStaff.objects.filter(pk=staff_id, clinic=clinic).first()
    if staff is None:
        raise NotFound()
    audit.record(actor=access.user, action="health.staff.remove", obj=staff,
                 region=clinic.region, request=request,
                 data={"clinic_id": clinic.pk, "user_id": staff.user_id})
    staff.delete()


# --- consent (the resident) --------------------------------------------------------------------


def grant_consent(*, user: Any, clinic_id: int, version: str = CONSENT_VERSION,
                  request: Any = None) -> ClinicConsent:
    """The resident lets one active clinic prescribe exercise and see their weekly totals for
    it. Refuses an unknown clinic (``not_found``) and a second live consent to the same clinic
    (``consent_exists``). Audited."""
    clinic = selectors.clinics_list().filter(pk=clinic_id).first()
    if clinic is None:
        raise NotFound(_("No such clinic."))
    version = (version or "").strip()
    if not version or len(version) > 16:
        raise _invalid("version", _("Give the version of the text (at most 16 characters)."))
    try:
        with transaction.atomic():
            consent = ClinicConsent.objects.create(
                user=user, clinic=clinic, purpose=ConsentPurpose.PRESCRIPTION,
                scope=ConsentScope.WEEKLY_TOTALS, version=version)
            audit.record(actor=user, action="health.consent.grant", obj=consent,
                         region=clinic.region, request=request, data={"clinic_id": clinic.pk})
    except IntegrityError:
        raise Conflict(_("You have already given this clinic your consent."),
                       code="consent_exists") from None
    return consent


@transaction.atomic
def withdraw_consent(*, user: Any, consent_id: int, request: Any = None) -> ClinicConsent:
    """Withdraw one of the resident's own live consents. From the next request on, the clinic
    sees none of the resident's prescriptions or progress and may issue none (every clinic read
    checks for a live consent in its query). Refuses another's or an unknown consent
    (``not_found``) and one already withdrawn (``consent_withdrawn``). Audited."""
    consent = (ClinicConsent.objects.select_for_update(of=("self",))
               .select_related("clinic__region").filter(pk=consent_id, user_id=user.pk).first())
    if consent is None:
        raise NotFound()
    if consent.withdrawn_at is not None:
        raise Conflict(_("This consent is already withdrawn."), code="consent_withdrawn")
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_at"])
    audit.record(actor=user, action="health.consent.withdraw", obj=consent,
                 region=consent.clinic.region, request=request,
                 data={"clinic_id": consent.clinic_id})
    return consent


# --- prescriptions (the clinic) ----------------------------------------------------------------


def _check_range(field: str, value: Any, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise _invalid(field, _("Choose a whole number from %(lo)d to %(hi)d.")
                       % {"lo": lo, "hi": hi}, code="bad_prescription")
    return value


def issue_prescription(*, access: Access, clinic_id: int, resident_id: int, sport_id: int,
                       intensity: str, sessions_per_week: int, minutes_per_session: int,
                       weeks: int, starts_on: dt.date, notes: str = "",
                       heart_rate_low: int | None = None, heart_rate_high: int | None = None,
                       request: Any = None) -> Prescription:
    """A clinic's staff prescribe exercise to a resident with a live consent to that clinic.
    Refuses another clinic (``not_found``), a resident without a live consent (``not_found``,
    telling nothing of them), an unknown sport or intensity, values out of range, a heart-rate
    zone missing or upside down (``bad_prescription``) and a start more than a week past or a
    year ahead. The consent row is locked so a withdrawal in flight is not overtaken. Audited."""
    from sportsman.activity.selectors import today
    from sportsman.core.models import Sport

    clinic = selectors.clinic_for(access, clinic_id)
    if intensity not in Intensity.values:
        raise _invalid("intensity", _("Choose an intensity."), code="bad_prescription")
    sessions_per_week = _check_range("sessions_per_week", sessions_per_week, 1,
                                     MAX_SESSIONS_PER_WEEK)
    minutes_per_session = _check_range("minutes_per_session", minutes_per_session,
                                       MIN_MINUTES, MAX_MINUTES)
    weeks = _check_range("weeks", weeks, 1, MAX_WEEKS)
    if intensity == Intensity.HEART_RATE:
        if heart_rate_low is None or heart_rate_high is None:
            raise _invalid("heart_rate_low", _("Give the heart-rate zone (beats per minute)."),
                           code="bad_prescription")
        _check_range("heart_rate_low", heart_rate_low, 40, 220)
        _check_range("heart_rate_high", heart_rate_high, 40, 220)
        if heart_rate_low >= heart_rate_high:
            raise _invalid("heart_rate_high", _("The zone's top must be above its bottom."),
                           code="bad_prescription")
    else:
        heart_rate_low = heart_rate_high = None
    now = today()
    if not isinstance(starts_on, dt.date) or not (
            now - dt.timedelta(days=7) <= starts_on <= now + dt.timedelta(days=366)):
        raise _invalid("starts_on", _("Start within the past week or the coming year."),
                       code="bad_prescription")
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise _invalid("notes", _("Notes are at most %(n)d characters.") % {"n": MAX_NOTES},
                       code="bad_prescription")
    sport = Sport.objects.filter(pk=sport_id).first()
    if sport is None:
        raise _invalid("sport_id", _("Choose a sport from the catalogue."),
                       code="bad_prescription")
    with transaction.atomic():
        consent = (selectors.live_consents().select_for_update(of=("self",))
                   .filter(clinic=clinic, user_id=resident_id).first())
        if consent is None:
            raise NotFound(_("No resident here has given this clinic consent."))
        p = Prescription.objects.create(
            clinic=clinic, resident_id=resident_id, issued_by=access.user, sport=sport,
            intensity=intensity, heart_rate_low=heart_rate_low, heart_rate_high=heart_rate_high,
            sessions_per_week=sessions_per_week, minutes_per_session=minutes_per_session,
            weeks=weeks, starts_on=starts_on, notes=notes)
        audit.record(actor=access.user, action="health.prescription.issue", obj=p,
                     region=clinic.region, request=request,
                     data={"clinic_id": clinic.pk, "resident_id": resident_id})
    return p


def prescription_of_clinic(access: Access, *, clinic_id: int, prescription_id: int,
                           request: Any = None) -> Prescription:
    """One prescription of the actor's clinic, while its resident's consent lasts; else
    ``not_found``. The look is audited (staff viewing personal data)."""
    clinic = selectors.clinic_for(access, clinic_id)
    p = selectors.prescriptions_of_clinic(clinic).filter(pk=prescription_id).first()
    if p is None:
        raise NotFound()
    audit.record_view(actor=access.user, subject=p.resident, what="health.adherence",
                      request=request, region=clinic.region)
    return p
