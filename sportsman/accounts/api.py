"""Accounts API: SMS codes, registration, log-in for a bearer token, my profile, my data, and
the staff view of residents. Every operation parses input and calls ``services``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from sportsman.accounts import services
from sportsman.accounts.models import User
from sportsman.core.client import client_ip, user_agent
from sportsman.core.schemas import In, Ok
from sportsman.regions.access import Perm, access_for, for_self, public, scoped

router = Router(tags=["accounts"])

# Passwords are taken exactly as typed (the base schema strips other strings).
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=128)]


def _me(request: HttpRequest) -> User:
    """The logged-in user (the operation's mark has checked there is one)."""
    return cast(User, request.user)


# --- schemas -------------------------------------------------------------------------------


class LoginIn(In):
    phone: str
    password: Password


class TokenOut(Schema):
    token: str


class RegisteredOut(Schema):
    id: int
    token: str


class SmsCodeIn(In):
    phone: str
    purpose: str


class RegisterIn(In):
    phone: str
    code: str
    password: Password
    nickname: str = ""
    home_community_id: int | None = None
    interests: list[str] = Field(default_factory=list, max_length=50)
    consents: dict[str, bool] = Field(default_factory=dict)


class PasswordResetIn(In):
    phone: str
    code: str
    new_password: Password


class RoleOut(Schema):
    role: str
    region_code: str
    region_name: str
    region_level: str


class MeOut(Schema):
    id: int
    phone: str
    nickname: str
    roles: list[RoleOut]


class RegionRefOut(Schema):
    id: int
    code: str
    name: str


class ConsentOut(Schema):
    granted: bool
    version: str
    at: datetime


class ProfileOut(Schema):
    id: int
    phone: str
    nickname: str
    real_name: str
    sex: str
    birth_year: int | None
    home_community: RegionRefOut | None
    interests: list[str]
    hide_from_rankings: bool
    large_text: bool
    consents: dict[str, ConsentOut]


class ProfileIn(In):
    nickname: str | None = None
    real_name: str | None = None
    sex: str | None = None
    birth_year: int | None = None
    home_community_id: int | None = None
    interests: list[str] | None = Field(default=None, max_length=50)
    hide_from_rankings: bool | None = None
    large_text: bool | None = None


class ConsentIn(In):
    granted: bool
    version: str = services.CURRENT_CONSENT_VERSION


class PasswordIn(In):
    password: Password


class ResidentOut(Schema):
    id: int
    nickname: str
    phone_masked: str
    home_community: RegionRefOut | None


class ResidentDetailOut(ResidentOut):
    sex: str
    birth_year: int | None
    interests: list[str]
    date_joined: datetime


class ResidentPageOut(Schema):
    items: list[ResidentOut]
    next_cursor: int | None


class ResidentFilters(Schema):
    region: int | None = None
    q: str | None = Field(default=None, max_length=32)
    cursor: int | None = None
    limit: int = Field(default=50, ge=1, le=200)


class PhoneOut(Schema):
    phone: str


def _region_ref(region: Any) -> dict | None:
    return {"id": region.pk, "code": region.code, "name": region.name} if region else None


def _profile(user: Any) -> dict:
    return {**services.profile_data(user), "consents": services.current_consents(user)}


def _resident(user: Any) -> dict:
    return {"id": user.pk, "nickname": user.nickname, "phone_masked": user.masked_phone,
            "home_community": _region_ref(user.home_community)}


# --- auth ----------------------------------------------------------------------------------


@router.post("/auth/login", auth=None, response={200: TokenOut}, tags=["auth"])
@public
def login(request: HttpRequest, data: LoginIn):
    """A bearer token for the number and password. Throttled after repeated failures (429
    with Retry-After), even for the right password."""
    from sportsman.accounts.auth import issue_token

    user = services.check_login(phone=data.phone, password=data.password, ip=client_ip(request))
    return {"token": issue_token(user, user_agent=user_agent(request))}


@router.post("/auth/logout", response={200: Ok}, tags=["auth"])
@for_self
def logout(request: HttpRequest):
    from django.contrib.auth import logout as session_logout

    from sportsman.accounts.auth import revoke_token

    token = getattr(request, "auth_token", None)
    if token:
        revoke_token(token)
    else:
        session_logout(request)
    return {"ok": True}


@router.post("/auth/sms-code", auth=None, response={202: Ok}, tags=["auth"])
@public
def sms_code(request: HttpRequest, data: SmsCodeIn):
    """Send a code for "register" or "reset". The answer is the same whether or not the number
    has an account."""
    services.request_sms_code(phone=data.phone, purpose=data.purpose, ip=client_ip(request))
    return Status(202, {"ok": True})


@router.post("/auth/register", auth=None, response={201: RegisteredOut}, tags=["auth"])
@public
def register(request: HttpRequest, data: RegisterIn):
    """Create an account from a confirmed number; answers with a bearer token."""
    from sportsman.accounts.auth import issue_token

    user = services.register(phone=data.phone, code=data.code, password=data.password,
                             nickname=data.nickname, ip=client_ip(request),
                             home_community_id=data.home_community_id,
                             interests=data.interests, consents=data.consents)
    token = issue_token(user, user_agent=user_agent(request))
    return Status(201, {"id": user.pk, "token": token})


@router.post("/auth/password-reset", auth=None, response={200: Ok}, tags=["auth"])
@public
def password_reset(request: HttpRequest, data: PasswordResetIn):
    """Set a new password with a "reset" code; every token of the account is revoked."""
    services.reset_password(phone=data.phone, code=data.code, new_password=data.new_password,
                            ip=client_ip(request))
    return {"ok": True}


# --- me ------------------------------------------------------------------------------------


@router.get("/me", response=MeOut)
@for_self
def me(request: HttpRequest):
    user = _me(request)
    grants = access_for(request).grants
    return {
        "id": user.pk,
        "phone": user.phone,
        "nickname": user.nickname,
        "roles": [{"role": g.role, "region_code": g.region_code, "region_name": g.region_name,
                   "region_level": g.level} for g in grants],
    }


@router.get("/me/profile", response=ProfileOut)
@for_self
def my_profile(request: HttpRequest):
    return _profile(_me(request))


@router.patch("/me/profile", response=ProfileOut)
@for_self
def update_my_profile(request: HttpRequest, data: ProfileIn):
    """Change the fields sent; fields left out keep their value, null clears
    ``birth_year`` and ``home_community_id``."""
    changes = data.model_dump(exclude_unset=True)
    for flag in ("nickname", "real_name", "sex", "interests", "hide_from_rankings",
                 "large_text"):
        if flag in changes and changes[flag] is None:  # these cannot be null
            changes[flag] = "" if flag in ("nickname", "real_name", "sex") else (
                [] if flag == "interests" else False)
    user = services.update_profile(user=_me(request), **changes)
    return _profile(user)


@router.get("/me/export", response=dict[str, Any])
@for_self
def my_export(request: HttpRequest):
    """Everything we hold about me, as JSON."""
    return services.export_data(user=_me(request))


@router.post("/me/delete", response={200: Ok})
@for_self
def delete_me(request: HttpRequest, data: PasswordIn):
    """Delete my account, confirmed by my password."""
    services.delete_account(user=_me(request), password=data.password)
    if hasattr(request, "session"):
        request.session.flush()
    return {"ok": True}


@router.put("/me/consents/{purpose}", response=ConsentOut)
@for_self
def set_my_consent(request: HttpRequest, purpose: str, data: ConsentIn):
    consent = services.set_consent(user=_me(request), purpose=purpose, granted=data.granted,
                                   version=data.version)
    return {"granted": consent.granted, "version": consent.version, "at": consent.at}


# --- staff: residents ----------------------------------------------------------------------


@router.get("/residents", response=ResidentPageOut, tags=["staff"])
@scoped(Perm.RESIDENT_VIEW)
def residents(request: HttpRequest, filters: Query[ResidentFilters]):
    """Residents whose home community is in my scope, by id, ``limit`` at a time; pass
    ``next_cursor`` back as ``cursor`` for the next page. Phones are masked."""
    qs = services.list_residents_for(access_for(request), region_id=filters.region, q=filters.q)
    if filters.cursor is not None:
        qs = qs.filter(pk__gt=filters.cursor)
    page = list(qs[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {"items": [_resident(u) for u in page],
            "next_cursor": page[-1].pk if more else None}


@router.get("/residents/{user_id}", response=ResidentDetailOut, tags=["staff"])
@scoped(Perm.RESIDENT_VIEW)
def resident(request: HttpRequest, user_id: int):
    """One resident in my scope (phone masked). Sex and birth year are personal data: the
    view is written to the audit log."""
    user = services.view_resident(access=access_for(request), actor=_me(request),
                                  user_id=user_id, request=request)
    return {**_resident(user), "sex": user.sex, "birth_year": user.birth_year,
            "interests": sorted(user.interests.values_list("slug", flat=True)),
            "date_joined": user.date_joined}


@router.post("/residents/{user_id}/reveal-phone", response=PhoneOut, tags=["staff"])
@scoped(Perm.RESIDENT_VIEW)
def reveal_phone(request: HttpRequest, user_id: int):
    """The full number of a resident in my scope; written to the audit log."""
    phone = services.reveal_phone(access=access_for(request), actor=_me(request),
                                  user_id=user_id, request=request)
    return {"phone": phone}


# --- single sign-on for apps (docs/accounts.md, "Single sign-on") -----------------------------


class SsoProviderOut(Schema):
    name: str
    label: str
    issuer: str
    client_id: str
    scope: str


class SsoCodeIn(In):
    """What the app got from its own authorization request (PKCE S256, its nonce) at one of
    the provider's registered app redirect URIs."""

    code: str = Field(max_length=2048)
    code_verifier: str = Field(min_length=43, max_length=128)
    redirect_uri: str = Field(max_length=512)
    nonce: str = Field(min_length=16, max_length=256)


class SsoSignInIn(SsoCodeIn):
    nickname: str = ""
    consents: dict[str, bool] = Field(default_factory=dict)


class SsoTokenOut(Schema):
    token: str
    created: bool


class SsoLinkOut(Schema):
    provider: str
    method: str
    created_at: datetime


def _sso_claims(provider: str, data: SsoCodeIn) -> tuple[Any, dict]:
    from sportsman.accounts import sso

    p = sso.provider(provider)
    if data.redirect_uri not in p.mobile_redirect_uris:
        msg = _("This redirect URI is not registered for apps.")
        raise sso.SsoError(msg, code="oidc_bad_redirect_uri", fields={"redirect_uri": [msg]})
    claims, _id_token = sso.exchange(p, code=data.code, redirect_uri=data.redirect_uri,
                                     code_verifier=data.code_verifier, nonce=data.nonce)
    services.consume_sso_nonce(provider=p.name, nonce=data.nonce)
    return p, claims


@router.get("/auth/sso/providers", auth=None, response=list[SsoProviderOut], tags=["auth"])
@public
def sso_providers(request: HttpRequest):
    """The single sign-on providers an app can offer, with what it needs for its own
    authorization request (discovery is at ``issuer``/.well-known/openid-configuration)."""
    from sportsman.accounts import sso

    return [{"name": p.name, "label": p.label, "issuer": p.issuer, "client_id": p.client_id,
             "scope": p.scope} for p in sso.providers().values()]


@router.post("/auth/sso/{provider}/token", auth=None, response={200: SsoTokenOut},
             tags=["auth"])
@public
def sso_token(request: HttpRequest, provider: str, data: SsoSignInIn):
    """Trade the app's authorization code for a bearer token: the ID token is checked
    (signature, issuer, audience, nonce once, expiry), then the account is found by the link
    or the provider's verified number. A number with no account gets one when ``consents``
    accept the terms and privacy policy (else ``consent_required``, nothing created)."""
    from sportsman.accounts.auth import issue_token

    p, claims = _sso_claims(provider, data)
    user, pending = services.sso_sign_in(provider=p.name, provider_label=p.label,
                                         claims=claims, request=request)
    created = user is None
    if user is None:
        assert pending is not None
        user = services.sso_register(pending=pending, provider_label=p.label,
                                     nickname=data.nickname, consents=data.consents,
                                     request=request)
    return {"token": issue_token(user, user_agent=user_agent(request)), "created": created}


@router.get("/me/sso", response=list[SsoLinkOut])
@for_self
def my_sso_links(request: HttpRequest):
    return [{"provider": k, "method": v.method, "created_at": v.created_at}
            for k, v in services.sso_links(_me(request)).items()]


@router.post("/me/sso/{provider}", response={201: SsoLinkOut})
@for_self
def link_my_sso(request: HttpRequest, provider: str, data: SsoCodeIn):
    """Link my account to the provider account the app signed in to (no phone needed)."""
    p, claims = _sso_claims(provider, data)
    link = services.sso_link(user=_me(request), provider=p.name, provider_label=p.label,
                             claims=claims, request=request)
    return Status(201, {"provider": link.provider, "method": link.method,
                        "created_at": link.created_at})


@router.delete("/me/sso/{provider}", response={200: Ok})
@for_self
def unlink_my_sso(request: HttpRequest, provider: str):
    services.sso_unlink(user=_me(request), provider=provider, request=request)
    return {"ok": True}
