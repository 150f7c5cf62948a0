"""SMS codes and registration: bad input gets a clear code and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sportsman.accounts import services
from sportsman.accounts.models import Consent, SmsCode, User
from sportsman.accounts.tests.conftest import code_in
from sportsman.core.errors import DomainError, Throttled
from sportsman.notifications.backends import read_sms_outbox

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
GOOD_PASSWORD = "trail-runner-42"


def _counts() -> tuple[int, int]:
    return User.objects.count(), Consent.objects.count()


def _register(code: str, **kw):
    args: dict = {"phone": PHONE, "code": code, "password": GOOD_PASSWORD,
            "consents": {"terms": True, "privacy": True}}
    args.update(kw)
    return services.register(**args)


@pytest.mark.parametrize("phone", ["1381234567", "23812345678", "12812345678", "1381234567x",
                                   "", "138123456789"])
def test_malformed_phone_is_refused_before_anything_is_written(phone):
    with pytest.raises(DomainError) as exc:
        services.request_sms_code(phone=phone, purpose="register", ip="10.0.0.1")
    assert exc.value.code == "invalid_phone"
    assert "phone" in exc.value.fields
    assert SmsCode.objects.count() == 0
    assert read_sms_outbox() == []


def test_pasted_number_with_country_prefix_and_spaces_is_accepted(sms_code):
    code = sms_code("+86 138 1234 5678")
    user = _register(code)
    assert user.phone == PHONE


def test_code_is_sent_by_sms_and_stored_only_as_a_hash(sms_code):
    code = sms_code(PHONE)
    row = SmsCode.objects.get()
    assert code not in row.code_hash
    assert row.expires_at > timezone.now()


def test_registration_with_the_right_code_creates_user_and_consents(sms_code):
    code = sms_code(PHONE)
    user = _register(code, nickname="跑者", interests=["running", "badminton"],
                     consents={"terms": True, "privacy": True, "recommend": False})
    assert user.nickname == "跑者"
    assert set(user.interests.values_list("slug", flat=True)) == {"running", "badminton"}
    got = {c.purpose: c.granted for c in Consent.objects.filter(user=user)}
    assert got == {"terms": True, "privacy": True, "recommend": False}
    assert user.check_password(GOOD_PASSWORD)


def test_wrong_code_is_refused_and_writes_nothing(sms_code):
    code = sms_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(DomainError) as exc:
        _register(wrong)
    assert exc.value.code == "bad_code"
    assert _counts() == (0, 0)
    assert SmsCode.objects.get().used_at is None


def test_a_code_dies_after_five_wrong_tries_even_for_the_right_code(sms_code):
    code = sms_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(services.CODE_MAX_ATTEMPTS):
        with pytest.raises(DomainError):
            _register(wrong)
    with pytest.raises(DomainError) as exc:
        _register(code)
    assert exc.value.code == "bad_code"
    assert _counts() == (0, 0)


def test_expired_code_is_refused(sms_code):
    code = sms_code(PHONE)
    past = timezone.now() - timedelta(seconds=1)
    SmsCode.objects.update(created_at=past - timedelta(minutes=5), expires_at=past)
    with pytest.raises(DomainError) as exc:
        _register(code)
    assert exc.value.code == "code_expired"
    assert _counts() == (0, 0)


def test_a_code_works_once(sms_code):
    code = sms_code(PHONE)
    _register(code)
    with pytest.raises(DomainError) as exc:
        _register(code, phone=PHONE)
    assert exc.value.code == "bad_code"
    assert User.objects.count() == 1


def test_only_the_newest_code_counts(sms_code):
    first = sms_code(PHONE)
    SmsCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    second = sms_code(PHONE)
    if first != second:
        with pytest.raises(DomainError):
            _register(first)
    assert _register(second).phone == PHONE


def test_weak_password_is_refused_with_the_validators_reasons_and_code_kept(sms_code):
    code = sms_code(PHONE)
    with pytest.raises(DomainError) as exc:
        _register(code, password="12345678")
    assert exc.value.code == "weak_password"
    assert exc.value.fields["password"]
    assert _counts() == (0, 0)
    # the refusal did not spend a try of the code
    assert SmsCode.objects.get().attempts == 0
    assert _register(code).pk


def test_terms_and_privacy_consent_are_required(sms_code):
    code = sms_code(PHONE)
    with pytest.raises(DomainError) as exc:
        _register(code, consents={"terms": True})
    assert exc.value.code == "consent_required"
    assert "consents.privacy" in exc.value.fields
    assert _counts() == (0, 0)


def test_home_community_must_be_a_community_and_sports_must_exist(sms_code, tree):
    code = sms_code(PHONE)
    with pytest.raises(DomainError) as exc:
        _register(code, home_community_id=tree.t1.pk, interests=["quidditch"])
    assert set(exc.value.fields) == {"home_community_id", "interests"}
    before = _counts()
    assert _register(code, home_community_id=tree.k1.pk).home_community == tree.k1
    assert User.objects.count() == before[0] + 1


def test_registering_a_taken_number_sends_a_notice_not_a_code(sms_code):
    User.objects.create_user(PHONE, GOOD_PASSWORD)
    with pytest.raises(AssertionError, match="no code"):
        sms_code(PHONE)
    assert len(read_sms_outbox(PHONE)) == 1
    assert SmsCode.objects.get().code_hash == ""


def test_number_registered_meanwhile_is_phone_taken_and_nothing_written(sms_code):
    code = sms_code(PHONE)
    User.objects.create_user(PHONE, GOOD_PASSWORD)  # e.g. a concurrent registration won
    with pytest.raises(DomainError) as exc:
        _register(code)
    assert exc.value.code == "phone_taken"
    assert exc.value.status == 409
    assert _counts() == (1, 0)


def test_phone_is_stored_encrypted_and_found_by_hash(sms_code):
    code = sms_code(PHONE)
    user = _register(code, nickname="x")
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM accounts_user WHERE id = %s", [user.pk])
        raw = " ".join(str(v) for v in cur.fetchone())
    assert PHONE not in raw
    assert PHONE[3:] not in raw
    assert User.objects.get_by_phone(PHONE).pk == user.pk


# --- rate limits ------------------------------------------------------------------------


def test_one_code_a_minute_per_number(sms_code):
    sms_code(PHONE)
    with pytest.raises(Throttled) as exc:
        services.request_sms_code(phone=PHONE, purpose="register", ip="10.0.0.2")
    assert exc.value.code == "throttled"
    assert 1 <= exc.value.retry_after <= 61
    assert SmsCode.objects.count() == 1  # the refused request left no row
    SmsCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    sms_code(PHONE, ip="10.0.0.2")
    assert SmsCode.objects.count() == 2


def test_five_codes_an_hour_per_number(sms_code):
    for i in range(5):
        sms_code(PHONE, ip=f"10.0.1.{i}")
        newest = SmsCode.objects.latest("id").pk
        SmsCode.objects.filter(pk=newest).update(
            created_at=timezone.now() - timedelta(minutes=10 * (5 - i)))
    with pytest.raises(Throttled) as exc:
        services.request_sms_code(phone=PHONE, purpose="register", ip="10.0.2.1")
    # the oldest of the five (50 minutes ago) leaves the hour in about 10 minutes
    assert 9 * 60 <= exc.value.retry_after <= 11 * 60
    assert SmsCode.objects.count() == 5


def test_twenty_codes_an_hour_per_ip(sms_code):
    for i in range(20):
        sms_code(f"139000000{i:02d}", ip="10.9.9.9")
    with pytest.raises(Throttled):
        services.request_sms_code(phone="13900000099", purpose="register", ip="10.9.9.9")
    assert SmsCode.objects.count() == 20
    sms_code("13900000099", ip="10.9.9.10")  # another IP is not held back


# --- the API --------------------------------------------------------------------------------


def test_api_register_flow_returns_a_working_token(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.json("post", "/api/v1/auth/sms-code",
                            {"phone": PHONE, "purpose": "register"})
    assert r.status_code == 202, r.content
    code = code_in(read_sms_outbox(PHONE)[-1]["text"])
    r = api_client.json("post", "/api/v1/auth/register", {
        "phone": PHONE, "code": code, "password": GOOD_PASSWORD, "nickname": "n",
        "consents": {"terms": True, "privacy": True}})
    assert r.status_code == 201, r.content
    me = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    assert me.status_code == 200
    assert me.json()["phone"] == PHONE


def test_api_malformed_phone_is_400_invalid_phone(api_client):
    r = api_client.json("post", "/api/v1/auth/sms-code", {"phone": "12345", "purpose": "register"})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_phone"
    assert "phone" in r.json()["fields"]


def test_api_sms_throttle_is_429_with_retry_after(api_client, sms_code):
    sms_code(PHONE)
    r = api_client.json("post", "/api/v1/auth/sms-code", {"phone": PHONE, "purpose": "register"})
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) >= 1


def test_api_register_refuses_unknown_fields(api_client, sms_code):
    code = sms_code(PHONE)
    r = api_client.json("post", "/api/v1/auth/register", {
        "phone": PHONE, "code": code, "password": GOOD_PASSWORD, "is_superuser": True,
        "consents": {"terms": True, "privacy": True}})
    assert r.status_code == 400
    assert r.json()["code"] == "unknown_field"
    assert "is_superuser" in r.json()["fields"]
    assert _counts() == (0, 0)


def test_api_register_refuses_malformed_json(api_client):
    r = api_client.post("/api/v1/auth/register", data='{"phone": "138',
                        content_type="application/json")
    assert r.status_code == 400
    assert r.json()["code"] == "malformed_json"
    assert _counts() == (0, 0)


def test_api_wrong_code_is_400_bad_code(api_client, sms_code):
    code = sms_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    r = api_client.json("post", "/api/v1/auth/register", {
        "phone": PHONE, "code": wrong, "password": GOOD_PASSWORD,
        "consents": {"terms": True, "privacy": True}})
    assert r.status_code == 400
    assert r.json()["code"] == "bad_code"
    assert _counts() == (0, 0)
