"""My points page: balance, the rules where I live, and the statement."""

from __future__ import annotations

import pytest

from sportsman.rewards import points
from sportsman.rewards.models import PointRule

pytestmark = pytest.mark.django_db


def test_my_points_page_shows_balance_rules_and_entries(tree, client):
    PointRule.objects.create(region=tree.city, kind="per_30_minutes", points=10, daily_cap=60)
    me = tree.user(home_community=tree.k1)
    points.award(user_id=me.pk, amount=30, reason="2026-06-10: 95 min", source="activity",
                 idempotency_key="a")
    client.force_login(me)

    page = client.get("/rewards/points/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "2026-06-10: 95 min" in text and "+30" in text and "60" in text


def test_my_points_page_sends_visitors_to_log_in(client):
    page = client.get("/rewards/points/")
    assert page.status_code == 302 and "/login" in page["Location"]
