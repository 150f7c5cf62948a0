"""Throttles and codes under concurrent requests: racing threads cannot get more tries than the
limits allow, and one code creates one account."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from sportsman.accounts import services
from sportsman.accounts.models import LoginAttempt, SmsCode, User
from sportsman.core.errors import DomainError
from sportsman.core.testing import race

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "13812345678"
PASSWORD = "trail-runner-42"


def _race(n: int, fn: Callable[[int], object]) -> Counter:
    """Run ``fn(i)`` in ``n`` threads released together; count outcomes by error code (any
    other exception counts under its repr, and fails the test's expectations)."""
    return Counter(
        o.code if isinstance(o, DomainError) else repr(o) if isinstance(o, BaseException)
        else "ok"
        for o in race(fn, n)
    )


def test_racing_wrong_passwords_get_at_most_five_checks():
    User.objects.create_user(PHONE, PASSWORD)
    outcomes = _race(12, lambda i: services.check_login(phone=PHONE, password="wrong-one",
                                                        ip=f"10.0.0.{i}"))
    assert sum(outcomes.values()) == 12
    # exactly the limit gets a password check; the rest are refused unchecked
    assert outcomes == Counter({"bad_credentials": services.LOGIN_FAILURES_PER_PHONE.count,
                                "throttled": 12 - services.LOGIN_FAILURES_PER_PHONE.count})
    assert LoginAttempt.objects.count() == outcomes["bad_credentials"]


def test_racing_wrong_codes_get_at_most_five_tries(sms_code):
    code = sms_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    outcomes = _race(10, lambda i: services.register(
        phone=PHONE, code=wrong, password=PASSWORD, consents={"terms": True, "privacy": True}))
    assert outcomes == Counter({"bad_code": 10})
    assert SmsCode.objects.get().attempts == services.CODE_MAX_ATTEMPTS


def test_racing_code_requests_send_one_code_a_minute():
    outcomes = _race(8, lambda i: services.request_sms_code(phone=PHONE, purpose="register",
                                                            ip=f"10.0.0.{i}"))
    assert outcomes == Counter({"ok": 1, "throttled": 7})
    assert SmsCode.objects.count() == 1


def test_one_code_registers_one_account_however_many_race(sms_code):
    code = sms_code(PHONE)
    outcomes = _race(6, lambda i: services.register(
        phone=PHONE, code=code, password=PASSWORD, nickname=f"n{i}",
        consents={"terms": True, "privacy": True}))
    assert outcomes["ok"] == 1
    assert User.objects.count() == 1
