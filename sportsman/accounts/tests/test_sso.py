"""Single sign-on against real OpenID Connect providers on localhost: oidc-provider-mock for the
ordinary flows, expiry and nonce replay; a forging provider of our own (still over HTTP, with
a real JWKS) for a bad signature, a rotated key and another audience."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from sportsman.accounts.models import Consent, SsoLink, SsoNonce, User
from sportsman.accounts.tests.sso_providers import (
    CLIENT_ID,
    authorize_at_mock,
    local,
    new_key,
    query_of,
    set_mock_user,
    sign_in,
)
from sportsman.core.models import AuditEntry

pytestmark = pytest.mark.django_db

PHONE = "13900001111"


def _code(response) -> str | None:
    """The stable code of a refused sign-in page."""
    import re

    found = re.search(rb'id="sso-error" data-code="([a-z_]+)"', response.content)
    return found.group(1).decode() if found else None


def _logged_in_as(client) -> int | None:
    from django.contrib.auth import SESSION_KEY

    value = client.session.get(SESSION_KEY)
    return int(value) if value else None


def _verified(phone: str = PHONE, **more) -> dict:
    return {"phone_number": phone, "phone_number_verified": True, "name": "张三", **more}


def _mock(issuer: str, sub: str):
    return lambda url: authorize_at_mock(url, sub)


def _state():
    return (User.objects.count(), SsoLink.objects.count(), Consent.objects.count(),
            AuditEntry.objects.filter(action__startswith="sso.").count())


# --- the ordinary flows, at oidc-provider-mock -----------------------------------------------


def test_a_new_resident_signs_up_with_a_verified_number_and_later_signs_in_by_subject(
        client, mock_provider):
    issuer = mock_provider()
    set_mock_user(issuer, "zlb-0001", _verified())
    # When a resident with no account presses the provider's button and authorizes
    back = sign_in(client, "zlb", _mock(issuer, "zlb-0001"))
    # Then they are asked to accept the terms; nothing is created yet
    assert back.status_code == 302 and back["Location"] == "/accounts/sso/welcome/"
    assert User.objects.count() == 0
    page = client.get("/accounts/sso/welcome/")
    assert b'data-provider="zlb"' in page.content and "139****1111" in page.content.decode()
    # When they refuse the terms, nothing is created either
    refused = client.post("/accounts/sso/welcome/", {"nickname": "张三"})
    assert refused.status_code == 200 and User.objects.count() == 0
    done = client.post("/accounts/sso/welcome/", {"nickname": "张三", "agree_terms": "on",
                                                   "agree_privacy": "on"})
    assert done.status_code == 302
    user = User.objects.get()
    assert user.phone == PHONE and user.nickname == "张三" and not user.has_usable_password()
    assert _logged_in_as(client) == user.pk
    link = SsoLink.objects.get()
    assert (link.provider, link.subject, link.user_id, link.method) == (
        "zlb", "zlb-0001", user.pk, "new")
    assert set(Consent.objects.filter(user=user, granted=True).values_list(
        "purpose", flat=True)) == {"terms", "privacy"}
    entry = AuditEntry.objects.get(action="sso.linked")
    assert entry.object_id == str(user.pk) and entry.data["method"] == "new"

    # Later the provider's number changes: the stored link decides, by subject
    client.post("/accounts/logout/")
    set_mock_user(issuer, "zlb-0001", _verified("13700002222"))
    again = sign_in(client, "zlb", _mock(issuer, "zlb-0001"))
    assert again.status_code == 302 and _logged_in_as(client) == user.pk
    assert User.objects.count() == 1 and SsoLink.objects.count() == 1


def test_an_existing_phone_account_is_linked_by_the_verified_number(client, mock_provider):
    issuer = mock_provider()
    user = User.objects.create_user(PHONE, "a-long-password-1", nickname="老李")
    set_mock_user(issuer, "zlb-0002", _verified())
    back = sign_in(client, "zlb", _mock(issuer, "zlb-0002"))
    assert back.status_code == 302 and back["Location"] == "/"
    assert _logged_in_as(client) == user.pk
    link = SsoLink.objects.get()
    assert (link.user_id, link.subject, link.method) == (user.pk, "zlb-0002", "verified_phone")
    assert AuditEntry.objects.filter(action="sso.linked", object_id=str(user.pk)).count() == 1
    assert User.objects.count() == 1
    # The password still works, and the profile shows the link with an unlink button
    profile = client.get("/accounts/profile/")
    assert b'data-sso="zlb" data-linked="1"' in profile.content


@pytest.mark.parametrize("claims", [
    {"phone_number": PHONE, "phone_number_verified": False},
    {"phone_number": PHONE, "phone_number_verified": "true"},  # a string is not JSON true
    {"phone_number": PHONE},
    {"email": "someone@example.org"},
], ids=["false", "string", "absent", "no-number"])
def test_an_unverified_number_never_links_nor_creates(client, mock_provider, claims):
    issuer = mock_provider()
    User.objects.create_user(PHONE, "a-long-password-1")
    set_mock_user(issuer, "zlb-0003", claims)
    before = _state()
    back = sign_in(client, "zlb", _mock(issuer, "zlb-0003"))
    assert back.status_code == 403 and _code(back) == "oidc_unverified_phone"
    assert _state() == before and _logged_in_as(client) is None


def test_unverified_number_links_from_the_profile_after_a_phone_login(client, mock_provider):
    issuer = mock_provider()
    user = User.objects.create_user(PHONE, "a-long-password-1")
    set_mock_user(issuer, "zlb-0004", {"phone_number": PHONE, "phone_number_verified": False})
    # Logged in by number and password, the resident links the provider from their profile
    login = client.post("/accounts/login/", {"phone": PHONE, "password": "a-long-password-1"})
    assert login.status_code == 302
    linked = sign_in(client, "zlb", _mock(issuer, "zlb-0004"), data={"intent": "link"})
    assert linked.status_code == 302 and linked["Location"] == "/accounts/profile/"
    assert SsoLink.objects.get().method == "self"
    # From now on the provider signs them in by subject, still without a verified number
    client.post("/accounts/logout/")
    again = sign_in(client, "zlb", _mock(issuer, "zlb-0004"))
    assert again.status_code == 302 and _logged_in_as(client) == user.pk


def test_unlinking_removes_the_link_and_is_audited(client, mock_provider):
    issuer = mock_provider()
    user = User.objects.create_user(PHONE, "a-long-password-1")
    set_mock_user(issuer, "zlb-0005", {"phone_number": PHONE, "phone_number_verified": False})
    client.force_login(user)
    sign_in(client, "zlb", _mock(issuer, "zlb-0005"), data={"intent": "link"})
    assert SsoLink.objects.filter(user=user).count() == 1
    client.post("/accounts/sso/zlb/unlink/")
    assert SsoLink.objects.filter(user=user).count() == 0
    assert AuditEntry.objects.filter(action="sso.unlinked", object_id=str(user.pk)).count() == 1
    # Unlinking again changes nothing and writes nothing
    client.post("/accounts/sso/zlb/unlink/")
    assert AuditEntry.objects.filter(action="sso.unlinked").count() == 1
    # … and the unverified provider account no longer signs anyone in
    client.logout()
    back = sign_in(client, "zlb", _mock(issuer, "zlb-0005"))
    assert _code(back) == "oidc_unverified_phone"


def test_a_subject_linked_to_someone_else_is_refused(client, mock_provider):
    issuer = mock_provider()
    first = User.objects.create_user(PHONE, "a-long-password-1")
    second = User.objects.create_user("13900002222", "a-long-password-1")
    set_mock_user(issuer, "zlb-0006", _verified())
    sign_in(client, "zlb", _mock(issuer, "zlb-0006"))
    client.logout()
    client.force_login(second)
    before = _state()
    back = sign_in(client, "zlb", _mock(issuer, "zlb-0006"), data={"intent": "link"})
    assert back.status_code == 409 and _code(back) == "oidc_already_linked"
    assert _state() == before and SsoLink.objects.get().user_id == first.pk


def test_the_authorization_request_uses_pkce_state_and_nonce(client, mock_provider):
    issuer = mock_provider()
    start = client.post("/accounts/sso/zlb/start/", {"next": "/"})
    asked = query_of(start["Location"])
    assert start["Location"].startswith(issuer)
    assert asked["client_id"] == CLIENT_ID and asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] and asked["nonce"] and "openid" in asked["scope"].split()
    assert asked["redirect_uri"] == "http://testserver/accounts/sso/zlb/callback/"


def test_a_wrong_or_reused_state_is_refused(client, mock_provider):
    issuer = mock_provider()
    set_mock_user(issuer, "zlb-0007", _verified())
    User.objects.create_user(PHONE, "a-long-password-1")
    start = client.post("/accounts/sso/zlb/start/", {"next": "/"})
    back = authorize_at_mock(start["Location"], "zlb-0007")
    forged = local(back).replace("state=", "state=x")
    refused = client.get(forged)
    assert refused.status_code == 400 and _code(refused) == "oidc_state_mismatch"
    # a wrong state takes nothing away: the real answer still works, once
    ok = client.get(local(back))
    assert ok.status_code == 302 and _logged_in_as(client) is not None
    # the same answer again (a replayed callback) finds no pending sign-in
    client.logout()
    again = client.get(local(back))
    assert _code(again) == "oidc_state_mismatch" and _logged_in_as(client) is None


def test_a_denied_authorization_changes_nothing(client, mock_provider):
    mock_provider()
    start = client.post("/accounts/sso/zlb/start/", {"next": "/"})
    denied = requests.post(start["Location"], data={"action": "deny"}, allow_redirects=False,
                           timeout=5)
    back = client.get(local(denied.headers["Location"]))
    assert _code(back) == "oidc_denied" and User.objects.count() == 0


def test_a_replayed_nonce_is_refused(client, mock_provider):
    """The pending sign-in (state, nonce, verifier) is copied before it is used and put back
    afterwards — what an attacker holding an old session would do. The provider issues a new,
    valid code and ID token for the same nonce; the nonce has been spent."""
    issuer = mock_provider()
    set_mock_user(issuer, "zlb-0008", _verified())
    User.objects.create_user(PHONE, "a-long-password-1")
    start = client.post("/accounts/sso/zlb/start/", {"next": "/"})
    pending = {k: v for k, v in client.session.items() if k.startswith("_state_")}
    assert len(pending) == 1
    assert client.get(local(authorize_at_mock(start["Location"], "zlb-0008"))).status_code == 302
    assert SsoNonce.objects.count() == 1
    client.logout()
    session = client.session
    session.update(pending)
    session.save()
    before = _state()
    replay = client.get(local(authorize_at_mock(start["Location"], "zlb-0008")))
    assert replay.status_code == 400 and _code(replay) == "oidc_nonce_replayed"
    assert _logged_in_as(client) is None and _state() == before


def test_an_expired_id_token_is_refused_and_a_little_clock_skew_is_not(client, mock_provider,
                                                                        settings):
    settings.OIDC_LEEWAY_SECONDS = 60
    stale = mock_provider(access_token_max_age=timedelta(minutes=-10))
    set_mock_user(stale, "zlb-0009", _verified())
    back = sign_in(client, "zlb", _mock(stale, "zlb-0009"))
    assert back.status_code == 400 and _code(back) == "oidc_expired"
    assert User.objects.count() == 0 and SsoLink.objects.count() == 0
    skewed = mock_provider(access_token_max_age=timedelta(seconds=-20))
    User.objects.create_user(PHONE, "a-long-password-1")
    set_mock_user(skewed, "zlb-0010", _verified())
    ok = sign_in(client, "zlb", _mock(skewed, "zlb-0010"))
    assert ok.status_code == 302 and _logged_in_as(client) is not None


def test_logout_ends_the_session_at_the_provider_too(client, mock_provider):
    issuer = mock_provider()
    set_mock_user(issuer, "zlb-0011", _verified())
    User.objects.create_user(PHONE, "a-long-password-1")
    sign_in(client, "zlb", _mock(issuer, "zlb-0011"))
    out = client.post("/accounts/logout/")
    assert out.status_code == 302 and out["Location"].startswith(f"{issuer}/oauth2/end_session")
    asked = query_of(out["Location"])
    assert asked["post_logout_redirect_uri"] == "http://testserver/"
    assert asked["id_token_hint"].count(".") == 2 and asked["client_id"] == CLIENT_ID
    assert _logged_in_as(client) is None
    # The provider's page ends its session and sends the browser home
    ended = requests.get(out["Location"], timeout=5)
    assert ended.status_code == 200
    # A phone log-in's logout stays here
    client.post("/accounts/login/", {"phone": PHONE, "password": "a-long-password-1"})
    assert client.post("/accounts/logout/")["Location"] == "/"


def test_the_login_page_shows_a_button_per_provider(client, mock_provider, forging_provider,
                                                   settings):
    mock_provider()
    page = client.get("/accounts/login/").content.decode()
    shown = sorted(settings.OIDC_PROVIDERS, key=lambda name: page.index(f'data-sso="{name}"'))
    assert shown == list(settings.OIDC_PROVIDERS) == ["gov", "zlb"]  # in configuration order


def test_an_unknown_provider_is_not_found(client):
    assert client.post("/accounts/sso/nobody/start/").status_code == 404


# --- what the mock will not sign: our own provider, real HTTP and a real JWKS -------------------


def _forge(forge):
    return forge.authorize


def test_a_token_signed_with_a_key_not_in_the_jwks_is_refused(client, forging_provider):
    forge = forging_provider
    forge.claims = {"sub": "gov-1", **_verified()}
    User.objects.create_user(PHONE, "a-long-password-1")
    # the same kid as the published key, another key: the signature does not verify
    forge.signing_key = new_key("k1")
    before = _state()
    back = sign_in(client, "gov", _forge(forge))
    assert back.status_code == 400 and _code(back) == "oidc_bad_signature"
    # a kid the provider never published: the JWKS is read again once, then refused
    fetches = forge.jwks_fetches
    forge.signing_key = new_key("k-unknown")
    back = sign_in(client, "gov", _forge(forge))
    assert _code(back) == "oidc_bad_signature" and forge.jwks_fetches == fetches + 1
    assert _state() == before and SsoNonce.objects.count() == 0
    assert _logged_in_as(client) is None and forge.pkce_failures == 0


def test_a_token_for_another_audience_is_refused(client, forging_provider):
    forge = forging_provider
    forge.claims = {"sub": "gov-2", **_verified()}
    User.objects.create_user(PHONE, "a-long-password-1")
    before = _state()
    for audience in ("another-app", ["another-app", "third-app"]):
        forge.audience = audience  # type: ignore[assignment]
        back = sign_in(client, "gov", _forge(forge))
        assert back.status_code == 400 and _code(back) == "oidc_wrong_audience"
    assert _state() == before and _logged_in_as(client) is None


def test_a_rotated_key_is_fetched_once_and_then_cached(client, forging_provider):
    forge = forging_provider
    forge.claims = {"sub": "gov-3", **_verified()}
    user = User.objects.create_user(PHONE, "a-long-password-1")
    for _i in range(2):
        assert sign_in(client, "gov", _forge(forge)).status_code == 302
        client.logout()
    assert forge.jwks_fetches == 1  # cached after the first sign-in
    forge.rotate("k2")
    for _i in range(2):
        back = sign_in(client, "gov", _forge(forge))
        assert back.status_code == 302 and _logged_in_as(client) == user.pk
        client.logout()
    assert forge.jwks_fetches == 2  # the unknown kid: one re-read, then cached again
    assert forge.pkce_failures == 0


def test_a_provider_without_end_session_logs_out_locally(client, forging_provider):
    forge = forging_provider
    forge.claims = {"sub": "gov-4", **_verified()}
    User.objects.create_user(PHONE, "a-long-password-1")
    sign_in(client, "gov", _forge(forge))
    assert _logged_in_as(client) is not None
    assert client.post("/accounts/logout/")["Location"] == "/"
    assert _logged_in_as(client) is None


def test_an_unreachable_provider_is_a_clear_refusal(client, settings):
    from sportsman.accounts.tests.sso_providers import provider_settings

    settings.OIDC_PROVIDERS = provider_settings("down", "http://127.0.0.1:9")
    back = client.post("/accounts/sso/down/start/", {"next": "/"})
    assert back.status_code == 503 and _code(back) == "oidc_provider_unavailable"
