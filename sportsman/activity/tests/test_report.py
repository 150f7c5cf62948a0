"""The yearly report: figures from the rollups, privacy in the PNG, no ranks when opted out."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from sportsman.activity import report
from sportsman.activity.models import RegionDay
from sportsman.activity.selectors import LOCAL_TZ
from sportsman.activity.tests.test_mydata import put_day, put_record

pytestmark = pytest.mark.django_db


def _year_of(tree):
    from sportsman.core.models import Sport

    me = tree.resident
    me.nickname = "晨跑小王"
    me.save()
    run = Sport.objects.create(slug="t-run", name_zh="跑步", name_en="Running", family="endurance")
    for n in range(5):  # 3–7 March: a five-day streak
        put_day(me, dt.date(2026, 3, 3 + n), 40)
    put_day(me, dt.date(2026, 8, 1), 30, verified=0)
    put_day(me, dt.date(2025, 12, 31), 500)  # another year
    put_record(me, dt.datetime(2026, 3, 3, 7, tzinfo=LOCAL_TZ), 40, run, key="r1")
    rival = tree.user(home_community=tree.k3, nickname="rival")
    put_day(rival, dt.date(2026, 5, 1), 900)
    RegionDay.objects.create(region=tree.k1, day=dt.date(2026, 3, 3), minutes=230, sessions=6,
                             verified_minutes=200, active_users=1)
    return me


def test_report_adds_up_the_year(tree):
    me = _year_of(tree)
    r = report.yearly_report(me, year=2026)
    assert (r.minutes, r.sessions, r.days_active, r.longest_streak) == (230, 6, 6, 5)
    assert r.busiest_month == 3 and r.busiest_month_minutes == 200
    assert r.favourite_sport == "跑步" or r.favourite_sport == "Running"
    assert (r.community_rank, r.community_ranked) == (1, 1)
    assert (r.city_rank, r.city_ranked) == (2, 2)
    assert r.community_average == 230.0


def test_opted_out_resident_gets_no_ranks(tree):
    me = _year_of(tree)
    me.hide_from_rankings = True
    me.save()
    r = report.yearly_report(me, year=2026)
    assert r.community_rank is None and r.city_rank is None and r.hidden_from_rankings
    labels = [label for label, _v in report.report_lines(r)]
    assert not any("Rank" in label or "排名" in label for label in labels)


def test_png_names_the_nickname_only_and_shows_no_rank_when_opted_out(tree, monkeypatch):
    from PIL import ImageDraw

    me = _year_of(tree)
    drawn: list[str] = []
    real_text = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text",
                        lambda self, xy, text, *a, **kw: (drawn.append(text),
                                                          real_text(self, xy, text, *a, **kw)))
    png = report.render_png(report.yearly_report(me, year=2026))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (750, 1200)
    assert "晨跑小王" in drawn and "1 / 1" in drawn
    assert not any(me.phone in t or me.phone[-4:] in t for t in drawn)
    me.hide_from_rankings = True
    drawn.clear()
    report.render_png(report.yearly_report(me, year=2026))
    assert "1 / 1" not in drawn and "2 / 2" not in drawn
