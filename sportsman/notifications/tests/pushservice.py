"""A Web Push service on 127.0.0.1 for tests: it checks every request the way a real one does
(RFC 8292 VAPID, RFC 8291/8188 aes128gcm) and decrypts the message as the browser would.

``Browser`` is a subscriber: a P-256 key pair and an auth secret, as ``pushManager.subscribe()``
makes them. ``PushService`` answers each endpoint with a chosen status (201 unless told) and
keeps what it received, decrypted, in ``received``.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Browser:
    """A subscriber's keys: ``p256dh`` (public key, uncompressed point) and ``auth``."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)

    @property
    def p256dh(self) -> str:
        return b64e(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64e(self.auth_secret)

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret,
                                version="aes128gcm")


class VapidError(AssertionError):
    pass


def verify_vapid(header: str, *, audience: str, now: float | None = None) -> dict[str, Any]:
    """Check an ``Authorization: vapid t=<jwt>, k=<key>`` header (RFC 8292): an ES256 JWT
    signed by ``k``, ``aud`` the push service's origin, ``exp`` in the next 24 hours, a ``sub``
    to contact. Returns the claims plus ``k``; raises VapidError."""
    now = time.time() if now is None else now
    scheme, _sep, params = header.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError(f"scheme {scheme!r}")
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = parts["t"], parts["k"]
    head_b64, claims_b64, sig_b64 = token.split(".")
    head = json.loads(b64d(head_b64))
    if head.get("alg") != "ES256":
        raise VapidError(f"alg {head.get('alg')!r}")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
    sig = b64d(sig_b64)
    if len(sig) != 64:
        raise VapidError("an ES256 signature is 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidError("bad signature") from None
    claims = json.loads(b64d(claims_b64))
    if claims.get("aud") != audience:
        raise VapidError(f"aud {claims.get('aud')!r} is not {audience!r}")
    if not now < claims.get("exp", 0) <= now + 24 * 3600:
        raise VapidError(f"exp {claims.get('exp')} not within 24 h")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise VapidError(f"sub {claims.get('sub')!r}")
    return claims | {"k": key}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    vapid: dict[str, Any]
    body: bytes
    payload: dict[str, Any]


@dataclass
class PushService:
    """Endpoints ``{url}/push/<name>``; ``status[name]`` answers instead of 201."""

    browsers: dict[str, Browser] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    url: str = ""

    def endpoint(self, name: str) -> str:
        self.browsers.setdefault(name, Browser())
        return f"{self.url}/push/{name}"

    def start(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                name = self.path.rsplit("/", 1)[-1]
                code = service.status.get(name, 201)
                try:
                    if code == 201:
                        service.accept(self.path, name, dict(self.headers.items()), body)
                except Exception as exc:  # a protocol error: answer as a push service does
                    service.errors.append(f"{type(exc).__name__}: {exc}")
                    code = 400
                self.send_response(code)
                if code == 429:
                    self.send_header("Retry-After", "60")
                if code == 201:
                    self.send_header("Location", f"{service.url}/message/{len(service.received)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accept(self, path: str, name: str, headers: dict[str, str], body: bytes) -> None:
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("content-encoding") != "aes128gcm":
            raise ValueError(f"content-encoding {lower.get('content-encoding')!r}")
        if "ttl" not in lower:
            raise ValueError("no TTL header")
        if len(body) > 4096:
            raise ValueError(f"{len(body)} bytes is over 4096")
        claims = verify_vapid(lower["authorization"], audience=self.url)
        plain = self.browsers[name].decrypt(body)
        self.received.append(Received(path=path, headers=lower, vapid=claims, body=body,
                                      payload=json.loads(plain)))
