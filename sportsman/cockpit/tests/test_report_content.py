"""What a monthly report says: every figure equals ``tallies.sheet`` (the month, the month before,
the same month a year before), the subunits ranked as the sheet's children, a summary written
from the figures in the reader's language, charts with a mark per day and per month, and the
sections other parts of the cockpit add."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from defusedxml import ElementTree
from django.utils import timezone, translation

from sportsman.cockpit import periods, report, tallies
from sportsman.cockpit.models import Tally
from sportsman.cockpit.tests.report_fixtures import (  # noqa: F401 (fixtures)
    private_media_fixture,
    seeded_fixture,
)
from sportsman.core import figures
from sportsman.core.errors import InvalidInput

pytestmark = pytest.mark.django_db

NS = "{http://www.w3.org/2000/svg}"


def year_before(period):
    return periods.period_containing(period.grain, period.start.replace(year=period.start.year - 1))


@pytest.mark.parametrize("where", ["city", "d1", "t1", "k1"])
def test_every_figure_equals_the_sheet(seeded, where):
    region = getattr(seeded, where)
    content = report.build(region, seeded.period)
    now = tallies.sheet(region, seeded.period).total
    before = tallies.sheet(region, seeded.period.previous()).total
    a_year_ago = tallies.sheet(region, year_before(seeded.period)).total

    keys = {m.key for m in figures.metrics()} | {r.key for r in figures.ratios()}
    assert {line.figure.key for line in content.lines} == keys
    for line in content.lines:
        key = line.figure.key
        assert line.value == now.get(key), key
        assert line.month.previous == before.get(key), key
        assert line.year is not None and line.year.previous == a_year_ago.get(key), key
    assert content.as_of == seeded.period.end


def test_the_figures_are_the_seeded_ones(seeded):
    city = report.build(seeded.city, seeded.period)
    minutes = city.line("exercise_minutes")
    assert minutes is not None
    assert (minutes.value, minutes.month.previous, minutes.year.previous) == (152, 50, 80)
    assert minutes.month.change == 204.0 and minutes.year.change == 90.0
    utilisation = city.line("utilisation")
    assert utilisation is not None and utilisation.value == 20.0
    assert city.line("residents_registered").value == 25  # stocks: the month's last day


def test_subunits_are_ranked_like_the_sheet_children(seeded):
    content = report.build(seeded.t1, seeded.period)
    assert content.ranking is not None
    assert content.ranking.by.key == "exercise_minutes"
    assert [(r.rank, r.region.code, r.cells[0]) for r in content.ranking.rows] == [
        (1, seeded.k1.code, "100"), (2, seeded.k2.code, "40")]
    children = {c.region.pk: c for c in tallies.sheet(seeded.t1, seeded.period).children}
    for row in content.ranking.rows:
        for figure, cell in zip(content.ranking.columns, row.cells, strict=True):
            assert cell == report.show(figure, children[row.region.pk].get(figure.key))


def test_a_community_has_no_ranking(seeded):
    content = report.build(seeded.k1, seeded.period)
    assert content.ranking is None and content.subunit_chart is None


def test_the_summary_speaks_of_the_figures_in_english(seeded):
    with translation.override("en"):
        content = report.build(seeded.city, seeded.period)
        text = content.summary_text
    assert ("This month's exercise minutes: 152 minutes, up 204.0% on the previous month, "
            "up 90.0% on the same month last year.") in text
    assert "registered residents at the end of the month: 25, up from zero the previous month" in (
        text)
    assert ("utilisation of bookable places: 20.0%, no figures for the previous month to "
            "compare.") in text
    assert ("Of its 2 subunits, 南湖区 had the highest exercise minutes (147) and 秀洲区 the "
            "lowest (5).") in text
    # one sentence per domain at least: the rewards domain has no summary figure of its own
    assert "points earned" in text


def test_the_summary_runs_its_sentences_together_in_chinese(seeded):
    with translation.override("zh-hans"):
        content = report.build(seeded.city, seeded.period)
        assert ". " not in content.summary_text
    with translation.override("en"):
        assert ". " in report.build(seeded.city, seeded.period).summary_text


def test_numbers_are_written_for_the_language():
    with translation.override("en"):
        assert report.number(1234567) == "1,234,567"
        assert report.number(12.345, 1) == "12.3"
    with translation.override("zh-hans"):
        assert report.number(1234567) == "1234567"


def test_without_the_month_before_or_the_year_before_there_is_nothing_to_compare(seeded):
    Tally.objects.filter(day__lt=seeded.period.start).delete()
    with translation.override("en"):
        content = report.build(seeded.city, seeded.period)
        text = content.summary_text
    assert content.year_before is None
    minutes = content.line("exercise_minutes")
    assert minutes is not None and minutes.year is None and minutes.month.previous is None
    assert minutes.change_text == "—" and minutes.year_change_text == "—"
    assert "no figures for the previous month to compare" in text
    assert "last year" not in text


def test_a_month_without_figures_says_so(tree):
    content = report.build(tree.city, report.last_month())
    assert content.as_of is None
    with translation.override("en"):
        assert report.build(tree.city, report.last_month()).summary == [
            "No figures have been computed for this month yet."]


def test_charts_mark_each_day_and_each_of_twelve_months(seeded):
    content = report.build(seeded.city, seeded.period)
    days = (seeded.period.end - seeded.period.start).days + 1
    assert content.daily and len(content.daily) == len(content.monthly)
    for chart in content.daily:
        root = ElementTree.fromstring(str(chart.svg))
        assert len([c for c in root.iter(f"{NS}circle") if c.get("class") == "point"]) == days
    for chart in content.monthly:
        root = ElementTree.fromstring(str(chart.svg))
        assert len([r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]) == 12
    assert content.subunit_chart is not None
    root = ElementTree.fromstring(str(content.subunit_chart.svg))
    assert len([r for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]) == 2


def test_the_daily_minutes_chart_draws_the_seeded_days(seeded):
    content = report.build(seeded.t1, seeded.period)
    root = ElementTree.fromstring(str(content.daily[0].svg))
    tips = [c.find(f"{NS}title").text for c in root.iter(f"{NS}circle")]
    assert "3: 90" in tips and "20: 50" in tips  # k1 + k2 on the 3rd and on the 20th


def test_the_supervision_section_is_there_when_that_part_is(seeded):
    content = report.build(seeded.t1, seeded.period)
    assert [s.key for s in content.sections] == ["supervision"]


def test_the_report_does_without_the_supervision_part(seeded, monkeypatch):
    monkeypatch.setitem(sys.modules, "sportsman.cockpit.supervision", None)
    content = report.build(seeded.t1, seeded.period)
    assert content.sections == []
    assert "section-supervision" not in report.render_html(content)


# --- the month asked for -------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["2026-13", "2026-Q1", "2026", "May", "", "2019-12",
                                   "2026-05-01"])
def test_something_that_is_not_a_month_is_refused(value):
    with pytest.raises(InvalidInput) as caught:
        report.month(value)
    assert caught.value.code == "bad_period"


def test_a_month_that_has_not_begun_is_refused():
    today = timezone.localdate()
    next_month = periods.period_containing(periods.Grain.MONTH,
                                           today.replace(day=28) + dt.timedelta(days=5))
    with translation.override("en"), pytest.raises(InvalidInput, match="has not begun") as no:
        report.month(next_month.key, today=today)
    assert no.value.code == "period_not_begun"


def test_only_a_finished_month_can_be_stored():
    today = timezone.localdate()
    this_month = periods.period_containing(periods.Grain.MONTH, today)
    assert report.month(this_month.key, today=today) == this_month
    with translation.override("en"), pytest.raises(InvalidInput, match="not over yet"):
        report.month(this_month.key, finished=True, today=today)
    assert report.month(report.last_month(today).key, finished=True, today=today).end < today


def test_nothing_both_months_is_the_same_not_missing(seeded):
    with translation.override("en"):
        text = report.build(seeded.city, seeded.period).summary_text
    # points earned: 0 this month and 0 the month before, both months computed
    assert "This month's points earned: 0, the same as the previous month" in text
