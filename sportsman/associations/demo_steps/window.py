"""Demo applications of the one window (step 88: after the associations, before the cockpit's
figures).

The city has opened the annual inspection of last year (due 31 March): most registered and
filed associations reported — most reports approved (合格, some 基本合格 or 不合格), some
accepted and waiting at the district, some submitted and waiting at the town, a few returned
for correction, rejected or still drafts — and the rest are overdue once the due date passed.
The year before was inspected too (a third of them), so some must attach a rectification
report now. Besides: filings of grassroots teams, changes of registration, event filings of
the associations' own events, high-risk permits, and establishments in preparation. Each has
its documents (one shared demo PDF), its timeline and, once accepted, a receipt number. The
demo login's 嘉兴市体育总会 has a report approved as 基本合格 and a change returned for
correction; 新嘉街道老年人体育协会 has not reported yet. Bulk inserts; deterministic for a seed
(``city.rng("associations-window")``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from sportsman.core.demo_city import BATCH, DemoCity, demo_step

DEMO_PDF = "associations/applications/demo/document.pdf"
ANNUAL_STATES = (("approved", 0.62), ("accepted", 0.08), ("submitted", 0.08),
                 ("returned", 0.05), ("rejected", 0.02), ("draft", 0.05), ("none", 0.10))
RESULTS = (("pass", 0.8), ("basic", 0.15), ("fail", 0.05))
OTHER_STATES = (("approved", 0.45), ("accepted", 0.15), ("submitted", 0.15), ("returned", 0.1),
                ("rejected", 0.05), ("draft", 0.05), ("withdrawn", 0.05))
NOTES = {"returned": ["审计报告缺少签章页，请补充", "年度检查报告书未盖章", "请补充会员名册"],
         "rejected": ["材料与实际不符", "不符合登记条件"],
         "approved": ["材料齐全，准予通过", ""]}


def _demo_pdf() -> str:
    if not default_storage.exists(DEMO_PDF):
        body = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
        return default_storage.save(DEMO_PDF, ContentFile(body))
    return DEMO_PDF


def _pick(rng: Any, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _w in table], [w for _k, w in table])[0]


@demo_step("associations-window", order=88)
def step_window(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.associations import window
    from sportsman.associations.models import (
        Application,
        ApplicationDocument,
        ApplicationStep,
        Association,
        InspectionSeason,
        ReceiptCounter,
    )
    from sportsman.core import crypto
    from sportsman.events.models import Event
    from sportsman.regions.models import Region

    rng = city.rng("associations-window")
    now = timezone.now()
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    year = today.year - 1
    jx = Region.objects.filter(code="330400000000").first()
    if jx is None or not Association.objects.exists():
        return
    document = _demo_pdf()
    regions = {r.pk: r for r in Region.objects.filter(path__startswith=jx.path)}
    city_admin = User.objects.filter(phone_hash=crypto.keyed_hash("13800000004")).first()
    due = dt.date(year + 1, *window.ANNUAL_DUE)
    opened = min(now - dt.timedelta(hours=1),
                 dt.datetime(year + 1, 1, 5, 9, tzinfo=tz))
    season = InspectionSeason.objects.create(region=jx, year=year, due_on=due,
                                             opened_by=city_admin)
    InspectionSeason.objects.filter(pk=season.pk).update(created_at=opened)

    def region_at(region: Any, level: str) -> Any:
        node = region
        while node is not None and node.level != level:
            node = regions.get(node.parent_id)
        return node

    chains: dict[tuple[int, str], tuple[list[str], int]] = {}

    def chain(region: Any, kind: str) -> tuple[list[str], int]:
        key = (region.pk, kind)
        if key not in chains:
            chains[key] = window.chain_for(region, kind)
        return chains[key]

    apps: list[Application] = []
    plans: list[tuple[Application, str, list[tuple[str, str, str, dt.datetime, int | None,
                                                    str]]]] = []
    span_start = max(opened, now - dt.timedelta(days=300))
    span = max((now - span_start).total_seconds(), 3600 * 24 * 20)

    def plan(assoc: Any, kind: str, state: str, data: dict[str, Any], *,
             app_year: int | None = None, result: str = "", submitted: dt.datetime | None = None,
             event_id: int | None = None) -> None:
        region = regions.get(assoc.region_id)
        if region is None:
            return
        levels, days = chain(region, kind)
        created = submitted or (now - dt.timedelta(seconds=rng.uniform(3600, span)))
        submitted = created + dt.timedelta(hours=rng.uniform(1, 48))
        if submitted > now:
            submitted = now - dt.timedelta(minutes=5)
        app = Application(association_id=assoc.pk, region_id=assoc.region_id, kind=kind,
                          status=state if state != "none" else "draft", data=data,
                          year=app_year, event_id=event_id, levels=",".join(levels))
        steps: list[tuple[str, str, str, dt.datetime, int | None, str]] = [
            ("create", "", "draft", created, None, "")]
        app.created_at = created
        if state in ("draft",):
            app.levels = ""
            plans.append((app, "", steps))
            apps.append(app)
            return
        first = region_at(region, levels[0])
        app.submitted_at, app.due_at = submitted, submitted + dt.timedelta(days=days)
        steps.append(("submit", "draft", "submitted", submitted, None, ""))
        if kind == "annual_report" and app_year:
            app.is_late = timezone.localdate(submitted) > due
        at = submitted
        if state == "withdrawn":
            at = at + dt.timedelta(hours=rng.uniform(2, 72))
            app.reviewing_region_id = None
            returned_at = at
            steps.append(("return", "submitted", "returned", returned_at, first.pk,
                          rng.choice(NOTES["returned"])))
            steps.append(("withdraw", "returned", "withdrawn",
                          returned_at + dt.timedelta(hours=5), None, ""))
            plans.append((app, "", steps))
            apps.append(app)
            return
        if state == "submitted":
            app.reviewing_region_id, app.step = first.pk, 0
            plans.append((app, "", steps))
            apps.append(app)
            return
        accept_at = min(now - dt.timedelta(minutes=3),
                        at + dt.timedelta(hours=rng.uniform(2, 60)))
        app.accepted_at = accept_at
        steps.append(("accept", "submitted", "accepted", accept_at, first.pk, ""))
        step = 1 if len(levels) > 1 else 0
        where = region_at(region, levels[step])
        if state == "accepted":
            app.reviewing_region_id, app.step = where.pk, step
            plans.append((app, "receipt", steps))
            apps.append(app)
            return
        decide_at = min(now - dt.timedelta(minutes=1),
                        accept_at + dt.timedelta(days=rng.uniform(1, days * 1.3)))
        # the levels above the second approve on the way
        for lv in levels[step + 1:]:
            mid = region_at(region, lv)
            steps.append(("approve", "accepted", "accepted", decide_at - dt.timedelta(hours=2),
                          where.pk, ""))
            where = mid
        final = {"approved": ("approve", "approved"), "rejected": ("reject", "rejected"),
                 "returned": ("return", "returned")}[state]
        note = rng.choice(NOTES.get(state, [""]))
        steps.append((final[0], "accepted", final[1], decide_at, where.pk, note))
        app.decision_note = note
        app.step = len(levels) - 1 if state != "returned" else step
        if state in ("approved", "rejected"):
            app.decided_at = decide_at
            app.decided_on_time = decide_at <= app.due_at
            app.result = result if kind == "annual_report" and state == "approved" else ""
        plans.append((app, "receipt", steps))
        apps.append(app)

    assocs = list(Association.objects.filter(region_id__in=list(regions))
                  .select_related("region").order_by("pk"))
    demo_names = {"嘉兴市体育总会", "嘉兴市老年人体育协会", "新嘉街道老年人体育协会",
                  "花园社区健身队"}
    reporting = [a for a in assocs if a.legal_status in ("registered", "filed")
                 and a.status in ("active", "suspended")]
    annual_fields = {"activities": 0, "participants": 0, "income_yuan": 0,
                     "expenditure_yuan": 0, "summary": "全年组织会员开展健身活动"}

    def annual_data(y: int) -> dict[str, Any]:
        return {**annual_fields, "year": y, "activities": rng.randint(3, 40),
                "participants": rng.randint(50, 5000), "income_yuan": rng.randint(0, 300_000),
                "expenditure_yuan": rng.randint(0, 280_000)}

    for assoc in reporting:
        name = assoc.name
        if name == "新嘉街道老年人体育协会":
            plan(assoc, "annual_report", "approved", annual_data(year - 1), app_year=year - 1,
                 result="pass", submitted=opened - dt.timedelta(days=300))
            continue  # it has not reported on last year yet (the end-to-end test does)
        if rng.random() < 0.33 or name == "嘉兴市体育总会":
            plan(assoc, "annual_report", "approved", annual_data(year - 1), app_year=year - 1,
                 result=_pick(rng, RESULTS), submitted=opened - dt.timedelta(days=330))
        state = "approved" if name == "嘉兴市体育总会" else _pick(rng, ANNUAL_STATES)
        if state == "none":
            continue
        result = "basic" if name == "嘉兴市体育总会" else _pick(rng, RESULTS)
        plan(assoc, "annual_report", state, annual_data(year), app_year=year, result=result)
    teams = [a for a in assocs if a.legal_status == "grassroots" and a.status == "active"
             and a.name not in demo_names]
    for assoc in rng.sample(teams, min(len(teams), 30)):
        plan(assoc, "filing", _pick(rng, OTHER_STATES),
             {"members": rng.randint(20, 60), "leader": "王队长",
              "activity_place": f"{assoc.region.name}健身广场", "activity_times": "每天清晨"})
    registered = [a for a in reporting if a.legal_status == "registered"]
    for assoc in rng.sample(registered, min(len(registered), 14)):
        plan(assoc, "change", _pick(rng, OTHER_STATES),
             {"item": "address", "new_value": f"{assoc.region.name}体育馆", "reason": "办公地点搬迁"})
    federation = next((a for a in assocs if a.name == "嘉兴市体育总会"), None)
    if federation is not None:
        plan(federation, "change", "returned", {"item": "contact_phone",
                                                "new_value": "0573-82000000",
                                                "reason": "联系电话变更"})
    for assoc in rng.sample(registered, min(len(registered), 6)):
        starts = today + dt.timedelta(days=rng.randint(25, 90))
        plan(assoc, "high_risk_permit", _pick(rng, OTHER_STATES),
             {"event_name": f"{assoc.region.name}攀岩邀请赛", "sport_item": "climbing",
              "starts_on": starts.isoformat(), "place": f"{assoc.region.name}攀岩馆",
              "scale": rng.randint(50, 400), "organisers": assoc.name},
             submitted=now - dt.timedelta(days=rng.uniform(0.2, 4)))
    for event_id, organiser_id in (Event.objects.filter(organiser_kind="association")
                                   .exclude(organiser_id=None).order_by("id")
                                   .values_list("id", "organiser_id")[:20]):
        organiser = next((a for a in assocs if a.pk == organiser_id), None)
        if organiser is not None and organiser.status == "active":
            plan(organiser, "event_filing", _pick(rng, OTHER_STATES),
                 {"event_id": event_id, "expected_people": rng.randint(50, 800),
                  "safety_officer": "李安全", "medical_cover": True}, event_id=event_id)
    preparing = [a for a in teams[:3]]
    for assoc in preparing:
        Association.objects.filter(pk=assoc.pk).update(status="preparing")
        plan(assoc, "preparation", _pick(rng, (("submitted", 0.5), ("accepted", 0.5))),
             {"proposed_name": assoc.name, "individual_members": rng.randint(50, 120),
              "unit_members": 0, "funds_yuan": 30000, "address": f"{assoc.region.name}",
              "founders": "张建国、李秀兰"})

    # receipts in acceptance order, per city and year
    ordered = sorted((a for a, receipt, _s in plans if receipt and a.accepted_at),
                     key=lambda a: a.accepted_at or now)
    counters: dict[int, int] = defaultdict(int)
    for app in ordered:
        y = timezone.localtime(app.accepted_at).year
        counters[y] += 1
        app.receipt_no = f"JX-{y}-{counters[y]:06d}"
    Application.objects.bulk_create(apps, batch_size=BATCH)
    # TimeStampedModel stamped them now: put their creation back in place
    Application.objects.bulk_update(apps, ["created_at"], batch_size=BATCH)
    ReceiptCounter.objects.bulk_create([ReceiptCounter(city=jx, year=y, last=n)
                                        for y, n in sorted(counters.items())])
    steps: list[ApplicationStep] = []
    docs: list[ApplicationDocument] = []
    roles = {"town": "town_admin", "district": "district_admin", "city": "city_admin",
             "community": "community_admin"}
    for app, _receipt, rows in plans:
        for action, before, after, at, region_id, note in rows:
            level = regions[region_id].level if region_id else ""
            steps.append(ApplicationStep(
                application_id=app.pk, action=action, from_status=before, to_status=after,
                level=level, region_id=region_id,
                actor_role=roles.get(level, "") if region_id else "association",
                note=note, at=at))
        if app.submitted_at is not None:
            for key in [d.key for d in window.DOCUMENTS[app.kind] if d.required]:
                docs.append(ApplicationDocument(
                    application_id=app.pk, requirement=key, file=document,
                    name=f"{key}.pdf", file_type="pdf", size=60,
                    uploaded_at=app.submitted_at - dt.timedelta(minutes=10)))
    ApplicationStep.objects.bulk_create(steps, batch_size=BATCH)
    ApplicationDocument.objects.bulk_create(docs, batch_size=BATCH)
    told = window.due_associations(jx, year).count()
    InspectionSeason.objects.filter(pk=season.pk).update(notified=told)
    demo = User.objects.filter(phone_hash=crypto.keyed_hash("13800000010")).first()
    if demo is not None:
        from sportsman.notifications.services import notify

        notify(users=User.objects.filter(pk=demo.pk), category="association",
               title=f"{year}年度检查：请于{due.isoformat()}前提交年度工作报告",
               link="/associations/mine/", data={"season_id": season.pk, "year": year},
               dedupe_key=f"associations.season:{season.pk}")
