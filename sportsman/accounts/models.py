"""Users log in with a mobile number. The number is stored encrypted and found by keyed hash."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core import crypto


class UserManager(BaseUserManager["User"]):
    def get_by_phone(self, phone: str) -> User:
        return self.get(phone_hash=crypto.keyed_hash(phone))

    def create_user(self, phone: str, password: str | None = None, **extra) -> User:
        user = self.model(**extra)
        user.set_phone(phone)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class Sex(models.TextChoices):
    FEMALE = "F", _("female")
    MALE = "M", _("male")


class User(AbstractBaseUser, PermissionsMixin):
    phone_hash = models.CharField(max_length=64, unique=True, editable=False)
    phone_encrypted = models.TextField(editable=False)
    nickname = models.CharField(_("nickname"), max_length=32, blank=True)
    real_name_encrypted = models.TextField(blank=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    home_community = models.ForeignKey(
        "regions.Region", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="residents", verbose_name=_("home community"),
    )
    interests = models.ManyToManyField("core.Sport", blank=True, related_name="fans",
                                       verbose_name=_("sports interests"))
    hide_from_rankings = models.BooleanField(_("hide me from rankings"), default=False)
    large_text = models.BooleanField(_("large text"), default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "phone_hash"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.nickname or self.masked_phone

    def set_phone(self, phone: str) -> None:
        self.phone_hash = crypto.keyed_hash(phone)
        self.phone_encrypted = crypto.encrypt(phone)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_encrypted)

    @property
    def masked_phone(self) -> str:
        return crypto.mask_phone(self.phone)

    def set_real_name(self, name: str) -> None:
        self.real_name_encrypted = crypto.encrypt(name) if name else ""

    @property
    def real_name(self) -> str:
        return crypto.decrypt(self.real_name_encrypted) if self.real_name_encrypted else ""

    @property
    def is_staff(self) -> bool:  # Django admin is not mounted; staff power comes from roles
        return False


class ApiToken(models.Model):
    """A bearer token for apps. Only its SHA-256 is stored; logout revokes it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)

    def __str__(self) -> str:
        return f"token {self.pk} of user {self.user_id}"


class Consent(models.Model):
    """What the resident agreed to, which version of the text, and when (PIPL)."""

    class Purpose(models.TextChoices):
        TERMS = "terms", _("terms of service")
        PRIVACY = "privacy", _("privacy policy")
        LOCATION = "location", _("use of my location")
        RECOMMEND = "recommend", _("personalised recommendations")
        # Whether the community's administrators may take the resident's profile (nickname,
        # community, sex, birth year, interests) out in a bulk export (docs/exchange.md).
        SHARING = "sharing", _("sharing my profile with my community's administrators")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    version = models.CharField(max_length=16)
    granted = models.BooleanField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose} {'granted' if self.granted else 'withdrawn'} v{self.version}"


class SmsPurpose(models.TextChoices):
    REGISTER = "register", _("registration")
    RESET = "reset", _("password reset")


class SmsCode(models.Model):
    """One SMS sent to confirm a number: its code (keyed hash only) or, when no code was due
    (registering a taken number, resetting an unknown one), a notice with an empty ``code_hash``.

    The rows are also the SMS rate limiter's memory: limits count them per number and per IP, so
    they hold across processes. Only the newest code of a (number, purpose) can be used."""

    phone_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=16, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["phone_hash", "created_at"], name="smscode_phone_at"),
            models.Index(fields=["ip", "created_at"], name="smscode_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code {self.pk}"


class LoginAttempt(models.Model):
    """One password check. Written as PENDING before the password is checked, so concurrent
    guesses count against each other (see docs/accounts.md, "Throttling")."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("pending")
        OK = "ok", _("succeeded")
        FAILED = "failed", _("failed")

    phone_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["phone_hash", "at"], name="loginattempt_phone_at"),
            models.Index(fields=["ip", "at"], name="loginattempt_ip_at"),
        ]

    def __str__(self) -> str:
        return f"log-in {self.outcome} at {self.at:%Y-%m-%d %H:%M:%S}"


class SsoLink(models.Model):
    """A user's account at an OpenID Connect provider: (provider, subject) → user. Later logins
    go by the subject; the phone number is only read when the link is first made."""

    provider = models.CharField(max_length=32)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_links")
    method = models.CharField(max_length=16)  # how it was made: "verified_phone", "new", "self"
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="ssolink_subject"),
            models.UniqueConstraint(fields=["user", "provider"], name="ssolink_user_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} link of user {self.user_id}"


class SsoNonce(models.Model):
    """A nonce an ID token was accepted with (its SHA-256): an ID token carrying a nonce seen
    before is refused, whatever the session says."""

    provider = models.CharField(max_length=32)
    nonce_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "nonce_hash"], name="ssononce_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} nonce at {self.used_at:%Y-%m-%d %H:%M:%S}"
