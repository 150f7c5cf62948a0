"""Demo: two partner clinics in 南湖区 (the 新嘉 street's health centre and the district
hospital's rehabilitation department), a doctor at the first (13800000020, the demo password),
the demo resident's consent to it with a walking prescription begun three weeks ago, and a few
residents of the home community with prescriptions of their own — so the clinic console and "my
prescriptions" open filled. Deterministic, a few dozen rows."""

from __future__ import annotations

import datetime as dt

from sportsman.core.demo_city import DemoCity, _password_hash, demo_step

DOCTOR_PHONE = "13800000020"
CLINICS = [("330402009000", "新嘉街道社区卫生服务中心", "新嘉街道中山路 88 号"),
           ("330402000000", "南湖区人民医院康复医学科", "南湖区解放东路 369 号")]
SPORTS = ("walking", "taichi", "swimming", "cycling", "square-dance")
OTHERS = 5


@demo_step("health", order=98)
def step_health(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.activity.selectors import today
    from sportsman.core import crypto
    from sportsman.core.demo import DEMO_HOME_COMMUNITY, DEMO_STAFF
    from sportsman.core.models import Sport
    from sportsman.health.models import (
        Clinic,
        ClinicConsent,
        ClinicStaff,
        Intensity,
        Prescription,
    )

    rng = city.rng("health")
    clinics = [Clinic.objects.create(region=city.regions[code], name=name, address=address)
               for code, name, address in CLINICS if code in city.regions]
    if not clinics:
        return
    home = city.regions.get(DEMO_HOME_COMMUNITY)
    doctor = User(password=_password_hash(city), nickname="社区医生", home_community=home)
    doctor.set_phone(DOCTOR_PHONE)
    doctor.save()
    ClinicStaff.objects.create(clinic=clinics[0], user=doctor)
    sports = list(Sport.objects.filter(slug__in=SPORTS).order_by("slug")) or [
        Sport.objects.order_by("slug").first()]
    demo = User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_STAFF[0][0])).first()
    residents = list(User.objects.filter(home_community=home, role_assignments__isnull=True)
                     .exclude(pk=doctor.pk).exclude(pk=getattr(demo, "pk", None))
                     .order_by("pk")[:OTHERS])
    now = today()
    made = 0
    for i, user in enumerate([u for u in [demo, *residents] if u is not None]):
        ClinicConsent.objects.create(user=user, clinic=clinics[0], version="1")
        sport = next((s for s in sports if s.slug == "walking"), sports[0]) if i == 0 \
            else rng.choice(sports)
        Prescription.objects.create(
            clinic=clinics[0], resident=user, issued_by=doctor, sport=sport,
            intensity=Intensity.MODERATE if i == 0 else rng.choice(
                [Intensity.LOW, Intensity.MODERATE]),
            sessions_per_week=3 if i == 0 else rng.randint(2, 5),
            minutes_per_session=30 if i == 0 else rng.choice([20, 30, 40]),
            weeks=8 if i == 0 else rng.choice([4, 6, 8, 12]),
            starts_on=now - dt.timedelta(days=21 if i == 0 else rng.randint(0, 28)),
            notes="饭后一小时进行，感到胸闷即停止。" if i == 0 else "")
        made += 1
    city.made["health"] = made
