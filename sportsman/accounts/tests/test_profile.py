"""My profile, consent, my data export and deleting my account."""

from __future__ import annotations

import json

import pytest

from sportsman.accounts import services
from sportsman.accounts.auth import issue_token, user_for_token
from sportsman.accounts.models import ApiToken, Consent, LoginAttempt, User
from sportsman.core import crypto
from sportsman.core.errors import DomainError
from sportsman.core.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456789"


def test_partial_update_changes_only_the_fields_given(tree):
    user = tree.resident
    services.update_profile(user=user, birth_year=1961, sex="F", interests=["taichi"])
    services.update_profile(user=user, real_name="王秀英", hide_from_rankings=True)
    user = User.objects.get(pk=user.pk)
    assert (user.birth_year, user.sex, user.real_name, user.hide_from_rankings) == (
        1961, "F", "王秀英", True)
    assert user.nickname == "resident"
    assert list(user.interests.values_list("slug", flat=True)) == ["taichi"]
    assert "王秀英" not in user.real_name_encrypted


def test_bad_profile_values_are_all_reported_and_nothing_changes(tree):
    user = tree.resident
    with pytest.raises(DomainError) as exc:
        services.update_profile(user=user, nickname="n" * 40, sex="X", birth_year=1800,
                                home_community_id=tree.t1.pk, interests=["no-such-sport"])
    assert exc.value.code == "invalid"
    assert set(exc.value.fields) == {"nickname", "sex", "birth_year", "home_community_id",
                                     "interests"}
    user = User.objects.get(pk=user.pk)
    assert (user.nickname, user.sex, user.birth_year, user.home_community_id) == (
        "resident", "", None, tree.k1.pk)


def test_home_community_can_move_and_be_cleared(tree):
    user = services.update_profile(user=tree.resident, home_community_id=tree.k4.pk)
    assert User.objects.get(pk=user.pk).home_community == tree.k4
    services.update_profile(user=user, home_community_id=None)
    assert User.objects.get(pk=user.pk).home_community is None


def test_consent_history_is_kept_and_the_newest_choice_counts(tree):
    user = tree.resident
    services.set_consent(user=user, purpose="location", granted=True, version="1")
    services.set_consent(user=user, purpose="location", granted=False, version="1")
    assert Consent.objects.filter(user=user, purpose="location").count() == 2
    assert services.current_consents(user)["location"]["granted"] is False
    with pytest.raises(DomainError) as exc:
        services.set_consent(user=user, purpose="telepathy", granted=True, version="1")
    assert exc.value.code == "not_found"


def test_export_holds_the_profile_in_clear_and_is_json(tree):
    user = tree.resident
    services.update_profile(user=user, real_name="王秀英", interests=["running"])
    services.set_consent(user=user, purpose="terms", granted=True, version="1")
    issue_token(user, user_agent="test-app")
    data = services.export_data(user=user)
    assert json.loads(json.dumps(data)) == data
    assert data["profile"]["phone"] == user.phone
    assert data["profile"]["real_name"] == "王秀英"
    assert data["profile"]["home_community"]["code"] == tree.k1.code
    assert data["profile"]["interests"] == ["running"]
    assert data["consents"][0]["purpose"] == "terms"
    assert data["api_tokens"][0]["user_agent"] == "test-app"
    assert "key_hash" not in data["api_tokens"][0]


def test_export_lists_roles_and_staff_views_of_my_data(tree):
    from sportsman.regions.access import Access

    services.reveal_phone(access=Access(tree.town_admin), actor=tree.town_admin,
                          user_id=tree.resident.pk)
    data = services.export_data(user=tree.resident)
    assert [v["action"] for v in data["views_of_my_data"]] == ["view.phone"]
    staff = services.export_data(user=tree.town_admin)
    assert staff["roles"] == [{"role": "town_admin", "region_code": tree.t1.code,
                               "region_name": tree.t1.name}]


def test_delete_needs_the_password_and_refusal_keeps_everything(tree):
    user = tree.resident
    token = issue_token(user)
    with pytest.raises(DomainError) as exc:
        services.delete_account(user=user, password="wrong")
    assert exc.value.code == "bad_credentials"
    assert User.objects.filter(pk=user.pk).exists()
    assert user_for_token(token) == user
    assert not AuditEntry.objects.exists()


def test_delete_removes_the_user_and_their_records(tree):
    user = tree.resident
    issue_token(user)
    services.set_consent(user=user, purpose="terms", granted=True, version="1")
    services.check_login(phone=user.phone, password=PASSWORD, ip="10.0.0.1")
    user_id = user.pk
    services.delete_account(user=user, password=PASSWORD)
    assert not User.objects.filter(pk=user_id).exists()
    assert not ApiToken.objects.filter(user_id=user_id).exists()
    assert not Consent.objects.filter(user_id=user_id).exists()
    assert not LoginAttempt.objects.exists()
    entry = AuditEntry.objects.get(action="account.deleted")
    assert (entry.object_id, entry.actor_id) == (str(user_id), None)


def test_staff_named_by_the_audit_log_are_emptied_not_deleted(tree):
    from sportsman.regions.access import Access

    admin = tree.town_admin
    phone = admin.phone
    token = issue_token(admin)
    services.reveal_phone(access=Access(admin), actor=admin, user_id=tree.resident.pk)
    services.delete_account(user=admin, password=PASSWORD)
    row = User.objects.get(pk=admin.pk)  # the append-only log still points here
    assert not row.is_active
    assert row.phone == "" and row.nickname == ""
    assert not row.has_usable_password()
    assert not User.objects.filter(phone_hash=admin.phone_hash).exclude(pk=admin.pk).exists()
    assert user_for_token(token) is None
    assert not Access(row).is_staff
    with pytest.raises(DomainError):
        services.check_login(phone=phone, password=PASSWORD, ip="10.0.0.1")
    # the number is free to register again
    assert not User.objects.filter(phone_hash=crypto.keyed_hash(phone)).exists()


# --- the API --------------------------------------------------------------------------------


def test_api_profile_get_and_patch(api_client, tree):
    client = api_client.as_user(tree.resident)
    r = client.json("patch", "/api/v1/me/profile",
                    {"nickname": "晨练", "birth_year": 1958, "interests": ["square-dance"]})
    assert r.status_code == 200, r.content
    body = client.get("/api/v1/me/profile").json()
    assert (body["nickname"], body["birth_year"], body["interests"]) == (
        "晨练", 1958, ["square-dance"])
    assert body["home_community"]["code"] == tree.k1.code


def test_api_profile_patch_refuses_unknown_fields(api_client, tree):
    r = api_client.as_user(tree.resident).json("patch", "/api/v1/me/profile",
                                               {"phone_hash": "x"})
    assert r.status_code == 400
    assert r.json()["code"] == "unknown_field"


def test_api_export_and_delete(api_client, tree):
    client = api_client.as_user(tree.resident)
    r = client.get("/api/v1/me/export")
    assert r.status_code == 200
    assert r.json()["profile"]["phone"] == tree.resident.phone
    r = client.json("post", "/api/v1/me/delete", {"password": PASSWORD})
    assert r.status_code == 200, r.content
    assert client.get("/api/v1/me").status_code == 401
    assert not User.objects.filter(pk=tree.resident.pk).exists()


def test_api_consent_put(api_client, tree):
    client = api_client.as_user(tree.resident)
    r = client.json("put", "/api/v1/me/consents/recommend", {"granted": True})
    assert r.status_code == 200, r.content
    assert r.json()["granted"] is True
    assert client.json("put", "/api/v1/me/consents/nope", {"granted": True}).status_code == 404


def test_api_me_endpoints_need_a_login(api_client):
    for path in ("/api/v1/me", "/api/v1/me/profile", "/api/v1/me/export"):
        assert api_client.get(path).status_code == 401


def test_export_includes_my_notifications(tree):
    from sportsman.notifications.services import notify

    notify(users=[tree.resident], category="system", title="欢迎")
    notify(users=[tree.town_admin], category="system", title="not mine")
    rows = services.export_data(user=tree.resident)["notifications"]["notifications.notification"]
    assert [r["title"] for r in rows] == ["欢迎"]
