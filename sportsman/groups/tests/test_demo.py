"""The groups of the small demo city: groups with members, posts, chat, finished activities that
became verified exercise records, an upcoming activity with a waitlist, and star groups."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_small_demo_city_has_living_groups():
    from django.db.models import Count

    from sportsman.activity.models import ActivityRecord
    from sportsman.core import crypto, demo_city
    from sportsman.groups import chat
    from sportsman.groups.models import (
        ChatMessage,
        Group,
        GroupActivity,
        GroupMonth,
        Membership,
        Post,
        Signup,
        StarGroup,
    )

    city = demo_city.generate(scale="small", seed=3, progress=False)
    groups = Group.objects.count()
    assert groups == city.made["groups"] >= 15
    assert Post.objects.count() and ChatMessage.objects.count() >= groups * 5
    # each group's chat reads in time order
    for gid in Group.objects.values_list("pk", flat=True)[:5]:
        times = list(ChatMessage.objects.filter(group_id=gid).order_by("pk")
                     .values_list("created_at", flat=True))
        assert times == sorted(times)
    # counters agree with the rows
    for g in Group.objects.annotate(n=Count("memberships")):
        assert g.members == g.n and g.memberships.filter(role="leader").count() == 1
    finished = GroupActivity.objects.filter(status="finished")
    attended = Signup.objects.filter(status="attended", activity__in=finished).count()
    assert attended and ActivityRecord.objects.filter(source="group", is_verified=True).count() \
        == attended
    assert Signup.objects.filter(status="waiting").exists() or all(
        a.taken < a.capacity for a in GroupActivity.objects.filter(status="open"))
    assert GroupMonth.objects.exists() and StarGroup.objects.exists()
    from sportsman.accounts.models import User

    demo = User.objects.get(phone_hash=crypto.keyed_hash("13800000000"))
    assert Membership.objects.filter(user=demo).count() == 2
    assert sum(chat.unread_counts(demo).values()) > 0
