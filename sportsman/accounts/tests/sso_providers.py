"""Real OpenID Connect providers on localhost for the single sign-on tests.

``mock_provider``: oidc-provider-mock (an Authlib-based provider) in a thread — its login page,
its code and token endpoints, its JWKS and end_session endpoint.

``ForgingProvider``: for what that provider will not do (sign with a key that is not in its
JWKS, rotate its key, address another audience): a small provider of our own on a thread that
serves discovery, an authorization endpoint, a token endpoint (checking the PKCE verifier) and
a JWKS, and signs ID tokens with locally generated keys as told. The application reaches both
over real HTTP, as it would reach a government provider.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.wrappers import Request, Response

CLIENT_ID = "sportsman-web"
CLIENT_SECRET = "s3cret-of-the-client"


def provider_settings(name: str, issuer: str, **extra: Any) -> dict[str, dict]:
    return {name: {"issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                   "label": extra.pop("label", "浙里办"), "scope": "openid profile phone",
                   "mobile_redirect_uris": extra.pop("mobile_redirect_uris", []), **extra}}


@contextlib.contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(2)
        server.server_close()


def set_mock_user(issuer: str, sub: str, claims: dict[str, Any]) -> None:
    """The mock provider's user ``sub`` with these claims (its ``PUT /users/<sub>``)."""
    requests.put(f"{issuer}/users/{sub}", json=claims, timeout=5).raise_for_status()


def authorize_at_mock(authorize_url: str, sub: str) -> str:
    """Submit the mock provider's login form as ``sub``; the redirect back to us."""
    answer = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def sign_in(client: Any, provider: str, authorize: Any, *, data: dict | None = None) -> Any:
    """Press the provider's button (or the profile's link button), let ``authorize`` act at
    the provider, and follow the redirect back to our callback; the callback's response."""
    start = client.post(f"/accounts/sso/{provider}/start/", data or {"next": "/"})
    assert start.status_code == 302, start.content[:500]
    back = authorize(start["Location"])
    return client.get(local(back))


# --- a provider of our own, for forged and rotated signatures ------------------------------


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class ForgingProvider:
    """Knobs: ``published`` keys (the JWKS), ``signing_key`` (may be unpublished),
    ``audience``, ``expires_in`` (negative: expired on arrival), ``claims`` of the user."""

    issuer: str = ""
    published: list[RSAKey] = field(default_factory=lambda: [new_key("k1")])
    signing_key: RSAKey | None = None
    audience: str = CLIENT_ID
    expires_in: int = 300
    claims: dict[str, Any] = field(default_factory=dict)
    jwks_fetches: int = 0
    codes: dict[str, dict] = field(default_factory=dict)
    pkce_failures: int = 0

    def __post_init__(self) -> None:
        self.signing_key = self.signing_key or self.published[0]

    def rotate(self, kid: str) -> RSAKey:
        """Publish a new key and sign with it from now on (the old one stays published)."""
        key = new_key(kid)
        self.published = [key, *self.published]
        self.signing_key = key
        return key

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/.well-known/openid-configuration":
            return self.json({
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"]})
        if path == "/jwks":
            self.jwks_fetches += 1
            keys: list[Any] = list(self.published)
            return self.json(KeySet(keys).as_dict(private=False))
        if path == "/authorize":
            args = request.args
            code = secrets.token_urlsafe(16)
            self.codes[code] = dict(args)
            query = urlencode({"code": code, "state": args["state"]})
            return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})
        if path == "/token" and request.method == "POST":
            form = request.form
            asked = self.codes.pop(form.get("code", ""), None)
            if asked is None or asked.get("redirect_uri") != form.get("redirect_uri"):
                return self.json({"error": "invalid_grant"}, 400)
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if asked.get("code_challenge_method") != "S256" or (
                    challenge != asked.get("code_challenge")):
                self.pkce_failures += 1
                return self.json({"error": "invalid_grant"}, 400)
            now = int(time.time())
            claims = {"iss": self.issuer, "aud": self.audience, "iat": now,
                      "exp": now + self.expires_in, "nonce": asked.get("nonce"),
                      "sub": "forged-sub", **self.claims}
            key = self.signing_key
            assert key is not None
            token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
            return self.json({"access_token": secrets.token_urlsafe(16),
                              "token_type": "Bearer", "expires_in": 300, "id_token": token})
        return Response("not found", status=404)

    @staticmethod
    def json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    def authorize(self, authorize_url: str) -> str:
        """Follow our authorization endpoint's redirect (it asks nothing)."""
        answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
