"""Accounts API: log in for a bearer token, log out, and my profile."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from sportsman.core.errors import DomainError
from sportsman.core.schemas import In, Ok
from sportsman.regions.access import access_for, for_self, public

router = Router(tags=["accounts"])


class LoginIn(In):
    phone: str
    password: str


class TokenOut(Schema):
    token: str


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


class BadCredentials(DomainError):
    status = 401
    code = "bad_credentials"
    default_message = _("The phone number or password is wrong.")


@router.post("/auth/login", auth=None, response={200: TokenOut}, tags=["auth"])
@public
def login(request: HttpRequest, data: LoginIn):
    from sportsman.accounts.auth import issue_token

    user = authenticate(request, phone=data.phone, password=data.password)
    if user is None:
        raise BadCredentials()
    return {"token": issue_token(user, user_agent=request.META.get("HTTP_USER_AGENT", ""))}


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


@router.get("/me", response=MeOut)
@for_self
def me(request: HttpRequest):
    user = request.user
    grants = access_for(request).grants
    return {
        "id": user.pk,
        "phone": user.phone,
        "nickname": user.nickname,
        "roles": [{"role": g.role, "region_code": g.region_code, "region_name": g.region_name,
                   "region_level": g.level} for g in grants],
    }
