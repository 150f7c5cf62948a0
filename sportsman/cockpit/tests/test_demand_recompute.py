"""Every demand tally equals a recomputation from the raw Slot, Booking, WaitlistEntry,
LotteryEntry and SearchMiss rows of random demo cities, counted in plain Python independently of
the SQL in ``facilities.demand``; the analysis of every region sums its children's subtrees; and
the demo city has demand worth a sentence."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sportsman.cockpit import demand, periods
from sportsman.cockpit.demo_steps.demand import AHEAD_DAYS

TZ = ZoneInfo("Asia/Shanghai")


class Raw:
    def __init__(self) -> None:
        from sportsman.facilities.models import (
            Booking,
            Facility,
            LotteryEntry,
            PublicHoliday,
            SearchMiss,
            Slot,
            WaitlistEntry,
        )

        self.region = dict(Facility.objects.values_list("id", "region_id"))
        self.slots = list(Slot.objects.values("id", "facility_id", "start", "capacity", "booked",
                                              "status", "mode", "drawn_at", "unit__sport__slug"))
        self.bookings = list(Booking.objects.values("slot_id", "user_id", "status"))
        self.waits = list(WaitlistEntry.objects.values("slot_id", "user_id"))
        self.entries = list(LotteryEntry.objects.values("slot_id", "is_winner"))
        self.misses = list(SearchMiss.objects.values("region_id", "day", "sport__slug",
                                                     "misses"))
        self.holidays = set(PublicHoliday.objects.values_list("date", flat=True))
        from sportsman.events.models import Event, Registration
        from sportsman.groups.models import GroupActivity, Signup

        self.events = list(Event.objects.filter(status__in=["published", "finished"]).values(
            "id", "region_id", "starts_at", "sport__slug", "registered", "capacity"))
        self.event_waiting: dict[int, int] = defaultdict(int)
        for r in Registration.objects.filter(status="waitlisted").values("event_id"):
            self.event_waiting[r["event_id"]] += 1
        self.activities = list(GroupActivity.objects.exclude(status="cancelled").values(
            "id", "group__region_id", "starts_at", "group__sport__slug", "taken", "capacity"))
        self.group_waiting: dict[int, int] = defaultdict(int)
        for g in Signup.objects.filter(status="waiting").values("activity_id"):
            self.group_waiting[g["activity_id"]] += 1
        from sportsman.governance.models import Report

        self.reports = list(Report.objects.exclude(category="suggestion").values(
            "region_id", "created_at"))

    def band(self, start: dt.datetime) -> str:
        local = start.astimezone(TZ)
        rest = local.weekday() >= 5 or local.date() in self.holidays
        part = "morning" if local.hour < 12 else "daytime" if local.hour < 18 else "evening"
        return ("weekend_" if rest else "weekday_") + part

    def tallies(self, first: dt.date, last: dt.date) -> dict[tuple, int]:
        """(signal, region, day, sport, band) → value for the local days [first, last]."""
        out: dict[tuple, int] = defaultdict(int)
        holders: dict[int, set[int]] = defaultdict(set)
        taken: dict[int, int] = defaultdict(int)
        for b in self.bookings:
            if b["status"] != "cancelled":
                holders[b["slot_id"]].add(b["user_id"])
                taken[b["slot_id"]] += 1
        waiting: dict[int, set[int]] = defaultdict(set)
        for w in self.waits:
            if w["user_id"] not in holders[w["slot_id"]]:
                waiting[w["slot_id"]].add(w["user_id"])
        entries: dict[int, int] = defaultdict(int)
        winners: dict[int, int] = defaultdict(int)
        for e in self.entries:
            entries[e["slot_id"]] += 1
            winners[e["slot_id"]] += e["is_winner"] is True
        for s in self.slots:
            day = s["start"].astimezone(TZ).date()
            if s["status"] != "open" or not first <= day <= last:
                continue
            key = (self.region[s["facility_id"]], day, s["unit__sport__slug"] or "",
                   self.band(s["start"]))
            lottery = s["mode"] == "lottery"
            drawn = s["drawn_at"] is not None
            places_left = s["capacity"] - s["booked"]
            out[("places_offered", *key)] += s["capacity"]
            out[("places_taken", *key)] += taken[s["id"]]
            out[("waitlist_unmet", *key)] += len(waiting[s["id"]])
            if lottery:
                out[("lottery_unmet", *key)] += (entries[s["id"]] - winners[s["id"]] if drawn
                                                 else max(0, entries[s["id"]] - places_left))
            out[("slots_full", *key)] += (s["booked"] >= s["capacity"]
                                          or (lottery and not drawn
                                              and entries[s["id"]] >= places_left))
        for ev in self.events:
            day = ev["starts_at"].astimezone(TZ).date()
            if first <= day <= last:
                key = (ev["region_id"], day, ev["sport__slug"] or "", self.band(ev["starts_at"]))
                if ev["registered"] >= 1:
                    out[("events_full", *key)] += ev["registered"] >= ev["capacity"]
                out[("event_waitlist", *key)] += self.event_waiting[ev["id"]]
        for act in self.activities:
            day = act["starts_at"].astimezone(TZ).date()
            if first <= day <= last:
                key = (act["group__region_id"], day, act["group__sport__slug"] or "",
                       self.band(act["starts_at"]))
                out[("group_activities_full", *key)] += act["taken"] >= act["capacity"]
                out[("group_waitlist", *key)] += self.group_waiting[act["id"]]
        for m in self.misses:
            if first <= m["day"] <= last:
                out[("search_misses", m["region_id"], m["day"], m["sport__slug"], "")] += \
                    m["misses"]
        for rep in self.reports:
            day = rep["created_at"].astimezone(TZ).date()
            if first <= day <= last:
                out[("reports_made", rep["region_id"], day, "", "")] += 1
        return {k: v for k, v in out.items() if v}


def _stored() -> dict[tuple, int]:
    from sportsman.cockpit.models import DemandTally

    return {(t.signal, t.region_id, t.day, t.sport, t.band): t.value
            for t in DemandTally.objects.all()}


@pytest.mark.parametrize("seed", [1, 3])
def test_every_demand_tally_equals_a_recomputation_from_raw_rows(db, seed):
    from sportsman.core import demo_city
    from sportsman.regions.models import Region

    demo_city.generate(scale="small", seed=seed, progress=False)  # computes the tallies too
    today = timezone.localdate()
    raw = Raw()
    first = today - dt.timedelta(days=400)
    last = today + dt.timedelta(days=demand.AHEAD_DAYS)
    expected = raw.tallies(first, last)
    assert _stored() == expected
    signals = {key[0] for key in expected}
    assert signals >= {"places_offered", "places_taken", "waitlist_unmet", "lottery_unmet",
                       "slots_full", "search_misses", "group_activities_full", "group_waitlist",
                       "events_full", "reports_made"}

    # The analysis of a region sums its subtree, child by child.
    month = periods.period_containing(periods.Grain.MONTH, today)
    for period in (month, month.previous(), periods.period_containing(periods.Grain.YEAR, today)):
        for region in Region.objects.exclude(level="community"):
            a = demand.analyse(region, period)
            got: dict[tuple, int] = defaultdict(int)
            for row in a.rows:
                for signal, value in row.values.items():
                    got[(row.region.pk, signal)] += value
            want: dict[tuple, int] = defaultdict(int)
            for child in Region.objects.filter(parent=region):
                inside = set(Region.objects.filter(path__startswith=child.path)
                             .values_list("pk", flat=True))
                for (signal, where, day, _sport, _band), value in expected.items():
                    if where in inside and period.start <= day <= period.end:
                        want[(child.pk, signal)] += value
            # and its own records (a city's event) as a row of its own
            for (signal, where, day, _sport, _band), value in expected.items():
                if where == region.pk and period.start <= day <= period.end:
                    want[(region.pk, signal)] += value
            assert dict(got) == dict(want), (region.name, period.key)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_demo_city_has_demand_worth_a_sentence(db, seed):
    from sportsman.core import demo_city
    from sportsman.regions.models import Region

    city_made = demo_city.generate(scale="small", seed=seed, progress=False).made["demand"]
    assert city_made["lottery_entries"] and city_made["waitlist_entries"]
    city = Region.objects.get(level="city")
    # The demo fills the coming week's evenings: at a month's end they lie in the next month.
    today = timezone.localdate()
    month = periods.period_containing(periods.Grain.MONTH, today)
    ahead = periods.period_containing(periods.Grain.MONTH,
                                      today + dt.timedelta(days=AHEAD_DAYS))
    kinds = {s.kind for p in (month.previous(), month, ahead)
             for s in demand.analyse(city, p).suggestions}
    assert {"capacity", "search_misses"} <= kinds
