"""Resident pages: my data (tabs, heat map), rankings (me highlighted), the yearly report."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sportsman.activity.selectors import today
from sportsman.activity.tests.test_mydata import put_day

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_my_data_page_shows_totals_tabs_and_a_heat_map(tree):
    put_day(tree.resident, today(), 35)
    for period in ("week", "month", "year"):
        html = _client(tree.resident).get(reverse("activity:my_data"), {"period": period})
        assert html.status_code == 200
        text = html.content.decode()
        assert "<strong>35</strong>" in text and 'class="heat-2"' in text
        assert f'href="?period={period}" aria-current="page"' in text


def test_pages_need_a_login(tree):
    response = Client().get(reverse("activity:my_data"))
    assert response.status_code in (302, 401)


def test_rankings_page_highlights_me(tree):
    put_day(tree.resident, today(), 35)
    put_day(tree.user(home_community=tree.k2, nickname="邻居"), today(), 50)
    text = _client(tree.resident).get(reverse("activity:rankings"), {"level": "town"}) \
        .content.decode()
    assert 'class="me" aria-current="true"><span class="rank">2</span>' in text
    assert "邻居" in text


def test_report_page_links_the_png_and_the_png_renders(tree):
    year = today().year
    put_day(tree.resident, today(), 35)
    c = _client(tree.resident)
    text = c.get(reverse("activity:report", args=[year])).content.decode()
    assert reverse("activity:report_png", args=[year]) in text
    png = c.get(reverse("activity:report_png", args=[year]), {"download": "1"})
    assert png["Content-Type"] == "image/png" and "attachment" in png["Content-Disposition"]
    assert c.get(reverse("activity:report", args=[1900])).status_code == 404


def test_rankings_page_names_last_years_fitness_stars(tree):
    import datetime as dt

    star = tree.user(home_community=tree.k1, nickname="去年达人")
    put_day(star, dt.date(today().year - 1, 6, 1), 120)
    text = _client(tree.resident).get(reverse("activity:rankings")).content.decode()
    assert f"{today().year - 1} 年花园社区健身达人" in text and "去年达人" in text
