from __future__ import annotations

import pytest


@pytest.fixture
def make_user(db):
    from sportsman.accounts.models import User

    seq = iter(range(13800001234, 13800002234))

    def make(**extra):
        return User.objects.create_user(str(next(seq)), "pw-123456789", **extra)

    return make


@pytest.fixture
def alice(make_user):
    return make_user(nickname="alice")


@pytest.fixture
def bob(make_user):
    return make_user(nickname="bob")


@pytest.fixture
def immediate_tasks(settings):
    """Tasks run as soon as they are enqueued (after commit)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def flaky_sms(settings):
    from sportsman.notifications.tests.fakes import FlakySmsBackend

    settings.SMS_BACKEND = "sportsman.notifications.tests.fakes.FlakySmsBackend"
    FlakySmsBackend.failures = 0
    FlakySmsBackend.calls = 0
    yield FlakySmsBackend
    FlakySmsBackend.failures = 0
    FlakySmsBackend.calls = 0
