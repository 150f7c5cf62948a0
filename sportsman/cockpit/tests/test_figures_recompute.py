"""Every cockpit figure equals a recomputation from the raw records, in several random demo
cities, for every region of the city and several periods; a region's figure is the sum of its
children's.

The recomputation below reads the raw rows (records, users, facilities, slots, bookings, visits,
tickets, ledger entries, vouchers) and counts in plain Python, independently of the SQL the
domains' ``figures`` modules use."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.utils import timezone

from sportsman.cockpit import periods, tallies
from sportsman.cockpit.models import Tally, TallyMonth
from sportsman.core import figures

TZ = ZoneInfo("Asia/Shanghai")


def local(at: dt.datetime) -> dt.date:
    return at.astimezone(TZ).date()


class Raw:
    """The figures of a set of communities recomputed from raw rows."""

    def __init__(self) -> None:
        from sportsman.accounts.models import User
        from sportsman.activity.models import ActivityRecord
        from sportsman.facilities.models import (
            Booking,
            Device,
            Facility,
            MaintenanceTicket,
            Slot,
            Visit,
        )
        from sportsman.rewards.models import PointEntry, Voucher

        self.users = list(User.objects.values("id", "is_active", "home_community_id",
                                              "date_joined"))
        self.home = {u["id"]: u["home_community_id"] for u in self.users}
        self.records = list(ActivityRecord.objects.values(
            "user_id", "region_id", "started_at", "counted_minutes", "is_verified", "flags"))
        self.facilities = list(Facility.objects.values("id", "region_id", "created_at"))
        self.facility_region = {f["id"]: f["region_id"] for f in self.facilities}
        first_device: dict[int, dt.datetime] = {}
        for d in Device.objects.values("facility_id", "created_at"):
            at = first_device.get(d["facility_id"])
            first_device[d["facility_id"]] = min(at, d["created_at"]) if at else d["created_at"]
        self.first_device = first_device
        self.slots = list(Slot.objects.values("facility_id", "start", "end", "capacity", "status"))
        self.bookings = list(Booking.objects.values("facility_id", "start", "end", "status"))
        self.visits = list(Visit.objects.values("facility_id", "started_at"))
        self.tickets = list(MaintenanceTicket.objects.values("facility_id", "created_at", "status",
                                                             "done_at"))
        self.points = list(PointEntry.objects.values("user_id", "amount", "reverses_id",
                                                     "created_at"))
        self.vouchers = list(Voucher.objects.values("user_id", "issued_at", "redeemed_at",
                                                    "face_value_cents"))
        from sportsman.events.models import HOLDS_PLACE, Event, Registration
        from sportsman.groups.models import Group, GroupActivity, Membership, Signup

        self.groups = list(Group.objects.values("id", "region_id", "status", "created_at",
                                                "updated_at"))
        self.group_region = {g["id"]: g["region_id"] for g in self.groups}
        self.group_status = {g["id"]: g["status"] for g in self.groups}
        self.memberships = list(Membership.objects.values("group_id", "status", "joined_at"))
        self.group_activities = {a["id"]: a for a in GroupActivity.objects.values(
            "id", "group_id", "status", "starts_at")}
        self.signups = list(Signup.objects.values("activity_id", "status"))
        self.events = {e["id"]: e for e in Event.objects.values("id", "region_id", "status",
                                                                "mode", "starts_at")}
        self.registrations = list(Registration.objects.values("event_id", "status",
                                                              "created_at"))
        self.holds_place = set(HOLDS_PLACE)
        from sportsman.governance.models import (
            CommunityPost,
            Report,
            ReportEvent,
            Survey,
            SurveyParticipation,
            Topic,
            VolunteerSignup,
            Vote,
        )

        self.topics = {t["id"]: t for t in Topic.objects.values(
            "id", "region_id", "opened_at", "closed_at", "votes_support", "votes_oppose",
            "votes_abstain", "eligible")}
        self.votes = list(Vote.objects.values("topic_id", "created_at"))
        self.posts = list(CommunityPost.objects.values("region_id", "created_at", "hidden_at",
                                                       "deleted_at", "answered_at"))

        self.reports = {r["id"]: r for r in Report.objects.values(
            "id", "region_id", "created_at", "resolved_at", "resolved_on_time", "rating")}
        self.ratings = list(ReportEvent.objects.filter(step="rated").values("report_id", "at"))
        self.surveys = list(Survey.objects.values("region_id", "opened_at"))
        self.volunteering = list(VolunteerSignup.objects.filter(status="approved").values(
            "user_id", "opportunity__team__region_id", "decided_at", "hours",
            "approved_minutes"))
        self.survey_answers = list(SurveyParticipation.objects.values("community_id",
                                                                      "created_at"))
        from sportsman.associations.models import Application, Association

        self.associations = list(Association.objects.values("region_id", "legal_status",
                                                            "created_at", "dissolved_at"))
        self.applications = list(Application.objects.values("region_id", "decided_at",
                                                            "decided_on_time"))
        from sportsman.associations.models import Evaluation, NoticeRecipient

        self.graded = list(Evaluation.objects.filter(status="published").values(
            "association_id", "association__region_id", "published_at", "valid_until", "grade"))
        self.notice_rows = list(NoticeRecipient.objects.values(
            "association__region_id", "notice__published_at", "acknowledged_at"))
        from sportsman.instructors.models import GuidanceSession, Instructor

        self.instructors = list(Instructor.objects.values("region_id", "created_at",
                                                          "updated_at", "status"))
        self.guidance = list(GuidanceSession.objects.filter(status="recorded").values(
            "instructor__region_id", "starts_at", "record__minutes", "record__attendees"))

    def figures(self, regions: set[int], start: dt.date, end: dt.date) -> dict[str, int]:
        """Flows over [start, end]; stocks on ``end``."""
        def within(day: dt.date) -> bool:
            return start <= day <= end

        def in_window(day: dt.date, days: int) -> bool:
            return end - dt.timedelta(days=days - 1) <= day <= end

        out: dict[str, int] = defaultdict(int)
        out["residents_registered"] = sum(
            1 for u in self.users if u["is_active"] and u["home_community_id"] in regions
            and local(u["date_joined"]) <= end)
        records = [r for r in self.records if r["region_id"] in regions]
        for r in records:
            if within(local(r["started_at"])):
                out["exercise_minutes"] += r["counted_minutes"]
                out["exercise_sessions"] += 1
                if r["is_verified"] and not r["flags"]:
                    out["verified_minutes"] += r["counted_minutes"]
        for key, days in (("residents_active_7d", 7), ("residents_active_30d", 30)):
            out[key] = len({(r["region_id"], r["user_id"]) for r in records
                            if in_window(local(r["started_at"]), days)})
        long_sessions: dict[tuple[int, int], int] = defaultdict(int)
        for r in records:
            if r["counted_minutes"] >= 30 and in_window(local(r["started_at"]), 7):
                long_sessions[(r["region_id"], r["user_id"])] += 1
        out["regular_exercisers"] = sum(1 for n in long_sessions.values() if n >= 3)

        mine = {f for f, region in self.facility_region.items() if region in regions}
        out["facilities"] = sum(1 for f in self.facilities
                                if f["id"] in mine and local(f["created_at"]) <= end)
        out["smart_facilities"] = sum(1 for f, at in self.first_device.items()
                                      if f in mine and local(at) <= end)
        for b in self.bookings:
            if b["facility_id"] in mine and b["status"] != "cancelled" and within(local(b["start"])):
                out["bookings"] += 1
                out["place_minutes_booked"] += int((b["end"] - b["start"]).total_seconds() // 60)
        for s in self.slots:
            if s["facility_id"] in mine and s["status"] == "open" and within(local(s["start"])):
                out["place_minutes_offered"] += (
                    int((s["end"] - s["start"]).total_seconds() // 60) * s["capacity"])
        out["visits"] = sum(1 for v in self.visits
                            if v["facility_id"] in mine and within(local(v["started_at"])))
        for t in self.tickets:
            if t["facility_id"] not in mine:
                continue
            if within(local(t["created_at"])):
                out["tickets_opened"] += 1
            done_at = t["done_at"]
            if t["status"] == "done" and done_at is not None and within(local(done_at)):
                out["tickets_done"] += 1
                if done_at - t["created_at"] <= dt.timedelta(hours=72):
                    out["tickets_done_on_time"] += 1

        for p in self.points:
            if self.home.get(p["user_id"]) in regions and p["reverses_id"] is None \
                    and within(local(p["created_at"])):
                if p["amount"] > 0:
                    out["points_earned"] += p["amount"]
                elif p["amount"] < 0:
                    out["points_spent"] -= p["amount"]
        for v in self.vouchers:
            if self.home.get(v["user_id"]) not in regions:
                continue
            if within(local(v["issued_at"])):
                out["vouchers_claimed"] += 1
            if v["redeemed_at"] is not None and within(local(v["redeemed_at"])):
                out["vouchers_redeemed"] += 1
                out["voucher_value_redeemed"] += v["face_value_cents"]
        for g in self.groups:
            if g["region_id"] not in regions or g["status"] in ("pending", "rejected"):
                continue
            if local(g["created_at"]) <= end and (
                    g["status"] != "closed" or local(g["updated_at"]) >= end):
                out["groups"] += 1
        out["group_members"] = sum(
            1 for m in self.memberships if m["status"] == "active"
            and self.group_region[m["group_id"]] in regions
            and self.group_status[m["group_id"]] == "active"
            and m["joined_at"] is not None and local(m["joined_at"]) <= end)
        active: set[int] = set()
        for ga in self.group_activities.values():
            if ga["status"] != "finished" or self.group_region[ga["group_id"]] not in regions:
                continue
            if within(local(ga["starts_at"])):
                out["group_activities"] += 1
            if in_window(local(ga["starts_at"]), 30):
                active.add(ga["group_id"])
        out["active_groups"] = len(active)
        for su in self.signups:
            ga = self.group_activities[su["activity_id"]]
            if su["status"] == "attended" and self.group_region[ga["group_id"]] in regions \
                    and within(local(ga["starts_at"])):
                out["group_attendance"] += 1

        held = ("published", "finished")
        for ev in self.events.values():
            if ev["region_id"] in regions and ev["status"] in held \
                    and within(local(ev["starts_at"])):
                out["events_held"] += 1
        for reg in self.registrations:
            ev = self.events[reg["event_id"]]
            if ev["region_id"] not in regions:
                continue
            if within(local(reg["created_at"])):
                out["event_registrations"] += 1
            took_part = (reg["status"] == "checked_in" if ev["mode"] == "offline"
                         else reg["status"] in self.holds_place)
            if took_part and ev["status"] in held and within(local(ev["starts_at"])):
                out["event_participants"] += 1

        for rep in self.reports.values():
            if rep["region_id"] not in regions:
                continue
            if within(local(rep["created_at"])):
                out["reports_opened"] += 1
            if rep["resolved_at"] is not None and within(local(rep["resolved_at"])):
                out["reports_resolved"] += 1
                out["reports_resolved_on_time"] += rep["resolved_on_time"] is True
        for rated in self.ratings:
            rep = self.reports[rated["report_id"]]
            if rep["region_id"] in regions and within(local(rated["at"])):
                out["reports_rated"] += 1
                out["report_rating_points"] += rep["rating"] or 0
        out["surveys_opened"] = sum(1 for sv in self.surveys if sv["region_id"] in regions
                                    and sv["opened_at"] and within(local(sv["opened_at"])))
        out["survey_responses"] = sum(1 for a in self.survey_answers
                                      if a["community_id"] in regions
                                      and within(local(a["created_at"])))
        volunteers: set[tuple[int, int]] = set()
        for shift in self.volunteering:
            region = shift["opportunity__team__region_id"]
            decided = shift["decided_at"]
            if region not in regions or decided is None:
                continue
            if within(local(decided)):
                out["volunteer_hours"] += shift["hours"]
                out["volunteer_minutes"] += shift["approved_minutes"] or 0
            if in_window(local(decided), 30):
                volunteers.add((shift["user_id"], region))
        out["volunteers_active"] = len(volunteers)
        for topic in self.topics.values():
            if topic["region_id"] not in regions:
                continue
            if topic["opened_at"] and within(local(topic["opened_at"])):
                out["deliberations_opened"] += 1
            if topic["closed_at"] and within(local(topic["closed_at"])):
                out["deliberation_ballots_closed"] += (topic["votes_support"]
                                                       + topic["votes_oppose"]
                                                       + topic["votes_abstain"])
                out["deliberation_eligible_closed"] += topic["eligible"] or 0
        out["deliberation_votes"] = sum(
            1 for vote in self.votes if self.topics[vote["topic_id"]]["region_id"] in regions
            and within(local(vote["created_at"])))
        for post in self.posts:
            if post["region_id"] not in regions:
                continue
            if post["hidden_at"] is None and post["deleted_at"] is None \
                    and within(local(post["created_at"])):
                out["posts_published"] += 1
            if post["answered_at"] is not None and within(local(post["answered_at"])):
                out["posts_answered"] += 1
        for assoc in self.associations:
            if assoc["region_id"] not in regions or local(assoc["created_at"]) > end:
                continue
            if assoc["dissolved_at"] is not None and local(assoc["dissolved_at"]) < end:
                continue
            out["associations"] += 1
            if assoc["legal_status"] == "registered":
                out["associations_registered"] += 1
            elif assoc["legal_status"] == "filed":
                out["associations_filed"] += 1
        for app in self.applications:
            if app["region_id"] in regions and app["decided_at"] is not None \
                    and within(local(app["decided_at"])):
                out["applications_decided"] += 1
                out["applications_decided_on_time"] += app["decided_on_time"] is True
        # Associations: the grade in force on ``end`` (the latest published by then, still
        # valid), evaluations published in the period, notices delivered and acknowledged.
        in_force: dict[int, dict] = {}
        published = sorted(((local(g["published_at"]), i, g) for i, g in enumerate(self.graded)
                            if g["published_at"] is not None), key=lambda p: p[:2])
        for day, _i, graded in published:
            if day <= end:
                in_force[graded["association_id"]] = dict(graded)
            if graded["association__region_id"] in regions and within(day):
                out["evaluations_published"] += 1
        for standing in in_force.values():
            if standing["association__region_id"] in regions and standing["valid_until"] >= end:
                out[f"associations_grade_{standing['grade'].lower()}"] += 1
        for row in self.notice_rows:
            if row["association__region_id"] not in regions:
                continue
            if local(row["notice__published_at"]) <= end:
                out["notices_received"] += 1
            if row["acknowledged_at"] is not None and local(row["acknowledged_at"]) <= end:
                out["notices_acknowledged"] += 1
        out["instructors"] = sum(
            1 for i in self.instructors if i["region_id"] in regions
            and local(i["created_at"]) <= end
            and (i["status"] == "active" or local(i["updated_at"]) > end))
        for guided in self.guidance:
            if guided["instructor__region_id"] in regions \
                    and within(local(guided["starts_at"])):
                out["guidance_sessions"] += 1
                out["guidance_minutes"] += guided["record__minutes"] or 0
                out["guidance_attendances"] += guided["record__attendees"] or 0
        return {m.key: out.get(m.key, 0) for m in figures.metrics()}


def _subtree_ids(region) -> set[int]:
    from sportsman.regions.models import Region

    return set(Region.objects.filter(path__startswith=region.path).values_list("id", flat=True))


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_every_figure_equals_a_recomputation_from_raw_records(db, seed):
    from sportsman.core import demo_city
    from sportsman.regions.models import Region

    demo_city.generate(scale="small", seed=seed, progress=False)  # computes the tallies too
    raw = Raw()
    today = timezone.localdate()
    checked = 0
    for period in (periods.period_containing(periods.Grain.MONTH, today),
                   periods.period_containing(periods.Grain.MONTH, today).previous(),
                   periods.period_containing(periods.Grain.QUARTER, today),
                   periods.period_containing(periods.Grain.YEAR, today),
                   # Ending inside a month: whole months from their totals, the rest by day.
                   periods.period_containing(periods.Grain.YEAR, today).up_to(
                       today.replace(day=1) - dt.timedelta(days=10))):
        for region in Region.objects.exclude(level="community"):
            sheet = tallies.sheet(region, period)
            assert sheet.as_of == min(period.end, today)
            expected = raw.figures(_subtree_ids(region), period.start, sheet.as_of)
            assert sheet.total.values == expected, (region.name, period.key)
            for child in sheet.children:
                assert child.values == raw.figures(_subtree_ids(child.region), period.start,
                                                   sheet.as_of), (child.region.name, period.key)
                checked += 1
            # Additive: the region's figure is the sum of its children's and of its own records
            # (a city's event, a district's club belong to the region itself).
            own = raw.figures({region.pk}, period.start, sheet.as_of)
            for key, value in sheet.total.values.items():
                assert value == sum(c.values[key] for c in sheet.children) + own[key], key
    assert checked > 10
    # The month totals are the sums of their days.
    for row in TallyMonth.objects.all()[:200]:
        days = Tally.objects.filter(metric=row.metric, region=row.region,
                                    day__gte=row.month, day__lt=(row.month + dt.timedelta(
                                        days=32)).replace(day=1))
        assert days.aggregate(v=Sum("value"))["v"] == row.value
    # The demo has something in every domain in this year or the last (a vacuous equality
    # proves little; on New Year's morning this year holds minutes, not a month).
    city = Region.objects.get(level="city")
    this_year = periods.period_containing(periods.Grain.YEAR, today)
    years = [tallies.sheet(city, p).total.values for p in (this_year, this_year.previous())]
    for key in ("residents_registered", "residents_active_30d", "exercise_minutes", "facilities",
                "bookings", "visits", "place_minutes_offered", "points_earned",
                "vouchers_claimed", "notices_received", "notices_acknowledged", "instructors",
                "guidance_sessions", "guidance_minutes", "guidance_attendances"):
        assert any(values[key] > 0 for values in years), key


@pytest.mark.django_db
def test_series_agrees_with_the_sheet(db):
    from sportsman.core import demo_city
    from sportsman.regions.models import Region

    demo_city.generate(scale="small", seed=4, progress=False)
    city = Region.objects.get(level="city")
    today = timezone.localdate()
    month = periods.period_containing(periods.Grain.MONTH, today).previous()
    sheet = tallies.sheet(city, month)
    keys = [m.key for m in figures.metrics()]
    for grain in ("day", "week", "month"):
        points = tallies.series(city, keys, grain=grain, start=month.start, end=month.end)
        assert points[0].start == month.start and points[-1].end == month.end
        for m in figures.metrics():
            if m.kind is figures.Kind.FLOW:
                assert sum(p.values[m.key] for p in points) == sheet.total.values[m.key], m.key
            else:
                assert points[-1].values[m.key] == sheet.total.values[m.key], m.key
    days = tallies.series(city, ["residents_registered"], grain="day", start=month.start,
                          end=month.end)
    assert len(days) == month.days


def _record(user, region, at: dt.datetime, minutes: int, key: str) -> None:
    from sportsman.activity.records import record_session

    record_session(user_id=user.pk, source="visit", source_key=key, sport_id=None, started_at=at,
                   ended_at=at + dt.timedelta(minutes=minutes), region_id=region.pk)


def test_refresh_replaces_and_is_idempotent(tree):
    today = timezone.localdate()
    noon = dt.datetime.combine(today, dt.time(12), TZ)
    resident = tree.user(home_community=tree.k1)
    _record(resident, tree.k1, noon - dt.timedelta(hours=3), 45, "visit:1")
    tallies.refresh(today - dt.timedelta(days=3), today)
    first = sorted(Tally.objects.values_list("metric", "region_id", "day", "value"))
    tallies.refresh(today - dt.timedelta(days=3), today)
    assert sorted(Tally.objects.values_list("metric", "region_id", "day", "value")) == first
    month = periods.period_containing(periods.Grain.MONTH, today)
    assert tallies.sheet(tree.t1, month).total.values["exercise_minutes"] == 45
    # A new record reaches the figures at the next refresh; the cached sheet is not served.
    _record(resident, tree.k1, noon - dt.timedelta(hours=1), 30, "visit:2")
    tallies.refresh_recent()
    sheet = tallies.sheet(tree.t1, month)
    assert sheet.total.values["exercise_minutes"] == 75
    assert sheet.total.values["exercise_sessions"] == 2
    assert [c.values["exercise_minutes"] for c in sheet.children] == [75, 0]
    assert tallies.sheet(tree.t2, month).total.values["exercise_minutes"] == 0


def test_refresh_recent_catches_up_a_gap(tree):
    from sportsman.cockpit.models import Watermark

    today = timezone.localdate()
    resident = tree.user(home_community=tree.k2)
    tallies.refresh(today - dt.timedelta(days=20), today - dt.timedelta(days=10))
    assert set(Watermark.objects.values_list("through", flat=True)) == {
        today - dt.timedelta(days=10)}
    # Exercise in the gap: the next run starts from the day before the oldest watermark.
    gap_day = dt.datetime.combine(today - dt.timedelta(days=5), dt.time(9), TZ)
    _record(resident, tree.k2, gap_day, 40, "visit:gap")
    tallies.refresh_recent()
    assert set(Watermark.objects.values_list("through", flat=True)) == {today}
    points = tallies.series(tree.t1, ["exercise_minutes"], grain="day",
                            start=today - dt.timedelta(days=6), end=today)
    assert [p.values["exercise_minutes"] for p in points] == [0, 40, 0, 0, 0, 0, 0]


def test_stock_figures_stand_for_the_last_computed_day(tree):
    today = timezone.localdate()
    for _ in range(3):
        tree.user(home_community=tree.k3)
    year = periods.period_containing(periods.Grain.YEAR, today)
    assert tallies.sheet(tree.t2, year).as_of is None  # nothing computed yet
    assert tallies.sheet(tree.t2, year).total.values["residents_registered"] == 0
    tallies.refresh(today - dt.timedelta(days=2), today)
    sheet = tallies.sheet(tree.t2, year)
    assert sheet.as_of == today
    assert sheet.total.values["residents_registered"] == 3
    assert sheet.total.ratios()["regular_share"] == 0.0
    # A period entirely before the first computed day has no stock figures.
    old = periods.parse(str(today.year - 2))
    assert tallies.sheet(tree.t2, old).total.values["residents_registered"] == 0


@pytest.mark.parametrize("value,code", [("2026-13", "bad_period"), ("26", "bad_period"),
                                        ("2019", "bad_period"), ("2026-Q5", "bad_period"),
                                        ("next", "bad_period")])
def test_bad_periods_are_refused_with_a_code(tree, api_client, value, code):
    client = api_client.as_user(tree.city_admin)
    r = client.get(f"/api/v1/cockpit/{tree.city.code}/summary?period={value}")
    assert r.status_code == 400 and r.json()["code"] == code
    assert "period" in r.json()["fields"]


def test_unknown_metric_in_a_series_is_refused(tree, api_client):
    client = api_client.as_user(tree.city_admin)
    r = client.get(f"/api/v1/cockpit/{tree.city.code}/series?metric=nope&metric=visits")
    assert r.status_code == 400 and r.json()["code"] == "unknown_metric"


def test_summary_api_adds_children_up(tree, api_client):
    today = timezone.localdate()
    noon = dt.datetime.combine(today, dt.time(12), TZ)
    for i, community in enumerate((tree.k1, tree.k2, tree.k3, tree.k4)):
        person = tree.user(home_community=community)
        _record(person, community, noon - dt.timedelta(hours=2), 10 * (i + 1), f"visit:{i}")
    tallies.refresh(today, today)
    client = api_client.as_user(tree.city_admin)
    body = client.get(f"/api/v1/cockpit/{tree.city.code}/summary?period={today:%Y}").json()
    assert body["figures"]["exercise_minutes"] == 100
    assert {c["region"]["code"]: c["figures"]["exercise_minutes"] for c in body["children"]} == {
        tree.d1.code: 60, tree.d2.code: 40}
    assert body["figures"]["residents_registered"] == sum(
        c["figures"]["residents_registered"] for c in body["children"])
    district = api_client.as_user(tree.district_admin)
    assert district.get(f"/api/v1/cockpit/{tree.d2.code}/summary").status_code == 404
    assert district.get(f"/api/v1/cockpit/{tree.d1.code}/summary").json()["figures"][
        "exercise_minutes"] == 60
    # A short code names the same region (the national code's prefix).
    assert district.get("/api/v1/cockpit/330402/summary").status_code == 200


