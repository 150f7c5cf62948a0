"""Single sign-on with OpenID Connect providers (e.g. the provincial government app), the
protocol half: provider registry from settings, the authorization request (code flow, PKCE
S256, state, nonce) and the checks of the answer (ID token signature from the provider's JWKS,
issuer, audience, nonce, expiry). Authlib does the protocol and JOSE work; this module only
configures it and turns its exceptions into ``DomainError``s with stable codes.

What an accepted ID token means for accounts (link by subject, by verified phone, new
resident) is ``services.sso_sign_in`` / ``services.sso_link``. See docs/accounts.md,
"Single sign-on", and docs/adr/0010-oidc-single-sign-on.md.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoOAuth2App
from authlib.integrations.django_client.integration import DjangoIntegration
from django.conf import settings
from django.core.signals import setting_changed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from joserfc import errors as jose

from sportsman.core.errors import DomainError, NotFound

# --- errors --------------------------------------------------------------------------------


class SsoError(DomainError):
    status = 400
    code = "oidc_failed"
    default_message = gettext_lazy("Signing in with the provider did not work. Please try again.")


class StateMismatch(SsoError):
    code = "oidc_state_mismatch"
    default_message = gettext_lazy(
        "This sign-in link has expired or was not started here. Please start again.")


class Denied(SsoError):
    code = "oidc_denied"
    default_message = gettext_lazy("The sign-in was cancelled at the provider.")


class TokenFailed(SsoError):
    status = 502
    code = "oidc_token_failed"
    default_message = gettext_lazy("The provider did not accept the sign-in. Please try again.")


class ProviderUnavailable(SsoError):
    status = 503
    code = "oidc_provider_unavailable"
    default_message = gettext_lazy(
        "The provider cannot be reached just now. Please try again later.")


class BadSignature(SsoError):
    code = "oidc_bad_signature"
    default_message = gettext_lazy(
        "The provider's answer is not signed with its key. Nothing was changed.")


class WrongAudience(SsoError):
    code = "oidc_wrong_audience"
    default_message = gettext_lazy("The provider's answer was meant for another application.")


class WrongIssuer(SsoError):
    code = "oidc_wrong_issuer"
    default_message = gettext_lazy("The provider's answer comes from another provider.")


class Expired(SsoError):
    code = "oidc_expired"
    default_message = gettext_lazy("The provider's answer has expired. Please sign in again.")


class NonceMismatch(SsoError):
    code = "oidc_nonce_mismatch"
    default_message = gettext_lazy(
        "The provider's answer does not belong to this sign-in. Please start again.")


class NonceReplayed(SsoError):
    code = "oidc_nonce_replayed"
    default_message = gettext_lazy(
        "This sign-in answer has already been used. Please start again.")


class BadToken(SsoError):
    code = "oidc_bad_token"
    default_message = gettext_lazy("The provider's answer cannot be read. Please try again.")


# --- providers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    name: str
    issuer: str
    client_id: str
    client_secret: str
    label: str
    scope: str
    mobile_redirect_uris: tuple[str, ...]


def providers() -> dict[str, Provider]:
    """The configured providers by name, in configuration order (the login page's buttons)."""
    return _providers(json.dumps(settings.OIDC_PROVIDERS, sort_keys=False))


@functools.cache
def _providers(raw: str) -> dict[str, Provider]:
    return {name: Provider(name=name, issuer=c["issuer"], client_id=c["client_id"],
                           client_secret=c.get("client_secret", ""), label=c.get("label", name),
                           scope=c.get("scope", "openid profile phone"),
                           mobile_redirect_uris=tuple(c.get("mobile_redirect_uris", ())))
            for name, c in json.loads(raw).items()}


def provider(name: str) -> Provider:
    found = providers().get(name)
    if found is None:
        raise NotFound(_("No such sign-in provider."))
    return found


class ProviderClient(DjangoOAuth2App):
    """Authlib's Django OIDC client, with the JWKS kept at most ``OIDC_JWKS_MAX_AGE_SECONDS``
    (Authlib keeps it for the life of the process and re-reads it once for an unknown ``kid``,
    which is how a provider's key rotation is followed)."""

    jwks_fetched_at: float | None = None
    jwks_fetches = 0

    def fetch_jwk_set(self, force: bool = False) -> Any:
        fetched = self.jwks_fetched_at
        if fetched is not None and time.monotonic() - fetched > settings.OIDC_JWKS_MAX_AGE_SECONDS:
            force = True
        if not force and self.server_metadata.get("jwks"):
            return self.server_metadata["jwks"]
        jwks = super().fetch_jwk_set(force=True)
        self.jwks_fetched_at = time.monotonic()
        self.jwks_fetches += 1
        return jwks


_clients: dict[Provider, ProviderClient] = {}
_clients_lock = threading.Lock()


def client(p: Provider) -> ProviderClient:
    """One Authlib client per provider configuration and process: discovery and JWKS are
    cached on it."""
    with _clients_lock:
        found = _clients.get(p)
        if found is None:
            found = ProviderClient(
                framework=DjangoIntegration(f"sso_{p.name}"), name=p.name,
                client_id=p.client_id, client_secret=p.client_secret or None,
                server_metadata_url=f"{p.issuer}/.well-known/openid-configuration",
                client_kwargs={
                    "scope": p.scope, "code_challenge_method": "S256",
                    "token_endpoint_auth_method": (
                        "client_secret_basic" if p.client_secret else "none"),
                    "default_timeout": settings.OIDC_HTTP_TIMEOUT_SECONDS,
                })
            _clients[p] = found
        return found


def _forget_clients(*, setting: str, **_kwargs: Any) -> None:
    if setting.startswith("OIDC_"):
        with _clients_lock:
            _clients.clear()


setting_changed.connect(_forget_clients)


def metadata(p: Provider) -> dict[str, Any]:
    """The provider's discovery document; its ``issuer`` must be the configured one."""
    app = client(p)
    try:
        meta = app.load_server_metadata()
    except (requests.RequestException, ValueError):
        app.server_metadata.pop("_loaded_at", None)
        raise ProviderUnavailable() from None
    if str(meta.get("issuer", "")).rstrip("/") != p.issuer:
        raise WrongIssuer()
    return meta


def end_session_url(p: Provider, *, id_token: str, post_logout_redirect_uri: str) -> str | None:
    """Where to send the browser to end the session at the provider too (RP-initiated
    logout), or ``None`` when the provider has no ``end_session_endpoint`` or is unreachable."""
    try:
        meta = metadata(p)
    except SsoError:
        return None
    if not meta.get("end_session_endpoint"):
        return None
    return client(p).create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri,
                                       id_token_hint=id_token or None,
                                       client_id=p.client_id)["url"]


# --- the authorization request and its answer -------------------------------------------------


def start(p: Provider, *, session: Any, redirect_uri: str, extra: dict[str, Any]) -> str:
    """The provider's authorization URL for a new sign-in; state, nonce, PKCE verifier, the
    redirect URI and ``extra`` (what to do with the answer) are kept in the session under the
    state, for one use."""
    metadata(p)
    app = client(p)
    nonce = generate_token(32)
    rv = app.create_authorization_url(redirect_uri, nonce=nonce)
    app.framework.set_state_data(session, rv["state"], {
        "redirect_uri": redirect_uri, "nonce": nonce, "code_verifier": rv["code_verifier"],
        **extra})
    return rv["url"]


def take_state(p: Provider, *, session: Any, state: str | None) -> dict[str, Any]:
    """The pending sign-in of ``state``, removed from the session (a state works once)."""
    app = client(p)
    data = app.framework.get_state_data(session, state) if state else None
    if state:
        app.framework.clear_state_data(session, state)
    if not data:
        raise StateMismatch()
    return data


def exchange(p: Provider, *, code: str | None, redirect_uri: str, code_verifier: str,
             nonce: str) -> tuple[dict[str, Any], str]:
    """Trade the authorization code for tokens at the provider and check the ID token.
    Returns its claims and the raw ID token (kept for the logout hint)."""
    if not code:
        raise TokenFailed()
    metadata(p)
    app = client(p)
    try:
        token = app.fetch_access_token(code=code, redirect_uri=redirect_uri,
                                       code_verifier=code_verifier)
    except OAuthError:
        raise TokenFailed() from None
    except (requests.RequestException, ValueError):
        raise ProviderUnavailable() from None
    return verify_id_token(p, token, nonce=nonce), str(token.get("id_token", ""))


_CLAIM_ERRORS: dict[str, type[SsoError]] = {
    "aud": WrongAudience, "azp": WrongAudience, "iss": WrongIssuer, "nonce": NonceMismatch,
    "exp": Expired,
}


def verify_id_token(p: Provider, token: dict[str, Any], *, nonce: str) -> dict[str, Any]:
    """The claims of the token response's ID token, once Authlib has checked its signature
    against the provider's JWKS (an unknown ``kid`` re-reads the JWKS once), its issuer,
    audience (this client), nonce (the one we sent), expiry and issue time (with
    ``OIDC_LEEWAY_SECONDS`` of clock leeway)."""
    if not token.get("id_token"):
        raise BadToken()
    app = client(p)
    options = {"iss": {"essential": True, "value": p.issuer},
               "aud": {"essential": True, "value": p.client_id},
               "sub": {"essential": True}}
    try:
        claims = app.parse_id_token(token, nonce=nonce, claims_options=options,
                                    leeway=settings.OIDC_LEEWAY_SECONDS)
    except (jose.BadSignatureError, jose.InvalidKeyIdError, jose.MissingKeyError):
        raise BadSignature() from None
    except jose.ExpiredTokenError:
        raise Expired() from None
    except jose.ClaimError as exc:
        raise _CLAIM_ERRORS.get(getattr(exc, "claim", ""), BadToken)() from None
    except (requests.RequestException, RuntimeError):
        raise ProviderUnavailable() from None
    except (jose.JoseError, ValueError, TypeError, KeyError):
        raise BadToken() from None
    if claims is None or not str(claims.get("sub") or ""):
        raise BadToken()
    return dict(claims)
