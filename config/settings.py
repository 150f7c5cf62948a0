"""Sportsman settings: one module, every value from the environment (see README, Configuration)."""

from __future__ import annotations

from pathlib import Path

from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_oidc_providers,
    env_secret,
    env_str,
    random_secret,
    vapid_private_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", VAR_DIR, random_secret)
# Fernet key (32 url-safe base64 bytes) for phone and ID numbers at rest.
FIELD_ENCRYPTION_KEY = env_secret(
    "FIELD_ENCRYPTION_KEY",
    VAR_DIR,
    lambda: __import__("cryptography.fernet", fromlist=["Fernet"]).Fernet.generate_key().decode(),
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
HOST = env_str("HOST", "127.0.0.1")
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
WEB_WORKERS = env_int("WEB_WORKERS", 2, minimum=1)
WEB_THREADS = env_int("WEB_THREADS", 4, minimum=1)  # per web process, for HTTP (config/asgi.py)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_tasks_db",
    "sportsman.core",
    "sportsman.regions",
    "sportsman.accounts",
    "sportsman.notifications",
    "sportsman.facilities",
    "sportsman.activity",
    "sportsman.rewards",
    "sportsman.groups",
    "sportsman.governance",
    "sportsman.events",
    "sportsman.associations",
    "sportsman.instructors",
    "sportsman.cockpit",
    "sportsman.recommend",
    "sportsman.interfaces",
    "sportsman.fitness",
    "sportsman.health",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "sportsman.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "sportsman.core.context_processors.shell",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", ""), sqlite_default=VAR_DIR / "sportsman.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Broker of the device bridge (manage.py mqtt_bridge): mqtt://[user:pass@]host:port; "" = none.
MQTT_URL = env_str("MQTT_URL", "")
# Leaflet tile URL template for the facility finder; "" = markers on a plain background.
FACILITY_MAP_TILES = env_str("FACILITY_MAP_TILES", "")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["sportsman.accounts.auth.PhoneBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(VAR_DIR / "media")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"

# Oversized bodies are refused before any view runs (RequestDataTooBig → 413 in the API).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024, minimum=1024)

# Teaching videos (docs/instructor-videos.md): the largest accepted upload, how long an
# unfinished resumable upload is kept after its last chunk, and where the unfinished bytes wait
# (private, outside the media storage; "" = VAR_DIR/uploads/videos).
VIDEO_MAX_BYTES = env_int("VIDEO_MAX_BYTES", 1024 * 1024 * 1024, minimum=1024)
VIDEO_UPLOAD_EXPIRY_HOURS = env_int("VIDEO_UPLOAD_EXPIRY_HOURS", 24, minimum=1)
VIDEO_UPLOAD_DIR = env_str("VIDEO_UPLOAD_DIR", "")
# The most bytes one open-ended range request of a video (what players send) is answered with.
VIDEO_RANGE_BYTES = env_int("VIDEO_RANGE_BYTES", 4 * 1024 * 1024, minimum=64 * 1024)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", "blob:", "https:"],
    "connect-src": [CSP.SELF, "ws:", "wss:"],
    "frame-ancestors": [CSP.NONE],
}

# Outbound channels: each names a backend class with a working local implementation.
SMS_BACKEND = env_str("SMS_BACKEND", "sportsman.notifications.backends.OutboxSmsBackend")
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 300, minimum=30)
# Single sign-on (docs/accounts.md, "Single sign-on"): OpenID Connect providers by name, the
# clock leeway for ID tokens, and how long a provider's JWKS is trusted before it is re-read.
OIDC_PROVIDERS = env_oidc_providers()
OIDC_LEEWAY_SECONDS = env_int("OIDC_LEEWAY_SECONDS", 60, minimum=0, maximum=300)
OIDC_JWKS_MAX_AGE_SECONDS = env_int("OIDC_JWKS_MAX_AGE_SECONDS", 86400, minimum=60)
OIDC_HTTP_TIMEOUT_SECONDS = env_int("OIDC_HTTP_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
WEBPUSH_BACKEND = env_str("WEBPUSH_BACKEND",
                          "sportsman.notifications.backends.OutboxWebPushBackend")
# Web push (docs/notifications.md, "Web push"): the server's VAPID key (base64url raw P-256
# private key; `manage.py webpush_keys` makes one; a laptop gets one generated into var/), the
# contact the push services see, how long a push service keeps an undelivered message.
WEBPUSH_VAPID_PRIVATE_KEY = env_secret("WEBPUSH_VAPID_PRIVATE_KEY", VAR_DIR, vapid_private_key)
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT", "mailto:noreply@sportsman.local")
WEBPUSH_TTL_SECONDS = env_int("WEBPUSH_TTL_SECONDS", 86400, minimum=0, maximum=2419200)
WEBPUSH_TIMEOUT_SECONDS = env_int("WEBPUSH_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
_email_backend = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
if _email_backend.endswith("smtp.EmailBackend"):
    _email_options: dict = {
        "host": env_str("EMAIL_HOST", "127.0.0.1"),
        "port": env_int("EMAIL_PORT", 25, minimum=1, maximum=65535),
        "username": env_str("EMAIL_USER", ""),
        "password": env_str("EMAIL_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
    }
elif _email_backend.endswith("filebased.EmailBackend"):
    _email_options = {"file_path": str(VAR_DIR / "outbox" / "email")}
else:
    _email_options = {}
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@sportsman.local")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- open interfaces: webhooks (docs/interfaces.md) ---
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1, maximum=20)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 5, minimum=1)
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 20, minimum=1)
# Receivers on private, loopback or link-local addresses (a city's internal network): off by
# default, so a subscription cannot reach the platform's own services.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)

# OpenActive open data (docs/openactive.md): the public origin written into every feed item's
# urls (the feeds' own `next` links come from the request), and the publisher named on the
# dataset site.
OPENACTIVE_BASE_URL = env_str("OPENACTIVE_BASE_URL", "http://localhost:8000").rstrip("/")
OPENACTIVE_PUBLISHER = env_str("OPENACTIVE_PUBLISHER", "运动家 Sportsman")
OPENACTIVE_SLOT_DAYS = env_int("OPENACTIVE_SLOT_DAYS", 14, minimum=1, maximum=90)
