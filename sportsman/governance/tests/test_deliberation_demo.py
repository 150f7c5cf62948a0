"""The deliberation and posts demo steps on the small demo city's regions, residents and staff:
topics in every state with votes that match their frozen results, decisions with follow-ups,
posts with comments and answers, and a flagged advert in the demo resident's community."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _run_core_and_governance_steps():
    from django.utils.module_loading import autodiscover_modules

    from sportsman.core import demo_city

    autodiscover_modules("demo_steps")
    city = demo_city.DemoCity(scale="small", seed=3, progress=False)
    for entry in list(demo_city.STEPS):
        if entry.order <= 30 or entry.name in ("governance-deliberation", "governance-posts"):
            entry.run(city)
    return city


def test_the_demo_has_decided_topics_and_answered_posts():
    from django.db.models import Count, Q

    from sportsman.core.demo import DEMO_HOME_COMMUNITY
    from sportsman.governance import moderation
    from sportsman.governance.models import CommunityPost, PostComment, Topic, Vote

    _run_core_and_governance_steps()
    assert Topic.objects.count() == 12
    assert Topic.objects.filter(status="decided").count() >= 4
    decided = Topic.objects.filter(status="decided").exclude(decision="")
    assert decided.count() == Topic.objects.filter(status="decided").count()
    for t in Topic.objects.filter(status__in=["closed", "decided"]).annotate(
            s=Count("votes", filter=Q(votes__choice="support")), n=Count("votes")):
        assert (t.votes_support, t.votes_total) == (t.s, t.n)
        # every voter lives in the topic's region
        assert not Vote.objects.filter(topic=t).exclude(
            user__home_community__path__startswith=t.region.path).exists()
    home = Topic.objects.filter(region__code=DEMO_HOME_COMMUNITY)
    assert set(home.values_list("status", flat=True)) >= {"open", "proposed"}
    assert CommunityPost.objects.count() and PostComment.objects.filter(is_answer=True).exists()
    for p in CommunityPost.objects.annotate(n=Count("comment_rows"))[:20]:
        assert p.comments == p.n
    from sportsman.accounts.models import User
    from sportsman.core import crypto

    admin = User.objects.get(phone_hash=crypto.keyed_hash("13800000001"))
    assert [i.text for i in moderation.queue(admin)] == ["加微信领健身卡，名额有限！"]
