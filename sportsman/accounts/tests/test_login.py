"""Log-in: bad credentials, throttling per number and per IP, audit of staff log-ins, reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sportsman.accounts import services
from sportsman.accounts.auth import issue_token, user_for_token
from sportsman.accounts.models import LoginAttempt, User
from sportsman.core.errors import DomainError, Throttled
from sportsman.core.models import AuditEntry

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
PASSWORD = "trail-runner-42"


@pytest.fixture
def user():
    return User.objects.create_user(PHONE, PASSWORD, nickname="runner")


def _fail(phone: str = PHONE, ip: str = "10.0.0.1") -> None:
    with pytest.raises(DomainError) as exc:
        services.check_login(phone=phone, password="wrong-password", ip=ip)
    assert exc.value.code == "bad_credentials"
    assert exc.value.status == 401


def test_right_password_logs_in(user):
    assert services.check_login(phone=PHONE, password=PASSWORD, ip="10.0.0.1") == user
    user.refresh_from_db()
    assert user.last_login is not None


def test_wrong_password_and_unknown_number_are_the_same_refusal(user):
    _fail()
    _fail(phone="13900000000")


def test_malformed_phone_on_login_is_invalid_phone(user):
    with pytest.raises(DomainError) as exc:
        services.check_login(phone="12345", password=PASSWORD, ip="10.0.0.1")
    assert exc.value.code == "invalid_phone"
    assert LoginAttempt.objects.count() == 0


def test_five_failures_throttle_the_number_even_for_the_right_password(user):
    for i in range(5):
        _fail(ip=f"10.0.0.{i}")
    with pytest.raises(Throttled) as exc:
        services.check_login(phone=PHONE, password=PASSWORD, ip="10.0.1.1")
    assert 14 * 60 <= exc.value.retry_after <= 15 * 60 + 1
    # the throttled try is not recorded: waiting always helps
    assert LoginAttempt.objects.count() == 5


def test_throttle_lifts_when_the_window_passes(user):
    for _ in range(5):
        _fail()
    LoginAttempt.objects.update(at=timezone.now() - timedelta(minutes=16))
    assert services.check_login(phone=PHONE, password=PASSWORD, ip="10.0.0.1") == user


def test_a_success_clears_the_numbers_failures(user):
    for _ in range(4):
        _fail()
    services.check_login(phone=PHONE, password=PASSWORD, ip="10.0.0.1")
    for _ in range(4):
        _fail()
    assert services.check_login(phone=PHONE, password=PASSWORD, ip="10.0.0.2") == user


def test_twenty_failures_from_one_ip_throttle_that_ip(user):
    for i in range(20):
        _fail(phone=f"139000000{i:02d}", ip="10.7.7.7")
    with pytest.raises(Throttled):
        services.check_login(phone=PHONE, password=PASSWORD, ip="10.7.7.7")
    assert services.check_login(phone=PHONE, password=PASSWORD, ip="10.7.7.8") == user


def test_staff_log_ins_are_audited_and_residents_are_not(tree):
    services.check_login(phone=tree.town_admin.phone, password="pw-123456789", ip="10.0.0.5")
    with pytest.raises(DomainError):
        services.check_login(phone=tree.town_admin.phone, password="nope-nope", ip="10.0.0.5")
    services.check_login(phone=tree.resident.phone, password="pw-123456789", ip="10.0.0.5")
    entries = list(AuditEntry.objects.order_by("id").values_list("kind", "action", "actor_id",
                                                                 "ip"))
    assert entries == [("auth", "login.ok", tree.town_admin.pk, "10.0.0.5"),
                       ("auth", "login.failed", tree.town_admin.pk, "10.0.0.5")]


def test_password_reset_sets_the_password_and_revokes_tokens(user, sms_code):
    token = issue_token(user)
    for _ in range(5):
        _fail()
    code = sms_code(PHONE, purpose="reset")
    services.reset_password(phone=PHONE, code=code, new_password="a-new-long-secret")
    assert user_for_token(token) is None
    # holding the code proves ownership: the failed-login count is cleared too
    assert services.check_login(phone=PHONE, password="a-new-long-secret", ip="10.0.0.1") == user


def test_password_reset_with_wrong_code_changes_nothing(user, sms_code):
    token = issue_token(user)
    code = sms_code(PHONE, purpose="reset")
    with pytest.raises(DomainError) as exc:
        services.reset_password(phone=PHONE, code=str((int(code) + 1) % 1_000_000).zfill(6),
                                new_password="a-new-long-secret")
    assert exc.value.code == "bad_code"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert user_for_token(token) == user


def test_a_register_code_does_not_reset_a_password(sms_code):
    code = sms_code(PHONE, purpose="register")
    User.objects.create_user(PHONE, PASSWORD)
    with pytest.raises(DomainError) as exc:
        services.reset_password(phone=PHONE, code=code, new_password="a-new-long-secret")
    assert exc.value.code == "bad_code"


def test_weak_new_password_is_refused_on_the_new_password_field(user, sms_code):
    code = sms_code(PHONE, purpose="reset")
    with pytest.raises(DomainError) as exc:
        services.reset_password(phone=PHONE, code=code, new_password="runner")
    assert exc.value.code == "weak_password"
    assert "new_password" in exc.value.fields


# --- the API --------------------------------------------------------------------------------


def test_api_login_returns_a_token_and_me_has_roles_with_region_codes(api_client, tree):
    r = api_client.json("post", "/api/v1/auth/login",
                        {"phone": tree.town_admin.phone, "password": "pw-123456789"})
    assert r.status_code == 200, r.content
    me = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    assert me.status_code == 200
    assert me.json()["roles"] == [{"role": "town_admin", "region_code": tree.t1.code,
                                   "region_name": tree.t1.name, "region_level": "town"}]


def test_api_login_wrong_password_is_401_then_429(api_client, user):
    for _ in range(5):
        r = api_client.json("post", "/api/v1/auth/login", {"phone": PHONE, "password": "x" * 9})
        assert r.status_code == 401
        assert r.json()["code"] == "bad_credentials"
    r = api_client.json("post", "/api/v1/auth/login", {"phone": PHONE, "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) > 0


def test_api_logout_revokes_the_token(api_client, user):
    token = issue_token(user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api_client.post("/api/v1/auth/logout", **auth).status_code == 200
    assert api_client.get("/api/v1/me", **auth).status_code == 401


def test_purge_forgets_only_rows_older_than_a_day(user, sms_code):
    from sportsman.accounts.models import SmsCode
    from sportsman.accounts.tasks import purge_throttle_records

    sms_code(PHONE, purpose="reset")
    _fail()
    _fail()
    old = timezone.now() - timedelta(days=1, minutes=1)
    LoginAttempt.objects.filter(pk=LoginAttempt.objects.earliest("id").pk).update(at=old)
    assert purge_throttle_records.call() == 1
    assert (SmsCode.objects.count(), LoginAttempt.objects.count()) == (1, 1)


def test_me_is_one_query_token_user_and_grants_together(api_client, tree,
                                                         django_assert_num_queries):
    from sportsman.regions.models import RoleAssignment

    staff = tree.town_admin
    RoleAssignment.objects.create(user=staff, role="venue_manager", region=tree.k2)
    client = api_client.as_user(staff)
    with django_assert_num_queries(1):
        body = client.get("/api/v1/me").json()
    # Both grants, in the order Access reads them itself (region path, then role).
    assert [(r["role"], r["region_code"]) for r in body["roles"]] == [
        ("town_admin", tree.t1.code), ("venue_manager", tree.k2.code)]
    resident = api_client.as_user(tree.resident)
    with django_assert_num_queries(1):
        assert resident.get("/api/v1/me").json()["roles"] == []


def test_a_revoked_token_or_a_deactivated_user_is_refused_on_the_next_request(api_client, tree):
    token = issue_token(tree.resident)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api_client.get("/api/v1/me", **auth).status_code == 200
    User.objects.filter(pk=tree.resident.pk).update(is_active=False)
    assert api_client.get("/api/v1/me", **auth).status_code == 401
    assert user_for_token(token) is None
    User.objects.filter(pk=tree.resident.pk).update(is_active=True)
    assert user_for_token(token) == tree.resident
    other = issue_token(tree.resident)
    from sportsman.accounts.auth import revoke_token

    assert revoke_token(token)
    assert api_client.get("/api/v1/me", **auth).status_code == 401
    assert api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200


def test_the_token_user_carries_the_same_grants_access_reads(tree):
    from sportsman.regions.access import access_for_user

    token = issue_token(tree.district_admin)
    loaded = access_for_user(user_for_token(token)).grants
    assert loaded == access_for_user(User.objects.get(pk=tree.district_admin.pk)).grants
    assert [g.role for g in loaded] == ["district_admin"]
