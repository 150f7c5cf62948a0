"""The group pages, as residents and staff use them: finding and starting a group, a group's
space and members, the chat page, planning and joining an activity, checking in by its QR link,
the star groups, and the console's approvals, reports and star groups."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from sportsman.groups import activities, space
from sportsman.groups.models import CreationRule, Group, GroupActivity, Post, Signup
from sportsman.groups.tests.fixtures import (
    leader_of,
    make_activity,
    make_group,
    member,
    png_bytes,
    resident,
)

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_finding_groups_as_a_visitor_and_as_a_member(tree):
    group = make_group(tree, name="长纤塘健步走")
    make_group(tree, name="篮球群", sport="basketball")
    page = Client().get("/groups/?sport=square-dance")
    assert page.status_code == 200
    text = page.content.decode()
    assert "长纤塘健步走" in text and "篮球群" not in text
    me = member(tree, group)
    mine = _as(me).get("/groups/").content.decode()
    assert 'id="my-groups"' in mine and f'/groups/{group.pk}/' in mine
    home = _as(me).get("/").content.decode()
    assert "长纤塘健步走" in home and 'id="home-groups-card"' in home


def test_starting_a_group_from_the_form(tree):
    me = resident(tree)
    bad = _as(me).post("/groups/new/", {"name": "", "sport": "square-dance",
                                        "join_policy": "open"})
    assert bad.status_code == 200 and not Group.objects.exists()
    r = _as(me).post("/groups/new/", {"name": "茶园排舞群", "sport": "line-dance",
                                      "join_policy": "approval", "description": "每晚七点"})
    group = Group.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/groups/{group.pk}/"
    assert group.join_policy == "approval" and leader_of(group) == me


def test_a_pending_group_says_so_and_outsiders_do_not_see_it(tree):
    CreationRule.objects.create(region=tree.city, needs_approval=True)
    me = resident(tree)
    _as(me).post("/groups/new/", {"name": "待批", "sport": "square-dance",
                                  "join_policy": "open"})
    group = Group.objects.get()
    assert group.status == "pending"
    assert "awaits" in _as(me).get(f"/groups/{group.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert Client().get(f"/groups/{group.pk}/").status_code == 404


def test_a_group_page_shows_the_space_to_members_only(tree):
    group = make_group(tree)
    me = member(tree, group)
    space.create_post(actor=leader_of(group), group_id=group.pk, text="本周六停练",
                      notice=True)
    outsider_view = Client().get(f"/groups/{group.pk}/").content.decode()
    assert "本周六停练" not in outsider_view and 'id="join"' in outsider_view
    member_view = _as(me).get(f"/groups/{group.pk}/").content.decode()
    assert "本周六停练" in member_view and 'id="open-chat"' in member_view


def test_joining_posting_liking_and_commenting_from_the_page(tree):
    group = make_group(tree)
    me = resident(tree)
    client = _as(me)
    assert client.post(f"/groups/{group.pk}/join/").status_code == 302
    r = client.post(f"/groups/{group.pk}/posts/", {
        "text": "打卡", "photos": [SimpleUploadedFile("a.jpg", png_bytes())]})
    assert r.status_code == 302
    post = Post.objects.get()
    assert post.photos.count() == 1
    client.post(f"/groups/{group.pk}/posts/{post.pk}/", {"action": "like"})
    client.post(f"/groups/{group.pk}/posts/{post.pk}/", {"action": "comment", "text": "赞"})
    post.refresh_from_db()
    assert (post.likes, post.comments) == (1, 1)
    # a refused post comes back to the page with the reason, and writes nothing
    bad = client.post(f"/groups/{group.pk}/posts/", {
        "text": "坏图", "photos": [SimpleUploadedFile("b.jpg", b"not an image")]},
        HTTP_REFERER=f"http://testserver/groups/{group.pk}/")
    assert bad.status_code == 302 and Post.objects.count() == 1


def test_the_chat_page_for_members_with_history(tree):
    from sportsman.groups import chat

    group = make_group(tree)
    me = member(tree, group)
    chat.send(actor=leader_of(group), group_id=group.pk, text="今晚七点", client_id="h1")
    page = _as(me).get(f"/groups/{group.pk}/chat/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "今晚七点" in text and f'data-socket="/ws/groups/{group.pk}/chat/"' in text
    assert chat.unread_counts(me) == {}  # opening the chat reads it
    assert _as(resident(tree)).get(f"/groups/{group.pk}/chat/").status_code == 403


def test_the_chat_page_dates_the_lines_of_earlier_days(tree):
    import datetime as dt

    from django.utils import timezone

    from sportsman.groups import chat
    from sportsman.groups.models import ChatMessage

    group = make_group(tree)
    me = member(tree, group)
    old, _ = chat.send(actor=leader_of(group), group_id=group.pk, text="上周的话", client_id="o1")
    chat.send(actor=leader_of(group), group_id=group.pk, text="今天的话", client_id="n1")
    earlier = timezone.localtime() - dt.timedelta(days=3)
    ChatMessage.objects.filter(pk=old.pk).update(created_at=earlier)
    text = _as(me).get(f"/groups/{group.pk}/chat/").content.decode()
    assert f'{earlier:%m-%d %H:%M}</time>' in text
    import re

    today_line = text.split("今天的话", 1)[1].split("</li>", 1)[0]
    assert re.search(r">\d\d:\d\d</time>$", today_line), today_line  # today: the time only


def test_planning_an_activity_signing_up_and_checking_in(tree):
    group = make_group(tree)
    leader = _as(leader_of(group))
    start = (timezone.localtime() + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    r = leader.post(f"/groups/{group.pk}/activities/new/", {
        "title": "夜跑", "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "minutes": 60,
        "capacity": 1, "place": "南湖南门", "waitlist": "on"})
    act = GroupActivity.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/groups/activities/{act.pk}/"
    assert "<svg" in leader.get(f"/groups/activities/{act.pk}/").content.decode()  # the QR
    first, second = _as(member(tree, group)), _as(member(tree, group))
    first.post(f"/groups/activities/{act.pk}/do/", {"action": "sign_up"})
    second.post(f"/groups/activities/{act.pk}/do/", {"action": "sign_up"})
    assert sorted(Signup.objects.values_list("status", flat=True)) == ["signed_up", "waiting"]
    waiting_page = second.get(f"/groups/activities/{act.pk}/").content.decode()
    assert 'id="my-signup"' in waiting_page and "<svg" not in waiting_page
    link = first.get(f"/groups/check-in/{act.check_in_code}/")
    assert link.status_code == 200 and 'id="check-in"' in link.content.decode()
    assert not Signup.objects.filter(status="attended").exists()  # a GET changes nothing


def test_the_check_in_link_checks_in_during_the_activity(tree):
    import time_machine

    group = make_group(tree)
    act = make_activity(group)
    me = member(tree, group)
    activities.sign_up(actor=me, activity_id=act.pk)
    with time_machine.travel(act.starts_at + dt.timedelta(minutes=1)):
        r = _as(me).post(f"/groups/check-in/{act.check_in_code}/")
    assert r.status_code == 302
    assert Signup.objects.get(user=me).status == "attended"


def test_the_star_groups_page(tree):
    r = Client().get("/groups/stars/")
    assert r.status_code == 200 and "<h1>" in r.content.decode()


def test_the_console_approves_handles_reports_and_sets_the_rule(tree):
    group = make_group(tree, name="待批社群")
    Group.objects.filter(pk=group.pk).update(status="pending")
    staff = _as(tree.town_admin)
    page = staff.get("/groups/console/")
    assert page.status_code == 200 and "待批社群" in page.content.decode()
    staff.post(f"/groups/console/{group.pk}/review/", {"approve": "1", "note": "同意"})
    group.refresh_from_db()
    assert group.status == "active"
    post = space.create_post(actor=leader_of(group), group_id=group.pk, text="广告内容")
    report = space.report(actor=member(tree, group), group_id=group.pk, post_id=post.pk,
                          reason="广告")
    assert "广告内容" in staff.get("/groups/console/").content.decode()
    staff.post(f"/groups/console/reports/{report.pk}/", {"uphold": "1", "mute_minutes": "60"})
    report.refresh_from_db()
    assert report.status == "upheld"
    staff.post("/groups/console/rule/", {"needs_approval": "1"})
    assert CreationRule.objects.filter(needs_approval=True).exists()


def test_a_sibling_towns_staff_see_none_of_it(tree):
    group = make_group(tree, name="待批社群")
    Group.objects.filter(pk=group.pk).update(status="pending")
    staff = _as(tree.sibling_town_admin)
    assert "待批社群" not in staff.get("/groups/console/").content.decode()
    staff.post(f"/groups/console/{group.pk}/review/", {"approve": "1"})
    group.refresh_from_db()
    assert group.status == "pending"
    assert _as(resident(tree)).get("/groups/console/").status_code == 403


def test_city_staff_keep_the_word_list_from_the_console(tree):
    from sportsman.core.models import SensitiveWord

    staff = _as(tree.city_admin)
    staff.post("/groups/console/words/", {"word": "刷单"})
    word = SensitiveWord.objects.get()
    assert word.region == tree.city and "刷单" in staff.get("/groups/console/").content.decode()
    assert 'id="words"' not in _as(tree.town_admin).get("/groups/console/").content.decode()
    _as(tree.town_admin).post("/groups/console/words/", {"remove": str(word.pk)})
    assert SensitiveWord.objects.exists()
    staff.post("/groups/console/words/", {"remove": str(word.pk)})
    assert not SensitiveWord.objects.exists()


@pytest.mark.usefixtures("midday")
def test_fitness_stars_from_the_console_shown_on_the_stars_page(tree):
    from sportsman.groups.tests.test_stars import _exercise

    keen = resident(tree, nickname="跑得快")
    _exercise(keen, 25)
    staff = _as(tree.town_admin)
    staff.post("/console/region/", {"region": tree.t1.pk})
    page = staff.get("/groups/console/").content.decode()
    assert 'id="fitness"' in page and "跑得快" in page
    staff.post("/groups/console/fitness/", {"user": str(keen.pk)})
    assert "跑得快" in Client().get("/groups/stars/").content.decode()
