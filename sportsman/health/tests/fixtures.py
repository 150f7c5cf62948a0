"""A small health world on the scope tree: clinics A and B in town t1 (a community health centre
and a hospital's rehabilitation department), one staff member each, the tree's resident
consenting to A, and one prescription from A."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass
class World:
    a: Any
    b: Any
    staff_a: Any
    staff_b: Any
    consent: Any
    prescription: Any
    sport: Any


def world(tree, *, starts_on: dt.date | None = None) -> World:
    from sportsman.activity.selectors import today
    from sportsman.core.models import Sport
    from sportsman.health.models import (
        Clinic,
        ClinicConsent,
        ClinicStaff,
        Intensity,
        Prescription,
    )

    a = Clinic.objects.create(region=tree.t1, name="新嘉街道社区卫生服务中心")
    b = Clinic.objects.create(region=tree.t1, name="南湖区医院康复科")
    staff_a, staff_b = tree.user(nickname="医生甲"), tree.user(nickname="医生乙")
    ClinicStaff.objects.create(clinic=a, user=staff_a)
    ClinicStaff.objects.create(clinic=b, user=staff_b)
    consent = ClinicConsent.objects.create(user=tree.resident, clinic=a, version="1")
    # get_or_create: a transactional test's flush empties the seeded catalogue.
    sport, _ = Sport.objects.get_or_create(slug="swimming", defaults={
        "name_zh": "游泳", "name_en": "Swimming", "family": "endurance"})
    p = Prescription.objects.create(
        clinic=a, resident=tree.resident, issued_by=staff_a, sport=sport,
        intensity=Intensity.MODERATE, sessions_per_week=3, minutes_per_session=30, weeks=4,
        starts_on=starts_on or today())
    # The scope matrix casts its actors by tree attribute names.
    tree.clinic_a_staff, tree.clinic_b_staff = staff_a, staff_b
    return World(a, b, staff_a, staff_b, consent, p, sport)
