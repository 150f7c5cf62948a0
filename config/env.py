"""Typed environment helpers: every setting comes from here, and a bad value fails loudly."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, var_dir: Path, generate) -> str:
    """The secret from the environment, else one generated once and kept in var/ (a laptop).

    Several machines must share the value: production sets the variable.
    """
    value = os.environ.get(name)
    if value:
        return value
    path = var_dir / f"{name.lower()}.txt"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = generate()
    path.write_text(value)
    path.chmod(0o600)
    return value


def random_secret() -> str:
    return secrets.token_urlsafe(50)


def vapid_private_key() -> str:
    """A new VAPID (RFC 8292) private key: a P-256 scalar, 32 bytes, base64url without padding
    (the form ``manage.py webpush_keys`` prints and ``WEBPUSH_VAPID_PRIVATE_KEY`` takes)."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec

    number = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


def database_from_url(url: str, *, sqlite_default: Path) -> dict:
    """Django DATABASES entry from a URL: sqlite:///path, postgres://user:pw@host:port/name."""
    if not url:
        url = f"sqlite:///{sqlite_default}"
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/file and sqlite:////absolute/file, as SQLAlchemy spells them.
        name = unquote(parsed.path)[1:] or str(sqlite_default)
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        # Tests use a file too (concurrency tests need real locking), one per test process.
        test_name = str(Path(name).parent / f"test-{os.getpid()}.sqlite3")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "TEST": {"NAME": test_name},
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON;"
                ),
            },
            # A connection is worth keeping: opening one runs the PRAGMAs above and registers
            # Django's SQL functions, which costs more than a primary-key read.
            "CONN_MAX_AGE": 60,
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        if not parsed.path.strip("/"):
            raise ImproperlyConfigured(f"DATABASE_URL {url!r} names no database")
        options: dict = {}
        query = parse_qs(parsed.query)
        if "sslmode" in query:
            options["sslmode"] = query["sslmode"][0]
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.strip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use sqlite:/// or postgres://)"
    )


# --- single sign-on (OpenID Connect providers; docs/accounts.md, "Single sign-on") ----------

_OIDC_NAME = __import__("re").compile(r"^[a-z][a-z0-9_]{0,31}$")
_OIDC_KEYS = {"issuer", "client_id", "client_secret", "label", "scope", "mobile_redirect_uris"}


def env_oidc_providers() -> dict[str, dict]:
    """The OpenID Connect providers, by name: ``OIDC_PROVIDERS`` (a JSON object of name →
    {"issuer", "client_id", "client_secret"?, "label"?, "scope"?, "mobile_redirect_uris"?}) and
    ``SPORTSMAN_OIDC_<NAME>_ISSUER`` / ``_CLIENT_ID`` / ``_CLIENT_SECRET`` / ``_LABEL`` /
    ``_SCOPE`` / ``_MOBILE_REDIRECT_URIS`` (comma-separated), which win over the JSON."""
    import json

    out: dict[str, dict] = {}
    raw = os.environ.get("OIDC_PROVIDERS", "").strip()
    if raw:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"OIDC_PROVIDERS is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ImproperlyConfigured("OIDC_PROVIDERS must be a JSON object of name → settings")
        for name, conf in data.items():
            if not isinstance(conf, dict) or set(conf) - _OIDC_KEYS:
                raise ImproperlyConfigured(
                    f"OIDC_PROVIDERS[{name!r}] must be an object with keys among "
                    f"{', '.join(sorted(_OIDC_KEYS))}")
            out[str(name).lower()] = dict(conf)
    prefix = "SPORTSMAN_OIDC_"
    for key, value in os.environ.items():
        if not key.startswith(prefix) or not value:
            continue
        for field in sorted(_OIDC_KEYS, key=len, reverse=True):
            suffix = "_" + field.upper()
            if key.endswith(suffix) and len(key) > len(prefix) + len(suffix):
                name = key[len(prefix):-len(suffix)].lower()
                out.setdefault(name, {})[field] = value
                break
    providers: dict[str, dict] = {}
    for name, conf in out.items():
        where = f"OIDC provider {name!r} (OIDC_PROVIDERS or {prefix}{name.upper()}_*)"
        if not _OIDC_NAME.match(name):
            raise ImproperlyConfigured(f"{where}: the name must be lower-case letters, digits, _")
        issuer = str(conf.get("issuer", "")).rstrip("/")
        if not issuer.startswith(("https://", "http://")):
            raise ImproperlyConfigured(f"{where}: ISSUER must be an http(s) URL")
        if not conf.get("client_id"):
            raise ImproperlyConfigured(f"{where}: CLIENT_ID must be set")
        uris = conf.get("mobile_redirect_uris") or []
        if isinstance(uris, str):
            uris = [u.strip() for u in uris.split(",") if u.strip()]
        scope = str(conf.get("scope") or "openid profile phone")
        if "openid" not in scope.split():
            raise ImproperlyConfigured(f"{where}: SCOPE must include openid")
        providers[name] = {
            "issuer": issuer,
            "client_id": str(conf["client_id"]),
            "client_secret": str(conf.get("client_secret") or ""),
            "label": str(conf.get("label") or name),
            "scope": scope,
            "mobile_redirect_uris": [str(u) for u in uris],
        }
    return providers
