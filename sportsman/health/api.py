"""Health services API: residents' consents and prescriptions (``for_self``), the clinic's
work (``CLINIC_PRACTISE`` on that clinic), and the clinic registry (``CLINIC_MANAGE``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from sportsman.core.schemas import In
from sportsman.health import selectors, services
from sportsman.health.models import (
    MAX_MINUTES,
    MAX_NOTES,
    MAX_SESSIONS_PER_WEEK,
    MAX_WEEKS,
    Clinic,
    ClinicConsent,
    Prescription,
)
from sportsman.regions.access import Perm, access_for, for_self, scoped

router = Router(tags=["health"])

ID = Field(..., ge=1, lt=2**63)


class ClinicOut(Schema):
    id: int
    name: str
    address: str
    region_id: int
    region: str


class ClinicIn(In):
    region_id: int = ID
    name: str = Field(..., max_length=100)
    address: str = Field("", max_length=200)


class StaffIn(In):
    user_id: int = ID


class StaffOut(Schema):
    id: int
    clinic_id: int
    user_id: int


class ConsentIn(In):
    clinic_id: int = ID
    version: str = Field(services.CONSENT_VERSION, max_length=16)


class ConsentOut(Schema):
    id: int
    clinic: ClinicOut
    purpose: str
    scope: str
    version: str
    granted_at: dt.datetime
    withdrawn_at: dt.datetime | None
    is_live: bool


class WeekOut(Schema):
    number: int
    start: dt.date
    end: dt.date
    sessions: int
    minutes: int
    state: str


class PrescriptionOut(Schema):
    id: int
    clinic_id: int
    clinic: str
    resident_id: int
    sport: str
    intensity: str
    heart_rate_low: int | None
    heart_rate_high: int | None
    sessions_per_week: int
    minutes_per_session: int
    weeks: int
    starts_on: dt.date
    ends_on: dt.date
    notes: str
    weeks_met: int
    weeks_past: int
    sessions_done: int
    sessions_planned: int
    progress: list[WeekOut]


class PrescriptionIn(In):
    resident_id: int = ID
    sport_id: int = ID
    intensity: str = Field(..., max_length=16)
    sessions_per_week: int = Field(..., ge=1, le=MAX_SESSIONS_PER_WEEK)
    minutes_per_session: int = Field(..., ge=1, le=MAX_MINUTES)
    weeks: int = Field(..., ge=1, le=MAX_WEEKS)
    starts_on: dt.date
    notes: str = Field("", max_length=MAX_NOTES)
    heart_rate_low: int | None = Field(None, ge=1, le=300)
    heart_rate_high: int | None = Field(None, ge=1, le=300)


class ConsentingOut(Schema):
    resident_id: int
    nickname: str
    masked_phone: str
    consent_id: int
    granted_at: dt.datetime


def _clinic(c: Clinic) -> dict[str, Any]:
    return {"id": c.pk, "name": c.name, "address": c.address, "region_id": c.region_id,
            "region": c.region.name}


def _consent(c: ClinicConsent) -> dict[str, Any]:
    return {"id": c.pk, "clinic": _clinic(c.clinic), "purpose": c.purpose, "scope": c.scope,
            "version": c.version, "granted_at": c.granted_at, "withdrawn_at": c.withdrawn_at,
            "is_live": c.is_live}


def _prescriptions(rows: list[Prescription]) -> list[dict[str, Any]]:
    progress = selectors.progress(rows)
    out = []
    for p in rows:
        prog = progress[p.pk]
        out.append({
            "id": p.pk, "clinic_id": p.clinic_id, "clinic": p.clinic.name,
            "resident_id": p.resident_id, "sport": p.sport.slug, "intensity": p.intensity,
            "heart_rate_low": p.heart_rate_low, "heart_rate_high": p.heart_rate_high,
            "sessions_per_week": p.sessions_per_week,
            "minutes_per_session": p.minutes_per_session, "weeks": p.weeks,
            "starts_on": p.starts_on, "ends_on": p.ends_on, "notes": p.notes,
            "weeks_met": prog.weeks_met, "weeks_past": prog.weeks_past,
            "sessions_done": prog.sessions_done, "sessions_planned": prog.sessions_planned,
            "progress": [w.__dict__ for w in prog.weeks]})
    return out


# --- the resident ------------------------------------------------------------------------------


@router.get("/health/clinics", response=list[ClinicOut])
@for_self
def partner_clinics(request: HttpRequest):
    return [_clinic(c) for c in selectors.clinics_list()[:500]]


@router.get("/health/consents", response=list[ConsentOut])
@for_self
def my_consents(request: HttpRequest):
    return [_consent(c) for c in selectors.consents_of(request.user)[:200]]


@router.post("/health/consents", response={201: ConsentOut})
@for_self
def grant_consent(request: HttpRequest, data: ConsentIn):
    c = services.grant_consent(user=request.user, clinic_id=data.clinic_id,
                               version=data.version, request=request)
    return Status(201, _consent(c))


@router.post("/health/consents/{consent_id}/withdraw", response=ConsentOut)
@for_self
def withdraw_consent(request: HttpRequest, consent_id: int):
    return _consent(services.withdraw_consent(user=request.user, consent_id=consent_id,
                                              request=request))


@router.get("/health/prescriptions", response=list[PrescriptionOut])
@for_self
def my_prescriptions(request: HttpRequest):
    return _prescriptions(list(selectors.prescriptions_of_resident(request.user)[:100]))


@router.get("/health/prescriptions/{prescription_id}", response=PrescriptionOut)
@for_self
def my_prescription(request: HttpRequest, prescription_id: int):
    from sportsman.core.errors import NotFound

    rows = list(selectors.prescriptions_of_resident(request.user).filter(pk=prescription_id))
    if not rows:
        raise NotFound()
    return _prescriptions(rows)[0]


# --- the clinic --------------------------------------------------------------------------------


@router.get("/clinic/{clinic_id}/residents", response=list[ConsentingOut])
@scoped(Perm.CLINIC_PRACTISE)
def consenting_residents(request: HttpRequest, clinic_id: int):
    clinic = selectors.clinic_for(access_for(request), clinic_id)
    return [{"resident_id": c.user_id, "nickname": c.user.nickname or "",
             "masked_phone": c.user.masked_phone, "consent_id": c.pk,
             "granted_at": c.granted_at}
            for c in selectors.consenting_residents(clinic)[:500]]


@router.get("/clinic/{clinic_id}/prescriptions", response=list[PrescriptionOut])
@scoped(Perm.CLINIC_PRACTISE)
def clinic_prescriptions(request: HttpRequest, clinic_id: int):
    clinic = selectors.clinic_for(access_for(request), clinic_id)
    return _prescriptions(list(selectors.prescriptions_of_clinic(clinic)[:500]))


@router.post("/clinic/{clinic_id}/prescriptions", response={201: PrescriptionOut})
@scoped(Perm.CLINIC_PRACTISE)
def issue_prescription(request: HttpRequest, clinic_id: int, data: PrescriptionIn):
    p = services.issue_prescription(access=access_for(request), clinic_id=clinic_id,
                                    **data.dict(), request=request)
    return Status(201, _prescriptions([p])[0])


@router.get("/clinic/{clinic_id}/prescriptions/{prescription_id}", response=PrescriptionOut)
@scoped(Perm.CLINIC_PRACTISE)
def clinic_prescription(request: HttpRequest, clinic_id: int, prescription_id: int):
    p = services.prescription_of_clinic(access_for(request), clinic_id=clinic_id,
                                        prescription_id=prescription_id, request=request)
    return _prescriptions([p])[0]


# --- the clinic registry (region staff) --------------------------------------------------------


@router.get("/console/clinics", response=list[ClinicOut])
@scoped(Perm.CLINIC_MANAGE)
def clinics(request: HttpRequest):
    return [_clinic(c) for c in selectors.clinics_for(access_for(request))[:500]]


@router.post("/console/clinics", response={201: ClinicOut})
@scoped(Perm.CLINIC_MANAGE)
def register_clinic(request: HttpRequest, data: ClinicIn):
    c = services.register_clinic(access=access_for(request), region_id=data.region_id,
                                 name=data.name, address=data.address, request=request)
    return Status(201, _clinic(c))


@router.post("/console/clinics/{clinic_id}/staff", response={201: StaffOut})
@scoped(Perm.CLINIC_MANAGE)
def appoint_staff(request: HttpRequest, clinic_id: int, data: StaffIn):
    s = services.appoint_staff(access=access_for(request), clinic_id=clinic_id,
                               user_id=data.user_id, request=request)
    return Status(201, {"id": s.pk, "clinic_id": s.clinic_id, "user_id": s.user_id})


@router.delete("/console/clinics/{clinic_id}/staff/{staff_id}", response={204: None})
@scoped(Perm.CLINIC_MANAGE)
def remove_staff(request: HttpRequest, clinic_id: int, staff_id: int):
    services.remove_staff(access=access_for(request), clinic_id=clinic_id, staff_id=staff_id,
                          request=request)
    return Status(204, None)
