"""Groups and members through the API: creating (with approval where the region asks), joining
by each policy, roles, muting, the member list by privacy choice, and bad input changing nothing."""

from __future__ import annotations

import pytest

from sportsman.groups import services
from sportsman.groups.models import CreationRule, Group, GroupStatus, Membership
from sportsman.groups.tests.fixtures import make_group, member, png_bytes, resident

pytestmark = pytest.mark.django_db


def test_a_resident_starts_a_group_in_their_community_and_leads_it(tree, api_client):
    me = resident(tree)
    r = api_client.as_user(me).json("post", "/api/v1/groups", {
        "name": "茶园排舞群", "sport": "line-dance", "description": "每晚七点", "join_policy": "open"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "active" and body["members"] == 1
    assert body["region_id"] == tree.k2.pk and body["sport"] == "line-dance"
    assert Membership.objects.get(group_id=body["id"], user=me).role == "leader"
    mine = api_client.as_user(me).get("/api/v1/me/groups").json()
    assert [(g["id"], g["role"]) for g in mine] == [(body["id"], "leader")]


def test_where_the_town_asks_for_approval_a_new_group_waits_for_its_staff(
        tree, api_client, django_capture_on_commit_callbacks):
    CreationRule.objects.create(region=tree.t1, needs_approval=True)
    me = resident(tree)
    body = api_client.as_user(me).json("post", "/api/v1/groups", {
        "name": "艾尚舞", "sport": "square-dance"}).json()
    assert body["status"] == "pending"
    # residents do not find it, and nobody can join it yet
    assert api_client.get("/api/v1/groups").json()["items"] == []
    refused = api_client.as_user(resident(tree)).post(f"/api/v1/groups/{body['id']}/join")
    assert refused.status_code == 409 and refused.json()["code"] == "group_not_active"
    # the community's staff approve it; the leader is told
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.as_user(tree.sibling_community_admin).json(
            "post", f"/api/v1/console/groups/{body['id']}/review", {"approve": True, "note": "好"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert me.notifications.filter(category="group").exists()
    assert [g["id"] for g in api_client.get("/api/v1/groups").json()["items"]] == [body["id"]]


def test_a_lower_rule_overrides_a_higher_one(tree):
    CreationRule.objects.create(region=tree.city, needs_approval=True)
    CreationRule.objects.create(region=tree.k2, needs_approval=False)
    assert services.needs_approval(tree.k2) is False
    assert services.needs_approval(tree.k1) is True
    assert services.needs_approval(tree.k4) is True


def test_joining_an_open_group_twice_is_refused_and_counts_once(tree, api_client):
    group = make_group(tree)
    client = api_client.as_user(resident(tree))
    assert client.post(f"/api/v1/groups/{group.pk}/join").status_code == 200
    again = client.post(f"/api/v1/groups/{group.pk}/join")
    assert again.status_code == 409 and again.json()["code"] == "already_member"
    group.refresh_from_db()
    assert group.members == 2


def test_an_approval_group_takes_a_request_the_leader_decides(
        tree, api_client, django_capture_on_commit_callbacks):
    group = make_group(tree, policy="approval")
    leader = group.memberships.get(role="leader").user
    asker = resident(tree, nickname="小王")
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.as_user(asker).post(f"/api/v1/groups/{group.pk}/join")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    twice = api_client.as_user(asker).post(f"/api/v1/groups/{group.pk}/join")
    assert twice.json()["code"] == "already_asked"
    assert leader.notifications.filter(category="group").count() == 1
    # a plain member cannot decide
    outsider = api_client.as_user(asker).json(
        "post", f"/api/v1/groups/{group.pk}/requests/{asker.pk}", {"accept": True})
    assert outsider.status_code == 403 and outsider.json()["code"] == "not_member"
    pending = api_client.as_user(leader).get(f"/api/v1/groups/{group.pk}/requests").json()
    assert [p["user_id"] for p in pending] == [asker.pk]
    done = api_client.as_user(leader).json(
        "post", f"/api/v1/groups/{group.pk}/requests/{asker.pk}", {"accept": True})
    assert done.json()["status"] == "active"
    group.refresh_from_db()
    assert group.members == 2


def test_an_invitation_group_needs_the_current_link(tree, api_client):
    group = make_group(tree, policy="invitation")
    leader = group.memberships.get(role="leader").user
    client = api_client.as_user(resident(tree))
    r = client.post(f"/api/v1/groups/{group.pk}/join")
    assert r.status_code == 403 and r.json()["code"] == "invitation_needed"
    old = group.invite_code
    new = api_client.as_user(leader).post(f"/api/v1/groups/{group.pk}/invite").json()
    assert new["invite_code"] != old
    stale = client.json("post", f"/api/v1/groups/{group.pk}/join", {"invite_code": old})
    assert stale.json()["code"] == "invitation_needed"
    ok = client.json("post", f"/api/v1/groups/{group.pk}/join",
                     {"invite_code": new["invite_code"]})
    assert ok.status_code == 200


def test_a_full_group_refuses_the_next_member(tree, api_client):
    group = make_group(tree, members=1)
    Group.objects.filter(pk=group.pk).update(max_members=2)
    r = api_client.as_user(resident(tree)).post(f"/api/v1/groups/{group.pk}/join")
    assert r.status_code == 409 and r.json()["code"] == "group_full"


def test_the_member_list_follows_each_members_choice(tree, api_client):
    group = make_group(tree)
    public = member(tree, group, nickname="公开")
    members_only = member(tree, group, nickname="仅成员")
    hidden = member(tree, group, nickname="隐身")
    api_client.as_user(public).json("put", f"/api/v1/groups/{group.pk}/me",
                                    {"visibility": "public"})
    api_client.as_user(hidden).json("put", f"/api/v1/groups/{group.pk}/me",
                                    {"visibility": "hidden"})

    def names(client):
        return {m["nickname"] for m in client.get(f"/api/v1/groups/{group.pk}/members").json()}

    assert names(api_client) == {"队长", "公开"}
    assert names(api_client.as_user(members_only)) == {"队长", "公开", "仅成员"}
    assert names(api_client.as_user(hidden)) == {"队长", "公开", "仅成员", "隐身"}
    leader = group.memberships.get(role="leader").user
    assert names(api_client.as_user(leader)) == {"队长", "公开", "仅成员", "隐身"}


def test_roles_handover_and_leaving(tree, api_client):
    group = make_group(tree)
    leader = group.memberships.get(role="leader").user
    deputy = member(tree, group)
    client = api_client.as_user(leader)
    assert client.post(f"/api/v1/groups/{group.pk}/leave").json()["code"] == \
        "leader_cannot_leave"
    r = client.json("put", f"/api/v1/groups/{group.pk}/members/{deputy.pk}/role",
                    {"role": "leader"})
    assert r.status_code == 200
    roles = dict(group.memberships.values_list("user_id", "role"))
    assert roles == {leader.pk: "admin", deputy.pk: "leader"}
    assert client.post(f"/api/v1/groups/{group.pk}/leave").status_code == 200
    group.refresh_from_db()
    assert group.members == 1


def test_an_administrator_cannot_remove_the_leader(tree, api_client):
    group = make_group(tree)
    leader = group.memberships.get(role="leader").user
    admin = member(tree, group)
    services.set_role(actor=leader, group_id=group.pk, user_id=admin.pk, role="admin")
    r = api_client.as_user(admin).delete(f"/api/v1/groups/{group.pk}/members/{leader.pk}")
    assert r.status_code == 403 and r.json()["code"] == "not_group_manager"
    assert group.memberships.get(user=leader).status == "active"


@pytest.mark.parametrize("body, code", [
    ({"name": "", "sport": "square-dance"}, "invalid"),
    ({"name": "好群", "sport": "curling-on-mars"}, "invalid"),
    ({"name": "好群", "sport": "square-dance", "join_policy": "bribe"}, "invalid"),
    ({"name": "好群", "sport": "square-dance", "colour": "red"}, "unknown_field"),
])
def test_bad_group_input_is_refused_and_writes_nothing(tree, api_client, body, code):
    r = api_client.as_user(resident(tree)).json("post", "/api/v1/groups", body)
    assert r.status_code == 400 and r.json()["code"] == code
    assert not Group.objects.exists()


def test_a_sensitive_name_is_refused(tree, api_client):
    from sportsman.core.models import SensitiveWord

    SensitiveWord.objects.create(word="赌博", region=tree.city)
    r = api_client.as_user(resident(tree)).json("post", "/api/v1/groups", {
        "name": "周末赌博群", "sport": "square-dance"})
    assert r.status_code == 400 and r.json()["code"] == "sensitive_words"
    assert "赌博" not in r.json()["message"]
    assert not Group.objects.exists()


def test_the_same_name_twice_in_one_community_is_refused(tree, api_client):
    make_group(tree, name="长纤塘健步走")
    r = api_client.as_user(resident(tree)).json("post", "/api/v1/groups", {
        "name": "长纤塘健步走", "sport": "square-dance"})
    assert r.status_code == 409 and r.json()["code"] == "name_taken"


def test_a_cover_is_re_encoded_and_a_non_image_refused(tree, api_client):
    group = make_group(tree)
    leader = api_client.as_user(group.memberships.get(role="leader").user)
    bad = leader.post(f"/api/v1/groups/{group.pk}/cover",
                      {"image": _upload(b"%PDF-1.4 not a photo", "x.png")})
    assert bad.status_code == 400 and bad.json()["code"] == "photo_invalid"
    group.refresh_from_db()
    assert not group.cover
    big = leader.post(f"/api/v1/groups/{group.pk}/cover",
                      {"image": _upload(b"\xff" * (5 * 1024 * 1024 + 10), "big.jpg")})
    assert big.status_code == 400 and big.json()["code"] == "photo_too_large"
    ok = leader.post(f"/api/v1/groups/{group.pk}/cover",
                     {"image": _upload(png_bytes(exif=True), "c.jpg")})
    assert ok.status_code == 200, ok.content
    group.refresh_from_db()
    data = group.cover.read()
    assert data.startswith(b"\xff\xd8") and b"CameraMaker" not in data


def test_discovery_by_sport_near_and_most_active(tree, api_client):
    walk = make_group(tree, name="健步走", sport="square-dance", lat=30.75, lng=120.75)
    ball = make_group(tree, name="篮球", sport="basketball", lat=30.10, lng=120.10, members=3)
    items = api_client.get("/api/v1/groups?sport=basketball").json()["items"]
    assert [g["id"] for g in items] == [ball.pk]
    near = api_client.get("/api/v1/groups?lat=30.751&lng=120.751&radius_m=2000").json()
    assert [g["id"] for g in near["items"]] == [walk.pk]
    by_members = api_client.get("/api/v1/groups?order=members").json()["items"]
    assert [g["id"] for g in by_members] == [ball.pk, walk.pk]
    mine = api_client.get(f"/api/v1/groups?region={tree.k2.pk}").json()["items"]
    assert {g["id"] for g in mine} == {walk.pk, ball.pk}
    assert api_client.get(f"/api/v1/groups?region={tree.k4.pk}").json()["items"] == []


def _upload(content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_a_closed_group_is_gone_from_discovery(tree, api_client):
    group = make_group(tree)
    leader = group.memberships.get(role="leader").user
    assert api_client.as_user(leader).post(f"/api/v1/groups/{group.pk}/close").status_code == 200
    assert api_client.get("/api/v1/groups").json()["items"] == []
    assert Group.objects.get(pk=group.pk).status == GroupStatus.CLOSED
