"""Resident account pages: register, log in and out, reset a password, my profile.

Views validate form shape and call ``sportsman.accounts.services``; a service's ``DomainError``
is shown on the form (throttling included). Nothing here reads or writes accounts tables directly
except to read the logged-in user's own profile for display.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as session_login
from django.contrib.auth import logout as session_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from sportsman.accounts import services, sso
from sportsman.accounts.forms import (
    DeleteAccountForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    SendCodeForm,
    SsoWelcomeForm,
)
from sportsman.accounts.models import Consent, SmsPurpose, User
from sportsman.core.client import client_ip
from sportsman.core.errors import DomainError, Throttled
from sportsman.core.views import safe_next
from sportsman.regions.access import for_self, public
from sportsman.regions.models import Region

SESSION_BACKEND = "sportsman.accounts.auth.PhoneBackend"


def me(request: HttpRequest) -> User:
    """The logged-in user of a ``@for_self`` view (the mark has already refused visitors)."""
    user = request.user
    assert isinstance(user, User)
    return user


def _region_label(region_id: int | None) -> str:
    if not region_id:
        return ""
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        return ""
    names = [r.name for r in region.ancestors() if r.level != "province"] + [region.name]
    return " / ".join(names)


@public
@require_POST
def send_code(request: HttpRequest) -> HttpResponse:
    """Send an SMS code for registration or reset. HTMX gets a status line; without JS the
    visitor goes back to the form with the number filled in."""
    purpose = request.POST.get("purpose")
    if purpose not in SmsPurpose.values:
        purpose = SmsPurpose.REGISTER
    form = SendCodeForm(request.POST)
    ok = False
    if form.is_valid():
        try:
            services.request_sms_code(phone=form.cleaned_data["phone"], purpose=purpose,
                                      ip=client_ip(request))
        except DomainError as exc:
            text = str(exc.message)
        else:
            ok = True
            text = _("If this number can receive a code, it has been sent. It is valid for "
                     "5 minutes.")
    else:
        text = " ".join(str(e) for e in form.errors.get("phone", [])) or _("Check the number.")
    if request.headers.get("HX-Request"):
        return render(request, "accounts/_code_status.html", {"ok": ok, "text": text})
    (messages.success if ok else messages.error)(request, text)
    page = "accounts:register" if purpose == SmsPurpose.REGISTER else "accounts:forgot_password"
    query = urlencode({"phone": request.POST.get("phone", "")})
    return HttpResponseRedirect(f"{reverse(page)}?{query}")


@public
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("accounts:profile"))
    if request.method == "POST":
        form = RegisterForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.register(
                    phone=data["phone"], code=data["code"], password=data["password"],
                    nickname=data["nickname"], ip=client_ip(request),
                    home_community_id=data["home_community"] or None,
                    interests=[s.slug for s in data["interests"]],
                    consents=form.consents(),
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                session_login(request, user, backend=SESSION_BACKEND)
                messages.success(request, _("Welcome! Your account is ready."))
                return HttpResponseRedirect(reverse("accounts:profile"))
    else:
        form = RegisterForm(initial={"phone": request.GET.get("phone", "")})
    return render(request, "accounts/register.html", {
        "form": form, "home_label": _region_label(form["home_community"].value() or None)})


@public
def login(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, reverse("home"))
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            try:
                user = services.check_login(phone=form.cleaned_data["phone"],
                                            password=form.cleaned_data["password"],
                                            ip=client_ip(request))
            except Throttled as exc:
                minutes = max(1, -(-exc.retry_after // 60))
                form.add_error(None, f"{exc.message} " + ngettext(
                    "Try again in %(n)d minute.", "Try again in %(n)d minutes.", minutes)
                    % {"n": minutes})
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                session_login(request, user, backend=SESSION_BACKEND)
                return HttpResponseRedirect(next_url)
    else:
        form = LoginForm()
    return render(request, "accounts/login.html", {"form": form, "next": next_url,
                                                   "providers": list(sso.providers().values())})


@public
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the session here; after a single sign-on, also at the provider when it offers an
    end_session_endpoint (RP-initiated logout), which sends the browser back home."""
    signed_on = request.session.get(SSO_SESSION_KEY) or {}
    session_logout(request)
    messages.success(request, _("You have logged out."))
    p = sso.providers().get(signed_on.get("provider", ""))
    if p is not None:
        url = sso.end_session_url(p, id_token=signed_on.get("id_token", ""),
                                  post_logout_redirect_uri=request.build_absolute_uri(
                                      reverse("home")))
        if url:
            return HttpResponseRedirect(url)
    return HttpResponseRedirect(reverse("home"))


@public
def forgot_password(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ResetPasswordForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.reset_password(phone=data["phone"], code=data["code"],
                                        new_password=data["new_password"], ip=client_ip(request))
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Your password has been changed. Please log in."))
                return HttpResponseRedirect(reverse("accounts:login"))
    else:
        form = ResetPasswordForm(initial={"phone": request.GET.get("phone", "")})
    return render(request, "accounts/forgot_password.html", {"form": form})


@for_self
def profile(request: HttpRequest) -> HttpResponse:
    user = me(request)
    return render(request, "accounts/profile.html", {
        "profile_user": user,
        "interests": list(user.interests.all()),
        "home_label": _region_label(user.home_community_id),
        "consents": [{"label": Consent.Purpose(purpose).label, **choice}
                     for purpose, choice in services.current_consents(user).items()],
        "delete_form": DeleteAccountForm(),
        **_sso_context(user),
    })


@for_self
def edit_profile(request: HttpRequest) -> HttpResponse:
    user = me(request)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_profile(
                    user=user, nickname=data["nickname"], real_name=data["real_name"],
                    sex=data["sex"], birth_year=data["birth_year"],
                    home_community_id=data["home_community"] or None,
                    interests=[s.slug for s in data["interests"]],
                    hide_from_rankings=data["hide_from_rankings"], large_text=data["large_text"],
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Your profile has been saved."))
                return HttpResponseRedirect(reverse("accounts:profile"))
    else:
        form = ProfileForm(initial={
            "nickname": user.nickname, "real_name": user.real_name, "sex": user.sex,
            "birth_year": user.birth_year, "home_community": user.home_community_id,
            "interests": list(user.interests.all()),
            "hide_from_rankings": user.hide_from_rankings, "large_text": user.large_text,
        })
    return render(request, "accounts/profile_edit.html", {
        "form": form, "home_label": _region_label(form["home_community"].value() or None)})


@for_self
def export_my_data(request: HttpRequest) -> HttpResponse:
    data = services.export_data(user=me(request))
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sportsman-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@for_self
@require_POST
def delete_my_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST)
    if form.is_valid():
        try:
            services.delete_account(user=me(request), password=form.cleaned_data["password"])
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            session_logout(request)
            messages.success(request, _("Your account and your personal data have been deleted."))
            return HttpResponseRedirect(reverse("home"))
    user = me(request)
    return render(request, "accounts/profile.html", {
        "profile_user": user, "interests": list(user.interests.all()),
        "home_label": _region_label(user.home_community_id),
        "consents": [{"label": Consent.Purpose(purpose).label, **choice}
                     for purpose, choice in services.current_consents(user).items()], "delete_form": form,
        **_sso_context(user),
    }, status=400)


def _sso_context(user: User) -> dict:
    links = services.sso_links(user)
    return {"sso_rows": [{"provider": p, "link": links.get(p.name)}
                         for p in sso.providers().values()]}


# --- single sign-on (docs/accounts.md, "Single sign-on") ----------------------------------

SSO_PENDING_KEY = "sso_pending"
SSO_SESSION_KEY = "sso"
SSO_PENDING_SECONDS = 600


def _sso_failed(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """The refusal, with its code, and the ways on; nothing was changed."""
    return render(request, "accounts/sso_failed.html", {
        "code": exc.code, "message": str(exc.message),
        "providers": list(sso.providers().values())}, status=exc.status)


def _sso_session_login(request: HttpRequest, user: User, p: sso.Provider, id_token: str) -> None:
    session_login(request, user, backend=SESSION_BACKEND)
    request.session[SSO_SESSION_KEY] = {"provider": p.name, "id_token": id_token}


@public
@require_POST
def sso_start(request: HttpRequest, provider: str) -> HttpResponse:
    """Send the browser to the provider (a POST from the login or profile page, so no other
    site can start a sign-in or a link in the visitor's name)."""
    p = sso.provider(provider)
    intent = "link" if request.POST.get("intent") == "link" else "login"
    if intent == "link" and not request.user.is_authenticated:
        return HttpResponseRedirect(reverse("accounts:login"))
    extra = {"intent": intent, "next": safe_next(request, reverse(
        "accounts:profile" if intent == "link" else "home")),
        "user_id": request.user.pk if intent == "link" else None}
    redirect_uri = request.build_absolute_uri(reverse("accounts:sso_callback", args=[p.name]))
    try:
        url = sso.start(p, session=request.session, redirect_uri=redirect_uri, extra=extra)
    except DomainError as exc:
        return _sso_failed(request, exc)
    return HttpResponseRedirect(url)


@public
def sso_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider's answer: state (one use), code → tokens, ID token checks, nonce (one
    use), then sign in, link, or ask a new resident for their consents."""
    p = sso.provider(provider)
    try:
        data = sso.take_state(p, session=request.session, state=request.GET.get("state"))
        if request.GET.get("error"):
            raise sso.Denied()
        claims, id_token = sso.exchange(p, code=request.GET.get("code"),
                                        redirect_uri=data["redirect_uri"],
                                        code_verifier=data["code_verifier"],
                                        nonce=data["nonce"])
        services.consume_sso_nonce(provider=p.name, nonce=data["nonce"])
        if data.get("intent") == "link":
            if not request.user.is_authenticated or request.user.pk != data.get("user_id"):
                raise sso.StateMismatch()
            services.sso_link(user=me(request), provider=p.name, provider_label=p.label,
                              claims=claims, request=request)
            messages.success(request, _("%(provider)s is now linked to your account.")
                             % {"provider": p.label})
            return HttpResponseRedirect(data["next"])
        user, pending = services.sso_sign_in(provider=p.name, provider_label=p.label,
                                             claims=claims, request=request)
    except DomainError as exc:
        return _sso_failed(request, exc)
    if user is None:
        assert pending is not None
        request.session[SSO_PENDING_KEY] = {**pending, "id_token": id_token,
                                            "next": data["next"],
                                            "until": time.time() + SSO_PENDING_SECONDS}
        return HttpResponseRedirect(reverse("accounts:sso_welcome"))
    _sso_session_login(request, user, p, id_token)
    return HttpResponseRedirect(data["next"])


@public
def sso_welcome(request: HttpRequest) -> HttpResponse:
    """A new resident whose number the provider verified: accept the terms, choose a nickname,
    and the account is made and linked."""
    pending = request.session.get(SSO_PENDING_KEY)
    if not pending or pending.get("until", 0) < time.time():
        request.session.pop(SSO_PENDING_KEY, None)
        return _sso_failed(request, sso.StateMismatch())
    p = sso.provider(pending["provider"])
    if request.method == "POST":
        form = SsoWelcomeForm(request.POST)
        if form.is_valid():
            try:
                user = services.sso_register(pending=pending, provider_label=p.label,
                                             nickname=form.cleaned_data["nickname"],
                                             consents=form.consents(), request=request)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                request.session.pop(SSO_PENDING_KEY, None)
                _sso_session_login(request, user, p, pending["id_token"])
                messages.success(request, _("Welcome! Your account is ready."))
                return HttpResponseRedirect(pending["next"])
    else:
        form = SsoWelcomeForm(initial={"nickname": pending.get("nickname", "")})
    from sportsman.core import crypto

    return render(request, "accounts/sso_welcome.html", {
        "form": form, "provider": p, "masked_phone": crypto.mask_phone(pending["phone"])})


@for_self
@require_POST
def sso_unlink(request: HttpRequest, provider: str) -> HttpResponse:
    p = sso.provider(provider)
    try:
        services.sso_unlink(user=me(request), provider=p.name, request=request)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(provider)s is no longer linked to your account.")
                         % {"provider": p.label})
    return HttpResponseRedirect(reverse("accounts:profile"))
