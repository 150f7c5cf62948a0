"""The cockpit pages of the four levels: each admin sees their region's figures (equal to
``tallies.sheet``), drills into subunits, is refused another region (404, as if it did not
exist) on the page, its JSON, the live map and the exports; the big screen, the period picker and
the spreadsheets.

Pages are asked for in English (Accept-Language) so assertions read the source strings."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sportsman.cockpit import board, periods, tallies
from sportsman.cockpit.models import Tally, Watermark
from sportsman.core import figures
from sportsman.core.models import AuditEntry

pytestmark = pytest.mark.django_db

# this month's figures per community: k1, k2 in t1; k3 in t2 (both in d1); k4 in d2
NOW = {
    "k1": {"exercise_minutes": 100, "residents_registered": 10, "residents_active_30d": 4,
           "place_minutes_offered": 600, "place_minutes_booked": 150, "visits": 3},
    "k2": {"exercise_minutes": 40, "residents_registered": 5, "residents_active_30d": 1,
           "visits": 1},
    "k3": {"exercise_minutes": 7, "residents_registered": 8, "visits": 2},
    "k4": {"exercise_minutes": 5, "residents_registered": 2},
}
LAST_MONTH_MINUTES = {"k1": 50}


def english(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user, backend="sportsman.accounts.auth.PhoneBackend")
    return client


@pytest.fixture
def seeded(tree):
    """Tallies of today and of the first day of last month; every metric computed to today."""
    today = timezone.localdate()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    rows = [Tally(region=getattr(tree, k), day=today, metric=m, value=v)
            for k, values in NOW.items() for m, v in values.items()]
    rows += [Tally(region=getattr(tree, k), day=last_month, metric="exercise_minutes", value=v)
             for k, v in LAST_MONTH_MINUTES.items()]
    Tally.objects.bulk_create(rows)
    tallies.roll_up_months()
    Watermark.objects.bulk_create([Watermark(metric=m.key, through=today)
                                   for m in figures.metrics()])
    return tree


def page_url(region, **params) -> str:
    url = reverse("cockpit:region", args=[region.code])
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}?{query}" if query else url


def kpis(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-kpi="(\w+)">.*?<strong class="kpi-value">([^<]*)</strong>',
                           html, re.S))


def drills(html: str) -> list[str]:
    """The codes of the subunit links, in the order of the table."""
    return re.findall(r'id="drill-(\d+)"', html)


# --- the pages of the four levels --------------------------------------------------------------

@pytest.mark.parametrize(("admin", "region", "minutes"), [
    ("city_admin", "city", 152), ("district_admin", "d1", 147), ("town_admin", "t1", 140),
    ("community_admin", "k1", 100)])
def test_each_level_admin_sees_their_region_figures_as_tallied(seeded, admin, region, minutes):
    tree = seeded
    where = getattr(tree, region)
    response = english(getattr(tree, admin)).get(page_url(where))
    assert response.status_code == 200
    html = response.content.decode()
    sheet = tallies.sheet(where, periods.parse(None))
    assert sheet.total.get("exercise_minutes") == minutes
    shown = kpis(html)
    by_key = {f.key: f for f in board.catalogue()}
    expected = {k: by_key[k].show(sheet.total.get(k)) for k in board.HEADLINE if k in by_key}
    assert shown == expected
    assert shown["exercise_minutes"] == f"{minutes:,}"


def test_home_opens_the_cockpit_of_the_actors_own_region(seeded):
    for admin, region in [("city_admin", "city"), ("district_admin", "d1"),
                          ("town_admin", "t1"), ("community_admin", "k1")]:
        response = english(getattr(seeded, admin)).get(reverse("cockpit:home"))
        assert response.status_code == 302
        assert response["Location"] == page_url(getattr(seeded, region))


def test_subunits_link_to_their_cockpits_for_the_same_period(seeded):
    tree = seeded
    period = periods.parse(None).key
    html = english(tree.city_admin).get(page_url(tree.city, period=period)).content.decode()
    assert drills(html) == [tree.d1.code, tree.d2.code]  # ranked by exercise minutes
    assert f'href="{page_url(tree.d1, period=period)}" id="drill-{tree.d1.code}"' in html
    # one click down: the district's towns, then the town's communities
    html = english(tree.city_admin).get(page_url(tree.d1, period=period)).content.decode()
    assert drills(html) == [tree.t1.code, tree.t2.code]
    html = english(tree.town_admin).get(page_url(tree.t1)).content.decode()
    assert drills(html) == [tree.k1.code, tree.k2.code]
    html = english(tree.community_admin).get(page_url(tree.k1)).content.decode()
    assert drills(html) == [] and 'id="cockpit-subunits"' not in html


def test_breadcrumb_links_only_the_ancestors_in_scope(seeded):
    tree = seeded
    html = english(tree.district_admin).get(page_url(tree.k1)).content.decode()
    assert f'id="crumb-{tree.d1.code}"' in html and f'id="crumb-{tree.t1.code}"' in html
    assert f'id="crumb-{tree.city.code}"' not in html


def test_subunits_rank_by_any_figure_either_way(seeded):
    tree = seeded
    client = english(tree.city_admin)
    html = client.get(page_url(tree.d1, sort="residents_registered", dir="asc")).content.decode()
    assert drills(html) == [tree.t2.code, tree.t1.code]  # 8 before 15
    assert 'aria-sort="ascending"' in html
    html = client.get(page_url(tree.d1, sort="residents_registered")).content.decode()
    assert drills(html) == [tree.t1.code, tree.t2.code]
    # a ratio ranks too; a region whose ratio has no denominator comes last
    html = client.get(page_url(tree.d1, sort="utilisation", dir="asc")).content.decode()
    assert drills(html) == [tree.t1.code, tree.t2.code]
    # an unknown figure falls back to exercise minutes
    html = client.get(page_url(tree.city, sort="nonsense")).content.decode()
    assert drills(html) == [tree.d1.code, tree.d2.code]


def test_changes_are_against_the_previous_period(seeded):
    html = english(seeded.community_admin).get(page_url(seeded.k1)).content.decode()
    card = re.search(r'data-kpi="exercise_minutes">.*?</li>', html, re.S).group(0)
    assert "+100.0%" in card  # 100 this month, 50 the last
    value = board.Value(board.Figure("r", "r", "%", "ratio", "x", 1), 12.5, 10.0)
    assert value.change == 2.5 and value.change_text == "+2.50 pt"
    assert board.Value(board.Figure("n", "n", "", "flow", "x", 1), 5, 0).change is None


def test_a_month_in_progress_compares_with_the_same_days_of_the_month_before():
    from sportsman.cockpit import periods

    november = periods.parse("2026-11")
    before = november.comparable_before(dt.date(2026, 11, 10))
    assert (before.key, before.start, before.end) == ("2026-10", dt.date(2026, 10, 1),
                                                      dt.date(2026, 10, 10))
    assert november.comparable_before(dt.date(2026, 11, 30)).end == dt.date(2026, 10, 31)
    march = periods.parse("2026-03")  # 31 days after a 28-day month: cut at its end
    assert march.comparable_before(dt.date(2026, 3, 30)).end == dt.date(2026, 2, 28)
    assert march.comparable_before(None).end == dt.date(2026, 2, 28)


def test_trend_by_day_week_and_month(seeded):
    tree = seeded
    client = english(tree.town_admin)
    today = timezone.localdate()
    for grain, first in [("day", today), ("week", today - dt.timedelta(days=today.weekday())),
                         ("month", today.replace(day=1))]:
        html = client.get(page_url(tree.t1, grain=grain)).content.decode()
        table = re.search(r'id="cockpit-trend-table".*?</table>', html, re.S).group(0)
        start = max(first, today.replace(day=1))
        assert f'<th scope="row">{start:%Y-%m-%d}</th>' in table
        assert f'aria-current="true" id="grain-{grain}"' in html


def test_panels_follow_the_registry(seeded, monkeypatch):
    """A domain that declares a figure gets its panel, its trend and its export column with no
    template change."""
    metric = figures.Metric("groups_active", "active sports groups", figures.Kind.STOCK,
                            "groups", "", 70, lambda start, end: [])
    monkeypatch.setitem(figures._METRICS, metric.key, metric)
    today = timezone.localdate()
    Tally.objects.create(region=seeded.k1, day=today, metric=metric.key, value=6)
    tallies.roll_up_months()
    Watermark.objects.create(metric=metric.key, through=today)
    response = english(seeded.town_admin).get(page_url(seeded.t1))
    html = response.content.decode()
    panel = re.search(r'id="cockpit-panel-groups".*?</section>', html, re.S).group(0)
    assert "Sports groups" in panel and "active sports groups" in panel
    assert '<td class="num">6</td>' in panel
    data = response.context["data"]
    assert data["trend"]["series"]["groups_active"][-1] == 6


def test_supervision_button_where_the_actor_supervises_the_level_above(seeded):
    new_task = reverse("cockpit:task_new")
    tree = seeded
    for region in (tree.d1, tree.k1):  # a district, a community: both can be given tasks
        html = english(tree.city_admin).get(page_url(region)).content.decode()
        assert (f'id="cockpit-issue-task" class="button button-small" '
                f'href="{new_task}?to={region.code}"') in html
    # Nobody above the city; a district administrator does not task their own district.
    assert 'id="cockpit-issue-task"' not in english(tree.city_admin).get(
        page_url(tree.city)).content.decode()
    assert 'id="cockpit-issue-task"' not in english(tree.district_admin).get(
        page_url(tree.d1)).content.decode()
    assert 'id="cockpit-issue-task"' in english(tree.district_admin).get(
        page_url(tree.t1)).content.decode()


def test_the_console_links_the_cockpit_for_admins_only(seeded):
    assert 'id="nav-cockpit"' in english(seeded.town_admin).get(
        reverse("console:home")).content.decode()
    assert 'id="nav-cockpit"' not in english(seeded.venue_manager).get(
        reverse("console:home")).content.decode()


# --- scope ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cockpit:region", "cockpit:data", "cockpit:occupancy",
                                  "cockpit:export"])
def test_another_regions_staff_get_404_everywhere(seeded, name):
    tree = seeded
    url = reverse(name, args=[tree.t1.code]) + "?table=subunits"
    for outsider in (tree.sibling_town_admin, tree.sibling_district_admin,
                     tree.community_admin, tree.other_city_admin):
        assert english(outsider).get(url).status_code == 404, outsider
    for insider in (tree.town_admin, tree.district_admin, tree.city_admin):
        assert english(insider).get(url).status_code == 200
    assert english(tree.resident).get(url).status_code == 403
    assert english(tree.venue_manager).get(url).status_code == 403
    anonymous = english().get(url)
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]
    assert english(tree.town_admin).get(reverse(name, args=["330402999999"])).status_code == 404


def test_json_has_the_page_figures(seeded):
    tree = seeded
    response = english(tree.district_admin).get(reverse("cockpit:data", args=[tree.d1.code]))
    data = response.json()
    sheet = tallies.sheet(tree.d1, periods.parse(None))
    headline = {v["key"]: v["value"] for v in data["headline"]}
    assert headline["exercise_minutes"] == sheet.total.get("exercise_minutes") == 147
    assert headline["utilisation"] == sheet.total.get("utilisation") == 25.0
    rows = data["subunits"]["rows"]
    assert [(r["code"], r["value"]) for r in rows] == [(tree.t1.code, 140), (tree.t2.code, 7)]
    assert rows[0]["url"] == page_url(tree.t1, period=periods.parse(None).key)
    assert sum(v or 0 for v in data["trend"]["series"]["exercise_minutes"]) == 147


def test_live_occupancy_of_the_subtree(seeded):
    from sportsman.facilities.tests.factories import make_facility

    tree = seeded
    now = timezone.now()
    ours = make_facility(tree.k1, name="花园球场", capacity=20, units=0)
    theirs = make_facility(tree.k4, name="蓬莱球场", capacity=10, units=0)
    type(ours).objects.filter(pk=ours.pk).update(occupancy=7, occupancy_at=now)
    type(ours).objects.filter(pk=theirs.pk).update(occupancy=3, occupancy_at=now)
    url = reverse("cockpit:occupancy", args=[tree.t1.code])
    data = english(tree.town_admin).get(url).json()
    assert data["people"] == 7 and data["facilities"] == 1
    assert [(p["name"], p["people"], p["crowd"]) for p in data["points"]] == [
        ("花园球场", 7, "moderate")]
    city = english(tree.city_admin).get(reverse("cockpit:occupancy", args=[tree.city.code]))
    assert [p["people"] for p in city.json()["points"]] == [7, 3]
    html = english(tree.town_admin).get(page_url(tree.t1)).content.decode()
    busiest = re.search(r'id="cockpit-busiest".*?</table>', html, re.S).group(0)
    assert "花园球场" in busiest and "蓬莱球场" not in busiest


# --- big screen, period picker ---------------------------------------------------------------

def test_big_screen_renders_without_console_chrome(seeded):
    tree = seeded
    response = english(tree.district_admin).get(page_url(tree.d1, screen=1))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="cockpit-screen"' in html and 'data-refresh="60"' in html
    assert "data-fullscreen" in html and "data-clock" in html
    assert 'class="side-nav"' not in html and 'class="console-header"' not in html
    assert kpis(html)["exercise_minutes"] == "147"
    drill = page_url(tree.t1, period=periods.parse(None).key, screen=1).replace("&", "&amp;")
    assert f'href="{drill}" id="drill-{tree.t1.code}"' in html
    assert reverse("cockpit:data", args=[tree.d1.code]) in html


@pytest.mark.parametrize("query", ["period=2026-13", "period=2019", "period=next", "grain=hour"])
def test_a_bad_period_or_grain_is_a_clear_error(seeded, query):
    tree = seeded
    response = english(tree.town_admin).get(f"{page_url(tree.t1)}?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="cockpit-error"' in html and 'id="period-select"' in html
    assert ("Unknown period." in html) or ("Unknown grain." in html)
    data = english(tree.town_admin).get(
        f"{reverse('cockpit:data', args=[tree.t1.code])}?{query}")
    assert data.status_code == 400 and data.json()["code"] in {"bad_period", "bad_grain"}


def test_a_period_that_has_not_begun_is_refused_as_such(seeded):
    tree = seeded
    today = timezone.localdate()
    next_month = periods.period_containing(periods.Grain.MONTH,
                                           today.replace(day=28) + dt.timedelta(days=5))
    for key in (str(today.year + 1), next_month.key):
        response = english(tree.town_admin).get(f"{page_url(tree.t1)}?period={key}")
        assert response.status_code == 400 and "This period has not begun." in \
            response.content.decode()
        data = english(tree.town_admin).get(
            f"{reverse('cockpit:data', args=[tree.t1.code])}?period={key}")
        assert data.status_code == 400 and data.json()["code"] == "period_not_begun"


def test_period_picker_offers_month_quarter_and_year(seeded):
    tree = seeded
    today = timezone.localdate()
    year = periods.period_containing(periods.Grain.YEAR, today)
    response = english(tree.town_admin).get(page_url(tree.t1, period=year.key))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{year.key}" selected>' in html
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    expected = 140 + (50 if last_month.year == today.year else 0)  # k1's 50 of last month
    assert kpis(html)["exercise_minutes"] == str(expected)
    assert response.context["board"].grain == "month"
    assert 'id="period-next"' not in html and 'id="period-previous"' in html


# --- exports -------------------------------------------------------------------------------------

def _book(response):
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.content), read_only=True).active


def test_subunit_table_exports_ranked_with_a_total_and_is_audited(seeded):
    tree = seeded
    period = periods.parse(None)
    response = english(tree.town_admin).get(
        reverse("cockpit:export", args=[tree.t1.code]) + f"?table=subunits&period={period.key}")
    rows = list(_book(response).values)
    head = list(rows[0])
    minutes = head.index("exercise minutes (minutes)")
    assert head[:3] == ["Rank", "Region", "Code"]
    assert [(r[0], r[2], r[minutes]) for r in rows[1:]] == [
        (1, tree.k1.code, 100), (2, tree.k2.code, 40), (None, tree.t1.code, 140)]
    entry = AuditEntry.objects.get(action="cockpit.export")
    assert entry.region_id == tree.t1.pk and entry.kind == AuditEntry.Kind.VIEW
    assert entry.data == {"table": "subunits", "period": period.key, "grain": "day", "rows": 3}


def test_trend_table_exports_one_row_per_bucket(seeded):
    tree = seeded
    today = timezone.localdate()
    response = english(tree.city_admin).get(
        reverse("cockpit:export", args=[tree.d1.code]) + "?table=trend")
    rows = list(_book(response).values)
    head = list(rows[0])
    minutes = head.index("exercise minutes (minutes)")
    assert head[:2] == ["From", "To"]
    assert len(rows) - 1 == today.day  # the days of this month so far
    assert sum(r[minutes] or 0 for r in rows[1:]) == 147
    assert AuditEntry.objects.filter(action="cockpit.export", data__table="trend").exists()


def test_export_of_an_unknown_table_is_refused(seeded):
    response = english(seeded.town_admin).get(
        reverse("cockpit:export", args=[seeded.t1.code]) + "?table=people")
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(action="cockpit.export").exists()


def test_the_page_reads_a_constant_number_of_queries_whatever_the_subunits(seeded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sportsman.regions.models import Region

    tree = seeded
    client = english(tree.district_admin)
    client.get(page_url(tree.d1))  # warm the session and the caches of the first request

    def count() -> int:
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page_url(tree.d1)).status_code == 200
        return len(queries)

    before = count()
    today = timezone.localdate()
    for i in range(3):
        town = Region.objects.create(code=f"33040202{i}000", edition=2023, name=f"镇{i}",
                                     level="town", parent=tree.d1, path="")
        town.path = f"{tree.d1.path}{town.pk}/"
        town.save(update_fields=["path"])
        Tally.objects.create(region=town, day=today, metric="exercise_minutes", value=i + 1)
    tallies.roll_up_months()
    assert count() == before
