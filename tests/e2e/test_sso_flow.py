"""End to end in Chromium: single sign-on through a real OpenID provider (oidc-provider-mock on
a thread of the test). A new resident presses the provider's button on the login page, signs
in on the provider's own page, accepts the terms and lands logged in with the link on their
profile; logging out ends the session at the provider too. The demo resident's verified number
links their existing account."""

from __future__ import annotations

import json

import pytest
import requests

from tests.e2e.server import serve

pytestmark = pytest.mark.e2e

DEMO_RESIDENT = "13800000000"


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(require_nonce=True) as running:
        yield f"http://localhost:{running.server_port}"


@pytest.fixture(scope="module")
def server(provider, demo_seed):
    providers = {"zlb": {"issuer": provider, "client_id": "sportsman-web",
                         "client_secret": "e2e-secret", "label": "浙里办"}}
    with serve(demo_seed, {"OIDC_PROVIDERS": json.dumps(providers)}) as running:
        yield running


def _claims(provider: str, sub: str, phone: str) -> None:
    requests.put(f"{provider}/users/{sub}", json={
        "phone_number": phone, "phone_number_verified": True, "name": "新居民"},
        timeout=5).raise_for_status()


def _sign_in_at_provider(page, provider: str, sub: str) -> None:
    page.goto("/accounts/login/")
    with page.expect_navigation():
        page.locator("button[data-sso=zlb]").click()
    assert page.url.startswith(f"{provider}/oauth2/authorize"), page.url
    page.locator("#subject-input").fill(sub)
    with page.expect_navigation():
        page.locator("#subject-input").press("Enter")


def test_a_new_resident_signs_up_through_the_provider_and_logs_out_there(page, provider,
                                                                         server):
    _claims(provider, "e2e-new", "13955550001")
    _sign_in_at_provider(page, provider, "e2e-new")
    # Then the welcome page asks for the consents of registering
    page.wait_for_selector("#sso-welcome[data-provider=zlb]")
    page.locator("#id_agree_terms").check()
    page.locator("#id_agree_privacy").check()
    with page.expect_navigation():
        page.locator("#sso-create").click()
    page.goto("/accounts/profile/")
    assert "13955550001" in page.get_by_role("main").inner_text()
    assert page.locator("#sso-links [data-sso=zlb][data-linked='1']").count() == 1

    # When they log out, the provider's end-session page confirms and sends them home
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()
    assert page.url.startswith(f"{provider}/oauth2/end_session"), page.url
    with page.expect_navigation():
        page.get_by_role("button", name="End session").click()
    assert page.url.startswith(f"{server.url}/?state="), page.url  # home, Authlib's state
    page.goto("/accounts/profile/")
    assert "/accounts/login/" in page.url


def test_the_demo_residents_verified_number_links_their_account(page, provider, server):
    _claims(provider, "e2e-demo", DEMO_RESIDENT)
    _sign_in_at_provider(page, provider, "e2e-demo")
    assert page.url.rstrip("/") == server.url, page.url
    page.goto("/accounts/profile/")
    assert DEMO_RESIDENT in page.get_by_role("main").inner_text()
    assert page.locator("#sso-links [data-sso=zlb][data-linked='1']").count() == 1
