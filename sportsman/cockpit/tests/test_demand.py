"""Demand analysis: the signals of a hand-made month (slots, bookings, waitlists, lotteries,
search misses) per region, sport and time band; the suggestions above the thresholds and not
below; the page, its sorting, its export and its scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from sportsman.cockpit import demand, periods, tallies
from sportsman.cockpit.models import DemandTally, Watermark
from sportsman.core import figures
from sportsman.core.models import AuditEntry, Sport
from sportsman.facilities.hours import aware
from sportsman.facilities.models import (
    Booking,
    BookingMode,
    LotteryEntry,
    PublicHoliday,
    SearchMiss,
    Slot,
    SlotStatus,
    Unit,
    WaitlistEntry,
)
from sportsman.facilities.tests.factories import make_facility
from tests.scope import xlsx_text

pytestmark = pytest.mark.django_db

LAST_MONTH = periods.period_containing(periods.Grain.MONTH, timezone.localdate()).previous()


def _weekday(n: int = 2) -> dt.date:
    """The first local day of last month with weekday ``n`` (2: a Wednesday)."""
    day = LAST_MONTH.start
    while day.weekday() != n:
        day += dt.timedelta(days=1)
    return day


WEDNESDAY, SATURDAY = _weekday(2), _weekday(5)


def english(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return client


class Month:
    """A community venue with two badminton courts (one first come for two, one drawn by
    lottery for one) and what happened last month."""

    def __init__(self, tree, region=None) -> None:
        region = region or tree.k1
        self.tree = tree
        self.venue = make_facility(region, name=f"{region.name}球馆", units=2,
                                   unit_capacity=2)
        badminton = Sport.objects.get(slug="badminton")
        self.court, self.drawn = list(self.venue.units.order_by("position"))
        Unit.objects.filter(pk__in=[self.court.pk, self.drawn.pk]).update(sport=badminton)
        Unit.objects.filter(pk=self.drawn.pk).update(capacity=1, booking_mode=BookingMode.LOTTERY)
        self.people = [tree.user(home_community=region) for _ in range(8)]

    def slot(self, unit, day: dt.date, hour: int, *, capacity: int, booked: int = 0,
             **fields) -> Slot:
        start = aware(day, dt.time(hour))
        return Slot.objects.create(unit=unit, facility=self.venue, start=start,
                                   end=start + dt.timedelta(hours=1), capacity=capacity,
                                   booked=booked, **fields)

    def book(self, slot: Slot, person, status: str = "completed") -> Booking:
        return Booking.objects.create(user=person, slot=slot, facility=self.venue,
                                      start=slot.start, end=slot.end, status=status)

    def wait(self, slot: Slot, person, status: str = "expired") -> WaitlistEntry:
        return WaitlistEntry.objects.create(slot=slot, user=person, status=status)


@pytest.fixture
def month(tree) -> Month:
    """Wednesday 19:00 (weekday evening), first come, two places: u0 came, u1 did not show, u2
    cancelled; u3 waited in vain, u4 left and came back and waited in vain again, u0 had waited
    before booking. Wednesday 20:00: one place of two taken. Wednesday 21:00: closed by the
    venue. Wednesday 19:00 on the lottery court: three entries for one place, not drawn.
    Saturday 9:00 (weekend morning) on the lottery court, drawn: u0 won, u1–u3 lost."""
    m = Month(tree)
    p = m.people
    full = m.slot(m.court, WEDNESDAY, 19, capacity=2, booked=2)
    m.book(full, p[0])
    m.book(full, p[1], "no_show")
    m.book(full, p[2], "cancelled")
    m.wait(full, p[3])
    m.wait(full, p[4], "left")
    m.wait(full, p[4])
    m.wait(full, p[0])
    m.book(m.slot(m.court, WEDNESDAY, 20, capacity=2, booked=1), p[5])
    closed = m.slot(m.court, WEDNESDAY, 21, capacity=2, status=SlotStatus.CLOSED)
    m.book(closed, p[6], "cancelled")
    m.wait(closed, p[7])
    undrawn = m.slot(m.drawn, WEDNESDAY, 19, capacity=1, mode=BookingMode.LOTTERY)
    for person in p[:3]:
        LotteryEntry.objects.create(slot=undrawn, user=person)
    drawn_at = aware(SATURDAY, dt.time(9)) - dt.timedelta(days=1)
    drawn = m.slot(m.drawn, SATURDAY, 9, capacity=1, booked=1, mode=BookingMode.LOTTERY,
                   draw_at=drawn_at, drawn_at=drawn_at)
    LotteryEntry.objects.create(slot=drawn, user=p[0], is_winner=True,
                                booking=m.book(drawn, p[0]))
    for person in p[1:4]:
        LotteryEntry.objects.create(slot=drawn, user=person, is_winner=False)
    SearchMiss.objects.create(day=WEDNESDAY, region=tree.k2,
                              sport=Sport.objects.get(slug="swimming"), misses=7)
    demand.refresh(LAST_MONTH.start, LAST_MONTH.end)
    return m


def _tallies() -> dict[tuple, int]:
    return {(t.signal, t.region_id, t.day, t.sport, t.band): t.value
            for t in DemandTally.objects.all()}


def test_signals_per_region_day_sport_and_band(tree, month):
    evening = (tree.k1.pk, WEDNESDAY, "badminton", "weekday_evening")
    morning = (tree.k1.pk, SATURDAY, "badminton", "weekend_morning")
    assert _tallies() == {
        # 19:00 (2) + 20:00 (2) + the lottery's 19:00 (1); the closed slot offers nothing.
        ("places_offered", *evening): 5,
        ("places_taken", *evening): 3,  # came, did not show, the 20:00 booking
        ("waitlist_unmet", *evening): 2,  # u3 and u4 (once); u0 got a place
        ("lottery_unmet", *evening): 2,  # three entries for one place, before the draw
        ("slots_full", *evening): 2,  # the first-come 19:00, and the lottery entered in full
        ("places_offered", *morning): 1,
        ("places_taken", *morning): 1,
        ("lottery_unmet", *morning): 3,
        ("slots_full", *morning): 1,
        ("search_misses", tree.k2.pk, WEDNESDAY, "swimming", ""): 7,
    }
    assert Watermark.objects.get(metric="demand:places_offered").through == LAST_MONTH.end


def test_a_public_holiday_counts_as_a_weekend(tree, month):
    PublicHoliday.objects.create(date=WEDNESDAY, name="节日")
    demand.refresh(LAST_MONTH.start, LAST_MONTH.end)
    bands = set(DemandTally.objects.filter(day=WEDNESDAY, region=tree.k1)
                .values_list("band", flat=True))
    assert bands == {"weekend_evening"}


def test_time_bands():
    tz = figures.zone()
    monday = dt.date(2026, 11, 23)
    assert figures.time_band(dt.datetime.combine(monday, dt.time(11, 59), tz)) == \
        "weekday_morning"
    assert figures.time_band(dt.datetime.combine(monday, dt.time(12), tz)) == "weekday_daytime"
    assert figures.time_band(dt.datetime.combine(monday, dt.time(18), tz)) == "weekday_evening"
    sunday = dt.datetime.combine(monday - dt.timedelta(days=1), dt.time(7), tz)
    assert figures.time_band(sunday) == "weekend_morning"
    # Local time decides: 23:30 UTC on Sunday is Monday morning in Shanghai.
    assert figures.time_band(dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)) == \
        "weekday_morning"


def test_analysis_per_child_region_ranked(tree, month):
    with translation.override("en"):
        a = demand.analyse(tree.t1, LAST_MONTH)
    assert a.as_of == LAST_MONTH.end
    first = a.rows[0]
    assert (first.region, first.sport, first.band) == (tree.k1, "badminton", "weekday_evening")
    assert (first.demanded, first.offered, first.turned_away, first.ratio) == (7, 5, 4, 1.4)
    with translation.override("en"):
        assert first.sport_name == "Badminton" and first.band_label == "weekday evenings"
    assert [(r.region, r.band, r.turned_away) for r in a.rows] == [
        (tree.k1, "weekday_evening", 4), (tree.k1, "weekend_morning", 3), (tree.k2, "", 0)]
    # The city sees the same under its district; the district sees it under the town.
    assert demand.analyse(tree.city, LAST_MONTH).rows[0].region == tree.d1
    assert demand.analyse(tree.d1, LAST_MONTH).rows[0].values == first.values
    # A community has no children: its rows are its own.
    assert {r.region for r in demand.analyse(tree.k1, LAST_MONTH).rows} == {tree.k1}
    # Another town sees nothing of it.
    assert demand.analyse(tree.t2, LAST_MONTH).rows == []


def test_refreshing_the_figures_refreshes_demand_and_reaches_ahead(tree):
    m = Month(tree)
    today = timezone.localdate()
    soon = today + dt.timedelta(days=demand.AHEAD_DAYS)
    slot = m.slot(m.court, soon, 19, capacity=2, booked=2)
    m.book(slot, m.people[0], "booked")
    m.book(slot, m.people[1], "booked")
    m.wait(slot, m.people[2], "waiting")
    tallies.refresh(today - dt.timedelta(days=1), today)
    assert DemandTally.objects.get(signal="waitlist_unmet").day == soon
    assert Watermark.objects.get(metric="demand:waitlist_unmet").through == today
    # Asking for some metrics only leaves demand alone.
    DemandTally.objects.all().delete()
    tallies.refresh(today - dt.timedelta(days=1), today, keys=["bookings"])
    assert not DemandTally.objects.exists()


def _turned_away(tree, n: int, *, capacity: int = 1, offered_more: int = 0) -> None:
    """A weekday evening in k1: one full slot of ``capacity`` with ``n`` people who waited in
    vain, and ``offered_more`` places free in another slot of the same evening."""
    m = Month(tree)
    people = [tree.user(home_community=tree.k1) for _ in range(n + capacity)]
    full = m.slot(m.court, WEDNESDAY, 19, capacity=capacity, booked=capacity)
    for person in people[:capacity]:
        m.book(full, person)
    for person in people[capacity:]:
        m.wait(full, person)
    if offered_more:
        m.slot(m.court, WEDNESDAY, 20, capacity=offered_more)
    demand.refresh(LAST_MONTH.start, LAST_MONTH.end)


def _suggestions(region) -> list[demand.Suggestion]:
    with translation.override("en"):
        return demand.analyse(region, LAST_MONTH).suggestions


def test_a_sport_and_time_turning_many_away_is_named(tree):
    _turned_away(tree, demand.MIN_TURNED_AWAY)
    [s] = _suggestions(tree.t1)
    assert s.kind == "capacity" and (s.region, s.sport, s.band) == (
        tree.k1, "badminton", "weekday_evening")
    assert s.text.startswith("花园社区: demand for Badminton on weekday evenings is 11.0 times "
                             "the places offered (1 full slot, 10 left on the waitlist)")
    assert "opening school sports grounds" in s.text  # at least twice the offer


def test_below_the_threshold_of_people_nothing_is_said(tree):
    _turned_away(tree, demand.MIN_TURNED_AWAY - 1)
    assert _suggestions(tree.t1) == []


def test_below_the_ratio_nothing_is_said(tree):
    # 10 turned away, but 20 + 10 demanded for 20 + 30 places: 0.6 times the offer.
    _turned_away(tree, demand.MIN_TURNED_AWAY, capacity=20, offered_more=30)
    assert _suggestions(tree.t1) == []


def test_a_ratio_just_above_the_threshold_asks_to_rearrange(tree):
    # 20 + 10 demanded for 20 + 4 places: 1.25 times the offer.
    _turned_away(tree, demand.MIN_TURNED_AWAY, capacity=20, offered_more=4)
    [s] = _suggestions(tree.t1)
    assert "1.2 times" in s.text and "moving some from quieter times" in s.text


@pytest.mark.parametrize("misses, said", [(9, False), (10, True)])
def test_searches_that_find_nothing_speak_from_their_threshold(tree, misses, said):
    swimming = Sport.objects.get(slug="swimming")
    SearchMiss.objects.create(day=WEDNESDAY, region=tree.k2, sport=swimming, misses=misses - 4)
    SearchMiss.objects.create(day=SATURDAY, region=tree.k2, sport=swimming, misses=4)
    demand.refresh(LAST_MONTH.start, LAST_MONTH.end)
    found = _suggestions(tree.d1)
    assert bool(found) is said
    if said:
        assert found[0].kind == "search_misses" and found[0].region == tree.t1
        with translation.override("en"):
            label = LAST_MONTH.label()
        assert found[0].text.startswith(f"{label}: 10 searches near 新嘉街道 for a "
                                        "place to play Swimming found nothing")


def test_neither_kind_of_suggestion_hides_the_other(tree):
    def made(kind: str, weight: int) -> demand.Suggestion:
        return demand.Suggestion(f"{kind} {weight}", kind, tree.k1, "", "", weight)

    found = [made("search_misses", w) for w in range(3)] + [made("capacity", w)
                                                            for w in range(30)]
    picked = demand._pick(found, 20)
    assert [s.kind for s in picked] == ["capacity"] * 17 + ["search_misses"] * 3
    assert [s.weight for s in picked[:2]] == [29, 28] and picked[-1].weight == 0
    found += [made("search_misses", w) for w in range(3, 30)]
    assert [s.kind for s in demand._pick(found, 5)] == ["capacity"] * 3 + ["search_misses"] * 2


def test_the_panel_gives_the_first_suggestions_and_rows(tree):
    _turned_away(tree, demand.MIN_TURNED_AWAY)
    panel = demand.panel(tree.t1, LAST_MONTH)
    assert len(panel.suggestions) == 1 and panel.more == 0
    data = panel.as_dict()
    assert data["rows"][0]["turned_away"] == demand.MIN_TURNED_AWAY
    assert data["rows"][0]["code"] == tree.k1.code


# --- the page -----------------------------------------------------------------------------------

def _page(region, **query) -> str:
    return reverse("cockpit:demand", args=[region.code]) + (
        "?" + "&".join(f"{k}={v}" for k, v in {"period": LAST_MONTH.key, **query}.items()))


def test_the_page_shows_suggestions_first_then_heat_map_and_table(tree, month):
    _turned_away(tree, demand.MIN_TURNED_AWAY)
    response = english(tree.town_admin).get(_page(tree.t1))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("demand-suggestions") < body.index("demand-heat") < \
        body.index("demand-table")
    assert "花园社区: demand for Badminton on weekday evenings" in body
    assert 'id="drill-' + tree.k1.code in body  # a child opens its own analysis
    assert reverse("cockpit:demand", args=[tree.k1.code]) in body


@pytest.mark.parametrize("sort, direction, first", [
    ("rank", "", "weekday evenings"), ("band", "asc", "weekday evenings"),
    ("band", "", "any time"), ("lottery_unmet", "", "weekend and holiday mornings"),
    ("search_misses", "", "any time"), ("offered", "asc", "any time"),
])
def test_the_table_sorts_by_any_column(tree, month, sort, direction, first):
    response = english(tree.town_admin).get(_page(tree.t1, sort=sort, dir=direction))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert rows[0]["row"].band_label == first


def test_a_bad_period_is_a_clear_error(tree):
    response = english(tree.town_admin).get(
        reverse("cockpit:demand", args=[tree.t1.code]) + "?period=1999")
    assert response.status_code == 400


def test_another_regions_staff_get_404(tree, month):
    for url in (_page(tree.t1), reverse("cockpit:demand_export", args=[tree.t1.code])):
        for outsider in (tree.sibling_town_admin, tree.community_admin, tree.other_city_admin):
            assert english(outsider).get(url).status_code == 404, outsider
        for insider in (tree.town_admin, tree.district_admin, tree.city_admin):
            assert english(insider).get(url).status_code == 200, insider
        assert english(tree.resident).get(url).status_code == 403
        assert english().get(url).status_code == 302


def test_the_export_has_the_suggestions_and_the_table_and_is_audited(tree, month):
    _turned_away(tree, demand.MIN_TURNED_AWAY)
    url = reverse("cockpit:demand_export", args=[tree.t1.code]) + f"?period={LAST_MONTH.key}"
    response = english(tree.town_admin).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="demand-{tree.t1.code}-{LAST_MONTH.key}-')
    text = xlsx_text(response).decode()
    assert "花园社区: demand for Badminton on weekday evenings" in text
    assert "weekday evenings" in text and "Places demanded" in text
    entry = AuditEntry.objects.get(action="cockpit.demand_export")
    assert entry.region_id == tree.t1.pk and entry.data["period"] == LAST_MONTH.key


def test_the_api_gives_rows_and_suggestions_in_scope(tree, month, api_client):
    url = f"/api/v1/cockpit/{tree.t1.code}/demand?period={LAST_MONTH.key}"
    body = api_client.as_user(tree.town_admin).get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["period"] == LAST_MONTH.key and body["as_of"] == LAST_MONTH.end.isoformat()
    row = body["rows"][0]
    assert row["region"]["code"] == tree.k1.code and row["sport"]["slug"] == "badminton"
    assert (row["demanded"], row["offered"], row["ratio"], row["turned_away"]) == (7, 5, 1.4, 4)
    assert row["signals"]["waitlist_unmet"] == 2
    assert [s["key"] for s in body["signals"]] == [s.key for s in figures.signals()]
    assert api_client.as_user(tree.sibling_town_admin).get(url).status_code == 404
    bad = api_client.as_user(tree.town_admin).get(
        f"/api/v1/cockpit/{tree.t1.code}/demand?period=2026-13")
    assert bad.status_code == 400 and bad.json()["code"] == "bad_period"


def test_the_api_reads_a_constant_number_of_queries_whatever_the_rows(tree, api_client):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client.as_user(tree.city_admin)
    url = f"/api/v1/cockpit/{tree.city.code}/demand?period={LAST_MONTH.key}"

    def count() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _turned_away(tree, demand.MIN_TURNED_AWAY)
    few = count()
    for region in (tree.k3, tree.k4):
        m = Month(tree, region)
        full = m.slot(m.court, SATURDAY, 19, capacity=2, booked=2)
        m.book(full, m.people[0])
        m.book(full, m.people[1])
        m.wait(full, m.people[2])
    demand.refresh(LAST_MONTH.start, LAST_MONTH.end)
    assert len(client.get(url).json()["rows"]) > 2
    assert count() == few
