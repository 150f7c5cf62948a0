"""Demo reports (报事反馈, step 82: after the facilities, volunteering and events).

Over the last 120 days residents of every community reported problems (jx: 2–9 a community,
small: 2–4): half at one of the community's facilities (routed to its venue managers, with the
facility's report ticket), the rest at a point near one; in every state — most closed (confirmed
or closed by themselves) and many rated, some resolved awaiting the reporter, some accepted or in
progress, some still waiting to be accepted (a few overdue and escalated to the town), a few
rejected with a reason or merged into a duplicate. Each has one to three photos (a handful of
demo pictures shared by all) and a timeline. The demo resident (13800000000) has a resolved
report waiting for their confirmation and an open one. Deterministic for a seed: all randomness
comes from ``city.rng("governance-reports")``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

DEMO_RESIDENT_PHONE = "13800000000"
PER_COMMUNITY = {"small": (2, 4), "jx": (2, 9), "province": (1, 3)}
DAYS = 120
TEXTS = {
    "facility_damage": ["单杠松动，晃得厉害", "漫步机踏板断了", "篮球架篮网破了", "乒乓球台面开裂",
                        "健身路径扭腰器卡住转不动", "羽毛球场围网破了个洞"],
    "safety": ["健身器材边有钉子露出来", "步道地砖翘起容易绊倒", "护栏松了，小孩容易攀爬"],
    "lighting": ["球场的灯坏了三盏，晚上打不了球", "健身广场路灯不亮", "步道夜里太黑了"],
    "hygiene": ["健身点垃圾没人清理", "场地边积水发臭", "落叶堆满了步道"],
    "noise": ["晚上九点后广场舞音响太大", "清晨篮球场拍球声扰民"],
    "occupation": ["球场被车辆占用停车", "健身广场被摆摊占用"],
    "suggestion": ["希望健身点增加遮阳棚", "建议球场延长开放到晚上十点", "希望增加儿童游乐设施"],
}
ANSWERS = ["已安排维修，现已修复", "已更换新器材", "已联系物业清理", "已与活动团队沟通，调低音量",
           "已修复照明", "已设置警示并完成修补"]
REJECTS = ["该场地不属于本社区管理，已告知产权单位", "经现场核实未发现问题"]
PHOTO_COLOURS = [(190, 60, 50), (60, 120, 180), (80, 150, 90), (200, 170, 60), (120, 90, 160),
                 (90, 90, 90)]


def _demo_photos() -> list[str]:
    """A few small pictures on disk that every demo report shares."""
    from PIL import Image, ImageDraw

    names = []
    for i, colour in enumerate(PHOTO_COLOURS):
        name = f"governance/reports/demo/photo-{i}.jpg"
        if not default_storage.exists(name):
            image = Image.new("RGB", (480, 360), colour)
            draw = ImageDraw.Draw(image)
            draw.rectangle((140, 100, 340, 260), outline=(255, 255, 255), width=8)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
            name = default_storage.save(name, ContentFile(out.getvalue()))
        names.append(name)
    return names


@demo_step("governance-reports", order=82)
def step_reports(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.core import crypto
    from sportsman.facilities.models import Facility, MaintenanceTicket, TicketKind, TicketStatus
    from sportsman.governance import reports as svc
    from sportsman.governance.models import (
        Category,
        Handler,
        Report,
        ReportEvent,
        ReportPhoto,
        ReportStatus,
        Step,
    )
    from sportsman.regions.access import Perm, own_holders
    from sportsman.regions.models import Level, Region

    rng = city.rng("governance-reports")
    now = timezone.now()
    photos = _demo_photos()
    communities = list(Region.objects.filter(level=Level.COMMUNITY).order_by("code"))
    if not communities:
        return
    parents = dict(Region.objects.values_list("id", "parent_id"))
    people: dict[int, list[int]] = defaultdict(list)
    for pk, home in (User.objects.exclude(home_community=None).order_by("pk")
                     .values_list("pk", "home_community_id")):
        people[home].append(pk)
    places: dict[int, list[tuple[int, str, float, float]]] = defaultdict(list)
    for row in Facility.objects.order_by("pk").values_list("pk", "region_id", "name", "lat", "lng"):
        places[row[1]].append((row[0], row[2], row[3], row[4]))
    staff = own_holders(Perm.REPORT_HANDLE, [c.pk for c in communities])
    demo = User.objects.filter(phone_hash=crypto.keyed_hash(DEMO_RESIDENT_PHONE)).first()
    low, high = PER_COMMUNITY.get(city.scale, PER_COMMUNITY["jx"])
    categories = [c.value for c in Category if c.value in TEXTS]

    made: list[tuple[Report, list[tuple[str, dt.datetime, int | None, str]], dict[str, Any]]] = []
    for community in communities:
        here = places.get(community.pk) or []
        residents = people.get(community.pk) or []
        if not here or not residents:
            continue
        handlers = staff.get(community.pk) or []
        count = rng.randint(low, high)
        for n in range(count):
            category = rng.choice(categories)
            at_facility = rng.random() < 0.5 and category != "suggestion"
            facility = rng.choice(here)
            lat = facility[2] + (0 if at_facility else rng.uniform(-0.002, 0.002))
            lng = facility[3] + (0 if at_facility else rng.uniform(-0.002, 0.002))
            reporter = rng.choice(residents)
            if demo is not None and community.pk == demo.home_community_id and n < 2:
                reporter = demo.pk
            way = svc.route(community, category, has_facility=at_facility)
            created = now - dt.timedelta(days=rng.uniform(0.05, DAYS))
            fate = rng.random()
            mine = demo is not None and reporter == demo.pk
            if mine:  # resolved two days ago, awaiting me; and one still open
                fate = 0.3 if n == 0 else 0.9
                created = now - dt.timedelta(days=3 if n == 0 else 0.2)
            report = Report(
                reporter_id=reporter, region=community,
                facility_id=facility[0] if at_facility else None, lat=lat, lng=lng,
                address=facility[1] if at_facility else f"{facility[1]}附近",
                category=category, description=rng.choice(TEXTS[category]),
                handler=Handler.VENUE_MANAGER if at_facility else Handler.REGION_STAFF,
                handling_region=community,
                accept_due=created + dt.timedelta(hours=way.accept_hours),
                resolve_due=created + dt.timedelta(days=way.resolve_days))
            steps: list[tuple[str, dt.datetime, int | None, str]] = [
                (Step.SUBMITTED, created, reporter, "")]
            worker = rng.choice(handlers) if handlers else None
            accepted = created + dt.timedelta(hours=rng.uniform(0.5, way.accept_hours * 1.3))
            resolved = accepted + dt.timedelta(days=rng.uniform(0.2, way.resolve_days * 1.25))
            if mine:
                accepted = created + dt.timedelta(hours=1)
                resolved = created + dt.timedelta(days=1)
            if fate < 0.05 and accepted < now:  # rejected
                report.status = ReportStatus.REJECTED
                report.public_note = rng.choice(REJECTS)
                report.accepted_at = accepted
                report.closed_at = accepted
                steps.append((Step.REJECTED, accepted, worker, report.public_note))
            elif fate < 0.55 and resolved < now:  # resolved, and closed unless recent
                report.status = ReportStatus.RESOLVED
                report.accepted_at, report.resolved_at = accepted, resolved
                report.resolved_on_time = resolved <= report.resolve_due
                report.public_note = rng.choice(ANSWERS)
                steps += [(Step.ACCEPTED, accepted, worker, ""),
                          (Step.IN_PROGRESS, accepted + dt.timedelta(hours=1), worker, ""),
                          (Step.RESOLVED, resolved, worker, report.public_note)]
                closes = resolved + dt.timedelta(days=svc.AUTO_CLOSE_DAYS)
                confirmed = resolved + dt.timedelta(hours=rng.uniform(2, 100))
                # the demo resident's own resolved report stays for them to confirm and rate
                if not mine and rng.random() < 0.6 and confirmed < now:
                    report.status, report.closed_at = ReportStatus.CLOSED, confirmed
                    steps.append((Step.CONFIRMED, confirmed, reporter, ""))
                    if rng.random() < 0.8:
                        report.rating = rng.choices([5, 4, 3, 2, 1], [50, 30, 10, 6, 4])[0]
                        steps.append((Step.RATED, confirmed + dt.timedelta(minutes=3), reporter,
                                      "★" * report.rating))
                elif not mine and closes < now:
                    report.status, report.closed_at = ReportStatus.CLOSED, closes
                    steps.append((Step.AUTO_CLOSED, closes, None, ""))
            elif fate < 0.6 and accepted < now and made:  # a duplicate of an earlier report
                report.status = ReportStatus.MERGED
                report.closed_at = accepted
                steps.append((Step.MERGED, accepted, worker, ""))
            elif fate < 0.85 and accepted < now:  # being worked on
                report.status = rng.choice([ReportStatus.ACCEPTED, ReportStatus.IN_PROGRESS])
                report.accepted_at = accepted
                steps.append((Step.ACCEPTED, accepted, worker, ""))
                if report.status == ReportStatus.IN_PROGRESS:
                    steps.append((Step.IN_PROGRESS, accepted + dt.timedelta(hours=2), worker, ""))
            else:  # waiting to be accepted: fresh, or overdue and escalated to the town
                report.status = ReportStatus.SUBMITTED
                if report.accept_due < now and parents.get(community.pk):
                    report.handling_region_id = parents[community.pk]
                    report.handler = Handler.REGION_STAFF
                    report.escalations = 1
                    report.accept_due = report.accept_due + dt.timedelta(hours=way.accept_hours)
                    steps.append((Step.ESCALATED, report.accept_due
                                  - dt.timedelta(hours=way.accept_hours), None, ""))
            updated = max(at for _s, at, _a, _n in steps)
            made.append((report, steps, {"created": created, "updated": updated,
                                         "photos": rng.randint(1, 3),
                                         "photo": rng.randrange(len(photos))}))

    Report.objects.bulk_create([r for r, _s, _x in made], batch_size=BATCH)
    for report, _steps, extra in made:
        report.created_at, report.updated_at = extra["created"], extra["updated"]
    Report.objects.bulk_update([r for r, _s, _x in made], ["created_at", "updated_at"],
                               batch_size=BATCH)
    # a merged report follows an earlier open one of its community
    by_region: dict[int, list[int]] = defaultdict(list)
    for report, _s, _x in made:
        if report.is_open:
            by_region[report.region_id].append(report.pk)
    merged = []
    for report, _s, _x in made:
        if report.status == ReportStatus.MERGED:
            targets = [pk for pk in by_region.get(report.region_id, []) if pk != report.pk]
            if targets:
                report.merged_into_id = rng.choice(targets)
                merged.append(report)
    Report.objects.bulk_update(merged, ["merged_into"], batch_size=BATCH)
    ReportEvent.objects.bulk_create(
        [ReportEvent(report=r, step=s, actor_id=a, note=n, at=at,
                     region_id=r.handling_region_id if s == Step.ESCALATED else r.region_id)
         for r, steps, _x in made for s, at, a, n in steps], batch_size=BATCH)
    ReportPhoto.objects.bulk_create(
        [ReportPhoto(report=r, image=photos[(x["photo"] + i) % len(photos)], position=i)
         for r, _s, x in made for i in range(x["photos"])], batch_size=BATCH)
    status_of: dict[str, str] = {ReportStatus.SUBMITTED: TicketStatus.OPEN,
                 ReportStatus.ACCEPTED: TicketStatus.ASSIGNED,
                 ReportStatus.IN_PROGRESS: TicketStatus.ASSIGNED}
    tickets = [MaintenanceTicket(
        facility_id=r.facility_id, kind=TicketKind.REPORT, report_id=r.pk,
        title=f"{Category(r.category).label} · {r.address}"[:200],
        status=status_of.get(r.status, TicketStatus.DONE),
        done_at=None if r.is_open else (r.resolved_at or r.closed_at))
        for r, _s, _x in made if r.facility_id is not None]
    MaintenanceTicket.objects.bulk_create(tickets, batch_size=BATCH)
    for ticket, created in zip(tickets, [x["created"] for r, _s, x in made
                                         if r.facility_id is not None], strict=True):
        ticket.created_at = created
    MaintenanceTicket.objects.bulk_update(tickets, ["created_at"], batch_size=BATCH)
    city.made["reports"] = len(made)
