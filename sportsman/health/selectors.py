"""Reads of health services: which clinics a user staffs (the object grant), what a clinic may
see (only residents with a live consent to it, checked in the query of every request), and the
weekly progress of a prescription computed from the exercise record's daily rollup
(``activity.UserDay``), one grouped query for any number of prescriptions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from sportsman.activity.models import UserDay
from sportsman.activity.selectors import today
from sportsman.core.errors import NotFound
from sportsman.health.models import Clinic, ClinicConsent, ClinicStaff, Prescription
from sportsman.regions.access import Access, Perm


def clinics_staffed_by(user_id: int) -> frozenset[int]:
    """Ids of the active clinics ``user_id`` works for (one query; Access caches it)."""
    return frozenset(ClinicStaff.objects.filter(user_id=user_id, clinic__is_active=True)
                     .values_list("clinic_id", flat=True))


def live_consents() -> QuerySet[ClinicConsent]:
    """Consents not withdrawn, of residents whose account still stands (a deleted account kept
    as a tombstone is inactive: its consents lapse with it)."""
    return ClinicConsent.objects.filter(withdrawn_at__isnull=True, user__is_active=True)


def _consent_exists() -> Exists:
    return Exists(live_consents().filter(user_id=OuterRef("resident_id"),
                                         clinic_id=OuterRef("clinic_id")))


def clinic_for(access: Access, clinic_id: int) -> Clinic:
    """The clinic the actor works for, else ``not_found`` (another clinic does not leak)."""
    access.require_on(Perm.CLINIC_PRACTISE, clinic_id)
    clinic = Clinic.objects.select_related("region").filter(pk=clinic_id, is_active=True).first()
    if clinic is None:
        raise NotFound()
    return clinic


def consenting_residents(clinic: Clinic) -> QuerySet[ClinicConsent]:
    """Live consents to ``clinic``: the residents it may prescribe to and follow."""
    return (live_consents().filter(clinic=clinic).select_related("user")
            .order_by("-granted_at", "-id"))


def prescriptions_of_clinic(clinic: Clinic) -> QuerySet[Prescription]:
    """The clinic's prescriptions whose resident's consent to it is live at this query. A
    withdrawn consent hides them from the next request on: nothing is cached."""
    return (Prescription.objects.filter(clinic=clinic).filter(_consent_exists())
            .select_related("clinic", "resident", "sport").order_by("-starts_on", "-id"))


def prescriptions_of_resident(user: Any) -> QuerySet[Prescription]:
    """A resident's own prescriptions, whatever their consents (they are the resident's data)."""
    return (Prescription.objects.filter(resident_id=user.pk)
            .select_related("clinic", "sport").order_by("-starts_on", "-id"))


def consents_of(user: Any) -> QuerySet[ClinicConsent]:
    """Every consent the resident gave, live or withdrawn, newest first (their record)."""
    return (ClinicConsent.objects.filter(user_id=user.pk).select_related("clinic__region")
            .order_by("-granted_at", "-id"))


def clinics_list() -> QuerySet[Clinic]:
    """Active partner clinics a resident may choose to consent to."""
    return Clinic.objects.filter(is_active=True).select_related("region").order_by("name", "id")


def clinics_for(access: Access) -> QuerySet[Clinic]:
    """Clinics registered in the actor's ``CLINIC_MANAGE`` subtree."""
    return access.scope(Clinic.objects.select_related("region"), Perm.CLINIC_MANAGE).order_by(
        "region__path", "name", "id")


@dataclass
class Week:
    number: int
    start: dt.date
    end: dt.date  # inclusive
    sessions: int = 0
    minutes: int = 0
    state: str = "future"  # "future", "current", "met", "missed"


@dataclass
class Progress:
    prescription_id: int
    per_week: int
    weeks: list[Week] = field(default_factory=list)
    weeks_met: int = 0
    weeks_past: int = 0
    sessions_done: int = 0
    sessions_planned: int = 0
    minutes_done: int = 0

    @property
    def ratio(self) -> float:
        """Sessions done over sessions planned so far (past and current weeks), 0..1."""
        planned = self.per_week * sum(1 for w in self.weeks if w.state != "future")
        return min(1.0, self.sessions_done / planned) if planned else 0.0


def progress(prescriptions: Iterable[Prescription], *, on: dt.date | None = None
             ) -> dict[int, Progress]:
    """Weekly progress of each prescription, by its id: sessions and minutes per week of its
    resident's daily rollups. A week is met when it holds at least the prescribed sessions and
    at least sessions × minutes; only finished weeks count as met or missed. One query."""
    rows = list(prescriptions)
    on = on or today()
    if not rows:
        return {}
    lo = min(p.starts_on for p in rows)
    hi = min(max(p.ends_on for p in rows), on)
    per_user: dict[int, dict[dt.date, tuple[int, int]]] = defaultdict(dict)
    if lo <= hi:
        found = (UserDay.objects.filter(user_id__in={p.resident_id for p in rows},
                                        day__gte=lo, day__lte=hi)
                 .values_list("user_id", "day", "sessions", "minutes"))
        for user_id, day, sessions, minutes in found:
            per_user[user_id][day] = (sessions, minutes)
    out: dict[int, Progress] = {}
    for p in rows:
        prog = Progress(prescription_id=p.pk, per_week=p.sessions_per_week,
                        sessions_planned=p.sessions_per_week * p.weeks)
        days = per_user.get(p.resident_id, {})
        for n in range(p.weeks):
            start = p.starts_on + dt.timedelta(days=7 * n)
            week = Week(number=n + 1, start=start, end=start + dt.timedelta(days=6))
            if start <= on:
                for d in range(7):
                    s, m = days.get(start + dt.timedelta(days=d), (0, 0))
                    week.sessions += s
                    week.minutes += m
                met = (week.sessions >= p.sessions_per_week
                       and week.minutes >= p.sessions_per_week * p.minutes_per_session)
                if week.end < on:
                    week.state = "met" if met else "missed"
                    prog.weeks_past += 1
                else:
                    week.state = "met" if met else "current"
                prog.weeks_met += week.state == "met"
                prog.sessions_done += week.sessions
                prog.minutes_done += week.minutes
            prog.weeks.append(week)
        out[p.pk] = prog
    return out
