"""Helpers for the accounts tests: send a code through the local SMS outbox and read it back."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def sms_code(django_capture_on_commit_callbacks):
    """``sms_code(phone, purpose)`` asks for a code and returns it as the resident would read it
    from the SMS (the code itself is stored only as a keyed hash)."""
    from sportsman.accounts import services
    from sportsman.notifications.backends import read_sms_outbox

    def send(phone: str, purpose: str = "register", ip: str | None = "10.0.0.1") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            services.request_sms_code(phone=phone, purpose=purpose, ip=ip)
        text = read_sms_outbox(services.normalise_phone(phone))[-1]["text"]
        return code_in(text)

    return send


def code_in(text: str) -> str:
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", text)
    assert match, f"no code in {text!r}"
    return match.group(1)


@pytest.fixture
def consents():
    return {"terms": True, "privacy": True}


@pytest.fixture
def mock_provider(settings):
    """``mock_provider(**options)``: oidc-provider-mock running on a thread, configured as the
    provider "zlb"; returns its issuer URL. Options go to ``run_server_in_thread``."""
    from contextlib import ExitStack

    from oidc_provider_mock import run_server_in_thread

    from sportsman.accounts.tests.sso_providers import provider_settings

    with ExitStack() as stack:
        def start(name: str = "zlb", **options):
            options.setdefault("require_nonce", True)
            server = stack.enter_context(run_server_in_thread(**options))
            issuer = f"http://localhost:{server.server_port}"
            settings.OIDC_PROVIDERS = {**settings.OIDC_PROVIDERS,
                                       **provider_settings(name, issuer)}
            return issuer

        yield start


@pytest.fixture
def forging_provider(settings):
    """A provider of our own ("gov") that signs ID tokens as the test tells it."""
    from sportsman.accounts.tests.sso_providers import (
        ForgingProvider,
        provider_settings,
        serve_wsgi,
    )

    forge = ForgingProvider()
    with serve_wsgi(forge) as issuer:
        forge.issuer = issuer
        settings.OIDC_PROVIDERS = {**settings.OIDC_PROVIDERS,
                                   **provider_settings("gov", issuer, label="Gov")}
        yield forge
