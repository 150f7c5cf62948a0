"""Single sign-on for apps: the app runs its own authorization request (PKCE, nonce) at the
real mock provider and hands the code to the API for a bearer token."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode

import pytest

from sportsman.accounts.models import SsoLink, User
from sportsman.accounts.tests.sso_providers import (
    CLIENT_ID,
    authorize_at_mock,
    provider_settings,
    query_of,
    set_mock_user,
)

pytestmark = pytest.mark.django_db

APP_REDIRECT = "cn.sportsman.app:/sso"
PHONE = "13900003333"


@pytest.fixture
def app_provider(mock_provider, settings):
    issuer = mock_provider()
    settings.OIDC_PROVIDERS = provider_settings("zlb", issuer,
                                                mobile_redirect_uris=[APP_REDIRECT])
    return issuer


def _app_authorizes(issuer: str, sub: str) -> dict:
    """What a mobile app does with the provider's SDK or a browser tab: its own PKCE and
    nonce; the code comes back to its redirect URI."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    nonce = secrets.token_urlsafe(24)
    url = f"{issuer}/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": APP_REDIRECT,
        "scope": "openid phone", "state": "s", "nonce": nonce, "code_challenge": challenge,
        "code_challenge_method": "S256"})
    code = query_of(authorize_at_mock(url, sub))["code"]
    return {"code": code, "code_verifier": verifier, "redirect_uri": APP_REDIRECT,
            "nonce": nonce}


def test_the_app_lists_providers(client, app_provider):
    rows = client.get("/api/v1/auth/sso/providers").json()
    assert [(r["name"], r["issuer"], r["client_id"]) for r in rows] == [
        ("zlb", app_provider, CLIENT_ID)]


def test_a_new_resident_gets_a_token_with_consents_and_nothing_without(client, app_provider):
    set_mock_user(app_provider, "app-1", {"phone_number": PHONE, "phone_number_verified": True})
    refused = client.post("/api/v1/auth/sso/zlb/token",
                          _app_authorizes(app_provider, "app-1"), content_type="application/json")
    assert refused.status_code == 400 and refused.json()["code"] == "consent_required"
    assert User.objects.count() == 0
    body = {**_app_authorizes(app_provider, "app-1"),
            "consents": {"terms": True, "privacy": True}}
    answer = client.post("/api/v1/auth/sso/zlb/token", body, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["created"] is True
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {answer.json()['token']}"})
    assert me.json()["phone"] == PHONE
    # the same answer again: the provider refuses the spent code
    again = client.post("/api/v1/auth/sso/zlb/token", body, content_type="application/json")
    assert again.status_code == 502 and again.json()["code"] == "oidc_token_failed"


def test_an_existing_account_signs_in_by_verified_number_and_links(client, app_provider):
    user = User.objects.create_user(PHONE, "a-long-password-1")
    set_mock_user(app_provider, "app-2", {"phone_number": PHONE, "phone_number_verified": True})
    answer = client.post("/api/v1/auth/sso/zlb/token", _app_authorizes(app_provider, "app-2"),
                         content_type="application/json")
    assert answer.status_code == 200 and answer.json()["created"] is False
    assert SsoLink.objects.get().user_id == user.pk


def test_an_unregistered_redirect_uri_and_a_wrong_nonce_are_refused(client, app_provider):
    set_mock_user(app_provider, "app-3", {"phone_number": PHONE, "phone_number_verified": True})
    body = _app_authorizes(app_provider, "app-3")
    bad_uri = client.post("/api/v1/auth/sso/zlb/token", {**body, "redirect_uri": "evil:/x"},
                          content_type="application/json")
    assert bad_uri.json()["code"] == "oidc_bad_redirect_uri"
    wrong = client.post("/api/v1/auth/sso/zlb/token", {**body, "nonce": "n" * 24},
                        content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "oidc_nonce_mismatch"
    assert User.objects.count() == 0


def test_unverified_number_links_from_the_app_when_logged_in_and_unlinks(client, app_provider):
    from sportsman.accounts.auth import issue_token

    user = User.objects.create_user(PHONE, "a-long-password-1")
    set_mock_user(app_provider, "app-4", {"phone_number": PHONE})
    refused = client.post("/api/v1/auth/sso/zlb/token", _app_authorizes(app_provider, "app-4"),
                          content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "oidc_unverified_phone"
    auth = {"Authorization": f"Bearer {issue_token(user)}"}
    linked = client.post("/api/v1/me/sso/zlb", _app_authorizes(app_provider, "app-4"),
                         content_type="application/json", headers=auth)
    assert linked.status_code == 201 and linked.json()["method"] == "self"
    assert [r["provider"] for r in client.get("/api/v1/me/sso", headers=auth).json()] == ["zlb"]
    assert client.delete("/api/v1/me/sso/zlb", headers=auth).status_code == 200
    gone = client.delete("/api/v1/me/sso/zlb", headers=auth)
    assert gone.status_code == 404 and gone.json()["code"] == "oidc_not_linked"
