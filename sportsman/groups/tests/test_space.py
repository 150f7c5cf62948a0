"""The group space through the API: members post (with photos), comment and like; leaders pin
and delete; muted members and outsiders are refused with nothing written; reports reach the
staff of the group's region, who remove or dismiss."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sportsman.core.models import SensitiveWord
from sportsman.groups import services
from sportsman.groups.models import Comment, Like, Post, PostPhoto, Report
from sportsman.groups.tests.fixtures import leader_of, make_group, member, png_bytes, resident

pytestmark = pytest.mark.django_db


def _post(client, group, text="今晚七点南湖边集合", photos=(), **extra):
    data = {"text": text, **extra}
    if photos:
        data["photos"] = [SimpleUploadedFile(f"p{i}.jpg", p) for i, p in enumerate(photos)]
    return client.post(f"/api/v1/groups/{group.pk}/posts", data)


def test_a_member_posts_with_photos_stripped_of_exif(tree, api_client):
    group = make_group(tree)
    me = member(tree, group)
    r = _post(api_client.as_user(me), group, photos=[png_bytes(exif=True), png_bytes()])
    assert r.status_code == 201, r.content
    body = r.json()
    assert len(body["photos"]) == 2 and body["text"] == "今晚七点南湖边集合"
    for photo in PostPhoto.objects.all():
        data = photo.image.read()
        assert data.startswith(b"\xff\xd8") and b"CameraMaker" not in data
    listed = api_client.as_user(leader_of(group)).get(f"/api/v1/groups/{group.pk}/posts").json()
    assert [p["id"] for p in listed["items"]] == [body["id"]]


@pytest.mark.parametrize("photos, code", [
    ([b"GIF89a but not really"], "photo_invalid"),
    ([b"%PDF-1.7\n%%EOF"], "photo_invalid"),
    ([png_bytes()] * 10, "too_many_photos"),
])
def test_a_post_with_a_bad_photo_writes_nothing(tree, api_client, photos, code):
    group = make_group(tree)
    r = _post(api_client.as_user(leader_of(group)), group, photos=photos)
    assert r.status_code == 400 and r.json()["code"] == code
    assert not Post.objects.exists() and not PostPhoto.objects.exists()


def test_an_oversized_photo_is_refused(tree, api_client):
    group = make_group(tree)
    r = _post(api_client.as_user(leader_of(group)), group,
              photos=[b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 1)])
    assert r.status_code == 400 and r.json()["code"] == "photo_too_large"
    assert not Post.objects.exists()


def test_outsiders_and_muted_members_cannot_write(tree, api_client):
    group = make_group(tree)
    outsider = resident(tree)
    r = _post(api_client.as_user(outsider), group)
    assert r.status_code == 403 and r.json()["code"] == "not_member"
    assert api_client.as_user(outsider).get(
        f"/api/v1/groups/{group.pk}/posts").json()["code"] == "not_member"
    quiet = member(tree, group)
    services.mute(actor=leader_of(group), group_id=group.pk, user_id=quiet.pk, minutes=60)
    r = _post(api_client.as_user(quiet), group)
    assert r.status_code == 403 and r.json()["code"] == "muted"
    assert not Post.objects.exists()


def test_sensitive_words_are_refused_everywhere_residents_write(tree, api_client):
    SensitiveWord.objects.create(word="代开发票", region=tree.city)
    group = make_group(tree)
    client = api_client.as_user(leader_of(group))
    r = _post(client, group, text="需要代开发票的找我")
    assert r.status_code == 400 and r.json()["code"] == "sensitive_words"
    post = _post(client, group, text="周末活动").json()
    c = client.json("post", f"/api/v1/groups/{group.pk}/posts/{post['id']}/comments",
                    {"text": "代开发票"})
    assert c.json()["code"] == "sensitive_words"
    m = client.json("post", f"/api/v1/groups/{group.pk}/messages",
                    {"text": "代开发票 vx", "client_id": "a1"})
    assert m.json()["code"] == "sensitive_words"
    assert Post.objects.count() == 1 and not Comment.objects.exists()


def test_a_new_sensitive_word_applies_at_once(tree, api_client):
    group = make_group(tree)
    client = api_client.as_user(leader_of(group))
    assert _post(client, group, text="加我微信").status_code == 201
    SensitiveWord.objects.create(word="微信", region=tree.city)
    assert _post(client, group, text="加我微信").json()["code"] == "sensitive_words"


def test_posting_too_fast_is_throttled(tree, api_client):
    group = make_group(tree)
    client = api_client.as_user(leader_of(group))
    for i in range(5):
        assert _post(client, group, text=f"第{i}条").status_code == 201
    r = _post(client, group, text="第六条")
    assert r.status_code == 429 and r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) >= 1
    assert Post.objects.count() == 5


def test_comments_and_likes_count_once(tree, api_client):
    group = make_group(tree)
    me = member(tree, group)
    client = api_client.as_user(me)
    post = _post(api_client.as_user(leader_of(group)), group).json()
    for _ in range(2):
        r = client.put(f"/api/v1/groups/{group.pk}/posts/{post['id']}/like")
        assert r.json() == {"likes": 1}
    assert Like.objects.count() == 1
    c = client.json("post", f"/api/v1/groups/{group.pk}/posts/{post['id']}/comments",
                    {"text": "我来！"})
    assert c.status_code == 201
    listed = client.get(f"/api/v1/groups/{group.pk}/posts").json()["items"][0]
    assert listed["likes"] == 1 and listed["comments"] == 1
    assert client.delete(f"/api/v1/groups/{group.pk}/posts/{post['id']}/like").json() == \
        {"likes": 0}


def test_notices_come_first_and_only_leaders_pin(tree, api_client):
    group = make_group(tree)
    me = member(tree, group)
    refused = _post(api_client.as_user(me), group, notice="true")
    assert refused.status_code == 403 and refused.json()["code"] == "not_group_manager"
    leader = api_client.as_user(leader_of(group))
    notice = _post(leader, group, text="本周六停练", notice="true").json()
    later = _post(api_client.as_user(me), group, text="收到").json()
    items = leader.get(f"/api/v1/groups/{group.pk}/posts").json()["items"]
    assert [p["id"] for p in items] == [notice["id"], later["id"]]
    assert items[0]["pinned"] is True


def test_a_leader_deletes_a_members_post_but_a_member_cannot_delete_others(tree, api_client):
    group = make_group(tree)
    a, b = member(tree, group), member(tree, group)
    post = _post(api_client.as_user(a), group).json()
    r = api_client.as_user(b).delete(f"/api/v1/groups/{group.pk}/posts/{post['id']}")
    assert r.status_code == 403
    r = api_client.as_user(leader_of(group)).delete(f"/api/v1/groups/{group.pk}/posts/{post['id']}")
    assert r.status_code == 200
    assert api_client.as_user(a).get(f"/api/v1/groups/{group.pk}/posts").json()["items"] == []


def test_a_report_reaches_the_regions_staff_who_remove_and_mute(tree, api_client):
    group = make_group(tree)  # in k2, inside t1
    spammer, reporter = member(tree, group), member(tree, group)
    post = _post(api_client.as_user(spammer), group, text="低价代购").json()
    r = api_client.as_user(reporter).json("post", f"/api/v1/groups/{group.pk}/reports",
                                          {"post_id": post["id"], "reason": "广告"})
    assert r.status_code == 201
    again = api_client.as_user(reporter).json("post", f"/api/v1/groups/{group.pk}/reports",
                                              {"post_id": post["id"], "reason": "广告"})
    assert again.json()["code"] == "already_reported"
    # a sibling town's staff see nothing; t1's staff see it
    assert api_client.as_user(tree.sibling_town_admin).get(
        "/api/v1/console/group-reports").json() == []
    staff = api_client.as_user(tree.town_admin)
    listed = staff.get("/api/v1/console/group-reports").json()
    assert [x["text"] for x in listed] == ["低价代购"]
    done = staff.json("post", f"/api/v1/console/group-reports/{listed[0]['id']}",
                      {"uphold": True, "mute_minutes": 60})
    assert done.json()["status"] == "upheld"
    assert Post.objects.get(pk=post["id"]).deleted_at is not None
    assert services.is_muted(group.memberships.get(user=spammer))
    assert Report.objects.get().handled_by == tree.town_admin


def test_city_staff_keep_the_word_list_and_it_applies_at_once(tree, api_client):
    group = make_group(tree)
    client = api_client.as_user(leader_of(group))
    staff = api_client.as_user(tree.city_admin)
    r = staff.json("post", "/api/v1/console/sensitive-words",
                   {"region_id": tree.city.pk, "word": "刷单"})
    assert r.status_code == 201
    assert _post(client, group, text="刷单赚钱").json()["code"] == "sensitive_words"
    refused = api_client.as_user(tree.district_admin).json(
        "post", "/api/v1/console/sensitive-words", {"region_id": tree.city.pk, "word": "x"})
    assert refused.status_code == 403
    staff.delete(f"/api/v1/console/sensitive-words/{r.json()['id']}")
    assert _post(client, group, text="刷单赚钱").status_code == 201
    assert SensitiveWord.objects.count() == 0
