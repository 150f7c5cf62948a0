"""The cockpit figures of deliberation and posts, from their records: topics opened, votes
cast, the turnout of closed votes, posts published and answered — by region and local day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sportsman.core import figures
from sportsman.governance import deliberation, moderation, posts
from sportsman.governance.tests.fixtures_deliberation import open_topic, post, resident

pytestmark = pytest.mark.django_db


def _values(key: str, start: dt.date, end: dt.date) -> dict:
    metric = figures.get(key)
    assert metric is not None
    return {(r, d): v for r, d, v in metric.compute(start, end)}


def test_deliberation_and_post_figures(tree):
    today = timezone.localdate()
    week = (today - dt.timedelta(days=3), today + dt.timedelta(days=3))
    topic = open_topic(tree)
    for choice in ("support", "oppose", "support"):
        deliberation.vote(actor=resident(tree), topic_id=topic.pk, choice=choice)
    closed = deliberation.close_topic(actor=tree.town_admin, topic_id=topic.pk)
    kept, gone = post(tree), post(tree, text="广告")
    posts.answer(actor=tree.town_admin, post_id=kept.pk, text="收到")
    moderation.take_down(actor=tree.town_admin, kind="post", target_id=gone.pk, reason="广告")

    assert _values("deliberations_opened", *week) == {(tree.t1.pk, today): 1}
    assert _values("deliberation_votes", *week) == {(tree.t1.pk, today): 3}
    assert _values("deliberation_ballots_closed", *week) == {(tree.t1.pk, today): 3}
    assert _values("deliberation_eligible_closed", *week) == {(tree.t1.pk, today):
                                                              closed.eligible}
    assert _values("posts_published", *week) == {(tree.k2.pk, today): 1}
    assert _values("posts_answered", *week) == {(tree.k2.pk, today): 1}
    turnout = next(r for r in figures.ratios() if r.key == "deliberation_turnout")
    assert turnout.of({"deliberation_ballots_closed": 3,
                       "deliberation_eligible_closed": closed.eligible}) \
        == round(300 / closed.eligible, 2)
    earlier = (today - dt.timedelta(days=9), today - dt.timedelta(days=5))
    assert _values("deliberation_votes", *earlier) == {}
