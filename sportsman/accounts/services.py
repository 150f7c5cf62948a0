"""Accounts: SMS codes, registration, log-in checks with throttling, profile, consent, export
and deletion. Every state change of a resident's account goes through here; pages and the API
only parse input and call these.

Throttles live in database rows (``SmsCode``, ``LoginAttempt``), so they hold across web
processes and machines. Counting the rows and recording a new one happen under one lock per
throttle key (``_lock_throttle_keys``), so racing requests cannot overshoot a limit; see
docs/accounts.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.accounts.models import (
    ApiToken,
    Consent,
    LoginAttempt,
    Sex,
    SmsCode,
    SmsPurpose,
    SsoLink,
    SsoNonce,
    User,
)
from sportsman.core import audit, crypto
from sportsman.core.errors import DomainError, InvalidInput, NotFound, Throttled
from sportsman.core.events import publish
from sportsman.core.models import AuditEntry
from sportsman.core.throttle import Limit, wait_seconds
from sportsman.regions.access import Access, Perm, access_for_user
from sportsman.regions.models import Level, Region

# --- errors --------------------------------------------------------------------------------


class InvalidPhone(InvalidInput):
    code = "invalid_phone"


class BadCode(InvalidInput):
    code = "bad_code"


class CodeExpired(InvalidInput):
    code = "code_expired"


class WeakPassword(InvalidInput):
    code = "weak_password"


class ConsentRequired(InvalidInput):
    code = "consent_required"


class PhoneTaken(DomainError):
    status = 409
    code = "phone_taken"


class BadCredentials(DomainError):
    status = 401
    code = "bad_credentials"


# --- policy ----------------------------------------------------------------------------------

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
CODE_LENGTH = 6
CODE_MAX_ATTEMPTS = 5
CURRENT_CONSENT_VERSION = "1"
REQUIRED_CONSENTS = (Consent.Purpose.TERMS, Consent.Purpose.PRIVACY)


SMS_PER_PHONE = (Limit(1, timedelta(seconds=60)), Limit(5, timedelta(hours=1)))
SMS_PER_IP = (Limit(20, timedelta(hours=1)),)
LOGIN_FAILURES_PER_PHONE = Limit(5, timedelta(minutes=15))
LOGIN_FAILURES_PER_IP = Limit(20, timedelta(minutes=15))
# Throttle rows older than this are of no use to any limit above.
THROTTLE_MEMORY = timedelta(days=1)

_UNSET: Any = object()


# --- helpers ---------------------------------------------------------------------------------


def normalise_phone(phone: str) -> str:
    """The 11-digit mainland mobile number, or ``InvalidPhone``. Spaces, dashes and a +86
    prefix are tolerated because people paste numbers that way."""
    value = re.sub(r"[\s-]", "", phone or "")
    if value.startswith("+86"):
        value = value[3:]
    if not PHONE_RE.fullmatch(value):
        raise InvalidPhone(_("Enter an 11-digit mainland mobile number."),
                           fields={"phone": [_("Enter an 11-digit mainland mobile number.")]})
    return value


def _code_hash(phone_hash: str, code: str) -> str:
    # Keyed: a leaked table does not let anyone try the million possible codes offline.
    return crypto.keyed_hash(f"{phone_hash}:{code}", purpose="sms-code")


def _lock_throttle_keys(*keys: str) -> None:
    """Serialise check-then-record for these throttle keys until the transaction ends; the one
    place a throttle takes a lock. PostgreSQL: transaction-level advisory locks, taken in sorted
    order so two callers never deadlock. SQLite: the IMMEDIATE transaction already holds the
    database write lock. Hold it only around the count and the insert, never a password hash."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for key in sorted(set(keys)):
            digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
            cur.execute("SELECT pg_advisory_xact_lock(%s)",
                        [int.from_bytes(digest, "big", signed=True)])


def _validate_password(password: str, user: User | None) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise WeakPassword(_("Choose a stronger password."),
                           fields={"password": list(exc.messages)}) from None


def _verify_code(*, phone_hash: str, purpose: str, code: str) -> SmsCode:
    """The newest code row of (number, purpose) if ``code`` matches it. Every try is counted
    by an atomic increment before comparing, so at most ``CODE_MAX_ATTEMPTS`` comparisons are
    ever made against one code, however many run at once; the count survives a refused call."""
    row = (SmsCode.objects.filter(phone_hash=phone_hash, purpose=purpose)
           .exclude(code_hash="").order_by("-created_at", "-id").first())
    wrong = _("The code is wrong. Check the SMS or ask for a new code.")
    if row is None or row.used_at is not None:
        raise BadCode(wrong, fields={"code": [wrong]})
    if row.expires_at <= timezone.now():
        msg = _("The code has expired. Ask for a new one.")
        raise CodeExpired(msg, fields={"code": [msg]})
    counted = SmsCode.objects.filter(pk=row.pk, attempts__lt=CODE_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1)
    if not counted:
        msg = _("Too many wrong tries for this code. Ask for a new one.")
        raise BadCode(msg, fields={"code": [msg]})
    if not hmac.compare_digest(row.code_hash, _code_hash(phone_hash, (code or "").strip())):
        raise BadCode(wrong, fields={"code": [wrong]})
    return row


def _consume_code(row: SmsCode) -> None:
    """Mark the verified code used; a concurrent call that got there first wins."""
    if not SmsCode.objects.filter(pk=row.pk, used_at__isnull=True).update(
            used_at=timezone.now()):
        msg = _("The code is wrong. Check the SMS or ask for a new code.")
        raise BadCode(msg, fields={"code": [msg]})


def _fake_request(ip: str | None) -> Any:
    return SimpleNamespace(META={"REMOTE_ADDR": ip or ""})


# --- SMS codes ------------------------------------------------------------------------------


def request_sms_code(*, phone: str, purpose: str, ip: str | None) -> None:
    """Send a 6-digit code to ``phone`` for ``purpose`` ("register" or "reset").

    Anyone may call this (no actor). The answer never says whether the number has an account:
    registering a taken number or resetting an unknown one sends an explanatory SMS without a
    code instead. Limits per number (1 a minute, 5 an hour) and per IP (20 an hour) raise
    ``Throttled``; a refused call leaves no row. The SMS goes out on commit."""
    phone = normalise_phone(phone)
    if purpose not in SmsPurpose.values:
        raise InvalidInput(fields={"purpose": [_("Choose register or reset.")]})
    phone_hash = crypto.keyed_hash(phone)
    exists = User.objects.filter(phone_hash=phone_hash).exists()
    sends_code = exists if purpose == SmsPurpose.RESET else not exists
    code = "".join(secrets.choice("0123456789") for _i in range(CODE_LENGTH))
    ttl = settings.SMS_CODE_TTL_SECONDS
    with transaction.atomic():
        _lock_throttle_keys(f"sms:phone:{phone_hash}", *([f"sms:ip:{ip}"] if ip else []))
        now = timezone.now()
        waits = [wait_seconds(SmsCode.objects.filter(phone_hash=phone_hash), "created_at", lim, now)
                 for lim in SMS_PER_PHONE]
        if ip:
            waits += [wait_seconds(SmsCode.objects.filter(ip=ip), "created_at", lim, now)
                      for lim in SMS_PER_IP]
        refused = [w for w in waits if w is not None]
        if refused:
            raise Throttled(_("Too many codes requested. Please wait and try again."),
                            retry_after=max(refused))
        SmsCode.objects.create(
            phone_hash=phone_hash, purpose=purpose, ip=ip or None, created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            code_hash=_code_hash(phone_hash, code) if sends_code else "",
        )

    if sends_code:
        text = _("Your Sportsman verification code is %(code)s. It is valid for %(minutes)d "
                 "minutes. Do not share it with anyone.") % {"code": code,
                                                             "minutes": max(1, ttl // 60)}
    elif purpose == SmsPurpose.REGISTER:
        text = _("This number already has a Sportsman account. Log in, or reset your password "
                 "if you have forgotten it.")
    else:
        text = _("Somebody asked to reset a Sportsman password for this number, but it has no "
                 "account. You can register with it.")

    def send() -> None:
        from sportsman.notifications.backends import sms_backend

        sms_backend().send(phone=phone, text=text)

    transaction.on_commit(send)


# --- registration and passwords -------------------------------------------------------------


def _clean_consents(consents: dict[str, bool] | None) -> dict[str, bool]:
    consents = dict(consents or {})
    unknown = [k for k in consents if k not in Consent.Purpose.values]
    if unknown:
        raise InvalidInput(fields={f"consents.{k}": [_("Unknown consent purpose.")]
                                   for k in unknown})
    missing = [p for p in REQUIRED_CONSENTS if consents.get(p) is not True]
    if missing:
        msg = _("Please accept the terms of service and the privacy policy.")
        raise ConsentRequired(msg, fields={f"consents.{p}": [msg] for p in missing})
    return consents


def register(*, phone: str, code: str, password: str, nickname: str = "", ip: str | None = None,
             home_community_id: int | None = None, interests: list[str] | None = None,
             consents: dict[str, bool] | None = None) -> User:
    """Create a resident's account from a number confirmed by a "register" SMS code.

    Anyone may call this. Input is validated before the code is tried, so a typo in the
    password does not burn a try of the code. User, interests and consent rows are written in
    one transaction together with spending the code; a refused call writes nothing (except the
    code's try counter)."""
    phone = normalise_phone(phone)
    draft = User(nickname=nickname)
    draft.set_phone(phone)
    _validate_password(password, draft)
    consents = _clean_consents(consents)
    profile = _clean_profile(nickname=nickname, home_community_id=home_community_id,
                             interests=interests if interests is not None else [])
    phone_hash = crypto.keyed_hash(phone)
    row = _verify_code(phone_hash=phone_hash, purpose=SmsPurpose.REGISTER, code=code)
    taken = _("This number already has an account. Log in or reset your password.")
    try:
        with transaction.atomic():
            _consume_code(row)
            if User.objects.filter(phone_hash=phone_hash).exists():
                raise PhoneTaken(taken, fields={"phone": [taken]})
            user = User.objects.create_user(phone, password, nickname=profile["nickname"],
                                            home_community=profile.get("home_community"))
            user.interests.set(profile["interests"])
            Consent.objects.bulk_create(
                Consent(user=user, purpose=p, granted=g, version=CURRENT_CONSENT_VERSION)
                for p, g in consents.items())
    except IntegrityError:  # the same number registered concurrently
        raise PhoneTaken(taken, fields={"phone": [taken]}) from None
    return user


def reset_password(*, phone: str, code: str, new_password: str, ip: str | None = None) -> None:
    """Set a new password for the account of ``phone`` confirmed by a "reset" SMS code.

    Anyone may call this. Revokes every API token of the user (sessions die with the password
    hash) and clears the number's failed-login count: holding the code proves ownership."""
    phone = normalise_phone(phone)
    phone_hash = crypto.keyed_hash(phone)
    user = User.objects.filter(phone_hash=phone_hash).first()
    try:
        _validate_password(new_password, user)
    except WeakPassword as exc:
        raise WeakPassword(exc.message, fields={"new_password": exc.fields["password"]}) from None
    row = _verify_code(phone_hash=phone_hash, purpose=SmsPurpose.RESET, code=code)
    if user is None:  # a reset code is only ever sent to an existing account; it was deleted
        msg = _("The code is wrong. Check the SMS or ask for a new code.")
        raise BadCode(msg, fields={"code": [msg]})
    with transaction.atomic():
        _consume_code(row)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        LoginAttempt.objects.filter(phone_hash=phone_hash).exclude(
            outcome=LoginAttempt.Outcome.OK).delete()


# --- log-in --------------------------------------------------------------------------------


def _login_throttle(*, phone_hash: str, ip: str | None, now: datetime) -> int | None:
    counted = [LoginAttempt.Outcome.PENDING, LoginAttempt.Outcome.FAILED]
    lim = LOGIN_FAILURES_PER_PHONE
    last_ok = (LoginAttempt.objects
               .filter(phone_hash=phone_hash, outcome=LoginAttempt.Outcome.OK,
                       at__gt=now - lim.window)
               .aggregate(m=models.Max("at"))["m"])
    mine = LoginAttempt.objects.filter(phone_hash=phone_hash, outcome__in=counted)
    if last_ok is not None:  # a success wipes the slate for the number (not for the IP)
        mine = mine.filter(at__gt=last_ok)
    waits = [wait_seconds(mine, "at", lim, now)]
    if ip:
        waits.append(wait_seconds(LoginAttempt.objects.filter(ip=ip, outcome__in=counted), "at",
                           LOGIN_FAILURES_PER_IP, now))
    refused = [w for w in waits if w is not None]
    return max(refused) if refused else None


def check_login(*, phone: str, password: str, ip: str | None) -> User:
    """The active user with this number and password, or ``BadCredentials`` (401).

    After 5 failures for a number (since its last success) or 20 from an IP within 15 minutes,
    raises ``Throttled`` — even for the right password — until the oldest failure leaves the
    window. Throttled tries are not recorded, so waiting always helps. Logins to staff accounts
    (users holding any role) are written to the audit log as kind "auth"; residents' are not."""
    phone = normalise_phone(phone)
    phone_hash = crypto.keyed_hash(phone)
    # The try is recorded (as pending, i.e. failed until proven right) before the password is
    # checked, under the throttle lock: racing guesses see each other and at most the limit
    # get through. The lock is released before the slow hash.
    with transaction.atomic():
        _lock_throttle_keys(f"login:phone:{phone_hash}", *([f"login:ip:{ip}"] if ip else []))
        now = timezone.now()
        wait = _login_throttle(phone_hash=phone_hash, ip=ip, now=now)
        if wait is not None:
            raise Throttled(_("Too many failed log-ins. Please wait and try again."),
                            retry_after=wait)
        attempt = LoginAttempt.objects.create(phone_hash=phone_hash, ip=ip or None, at=now)

    user = User.objects.filter(phone_hash=phone_hash).first()
    if user is None:
        User().set_password(password)  # the same work either way: no timing oracle
        ok = False
    else:
        ok = user.check_password(password) and user.is_active
    attempt.outcome = LoginAttempt.Outcome.OK if ok else LoginAttempt.Outcome.FAILED
    attempt.save(update_fields=["outcome"])
    if user is not None and access_for_user(user).is_staff:
        audit.record(actor=user, kind=AuditEntry.Kind.AUTH,
                     action="login.ok" if ok else "login.failed", obj=user,
                     request=_fake_request(ip))
    if not ok or user is None:
        raise BadCredentials(_("The phone number or password is wrong."))
    User.objects.filter(pk=user.pk).update(last_login=now)
    return user


# --- profile and consent -------------------------------------------------------------------


def _clean_profile(**values: Any) -> dict[str, Any]:
    """Validated model values for the profile fields given; ``InvalidInput`` lists every bad
    field at once."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    if "nickname" in values:
        nickname = (values["nickname"] or "").strip()
        if len(nickname) > 32:
            errors["nickname"] = [_("At most 32 characters.")]
        out["nickname"] = nickname
    if "real_name" in values:
        real_name = (values["real_name"] or "").strip()
        if len(real_name) > 64:
            errors["real_name"] = [_("At most 64 characters.")]
        out["real_name"] = real_name
    if "sex" in values:
        sex = values["sex"] or ""
        if sex and sex not in Sex.values:
            errors["sex"] = [_("Choose F, M or leave it empty.")]
        out["sex"] = sex
    if "birth_year" in values:
        year = values["birth_year"]
        if year is not None and not (1900 <= year <= timezone.localdate().year):
            errors["birth_year"] = [_("Enter a year between 1900 and this year.")]
        out["birth_year"] = year
    if "home_community_id" in values:
        region_id = values["home_community_id"]
        region = None
        if region_id is not None:
            region = Region.objects.filter(pk=region_id, level=Level.COMMUNITY).first()
            if region is None:
                errors["home_community_id"] = [_("Choose a community or village.")]
        out["home_community"] = region
    if "interests" in values:
        from sportsman.core.models import Sport

        slugs = list(dict.fromkeys(values["interests"] or []))
        sports = list(Sport.objects.filter(slug__in=slugs))
        unknown = sorted(set(slugs) - {s.slug for s in sports})
        if unknown:
            errors["interests"] = [_("Unknown sport: %(slug)s") % {"slug": s} for s in unknown]
        out["interests"] = sports
    for flag in ("hide_from_rankings", "large_text"):
        if flag in values:
            if not isinstance(values[flag], bool):
                errors[flag] = [_("Choose yes or no.")]
            out[flag] = values[flag]
    if errors:
        raise InvalidInput(_("Some fields are not valid."), fields=errors)
    return out


def update_profile(*, user: User, nickname: str = _UNSET, real_name: str = _UNSET,
                   sex: str = _UNSET, birth_year: int | None = _UNSET,
                   home_community_id: int | None = _UNSET, interests: list[str] = _UNSET,
                   hide_from_rankings: bool = _UNSET, large_text: bool = _UNSET) -> User:
    """Change the given profile fields of ``user`` (the user themself; the caller checked).

    Fields left out keep their value; ``None`` clears ``birth_year`` and ``home_community_id``.
    The home community must be a region of level "community". Nothing is written unless every
    field is valid."""
    given = {k: v for k, v in {
        "nickname": nickname, "real_name": real_name, "sex": sex, "birth_year": birth_year,
        "home_community_id": home_community_id, "interests": interests,
        "hide_from_rankings": hide_from_rankings, "large_text": large_text,
    }.items() if v is not _UNSET}
    clean = _clean_profile(**given)
    opts_out = clean.get("hide_from_rankings") is True and not user.hide_from_rankings
    opts_in = clean.get("hide_from_rankings") is False and user.hide_from_rankings
    with transaction.atomic():
        if opts_out:
            # Rankings (another app) take the resident off their boards when this commits.
            publish("accounts.rankings_opt_out", {"user_id": user.pk})
        elif opts_in:
            # … and put them back from their record.
            publish("accounts.rankings_opt_in", {"user_id": user.pk})
        fields = []
        for name, value in clean.items():
            if name == "interests":
                user.interests.set(value)
            elif name == "real_name":
                user.set_real_name(value)
                fields.append("real_name_encrypted")
            else:
                setattr(user, name, value)
                fields.append(name)
        if fields:
            user.save(update_fields=fields)
    return user


def set_consent(*, user: User, purpose: str, granted: bool,
                version: str = CURRENT_CONSENT_VERSION) -> Consent:
    """Record that ``user`` granted or withdrew consent for ``purpose`` under text ``version``.
    Appends a row (the history is the record); the newest row per purpose is the choice."""
    if purpose not in Consent.Purpose.values:
        raise NotFound(_("Unknown consent purpose."))
    version = (version or "").strip()
    if not version or len(version) > 16:
        raise InvalidInput(fields={"version": [_("Give the version of the text (at most 16 "
                                                 "characters).")]})
    return Consent.objects.create(user=user, purpose=purpose, granted=bool(granted),
                                  version=version)


def current_consents(user: User) -> dict[str, dict[str, Any]]:
    """The newest choice per purpose."""
    out: dict[str, dict[str, Any]] = {}
    for c in Consent.objects.filter(user=user).order_by("-at", "-id"):
        out.setdefault(c.purpose, {"granted": c.granted, "version": c.version, "at": c.at})
    return out


# --- export and deletion -------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _notification_rows(user: User) -> dict[str, list[dict]]:
    """Rows of the notifications app that point at ``user`` (the app may not have its models
    yet, or may grow more: take every model with a foreign key to the user model)."""
    from django.apps import apps

    try:
        app = apps.get_app_config("notifications")
    except LookupError:
        return {}
    out: dict[str, list[dict]] = {}
    for model in app.get_models():
        keys = [f.name for f in model._meta.get_fields()
                if isinstance(f, models.ForeignKey) and f.related_model is User]
        if not keys:
            continue
        q = Q()
        for key in keys:
            q |= Q(**{key: user})
        out[model._meta.label_lower] = [dict(r) for r in model._default_manager.filter(q).values()]
    return out


def profile_data(user: User) -> dict[str, Any]:
    """The user's own profile, phone and real name in clear: for the user themself only."""
    home = user.home_community
    return {
        "id": user.pk,
        "phone": user.phone,
        "nickname": user.nickname,
        "real_name": user.real_name,
        "sex": user.sex,
        "birth_year": user.birth_year,
        "home_community": ({"id": home.pk, "code": home.code, "name": home.name}
                           if home else None),
        "interests": sorted(user.interests.values_list("slug", flat=True)),
        "hide_from_rankings": user.hide_from_rankings,
        "large_text": user.large_text,
    }


def export_data(*, user: User) -> dict[str, Any]:
    """Everything held about ``user``, for the user themself: profile (phone and real name in
    clear), consent history, roles, token metadata (never the token), log-in history, staff
    views of their data, and notifications. JSON-serialisable."""
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "profile": {
            **profile_data(user),
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "consents": list(Consent.objects.filter(user=user).order_by("at", "id")
                         .values("purpose", "granted", "version", "at")),
        "roles": [{"role": g.role, "region_code": g.region_code, "region_name": g.region_name}
                  for g in access_for_user(user).grants],
        "api_tokens": list(ApiToken.objects.filter(user=user).order_by("created_at")
                           .values("created_at", "last_used_at", "revoked_at", "user_agent")),
        "logins": list(LoginAttempt.objects.filter(phone_hash=user.phone_hash)
                       .order_by("-at").values("at", "ip", "outcome")[:200]),
        "sso_links": list(SsoLink.objects.filter(user=user).order_by("created_at")
                          .values("provider", "method", "created_at", "last_login_at")),
        "views_of_my_data": _views_of(user),
        "notifications": _notification_rows(user),
    }
    return _json_safe(data)


def _views_of(user: User) -> list[dict]:
    rows = (AuditEntry.objects.filter(kind=AuditEntry.Kind.VIEW, object_type="accounts.user",
                                      object_id=str(user.pk))
            .order_by("at").values("at", "action"))
    return [dict(r) for r in rows]


def delete_account(*, user: User, password: str) -> None:
    """Delete ``user``'s account and personal data, confirmed by their password.

    Revokes tokens, drops consent, profile, roles, SMS and log-in records, and writes an audit
    entry. The row itself is deleted unless the append-only audit log names the user as an actor
    (staff who acted) or another record protects it; then it is kept as an empty, inactive
    tombstone holding no personal data, so the log still points at a row."""
    if not user.check_password(password):
        raise BadCredentials(_("The password is wrong."),
                             fields={"password": [_("The password is wrong.")]})
    from django.db.models.deletion import ProtectedError, RestrictedError

    user_id, phone_hash = user.pk, user.phone_hash
    with transaction.atomic():
        ApiToken.objects.filter(user_id=user_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        SmsCode.objects.filter(phone_hash=phone_hash).delete()
        LoginAttempt.objects.filter(phone_hash=phone_hash).delete()
        audit.record(actor=None, action="account.deleted", object_type="accounts.user",
                     object_id=user_id, data={"self_service": True})
        # Rankings take the account out of their tables and boards (a row or a tombstone).
        publish("accounts.rankings_opt_out", {"user_id": user_id})
        tombstone = AuditEntry.objects.filter(actor_id=user_id).exists()
        if not tombstone:
            try:
                with transaction.atomic():
                    User.objects.filter(pk=user_id).delete()
            except (ProtectedError, RestrictedError):
                tombstone = True
        if tombstone:
            _tombstone(user)


def _tombstone(user: User) -> None:
    from sportsman.regions.roles import drop_roles_of_deleted_account

    user.consents.all().delete()
    user.sso_links.all().delete()
    user.interests.clear()
    drop_roles_of_deleted_account(user_id=user.pk)
    user.phone_hash = crypto.keyed_hash(f"deleted:{user.pk}")
    user.phone_encrypted = crypto.encrypt("")
    user.nickname = ""
    user.real_name_encrypted = ""
    user.sex = ""
    user.birth_year = None
    user.home_community = None
    user.hide_from_rankings = True
    user.is_active = False
    user.set_unusable_password()
    user.save()


# --- staff: residents ---------------------------------------------------------------------


def list_residents_for(access: Access, *, region_id: int | None = None,
                       q: str | None = None) -> models.QuerySet[User]:
    """Users whose home community lies in the actor's ``RESIDENT_VIEW`` scope, optionally
    under ``region_id`` (outside the scope: none) and with ``q`` in the nickname."""
    qs = access.scope(User.objects.filter(is_active=True), Perm.RESIDENT_VIEW,
                      field="home_community")
    if region_id is not None:
        region = access.regions(Perm.RESIDENT_VIEW).filter(pk=region_id).first()
        if region is None:
            return qs.none()
        from sportsman.regions.selectors import subtree_q

        qs = qs.filter(subtree_q(region.path, "home_community"))
    if q:
        qs = qs.filter(nickname__icontains=q.strip())
    return qs.select_related("home_community").order_by("id")


def get_resident_for(access: Access, *, user_id: int) -> User:
    user = list_residents_for(access).filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def view_resident(*, access: Access, actor: User, user_id: int, request: Any = None) -> User:
    """One resident in the actor's scope, for the staff detail view (phone still masked). Sex,
    birth year and interests are personal data, so the look is written to the audit log."""
    with transaction.atomic():
        user = get_resident_for(access, user_id=user_id)
        audit.record_view(actor=actor, subject=user, what="profile", request=request,
                          region=user.home_community)
    return user


def reveal_phone(*, access: Access, actor: User, user_id: int, request: Any = None) -> str:
    """The full number of a resident in the actor's scope; writes an audit VIEW entry in the
    same transaction, so no number is shown without its record."""
    with transaction.atomic():
        user = get_resident_for(access, user_id=user_id)
        audit.record_view(actor=actor, subject=user, what="phone", request=request,
                          region=user.home_community)
    return user.phone


def purge_throttle_records() -> int:
    """Delete SMS and log-in rows no limit looks at any more; returns how many. Run daily."""
    cutoff = timezone.now() - THROTTLE_MEMORY
    n, _d = SmsCode.objects.filter(created_at__lt=cutoff).delete()
    m, _d = LoginAttempt.objects.filter(at__lt=cutoff).delete()
    return n + m + purge_sso_nonces()


# --- single sign-on (OpenID Connect) --------------------------------------------------------
# The protocol checks are sportsman.accounts.sso; here: what an accepted ID token means for
# accounts. docs/accounts.md, "Single sign-on".


class SsoUnverifiedPhone(DomainError):
    status = 403
    code = "oidc_unverified_phone"


class SsoAlreadyLinked(DomainError):
    status = 409
    code = "oidc_already_linked"


class SsoProviderLinked(DomainError):
    status = 409
    code = "oidc_provider_linked"


class SsoAccountInactive(DomainError):
    status = 403
    code = "oidc_account_inactive"


class SsoNotLinked(NotFound):
    code = "oidc_not_linked"


SSO_NONCE_MEMORY = timedelta(days=2)


def consume_sso_nonce(*, provider: str, nonce: str) -> None:
    """Record that an ID token with ``nonce`` was accepted; a nonce seen before (in any
    session, by any process) is ``oidc_nonce_replayed``. Its own transaction: a nonce is spent
    by the first answer that carries it, whatever happens to the sign-in after."""
    from sportsman.accounts.sso import NonceReplayed

    digest = hashlib.sha256(f"{provider}:{nonce}".encode()).hexdigest()
    try:
        with transaction.atomic():
            SsoNonce.objects.create(provider=provider, nonce_hash=digest)
    except IntegrityError:
        raise NonceReplayed() from None


def _verified_phone(claims: dict[str, Any]) -> str | None:
    """The claims' phone number as a mainland mobile number, only when the provider says it
    is verified (``phone_number_verified`` is JSON ``true``)."""
    if claims.get("phone_number_verified") is not True:
        return None
    raw = str(claims.get("phone_number") or "")
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        return None


def _sso_audit(action: str, *, user: User, provider: str, method: str = "",
               request: Any = None) -> None:
    # No actor (like account.deleted): the account's own holder acts, and a resident named as
    # an actor could no longer be deleted, only emptied (see delete_account).
    audit.record(actor=None, action=action, object_type="accounts.user", object_id=user.pk,
                 request=request, data={"provider": provider, "method": method,
                                        "self_service": True})


def _unverified(provider_label: str) -> SsoUnverifiedPhone:
    return SsoUnverifiedPhone(_(
        "%(provider)s did not confirm your mobile number, so we cannot tell which account is "
        "yours. Log in with your number and password first, then link %(provider)s on your "
        "profile page.") % {"provider": provider_label})


def sso_sign_in(*, provider: str, provider_label: str, claims: dict[str, Any],
                request: Any = None) -> tuple[User | None, dict[str, Any] | None]:
    """The user an accepted ID token signs in, found by the stored link (provider, subject);
    else by the provider's *verified* phone number, which links the subject to that account
    (audited ``sso.linked``). Returns ``(user, None)``, or ``(None, pending)`` when the verified
    number has no account yet: ``pending`` is what ``sso_register`` needs once the resident
    has accepted the terms. An unverified or missing number never links and never creates:
    ``oidc_unverified_phone``. Anyone may call this (the token is the proof)."""
    subject = str(claims["sub"])
    link = (SsoLink.objects.select_related("user")
            .filter(provider=provider, subject=subject).first())
    if link is not None:
        if not link.user.is_active:
            raise SsoAccountInactive(_("This account is closed."))
        now = timezone.now()
        SsoLink.objects.filter(pk=link.pk).update(last_login_at=now)
        User.objects.filter(pk=link.user_id).update(last_login=now)
        return link.user, None
    phone = _verified_phone(claims)
    if phone is None:
        raise _unverified(provider_label)
    user = User.objects.filter(phone_hash=crypto.keyed_hash(phone)).first()
    if user is None:
        nickname = str(claims.get("nickname") or claims.get("name") or "")[:32]
        return None, {"provider": provider, "subject": subject, "phone": phone,
                      "nickname": nickname}
    if not user.is_active:
        raise SsoAccountInactive(_("This account is closed."))
    _make_link(user=user, provider=provider, subject=subject, method="verified_phone",
               provider_label=provider_label, request=request)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, None


def _make_link(*, user: User, provider: str, subject: str, method: str, provider_label: str,
               request: Any = None) -> SsoLink:
    other = _("This %(provider)s account is already linked to another Sportsman account.") % {
        "provider": provider_label}
    mine = _("Your account is already linked to another %(provider)s account. Unlink it "
             "first.") % {"provider": provider_label}
    try:
        with transaction.atomic():
            existing = SsoLink.objects.filter(provider=provider, subject=subject).first()
            if existing is not None:
                if existing.user_id == user.pk:
                    return existing
                raise SsoAlreadyLinked(other)
            if SsoLink.objects.filter(user=user, provider=provider).exists():
                raise SsoProviderLinked(mine)
            link = SsoLink.objects.create(user=user, provider=provider, subject=subject,
                                          method=method, last_login_at=timezone.now())
            _sso_audit("sso.linked", user=user, provider=provider, method=method,
                       request=request)
    except IntegrityError:  # the same subject or provider linked concurrently
        raise SsoAlreadyLinked(other) from None
    return link


def sso_register(*, pending: dict[str, Any], provider_label: str, nickname: str = "",
                 consents: dict[str, bool] | None = None, request: Any = None) -> User:
    """Create the account of a new resident from a verified number the provider gave
    (``pending`` from ``sso_sign_in``), with the consents they gave, and link the subject —
    one transaction. The account has no password (the resident can set one by SMS reset).
    A number registered meanwhile is linked instead (the provider verified it)."""
    consents = _clean_consents(consents)
    profile = _clean_profile(nickname=nickname or pending.get("nickname", ""))
    phone = pending["phone"]
    try:
        with transaction.atomic():
            user = User.objects.create_user(phone, None, nickname=profile["nickname"])
            user.set_unusable_password()
            user.last_login = timezone.now()
            user.save(update_fields=["password", "last_login"])
            Consent.objects.bulk_create(
                Consent(user=user, purpose=p, granted=g, version=CURRENT_CONSENT_VERSION)
                for p, g in consents.items())
            _make_link(user=user, provider=pending["provider"], subject=pending["subject"],
                       method="new", provider_label=provider_label, request=request)
    except IntegrityError:
        found, _pending = sso_sign_in(
            provider=pending["provider"], provider_label=provider_label, request=request,
            claims={"sub": pending["subject"], "phone_number": phone,
                    "phone_number_verified": True})
        if found is None:
            raise
        return found
    return user


def sso_link(*, user: User, provider: str, provider_label: str, claims: dict[str, Any],
             request: Any = None) -> SsoLink:
    """Link the logged-in ``user`` (the caller checked) to the provider's subject: they proved
    both accounts, so no phone number is needed. A subject linked to someone else is
    ``oidc_already_linked``; a second account at the same provider ``oidc_provider_linked``."""
    return _make_link(user=user, provider=provider, subject=str(claims["sub"]), method="self",
                      provider_label=provider_label, request=request)


def sso_unlink(*, user: User, provider: str, request: Any = None) -> None:
    """Remove ``user``'s link to ``provider`` (audited ``sso.unlinked``); ``oidc_not_linked``
    when there is none. An account made by single sign-on keeps its number: the resident can
    still log in by setting a password with an SMS reset."""
    with transaction.atomic():
        deleted, _d = SsoLink.objects.filter(user=user, provider=provider).delete()
        if not deleted:
            raise SsoNotLinked(_("Your account is not linked to this provider."))
        _sso_audit("sso.unlinked", user=user, provider=provider, request=request)


def sso_links(user: User) -> dict[str, SsoLink]:
    return {link.provider: link for link in SsoLink.objects.filter(user=user)}


def purge_sso_nonces() -> int:
    """Delete nonce records older than any session's pending sign-in could be; run daily."""
    n, _d = SsoNonce.objects.filter(used_at__lt=timezone.now() - SSO_NONCE_MEMORY).delete()
    return n
